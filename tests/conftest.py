"""Named users and areas shared by every test.

Two townships (A and B) in one county, each with two villages, so that every
scoping test can ask "can a user of A see B's things?".
"""

from __future__ import annotations

import pytest

from aidcases.models import Area, User
from tests import importkinds, jobkinds  # noqa: F401  (test-only import and job kinds)
from tests.factories import AreaFactory, UserFactory, child_area

PASSWORD = "correct-horse-9"


@pytest.fixture
def county(db) -> Area:
    return AreaFactory(code="149901", name="青山县", level=Area.Level.COUNTY)


@pytest.fixture
def township_a(county) -> Area:
    return child_area(county, "101", "城关镇", Area.Level.TOWNSHIP)


@pytest.fixture
def township_b(county) -> Area:
    return child_area(county, "201", "东冶乡", Area.Level.TOWNSHIP)


@pytest.fixture
def village_a(township_a) -> Area:
    return child_area(township_a, "201", "南街村", Area.Level.VILLAGE)


@pytest.fixture
def village_b(township_b) -> Area:
    return child_area(township_b, "201", "东冶村", Area.Level.VILLAGE)


@pytest.fixture
def admin(county) -> User:
    return UserFactory(username="alice_admin", full_name="系统管理员", role=User.Role.ADMIN)


@pytest.fixture
def county_staff(county) -> User:
    return UserFactory(username="county_staff", role=User.Role.COUNTY_STAFF, area=county)


@pytest.fixture
def approver(county) -> User:
    return UserFactory(username="approver", role=User.Role.APPROVER, area=county)


@pytest.fixture
def officer_a(township_a, village_a) -> User:
    return UserFactory(username="officer_a", role=User.Role.TOWNSHIP_OFFICER, area=township_a)


@pytest.fixture
def officer_b(township_b, village_b) -> User:
    return UserFactory(username="officer_b", role=User.Role.TOWNSHIP_OFFICER, area=township_b)


@pytest.fixture
def leader(township_a) -> User:
    return UserFactory(username="leader", role=User.Role.TEAM_LEADER, area=township_a)


@pytest.fixture
def auditor(county) -> User:
    return UserFactory(username="auditor", role=User.Role.AUDITOR)


@pytest.fixture
def client_for(client):
    """Log a test client in as a user: `client_for(officer_a).get(...)`."""

    def login(user: User):
        client.force_login(user)
        return client

    return login


@pytest.fixture(autouse=True)
def _empty_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    # Tasks run in-process in tests; one integration test starts a real worker.
    from aidcases.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False
