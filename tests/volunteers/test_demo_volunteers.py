"""The demo seed of the volunteers app: every screen gets data, and running it again (as
every `make run` does) creates nothing."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from aidcases.models import AidCase
from tests.factories import make_person
from volunteers import demo
from volunteers.models import Activity, FollowUp, Membership, Pairing, Team, Visit, Volunteer


def counts() -> tuple:
    return tuple(
        model.objects.count()
        for model in (Team, Volunteer, Membership, Pairing, Visit, Activity, FollowUp)
    )


def test_the_demo_seed_fills_every_screen_and_runs_once(
    admin, township_a, village_a, township_b, village_b, officer_b, leader, monkeypatch
):
    for n in range(8):
        make_person(village_a, name=f"特困{n}", category=AidCase.Category.TEKUN)
        make_person(village_b, name=f"留守{n}", category=AidCase.Category.LEFT_BEHIND)
    # The test county stands in for the demo's.
    monkeypatch.setattr(demo, "COUNTY_PATH", township_a.parent.path)

    summary = demo.seed_volunteers(admin, random.Random("volunteers"))

    today = timezone.localdate()
    assert "新增服务队 3 支" in summary
    assert Team.objects.filter(kind=Team.Kind.TEKUN_CARE).count() == 2
    assert Team.objects.filter(kind=Team.Kind.SWALLOW).count() == 1
    assert Team.objects.get(leader=leader).area == township_a
    for team in Team.objects.all():
        assert 10 <= team.memberships.count() <= 20
    assert Pairing.objects.filter(state=Pairing.State.ACTIVE).count() >= 10
    assert Pairing.objects.filter(
        state=Pairing.State.PROPOSED, proposed_on__lt=today - timedelta(days=14)
    ).exists()
    assert Visit.objects.filter(date__lt=today - timedelta(days=300)).exists()
    assert Visit.objects.filter(seen_in_person=False).exists()
    assert FollowUp.objects.filter(state__in=FollowUp.OPEN_STATES, due_on__lt=today).count() == 1
    urgent = FollowUp.objects.get(is_mandatory_report=True)
    assert urgent.is_open and urgent.due_on == today and urgent.urgency == FollowUp.Urgency.URGENT
    assert urgent.owner == officer_b  # the child's township officer
    assert Activity.objects.count() > 0

    before = counts()
    again = demo.seed_volunteers(admin, random.Random("volunteers"))

    assert "跳过" in again
    assert counts() == before
