"""Reads: pairings and the pairing worklists, always scoped through aidcases.access.

Each list is one query for its rows plus a fixed number for what the rows show
(select_related / prefetch_related): the count does not grow with the rows.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from aidcases import access
from aidcases.models import AidCase, Area, AuditEvent, Person, User
from aidcases.search import normalize_query
from volunteers import scoping
from volunteers.models import Membership, Pairing, PairingVolunteer, Team, Volunteer

__all__ = [
    "PAIRING_CASE_CATEGORIES",
    "pairable_cases_for",
    "pairing_confirm_overdue_since",
    "pairing_for_user_or_404",
    "pairing_history",
    "pairing_list",
    "pairings_of_person",
    "pairings_unconfirmed",
    "pairing_teams_for",
    "search_cases",
    "team_current_members",
    "unpaired_cases",
    "unpaired_count",
]

PAIRING_CASE_CATEGORIES = (AidCase.Category.TEKUN, AidCase.Category.LEFT_BEHIND)

_MEMBERS = Prefetch(
    "members",
    queryset=PairingVolunteer.objects.select_related("volunteer").order_by(
        "-is_lead", "volunteer__name_sort", "volunteer_id"
    ),
)


def _pairings(user: User) -> QuerySet[Pairing]:
    return (
        Pairing.objects.filter(access.scope_q(Pairing, user))
        .select_related("case__person__area__parent", "team__area")
        .prefetch_related(_MEMBERS)
    )


def pairing_for_user_or_404(*, user: User, pk: int) -> Pairing:
    qs = Pairing.objects.select_related(
        "case__person__area__parent",
        "team__area",
        "proposed_by",
        "person_confirmation_recorded_by",
    ).prefetch_related(_MEMBERS)
    return access.get_for_user_or_404(qs, user, pk=pk)


def pairing_history(*, pairing: Pairing) -> list[AuditEvent]:
    """The pairing's steps, oldest first, from its audit rows."""
    return list(
        AuditEvent.objects.filter(
            object_type=ContentType.objects.get_for_model(Pairing),
            object_id=str(pairing.pk),
            verb__startswith="pairing.",
        )
        .select_related("actor")
        .order_by("at", "id")
    )


def pairing_list(
    *,
    user: User,
    state: str = "",
    team: Team | None = None,
    township: Area | None = None,
) -> QuerySet[Pairing]:
    """Every pairing in scope, newest first, optionally filtered."""
    qs = _pairings(user)
    if state:
        qs = qs.filter(state=state)
    if team is not None:
        qs = qs.filter(team=team)
    if township is not None:
        qs = qs.filter(case__person__area__path__startswith=township.path)
    return qs.order_by("-proposed_on", "-id")


def pairing_confirm_overdue_since(today: date | None = None) -> date:
    """A pairing proposed on or before this day and still not confirmed both ways
    is overdue: PAIRING_CONFIRM_DAYS whole days have passed since it was proposed."""
    today = today or timezone.localdate()
    return today - timedelta(days=settings.PAIRING_CONFIRM_DAYS)


def pairings_unconfirmed(
    *, user: User, today: date | None = None, township: Area | None = None
) -> QuerySet[Pairing]:
    """Proposed (or confirmed by the volunteers only) for PAIRING_CONFIRM_DAYS days or
    more, oldest first."""
    qs = _pairings(user).filter(
        state__in=(Pairing.State.PROPOSED, Pairing.State.VOLUNTEER_CONFIRMED),
        proposed_on__lte=pairing_confirm_overdue_since(today),
    )
    if township is not None:
        qs = qs.filter(case__person__area__path__startswith=township.path)
    return qs.order_by("proposed_on", "id")


def pairable_cases_for(*, user: User) -> QuerySet[AidCase]:
    """Open 特困 and 留守 cases of active persons in the user's scope."""
    return AidCase.objects.filter(
        access.scope_q(AidCase, user),
        status=AidCase.Status.OPEN,
        category__in=PAIRING_CASE_CATEGORIES,
        person__is_active=True,
    ).select_related("person__area__parent")


def unpaired_cases(
    *,
    user: User,
    township: Area | None = None,
    category: str = "",
    q: str = "",
) -> QuerySet[AidCase]:
    """Open 特困 / 留守 cases with no active pairing; `has_open_proposal` says whether
    a proposal is under way. By township and name."""
    open_proposal = Pairing.objects.filter(
        case=OuterRef("pk"),
        state__in=(Pairing.State.PROPOSED, Pairing.State.VOLUNTEER_CONFIRMED),
    )
    qs = (
        pairable_cases_for(user=user)
        .filter(~Exists(Pairing.objects.filter(case=OuterRef("pk"), state=Pairing.State.ACTIVE)))
        .annotate(has_open_proposal=Exists(open_proposal))
    )
    if township is not None:
        qs = qs.filter(person__area__path__startswith=township.path)
    if category:
        qs = qs.filter(category=category)
    if q:
        qs = search_cases(qs, q)
    return qs.order_by("person__area__path", "person__name_sort", "pk")


def search_cases(qs: QuerySet[AidCase], q: str) -> QuerySet[AidCase]:
    """By name, pinyin or initials only (no ID or phone tails: a pairing page has no
    business narrowing an ID number)."""
    token = normalize_query(q)[:40]
    if not token:
        return qs
    return qs.filter(person__search_tokens__contains=[token])


def pairing_teams_for(*, user: User) -> QuerySet[Team]:
    """Teams in scope that may take a new pairing."""
    return (
        Team.objects.filter(access.scope_q(Team, user), is_active=True)
        .select_related("area")
        .order_by("area__path", "name")
    )


def team_current_members(*, team: Team) -> QuerySet[Volunteer]:
    """The team's current members, by name."""
    return Volunteer.objects.filter(
        Exists(
            Membership.objects.filter(team=team, volunteer=OuterRef("pk"), ended_on__isnull=True)
        ),
        is_active=True,
    ).order_by("name_sort", "id")


def pairings_of_person(*, person: Person, user: User) -> list[Pairing]:
    """The person's pairings (every case of theirs) that the user may see, open ones
    first, for the 一人一档 section."""
    state_rank = {s: i for i, s in enumerate(
        [Pairing.State.ACTIVE, Pairing.State.VOLUNTEER_CONFIRMED, Pairing.State.PROPOSED,
         Pairing.State.ENDED, Pairing.State.CANCELLED]
    )}  # fmt: skip
    rows = list(
        Pairing.objects.filter(scoping.of_person_q(Pairing, user, person), case__person=person)
        .select_related("case", "team")
        .prefetch_related(_MEMBERS)
        .order_by("-proposed_on", "-id")
    )
    rows.sort(key=lambda p: state_rank.get(p.state, 9))
    return rows


def unpaired_count(*, user: User) -> int:
    return unpaired_cases(user=user).order_by().count()
