"""Factories for the volunteers app: plain rows, for setting up a test's world.

Tests of a service call the service; these only build what a test stands on.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from aidcases.models import AidCase, Area, User
from tests.factories import _system_user
from volunteers.models import Membership, Pairing, PairingVolunteer, Team, Visit, Volunteer


def make_team(
    area: Area,
    *,
    name: str = "城关镇关爱特困人员青年志愿服务队",
    kind: str = Team.Kind.TEKUN_CARE,
    leader: User | None = None,
    **fields,
) -> Team:
    return Team.objects.create(name=name, kind=kind, area=area, leader=leader, **fields)


def make_volunteer(
    area: Area,
    *,
    name: str = "李青",
    kind: str = Volunteer.Kind.CADRE,
    team: Team | None = None,
    role: str = Membership.Role.MEMBER,
    **fields,
) -> Volunteer:
    from aidcases.search import sort_key

    volunteer = Volunteer.objects.create(
        name=name, kind=kind, area=area, name_sort=sort_key(name), **fields
    )
    if team is not None:
        Membership.objects.create(team=team, volunteer=volunteer, role=role)
    return volunteer


def make_pairing(
    case: AidCase,
    team: Team,
    volunteers: list[Volunteer],
    *,
    state: str = Pairing.State.ACTIVE,
    started_on: date | None = None,
) -> Pairing:
    """A pairing in `state` (active: confirmed both ways on `started_on`)."""
    started_on = started_on or timezone.localdate()
    confirmed = state in (Pairing.State.ACTIVE, Pairing.State.ENDED)
    pairing = Pairing.objects.create(
        case=case,
        team=team,
        state=state,
        proposed_on=started_on,
        proposed_by=_system_user(),
        volunteers_confirmed_on=started_on
        if confirmed or state == Pairing.State.VOLUNTEER_CONFIRMED
        else None,
        person_confirmed_on=started_on if confirmed else None,
        started_on=started_on if confirmed else None,
        ended_on=started_on if state == Pairing.State.ENDED else None,
    )
    for i, volunteer in enumerate(volunteers):
        PairingVolunteer.objects.create(pairing=pairing, volunteer=volunteer, is_lead=i == 0)
    return pairing


def make_visit(case: AidCase, *, day: date, team: Team | None = None, **fields) -> Visit:
    return Visit.objects.create(case=case, team=team, date=day, entered_by=_system_user(), **fields)
