"""Who may reach which volunteers row (registered with `aidcases.access` in apps.py).

County-level roles: everything. Township officer: what hangs on their township — a team
by its area; a pairing, visit or follow-up by the cared-for person's area or by its
team's area; a volunteer by home area or by membership of one of the township's teams.
Team leader: only the teams they lead and what hangs on them (and follow-ups they own).
Anyone else: nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q

from aidcases import access
from aidcases.models import User

NOTHING = Q(pk__in=[])


def _rule(
    *,
    township: Callable[[str], Q],
    leader: Callable[[User], Q],
) -> Callable[[User], Q]:
    def rule(user: User) -> Q:
        if access.sees_everything(user):
            return Q()
        if user.area_id is None:
            return NOTHING
        if user.role == User.Role.TEAM_LEADER:
            return leader(user)
        if user.role == User.Role.TOWNSHIP_OFFICER:
            return township(user.area.path)
        return NOTHING

    return rule


def _volunteer_township(path: str) -> Q:
    from volunteers.models import Membership

    members = Membership.objects.filter(team__area__path__startswith=path).values("volunteer_id")
    return Q(area__path__startswith=path) | Q(pk__in=members)


def _volunteer_leader(user: User) -> Q:
    from volunteers.models import Membership

    return Q(pk__in=Membership.objects.filter(team__leader=user).values("volunteer_id"))


# A township's rows are those of its persons' cases OR of its teams. Written as two id
# subqueries, not as an OR over two joined paths: the OR of joins made PostgreSQL read every
# visit of the province (4.6 s for a township officer's visit list at 800,000 visits).
def _cases_in(path: str):
    from aidcases.models import AidCase

    return AidCase.objects.filter(person__area__path__startswith=path).values("id")


def _teams_in(path: str):
    from volunteers.models import Team

    return Team.objects.filter(area__path__startswith=path).values("id")


def _union(model, path: str, team_field: str):
    """Ids of `model` rows whose case is in the township UNION those whose team is: each half
    an index scan (an OR in one WHERE made PostgreSQL read every visit to count a page)."""
    by_case = model.objects.filter(case_id__in=_cases_in(path)).order_by().values("id")
    by_team = model.objects.filter(**{f"{team_field}__in": _teams_in(path)}).order_by().values("id")
    return by_case.union(by_team)


def register() -> None:
    from volunteers import models as m

    def via_team(prefix: str) -> Callable[[User], Q]:
        return _rule(
            township=lambda path: Q(**{f"{prefix}area__path__startswith": path}),
            leader=lambda user: Q(**{f"{prefix}leader": user}),
        )

    access.register_scope(m.Team, via_team(""))
    access.register_scope(m.Membership, via_team("team__"))
    access.register_scope(m.Activity, via_team("team__"))
    access.register_scope(m.ActivityPhoto, via_team("activity__team__"))
    access.register_scope(
        m.Volunteer, _rule(township=_volunteer_township, leader=_volunteer_leader)
    )
    case_or_team = _rule(
        township=lambda path: Q(case_id__in=_cases_in(path)) | Q(team_id__in=_teams_in(path)),
        leader=lambda user: Q(team__leader=user),
    )
    access.register_scope(m.Pairing, case_or_team)
    access.register_scope(
        m.Visit,
        _rule(
            township=lambda path: Q(pk__in=_union(m.Visit, path, "team_id")),
            leader=lambda user: Q(team__leader=user),
        ),
    )
    access.register_scope(
        m.PairingVolunteer,
        _rule(
            township=lambda path: (
                Q(pairing__case__person__area__path__startswith=path)
                | Q(pairing__team__area__path__startswith=path)
            ),
            leader=lambda user: Q(pairing__team__leader=user),
        ),
    )
    access.register_scope(
        m.FollowUp,
        _rule(
            # An OR of two id lists (hashed subplans: the township's cases, its teams'
            # visits), probed for each follow-up the other filters leave. An OR over the
            # joined paths hash-joined every visit of the province (an officer's overdue
            # tab: 880 ms); a UNION of ids read the township's whole list before LIMIT.
            township=lambda path: (
                Q(case_id__in=_cases_in(path))
                | Q(visit_id__in=m.Visit.objects.filter(team_id__in=_teams_in(path)).values("id"))
            ),
            leader=lambda user: Q(visit__team__leader=user) | Q(owner=user),
        ),
    )


def of_person_q(model, user: User, person) -> Q:
    """The scope of `model` rows about one person's cases, for a page that already showed
    the person to `user` (the 一人一档 archive). A township officer whose township holds the
    person sees every such row by the case half of the township rule, so no scope is
    added — the rule's other half (rows of the township's teams) computed every visit id of
    the township to show one person's dozen. Team leaders keep their team's rule."""
    if user.role == User.Role.TOWNSHIP_OFFICER and access.scope_covers(user, person.area.path):
        return Q()
    return access.scope_q(model, user)
