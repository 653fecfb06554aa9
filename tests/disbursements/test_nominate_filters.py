"""Nominating from the people list with its own filters (the hub's PersonFilter: 村, 类别,
认定等级, 学校, 年级 …): ticking people on the page, or everyone the filters find."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from aidcases import services as hub
from aidcases.models import AidCase, Area, AuditEvent
from disbursements import services
from students import services as student_services
from tests.factories import _system_user, child_area, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(county_staff, funded):
    programme, fund = funded
    return services.batch_create(
        acting_user=county_staff,
        programme=programme,
        name="2026年秋季学期困难学生助学金",
        school_year=2026,
        term="autumn",
        fund=fund,
    )


@pytest.fixture
def west(township_a):
    return child_area(township_a, "202", "西关社区", Area.Level.VILLAGE)


@pytest.fixture
def west_students(west):
    cases = [
        make_person(west, name=name, category=AidCase.Category.STUDENT).cases.get()
        for name in ("李西一", "李西二")
    ]
    hub.case_update(acting_user=_system_user(), case=cases[0], hardship_level="special", flags=[])
    return cases


def _token(html: str) -> str:
    return re.search(r'name="client_token" value="([0-9a-f-]{36})"', html).group(1)


def _names(html: str) -> set[str]:
    return set(re.findall(r'aria-label="选择 ([^"]+)"', html))


def test_the_village_filter_lists_only_that_villages_people(
    client_for, officer_a, batch, students, west, west_students
):
    client = client_for(officer_a)
    url = reverse("batch_nominate", args=[batch.pk])
    html = client.get(url, {"village": west.pk}).content.decode()
    assert _names(html) == {"李西一", "李西二"}
    everyone = client.get(url, {"q": ""}).content.decode()
    assert _names(everyone) == {"李西一", "李西二", *(c.person.name for c in students)}
    # the people list's own filter fields are on the page
    for field in ("village", "category", "level", "flags", "school", "grade"):
        assert f'name="{field}"' in html, field


def test_the_level_filter_picks_people_by_their_case(
    client_for, officer_a, batch, students, west_students
):
    html = (
        client_for(officer_a)
        .get(reverse("batch_nominate", args=[batch.pk]), {"level": "special"})
        .content.decode()
    )
    assert _names(html) == {"李西一"}


def test_the_school_filter_registered_by_the_students_app_applies(
    client_for, officer_a, batch, students, township_a
):
    school = student_services.school_get_or_create(
        acting_user=_system_user(), name="城关中学", township=township_a, stage="junior"
    )[0]
    student_services.student_profile_save(
        acting_user=_system_user(), case=students[1], school=school, grade="初二"
    )
    html = (
        client_for(officer_a)
        .get(reverse("batch_nominate", args=[batch.pk]), {"school": school.pk})
        .content.decode()
    )
    assert _names(html) == {students[1].person.name}


def test_nominate_all_adds_everyone_the_filters_find_at_the_standard(
    client_for, officer_a, batch, students, west, west_students
):
    client = client_for(officer_a)
    url = reverse("batch_nominate", args=[batch.pk])
    page = client.get(url, {"village": west.pk}).content.decode()
    assert "提名筛选出的全部 2 人" in page
    data = {"all": "1", "village": west.pk, "client_token": _token(page)}
    done = client.post(url, data, follow=True).content.decode()
    assert "已提名 2 人" in done
    amounts = dict(batch.lines.values_list("person__name", "amount"))
    assert {k: str(v) for k, v in amounts.items()} == {"李西一": "1000.00", "李西二": "500.00"}
    # the same click again (a resent form) adds nobody and says nothing is wrong
    again = client.post(url, data, follow=True).content.decode()
    assert "没有提名任何人" in again and "此人已在本批次名单中" not in again
    assert batch.lines.count() == 2
    assert AuditEvent.objects.filter(verb="aid_line.add").count() == 2
    # and the page no longer lists them
    assert _names(client.get(url, {"village": west.pk}).content.decode()) == set()


def test_nominate_all_needs_a_filter_and_stays_in_scope(
    client_for, officer_a, batch, students, village_b
):
    make_person(village_b, name="郑东冶", category=AidCase.Category.STUDENT)
    client = client_for(officer_a)
    url = reverse("batch_nominate", args=[batch.pk])
    token = _token(client.get(url, {"q": ""}).content.decode())
    refused = client.post(url, {"all": "1", "client_token": token}, follow=True).content.decode()
    assert "请先设置筛选条件" in refused and not batch.lines.exists()
    client.post(url, {"all": "1", "category": "student", "client_token": token})
    assert set(batch.lines.values_list("person__name", flat=True)) == {
        c.person.name for c in students
    }


def test_a_village_of_another_township_is_a_filter_error_not_a_list(
    client_for, officer_a, batch, students, village_b
):
    client = client_for(officer_a)
    url = reverse("batch_nominate", args=[batch.pk])
    html = client.get(url, {"village": village_b.pk}).content.decode()
    assert 'data-testid="filter-errors"' in html and _names(html) == set()
    client.post(url, {"all": "1", "village": village_b.pk})
    assert not batch.lines.exists()


def test_a_whole_id_number_never_stays_in_the_address(client_for, officer_a, batch, students):
    from aidcases import pii

    number = pii.decrypt(students[0].person.id_number_encrypted)
    response = client_for(officer_a).get(reverse("batch_nominate", args=[batch.pk]), {"q": number})
    assert response.status_code == 302 and number not in response["Location"]
