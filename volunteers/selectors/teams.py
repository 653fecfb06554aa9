"""Reads: teams, volunteers, memberships and activities — always scoped through
aidcases.access, with a fixed number of queries whatever the number of rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone

from aidcases import access, search
from aidcases.models import Area, User
from aidcases.querytools import count_per_row
from volunteers.models import Activity, ActivityPhoto, Membership, Pairing, Team, Volunteer

# --- quarters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int  # 1..4

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        following = self.next()
        return following.start - timedelta(days=1)

    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    @property
    def label(self) -> str:
        return f"{self.year}年第{'一二三四'[self.number - 1]}季度"

    @property
    def short_label(self) -> str:
        return f"{self.year}Q{self.number}"


def last_quarters(n: int = 4, today: date | None = None) -> list[Quarter]:
    """The current quarter and the n-1 before it, oldest first."""
    quarter = Quarter.of(today or timezone.localdate())
    quarters = [quarter]
    for _i in range(n - 1):
        quarters.append(quarters[-1].previous())
    return list(reversed(quarters))


# --- teams -----------------------------------------------------------------------------------


def teams_for(*, user: User) -> QuerySet[Team]:
    return Team.objects.filter(access.scope_q(Team, user)).select_related(
        "area", "leader", "area__parent"
    )


def team_for_user_or_404(*, user: User, pk: int) -> Team:
    return access.get_for_user_or_404(teams_for(user=user), user, pk=pk)


def _current_members_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}ended_on__isnull": True})


def team_list(
    *,
    user: User,
    q: str = "",
    township: Area | None = None,
    kind: str = "",
    include_inactive: bool = False,
    today: date | None = None,
) -> QuerySet[Team]:
    """Teams in scope with `member_count` (current members), `quarter_activities` (this
    quarter's activities) — one query per page whatever the number of teams."""
    quarter = Quarter.of(today or timezone.localdate())
    qs = teams_for(user=user)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    name = "".join((q or "").split())
    if name:
        qs = qs.filter(name__icontains=name)
    if township is not None:
        qs = qs.filter(area__path__startswith=township.path)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.annotate(
        member_count=count_per_row(
            Membership.objects.filter(team=OuterRef("pk"), ended_on__isnull=True), by="team"
        ),
        quarter_activities=count_per_row(
            Activity.objects.filter(
                team=OuterRef("pk"), date__gte=quarter.start, date__lte=quarter.end
            ),
            by="team",
        ),
    ).order_by("area__path", "name", "pk")


def teams_without_activity(*, quarter: Quarter) -> QuerySet[Team]:
    """Every active team with no activity recorded in `quarter` (每季度至少一次), unscoped:
    for system work (the quarterly reminders); pages narrow it with the user's scope."""
    done = Activity.objects.filter(
        team=OuterRef("pk"), date__gte=quarter.start, date__lte=quarter.end
    )
    return Team.objects.filter(is_active=True).exclude(Exists(done))


def teams_without_activity_count(*, user: User, today: date | None = None) -> int:
    """Active teams in scope with no activity in the current quarter (每季度至少一次)."""
    quarter = Quarter.of(today or timezone.localdate())
    return teams_without_activity(quarter=quarter).filter(access.scope_q(Team, user)).count()


def team_members(*, team: Team, include_past: bool = True) -> list[Membership]:
    qs = Membership.objects.filter(team=team).select_related("volunteer")
    if not include_past:
        qs = qs.filter(ended_on__isnull=True)
    role_order = {r: i for i, r in enumerate(Membership.Role.values)}
    return sorted(
        qs,
        key=lambda m: (
            m.ended_on is not None,
            role_order.get(m.role, 9),
            m.volunteer.name_sort,
            m.pk,
        ),
    )


def team_pairings(*, team: Team) -> list[Pairing]:
    """The team's pairings with the cared-for person's name and the lead volunteer
    (prefetched: two queries)."""
    from volunteers.models import PairingVolunteer

    return list(
        Pairing.objects.filter(team=team)
        .select_related("case__person")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=PairingVolunteer.objects.filter(is_lead=True).select_related("volunteer"),
                to_attr="leads",
            )
        )
        .order_by("-proposed_on", "-pk")
    )


def quarter_compliance(
    *, team: Team, n: int = 4, today: date | None = None
) -> list[tuple[Quarter, int]]:
    """(quarter, activities held) for the last n quarters, oldest first. One query."""
    quarters = last_quarters(n, today)
    dates = Activity.objects.filter(
        team=team, date__gte=quarters[0].start, date__lte=quarters[-1].end
    ).values_list("date", flat=True)
    counts = {q: 0 for q in quarters}
    for day in dates:
        counts[Quarter.of(day)] = counts.get(Quarter.of(day), 0) + 1
    return [(q, counts[q]) for q in quarters]


def activities_for(*, user: User) -> QuerySet[Activity]:
    return Activity.objects.filter(access.scope_q(Activity, user)).select_related(
        "team", "team__area", "entered_by"
    )


