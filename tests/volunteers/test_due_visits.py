"""Due visits: anchor + interval, states at quarter and month edges (frozen dates)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from aidcases.models import AidCase
from tests.factories import make_person
from tests.volunteers import test_visits_world as world
from tests.volunteers.factories import make_visit
from tests.volunteers.test_visits_world import freeze
from volunteers.models import Pairing
from volunteers.selectors.visits import DueState, due_visits

pytestmark = pytest.mark.django_db
vw = world.vw


def due(user, case, today):
    return due_visits(user=user, today=today).get(pk=case.pk)


@pytest.mark.parametrize(
    "today,state",
    [
        (date(2026, 2, 20), DueState.OK),  # 8 days before Feb 28
        (date(2026, 2, 21), DueState.UPCOMING),  # 7 days before
        (date(2026, 2, 27), DueState.UPCOMING),
        (date(2026, 2, 28), DueState.DUE),  # Jan 31 + 1 month = Feb 28
        (date(2026, 3, 7), DueState.DUE),  # the last day of grace
        (date(2026, 3, 8), DueState.OVERDUE),
    ],
)
def test_a_left_behind_child_seen_on_jan_31_is_due_on_feb_28(vw, officer_a, today, state):
    make_visit(vw.child, day=date(2026, 1, 31), left_behind_kind="home")
    row = due(officer_a, vw.child, today)
    assert row.next_due == date(2026, 2, 28)
    assert row.due_state == state


@pytest.mark.parametrize(
    "seen,today,state",
    [
        (date(2025, 11, 30), date(2026, 2, 28), DueState.DUE),  # Nov 30 + 3 months = Feb 28
        (date(2025, 12, 31), date(2026, 3, 31), DueState.DUE),  # end of quarter to end
        (date(2025, 12, 31), date(2026, 4, 8), DueState.OVERDUE),
        (date(2026, 1, 1), date(2026, 3, 31), DueState.UPCOMING),  # due Apr 1
    ],
)
def test_a_tekun_person_is_due_a_quarter_after_being_seen(vw, officer_a, seen, today, state):
    make_visit(vw.tekun, day=seen)
    row = due(officer_a, vw.tekun, today)
    assert row.due_state == state


def test_a_visit_without_seeing_the_person_does_not_move_the_anchor(vw, officer_a):
    make_visit(vw.tekun, day=date(2026, 1, 10))
    make_visit(
        vw.tekun, day=date(2026, 4, 5), seen_in_person=False, not_seen_reason="外出", team=vw.team
    )
    row = due(officer_a, vw.tekun, date(2026, 4, 20))
    assert row.anchor == date(2026, 1, 10)
    assert row.due_state == DueState.OVERDUE


def test_without_visits_the_active_pairings_start_then_the_case_opening_anchor(
    vw, officer_a, village_a
):
    assert due(officer_a, vw.tekun, date(2026, 2, 1)).anchor == date(2026, 1, 5)  # pairing
    loner = make_person(village_a, name="吴独居", category=AidCase.Category.TEKUN).cases.get()
    AidCase.objects.filter(pk=loner.pk).update(opened_on=date(2025, 6, 1))
    row = due(officer_a, loner, date(2026, 2, 1))
    assert row.anchor == date(2025, 6, 1) and row.due_state == DueState.OVERDUE
    Pairing.objects.filter(case=vw.tekun).update(state=Pairing.State.PROPOSED)
    assert due(officer_a, vw.tekun, date(2026, 2, 1)).anchor == vw.tekun.opened_on


def test_a_leader_sees_only_their_teams_cases_and_an_officer_only_their_township(
    vw, leader, officer_a, officer_b, village_a
):
    make_person(village_a, name="郑未结", category=AidCase.Category.TEKUN)
    today = date(2026, 11, 20)
    leader_rows = {c.person.name for c in due_visits(user=leader, today=today)}
    assert leader_rows == {"张大山", "刘小雨"}
    assert "郑未结" in {c.person.name for c in due_visits(user=officer_a, today=today)}
    assert {c.person.name for c in due_visits(user=officer_b, today=today)} == {"孙东冶"}


def test_the_due_page_lists_overdue_in_constant_queries(
    vw, officer_a, village_a, client_for, monkeypatch, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    freeze(monkeypatch, date(2026, 11, 20))
    client = client_for(officer_a)
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("visit_due"), {"state": "overdue"})
    assert page.content.decode().count('data-testid="due-row"') == 2  # paired in January
    for i in range(12):
        make_person(village_a, name=f"钟{i}号", category=AidCase.Category.TEKUN)
    AidCase.objects.update(opened_on=date(2025, 1, 1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("visit_due"), {"state": "overdue"})
    assert page.content.decode().count('data-testid="due-row"') == 14


def test_the_overdue_card_counts_what_the_due_page_lists(vw, officer_a, client_for, monkeypatch):
    freeze(monkeypatch, date(2026, 11, 20))
    make_visit(vw.tekun, day=date(2026, 11, 1))  # seen this month: ok
    html = client_for(officer_a).get(reverse("home")).content.decode()
    assert "逾期未走访" in html
    card = html.split("逾期未走访")[1][:200]
    assert ">1<" in card  # the 留守 child, unvisited since the January pairing


def test_the_stored_anchor_follows_every_kind_of_write(vw, officer_a):
    """The anchors are kept by statement triggers, so bulk inserts (the Excel import),
    queryset updates and deletes move them as a single save does."""
    from volunteers.models import Visit, VisitAnchor

    def anchor():
        row = VisitAnchor.objects.filter(case=vw.tekun).first()
        return row and (row.last_seen_on, row.pairing_started_on)

    started = date(2026, 1, 5)  # the world's pairing
    assert anchor() == (None, started)
    Visit.objects.bulk_create(
        [
            Visit(case=vw.tekun, team=vw.team, date=date(2026, 1, 5), entered_by=officer_a),
            Visit(case=vw.tekun, team=vw.team, date=date(2026, 2, 5), entered_by=officer_a),
        ]
    )
    assert anchor() == (date(2026, 2, 5), started)

    Visit.objects.filter(case=vw.tekun, date=date(2026, 2, 5)).update(
        seen_in_person=False, not_seen_reason="外出"
    )
    assert anchor() == (date(2026, 1, 5), started)

    Visit.objects.filter(case=vw.tekun).delete()
    assert anchor() == (None, started)

    Pairing.objects.filter(case=vw.tekun).update(state=Pairing.State.ENDED, ended_on=started)
    assert anchor() == (None, None)


def test_the_state_filter_ranges_agree_with_the_computed_state_on_every_day():
    """The list filters a state by ranges of anchor dates worked out in Python
    (`first_anchor_reaching`): for every anchor over three years, month ends and leap day
    included, and a few todays, the range puts it in the state its due date gives."""
    from datetime import timedelta

    from django.conf import settings

    from volunteers.selectors.visits import _due_state_q, add_months

    def state_of(due, today):
        if due > today + timedelta(days=settings.VISIT_UPCOMING_DAYS):
            return DueState.OK
        if due > today:
            return DueState.UPCOMING
        if due >= today - timedelta(days=settings.VISIT_GRACE_DAYS):
            return DueState.DUE
        return DueState.OVERDUE

    def matches(q, category, anchor) -> bool:
        """Evaluate the Q (an OR of per-category AND terms) in Python."""
        for term in q.children:
            lookups = dict(term.children) if hasattr(term, "children") else dict([term])
            if lookups.get("category") != category:
                continue
            low, high = lookups.get("anchor__gte"), lookups.get("anchor__lt")
            if (low is None or anchor >= low) and (high is None or anchor < high):
                return True
        return False

    intervals = {"tekun": 3, "left_behind": 1}
    for today in (date(2026, 2, 28), date(2026, 3, 31), date(2028, 2, 29), date(2026, 12, 31)):
        qs = {s: _due_state_q(s, today=today, intervals=intervals) for s in DueState.LABELS}
        anchor = today - timedelta(days=400)
        while anchor <= today:
            for category, months in intervals.items():
                expected = state_of(add_months(anchor, months), today)
                got = [s for s, q in qs.items() if matches(q, category, anchor)]
                assert got == [expected], (today, anchor, category, got)
            anchor += timedelta(days=1)


def test_filtering_a_state_finds_the_case_in_that_state(vw, officer_a):
    make_visit(vw.child, day=date(2026, 1, 31), left_behind_kind="home")
    for today in (date(2026, 2, 20), date(2026, 2, 27), date(2026, 3, 7), date(2026, 3, 8)):
        state = due(officer_a, vw.child, today).due_state
        found = due_visits(user=officer_a, today=today, state=state)
        assert found.filter(pk=vw.child.pk).exists(), (today, state)
