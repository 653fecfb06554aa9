"""The volunteers app's scope rules: township officers see their township's rows, team
leaders their own teams' rows, county roles everything."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from aidcases import access
from aidcases.models import AidCase
from tests.factories import make_person
from tests.volunteers.factories import make_pairing, make_team, make_visit, make_volunteer
from volunteers.models import FollowUp, Pairing, Team, Visit, Volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(village_a, village_b, township_a, township_b, leader):
    team_a = make_team(township_a, leader=leader)
    team_b = make_team(township_b, name="东冶乡服务队")
    vol_a = make_volunteer(village_a, team=team_a)
    vol_b = make_volunteer(village_b, name="王东", team=team_b)
    case_a = make_person(village_a, category=AidCase.Category.TEKUN).cases.get()
    case_b = make_person(village_b, name="钱冶", category=AidCase.Category.TEKUN).cases.get()
    return {
        "teams": (team_a, team_b),
        "volunteers": (vol_a, vol_b),
        "pairings": (make_pairing(case_a, team_a, [vol_a]), make_pairing(case_b, team_b, [vol_b])),
        "visits": (
            make_visit(case_a, day=date(2026, 10, 8), team=team_a),
            make_visit(case_b, day=date(2026, 10, 9), team=team_b),
        ),
    }


@pytest.mark.parametrize(
    "model,key",
    [(Team, "teams"), (Volunteer, "volunteers"), (Pairing, "pairings"), (Visit, "visits")],
)
def test_each_role_sees_its_own_rows(world, model, key, officer_a, officer_b, leader, county_staff):
    mine, theirs = world[key]
    for user, expected in [(officer_a, {mine}), (officer_b, {theirs}), (leader, {mine})]:
        assert set(model.objects.filter(access.scope_q(model, user))) == expected, user
    assert set(model.objects.filter(access.scope_q(model, county_staff))) == {mine, theirs}


def test_a_leader_sees_nothing_of_a_team_they_do_not_lead(world, township_a, leader):
    other = make_team(township_a, name="城关镇第二服务队")
    assert not Team.objects.filter(access.scope_q(Team, leader), pk=other.pk).exists()


def test_a_pairing_cannot_be_active_without_both_confirmations(world):
    pairing = world["pairings"][0]
    pairing.person_confirmed_on = None
    with pytest.raises(IntegrityError), transaction.atomic():
        pairing.save()


def test_follow_ups_are_scoped_by_the_persons_township(world, officer_a, officer_b):
    visit_b = world["visits"][1]
    FollowUp.objects.create(
        case=visit_b.case,
        visit=visit_b,
        need="x",
        owner=officer_b,
        due_on=date(2026, 10, 20),
        created_by=officer_b,
    )
    assert not FollowUp.objects.filter(access.scope_q(FollowUp, officer_a)).exists()
    assert FollowUp.objects.filter(access.scope_q(FollowUp, officer_b)).count() == 1