def activity_for_user_or_404(*, user: User, pk: int) -> Activity:
    return access.get_for_user_or_404(
        activities_for(user=user).prefetch_related("participants", "photos"), user, pk=pk
    )


def activity_photo_for_user_or_404(*, user: User, pk: int) -> ActivityPhoto:
    qs = ActivityPhoto.objects.select_related("activity__team__area")
    return access.get_for_user_or_404(qs, user, pk=pk)


def team_activities(*, team: Team, limit: int = 20) -> list[Activity]:
    return list(
        Activity.objects.filter(team=team)
        .annotate(participant_count=Count("participants", distinct=True))
        .annotate(photo_count=Count("photos", distinct=True))
        .order_by("-date", "-pk")[:limit]
    )


# --- volunteers ------------------------------------------------------------------------------


def volunteers_for(*, user: User) -> QuerySet[Volunteer]:
    return Volunteer.objects.filter(access.scope_q(Volunteer, user)).select_related("area")


def volunteer_for_user_or_404(*, user: User, pk: int) -> Volunteer:
    return access.get_for_user_or_404(volunteers_for(user=user), user, pk=pk)


_INITIALS_RE = re.compile(r"^[a-z]{2,6}$")


def _name_q(query: str) -> Q:
    """A name substring, or pinyin: "zxc" (initials of 赵熙晨) or "zhaoxi" (full pinyin
    prefix). `name_sort` holds the syllables separated by spaces ("zhao xi chen 赵熙晨")."""
    query = search.normalize_query(query)
    if not query:
        return Q()
    found = Q(name__icontains=query)
    if _INITIALS_RE.match(query):
        initials = r"\s".join(f"{c}[a-z]*" for c in query)
        found |= Q(name_sort__regex=rf"^{initials}(\s|$)")
    if query.isascii() and query.isalpha():
        found |= Q(name_sort__regex="^" + r"\s?".join(query))
    return found


def volunteer_search(volunteers: QuerySet[Volunteer], q: str) -> QuerySet[Volunteer]:
    """`volunteers` whose name matches `q` (a substring, pinyin or initials)."""
    return volunteers.filter(_name_q(q))


def volunteer_list(
    *,
    user: User,
    q: str = "",
    township: Area | None = None,
    kind: str = "",
    include_inactive: bool = False,
) -> QuerySet[Volunteer]:
    """Volunteers in scope, with their current teams prefetched (`current_memberships`)."""
    qs = volunteers_for(user=user)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if q:
        qs = volunteer_search(qs, q)
    if township is not None:
        in_township_team = Membership.objects.filter(
            volunteer=OuterRef("pk"),
            ended_on__isnull=True,
            team__area__path__startswith=township.path,
        )
        qs = qs.filter(Q(area__path__startswith=township.path) | Exists(in_township_team))
    if kind:
        qs = qs.filter(kind=kind)
    visible_teams = Team.objects.filter(access.scope_q(Team, user))
    return qs.prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.filter(ended_on__isnull=True, team__in=visible_teams)
            .select_related("team")
            .order_by("team__name"),
            to_attr="current_memberships",
        )
    ).order_by("name_sort", "pk")


def volunteer_memberships(*, user: User, volunteer: Volunteer) -> list[Membership]:
    return list(
        Membership.objects.filter(access.scope_q(Membership, user), volunteer=volunteer)
        .select_related("team")
        .order_by(F("ended_on").desc(nulls_first=True), "-started_on")
    )


_DURATION = ExpressionWrapper(F("ends_at") - F("starts_at"), output_field=DurationField())


def volunteer_activities(*, user: User, volunteer: Volunteer, limit: int = 50) -> list[Activity]:
    return list(
        activities_for(user=user).filter(participants=volunteer).order_by("-date", "-pk")[:limit]
    )


def volunteer_service_hours(*, user: User, volunteer: Volunteer) -> tuple[float, int]:
    """(hours, activities) over the activities in scope the volunteer took part in; hours
    count only activities with both a start and an end time."""
    totals = (
        activities_for(user=user)
        .filter(participants=volunteer)
        .aggregate(
            duration=Sum(_DURATION, filter=Q(starts_at__isnull=False, ends_at__isnull=False)),
            count=Count("pk", distinct=True),
        )
    )
    duration = totals["duration"] or timedelta()
    return round(duration.total_seconds() / 3600, 1), totals["count"] or 0


def leader_candidates(*, user: User) -> QuerySet[User]:
    """Active team-leader accounts the user may choose (in their area subtree)."""
    qs = User.objects.filter(is_active=True, role=User.Role.TEAM_LEADER).select_related("area")
    return qs.filter(access.area_q(user, "area")).order_by("username")


def areas_in_scope(*, user: User, levels: tuple[str, ...]) -> QuerySet[Area]:
    return access.areas_for(user).filter(level__in=levels).order_by("path")
