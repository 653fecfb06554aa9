"""The first account: `python manage.py createsuperuser`, as the README's docker-compose
step runs it, gives a working 系统管理员 of the whole county."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from aidcases.models import AuditEvent, Person, User
from tests.aidcases.test_people_import import HEADER, tekun_rows
from tests.factories import child_area
from tests.fixtures.rosters import write_roster


@pytest.fixture
def village_north(township_a):
    return child_area(township_a, "202", "北关村", "village")


@pytest.fixture
def first_admin(db, monkeypatch) -> User:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "copper-meadow-5521")
    call_command(
        "createsuperuser",
        interactive=False,
        username="root",
        email="root@example.org",
        stdout=StringIO(),
    )
    return User.objects.get(username="root")


def test_createsuperuser_makes_a_system_admin_of_the_whole_county(first_admin):
    assert first_admin.role == User.Role.ADMIN
    assert first_admin.area is None and first_admin.is_county_level
    assert list(first_admin.groups.values_list("name", flat=True)) == ["系统管理员"]
    for perm in (
        "aidcases.manage_users",
        "aidcases.manage_areas",
        "aidcases.view_audit",
        "aidcases.import_people",
        "aidcases.export_people",
        "aidcases.reveal_id_number",
        "aidcases.change_area",
    ):
        assert first_admin.has_perm(perm), perm


def test_createsuperuser_is_audited(first_admin):
    event = AuditEvent.objects.get(verb="user.create", object_id=str(first_admin.pk))
    assert event.actor is None and event.details["role"] == "admin"


@pytest.mark.parametrize(
    "name", ["user_list", "user_create", "area_list", "area_load", "people_import", "audit_list",
             "history_list", "person_list", "person_create", "duplicate_review", "school_list"]
)  # fmt: skip
def test_first_admin_opens_every_admin_page(client, first_admin, name):
    client.force_login(first_admin)
    assert client.get(reverse(name)).status_code == 200


def test_first_admin_imports_people_without_naming_a_user(
    tmp_path, first_admin, township_a, village_a, village_north
):
    path = write_roster(tmp_path / "a.xlsx", HEADER, tekun_rows())

    call_command(
        "import_people", str(path), category="tekun", township=township_a.code, stdout=StringIO()
    )

    assert Person.objects.count() == 2
    assert AuditEvent.objects.get(verb="person.import").actor == first_admin
