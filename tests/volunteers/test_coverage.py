"""The coverage grid: person × quarter (特困) or × month (留守), green / amber / red."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aidcases.models import AidCase
from tests.factories import make_person
from tests.volunteers import test_visits_world as world
from tests.volunteers.factories import make_visit
from tests.volunteers.test_visits_world import TODAY
from volunteers.selectors.visits import coverage_periods

pytestmark = pytest.mark.django_db
vw = world.vw


def cells(html: str, name: str) -> list[str]:
    row = html.split(f">{name}</a>")[1].split("</tr>")[0]
    return [part.split('"')[0] for part in row.split('data-cell="')[1:]]


def test_periods_are_the_last_four_quarters_or_six_months():
    quarters = coverage_periods(AidCase.Category.TEKUN, date(2026, 11, 20))
    assert [p.start for p in quarters] == [
        date(2026, 1, 1),
        date(2026, 4, 1),
        date(2026, 7, 1),
        date(2026, 10, 1),
    ]
    assert quarters[-1].end == date(2026, 12, 31)
    months = coverage_periods(AidCase.Category.LEFT_BEHIND, date(2026, 3, 31))
    assert [p.start for p in months][0] == date(2025, 10, 1)
    assert months[-1].label == "2026年3月" and months[1].end == date(2025, 11, 30)


def test_green_when_seen_amber_when_only_not_seen_red_when_nothing(vw, officer_a, client_for):
    make_visit(vw.tekun, day=date(2026, 2, 10))  # Q1 seen
    make_visit(vw.tekun, day=date(2026, 5, 3), seen_in_person=False, not_seen_reason="外出")
    make_visit(vw.tekun, day=date(2026, 8, 1), mode="remote", seen_in_person=False,
               not_seen_reason="电话")  # fmt: skip
    make_visit(vw.tekun, day=date(2026, 8, 20), team=vw.team)  # Q3 also seen: green wins
    html = client_for(officer_a).get(reverse("visit_coverage")).content.decode()
    assert cells(html, "张大山") == ["green", "amber", "green", "red"]


def test_left_behind_by_month(vw, officer_a, client_for):
    make_visit(vw.child, day=date(2026, 11, 2), left_behind_kind="home")
    html = (
        client_for(officer_a)
        .get(reverse("visit_coverage"), {"category": "left_behind"})
        .content.decode()
    )
    assert cells(html, "刘小雨") == ["red"] * 5 + ["green"]
    assert "2026年11月" in html


def test_a_county_user_picks_a_township_and_an_officer_sees_only_theirs(
    vw, county_staff, officer_b, township_a, client_for
):
    client = client_for(county_staff)
    assert "请先选择乡(镇)" in client.get(reverse("visit_coverage")).content.decode()
    html = client.get(reverse("visit_coverage"), {"township": township_a.pk}).content.decode()
    assert "张大山" in html
    other = client_for(officer_b)
    html = other.get(reverse("visit_coverage"), {"township": township_a.pk}).content.decode()
    assert "张大山" not in html and "孙东冶" in html


def test_the_grid_is_one_grouped_query_whatever_the_rows(vw, officer_a, village_a, client_for):
    client = client_for(officer_a)
    client.get(reverse("visit_coverage"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("visit_coverage"))
    for i in range(15):
        case = make_person(village_a, name=f"覆盖{i}", category=AidCase.Category.TEKUN).cases.get()
        make_visit(case, day=date(2026, 2 + i % 9, 3))
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("visit_coverage")).content.decode()
    assert html.count('data-testid="coverage-row"') == 16
    assert len(many.captured_queries) == len(few.captured_queries)
    assert TODAY.year == 2026
