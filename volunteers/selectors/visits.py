"""Reads: visits, follow-ups, due visits and the coverage grid — always scoped through
aidcases.access, with the joins a page needs so that its query count does not grow with
its rows. Dates are passed in (`today`) so that tests can freeze them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Trunc

from aidcases import access
from aidcases.models import AidCase, Area, Person, User
from aidcases.querytools import count_per_row
from aidcases.selectors import people_search
from volunteers.models import FollowUp, Pairing, Team, Visit, Volunteer

VISITABLE_CATEGORIES = (AidCase.Category.TEKUN, AidCase.Category.LEFT_BEHIND)


class AddMonths(Func):
    """date + n months, as PostgreSQL counts them (Jan 31 + 1 month = Feb 28/29), as a date."""

    output_field = DateField()

    def as_sql(self, compiler, connection, **extra):
        day_sql, day_params = compiler.compile(self.source_expressions[0])
        months_sql, months_params = compiler.compile(self.source_expressions[1])
        sql = f"CAST(({day_sql}) + make_interval(months => ({months_sql})::int) AS date)"
        return sql, [*day_params, *months_params]


def add_months(day: date, months: int) -> date:
    return day + relativedelta(months=months)


# --- cases one may visit ---------------------------------------------------------


def visitable_cases(*, user: User) -> QuerySet[AidCase]:
    """Open 特困/留守 cases of active persons that this user records visits for: those in
    scope; for a team leader only those their teams are paired with."""
    qs = AidCase.objects.filter(
        access.scope_q(AidCase, user),
        status=AidCase.Status.OPEN,
        category__in=VISITABLE_CATEGORIES,
        person__is_active=True,
    )
    if user.role == User.Role.TEAM_LEADER:
        paired = Pairing.objects.filter(team__leader=user, state__in=Pairing.OPEN_STATES)
        qs = qs.filter(pk__in=paired.values("case_id"))
    return qs


def case_choices(*, user: User, q: str = "", limit: int = 20) -> list[AidCase]:
    """The phone form's person picker: by name, full pinyin or initials."""
    qs = visitable_cases(user=user).select_related("person", "person__area")
    if q:
        persons = people_search(access.scope(Person.objects.all(), user), q, id_tails=False)
        qs = qs.filter(person__in=persons.values("pk"))
    return list(qs.order_by("person__name_sort", "pk")[:limit])


def case_for_visit_or_404(*, user: User, pk) -> AidCase:
    return access.get_for_user_or_404(
        visitable_cases(user=user).select_related("person", "person__area"), user, pk=pk
    )


def teams_for_visit(*, user: User) -> QuerySet[Team]:
    return (
        Team.objects.filter(access.scope_q(Team, user), is_active=True)
        .select_related("area")
        .order_by("name")
    )


def team_members(*, teams) -> dict[int, list[Volunteer]]:
    """Current members of each team, for the visitors checkboxes. One query."""
    from volunteers.models import Membership

    out: dict[int, list[Volunteer]] = {}
    rows = (
        Membership.objects.filter(team__in=teams, ended_on__isnull=True)
        .select_related("volunteer")
        .order_by("team_id", "volunteer__name_sort", "volunteer_id")
    )
    for membership in rows:
        out.setdefault(membership.team_id, []).append(membership.volunteer)
    return out


# --- visits ------------------------------------------------------------------------


def visit_list(
    *,
    user: User,
    township: Area | None = None,
    team: Team | None = None,
    category: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    not_seen: bool = False,
) -> QuerySet[Visit]:
    qs = Visit.objects.filter(access.scope_q(Visit, user)).select_related(
        "case__person__area__parent", "team"
    )
    if township is not None:
        qs = qs.filter(case__person__area__path__startswith=township.path)
    if team is not None:
        qs = qs.filter(team=team)
    if category:
        qs = qs.filter(case__category=category)
    if date_from:
        qs = qs.filter(date__gte=date_from)
    if date_to:
        qs = qs.filter(date__lte=date_to)
    if not_seen:
        qs = qs.filter(seen_in_person=False)
    # a correlated count per shown row, not a GROUP BY over every visit of the list
    follow_ups = FollowUp.objects.filter(visit=OuterRef("pk"))
    return qs.annotate(flagged=count_per_row(follow_ups, by="visit")).order_by("-date", "-id")


def visit_for_user_or_404(*, user: User, pk) -> Visit:
    qs = Visit.objects.select_related(
        "case__person__area__parent", "team", "entered_by"
    ).prefetch_related("visitors", "photos")
    return access.get_for_user_or_404(qs, user, pk=pk)


def visit_follow_ups(*, visit: Visit) -> list[FollowUp]:
    return list(visit.follow_ups.select_related("owner").order_by("-urgency", "due_on", "id"))


def visits_this_quarter(*, user: User, today: date) -> int:
    start = quarter_start(today)
    qs = Visit.objects.filter(access.scope_q(Visit, user), date__gte=start, date__lte=today)
    return qs.count()


# --- due visits --------------------------------------------------------------------


class DueState:
    OK = "ok"
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    LABELS = {OK: "正常", UPCOMING: "即将到期", DUE: "应走访", OVERDUE: "逾期未走访"}


def due_visits(*, user: User, today: date, state: str = "") -> QuerySet[AidCase]:
    """Each visitable case with `anchor` (last visit where the person was seen, else the
    active pairing's start, else the case's opening), `next_due` (anchor + the category's
    interval) and `due_state` — computed in SQL from the stored anchors (`VisitAnchor`,
    kept by triggers), so a page of them is one query and a county's count one join."""
    intervals = settings.VISIT_INTERVAL_MONTHS
    months = Case(
        *[When(category=c, then=Value(intervals[c])) for c in VISITABLE_CATEGORIES],
        default=Value(3),
        output_field=IntegerField(),
    )
    upcoming_until = today + timedelta(days=settings.VISIT_UPCOMING_DAYS)
    grace_from = today - timedelta(days=settings.VISIT_GRACE_DAYS)
    qs = (
        visitable_cases(user=user)
        .select_related("person__area__parent")
        .annotate(
            last_seen_on=F("visit_anchor__last_seen_on"),
            anchor=Coalesce(
                F("visit_anchor__last_seen_on"),
                F("visit_anchor__pairing_started_on"),
                F("opened_on"),
            ),
        )
        .annotate(next_due=AddMonths(F("anchor"), months))
        .annotate(
            due_state=Case(
                When(next_due__gt=upcoming_until, then=Value(DueState.OK)),
                When(next_due__gt=today, then=Value(DueState.UPCOMING)),
                When(next_due__gte=grace_from, then=Value(DueState.DUE)),
                default=Value(DueState.OVERDUE),
                output_field=CharField(),
            )
        )
    )
    if state:
        qs = qs.filter(_due_state_q(state, today=today, intervals=intervals))
    return qs.order_by("next_due", "person__name_sort", "pk")


def first_anchor_reaching(limit: date, months: int) -> date:
    """The earliest anchor whose anchor + `months` (month arithmetic, clipped at month ends,
    as PostgreSQL and `add_months` count) falls on or after `limit`. The sum never decreases
    as the anchor grows, so the anchors before this one are exactly those due before `limit`."""
    anchor = add_months(limit, -months) - timedelta(days=4)
    while add_months(anchor, months) < limit:
        anchor += timedelta(days=1)
    return anchor


def _due_state_q(state: str, *, today: date, intervals: dict) -> Q:
    """`due_state == state` as ranges of the stored anchor date per category, worked out in
    Python: PostgreSQL then compares one date per case instead of computing the due date three
    times over (a county's 100,000 open cases: most of the due list's 120 ms of SQL)."""
    upcoming_until = today + timedelta(days=settings.VISIT_UPCOMING_DAYS)
    grace_from = today - timedelta(days=settings.VISIT_GRACE_DAYS)
    # (from, before): due dates in [from, before) — None for an open end
    bounds = {
        DueState.OK: (upcoming_until + timedelta(days=1), None),
        DueState.UPCOMING: (today + timedelta(days=1), upcoming_until + timedelta(days=1)),
        DueState.DUE: (grace_from, today + timedelta(days=1)),
        DueState.OVERDUE: (None, grace_from),
    }[state]
    found = Q(pk__in=[])
    for category in VISITABLE_CATEGORIES:
        months = intervals.get(category, 3)
        term = Q(category=category)
        low, high = bounds
        if low is not None:
            term &= Q(anchor__gte=first_anchor_reaching(low, months))
        if high is not None:
            term &= Q(anchor__lt=first_anchor_reaching(high, months))
        found |= term
    return found


def overdue_count(*, user: User, today: date) -> int:
    return due_visits(user=user, today=today, state=DueState.OVERDUE).count()


# --- coverage grid -------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def coverage_periods(category: str, today: date) -> list[Period]:
    """特困: the last 4 quarters (this one included); 留守: the last 6 months."""
    if category == AidCase.Category.TEKUN:
        step, count, first = 3, 4, quarter_start(today)
    else:
        step, count, first = 1, 6, today.replace(day=1)
    periods = []
    for i in range(count - 1, -1, -1):
        start = add_months(first, -step * i)
        end = add_months(start, step) - timedelta(days=1)
        if step == 3:
            label = f"{start.year}年第{(start.month - 1) // 3 + 1}季度"
        else:
            label = f"{start.year}年{start.month}月"
        periods.append(Period(start, end, label))
    return periods


GREEN, AMBER, RED = "green", "amber", "red"


def coverage_cases(*, user: User, township: Area, category: str) -> QuerySet[AidCase]:
    return (
        visitable_cases(user=user)
        .filter(category=category, person__area__path__startswith=township.path)
        .select_related("person__area")
        .order_by("person__name_sort", "pk")
    )


def coverage_cells(
    *, cases: list[AidCase], category: str, periods: list[Period]
) -> dict[int, list[str]]:
    """case id → one colour per period: green = seen in person, amber = only contact
    without seeing the person, red = nothing. One grouped query for the whole page."""
    kind = "quarter" if category == AidCase.Category.TEKUN else "month"
    rows = (
        Visit.objects.filter(
            case__in=[c.pk for c in cases],
            date__gte=periods[0].start,
            date__lte=periods[-1].end,
        )
        .annotate(period=Trunc("date", kind, output_field=DateField()))
        .order_by()
        .values("case_id", "period")
        .annotate(best=Max(Case(When(seen_in_person=True, then=Value(2)), default=Value(1))))
    )
    found = {(r["case_id"], r["period"]): r["best"] for r in rows}
    colour = {2: GREEN, 1: AMBER, None: RED}
    return {c.pk: [colour[found.get((c.pk, p.start))] for p in periods] for c in cases}


# --- follow-ups ------------------------------------------------------------------------


class FollowUpTab:
    MINE = "mine"
    OVERDUE = "overdue"
    ALL = "all"
    CHOICES = ((MINE, "我的待办"), (OVERDUE, "本辖区逾期"), (ALL, "全部"))


def follow_up_list(
    *,
    user: User,
    today: date,
    tab: str = FollowUpTab.MINE,
    state: str = "",
    urgency: str = "",
    township: Area | None = None,
) -> QuerySet[FollowUp]:
    qs = FollowUp.objects.filter(access.scope_q(FollowUp, user)).select_related(
        "case__person__area__parent", "owner", "visit"
    )
    if tab == FollowUpTab.MINE:
        qs = qs.filter(owner=user, state__in=FollowUp.OPEN_STATES)
    elif tab == FollowUpTab.OVERDUE:
        qs = qs.filter(state__in=FollowUp.OPEN_STATES, due_on__lt=today)
    if state == "open":
        qs = qs.filter(state__in=FollowUp.OPEN_STATES)
    elif state:
        qs = qs.filter(state=state)
    if urgency:
        qs = qs.filter(urgency=urgency)
    if township is not None:
        qs = qs.filter(case__person__area__path__startswith=township.path)
    return qs.annotate(
        is_late=Case(
            When(Q(state__in=FollowUp.OPEN_STATES, due_on__lt=today), then=Value(True)),
            default=Value(False),
        )
    ).order_by("-urgency", "due_on", "id")


def follow_up_for_user_or_404(*, user: User, pk) -> FollowUp:
    qs = FollowUp.objects.select_related(
        "case__person__area__parent", "owner", "visit__team", "created_by"
    )
    return access.get_for_user_or_404(qs, user, pk=pk)


def open_urgent_follow_ups(*, user: User) -> QuerySet[FollowUp]:
    return (
        FollowUp.objects.filter(
            access.scope_q(FollowUp, user),
            state__in=FollowUp.OPEN_STATES,
            urgency=FollowUp.Urgency.URGENT,
        )
        .select_related("case__person")
        .order_by("-is_mandatory_report", "due_on", "id")
    )


def owner_choices(*, follow_up: FollowUp) -> list[User]:
    """Who may take a follow-up over: county staff, the officers of the person's township,
    the leader of the visit's team — each checked again by the service."""
    path = follow_up.case.person.area.path
    township_path = "/".join(path.strip("/").split("/")[:2])
    q = Q(role__in=[User.Role.COUNTY_STAFF, User.Role.ADMIN]) | Q(
        role=User.Role.TOWNSHIP_OFFICER, area__path__startswith=f"/{township_path}/"
    )
    if follow_up.visit_id and follow_up.visit.team_id and follow_up.visit.team.leader_id:
        q |= Q(pk=follow_up.visit.team.leader_id)
    return list(
        User.objects.filter(q, is_active=True).select_related("area").order_by("role", "username")
    )


# --- reminders (system-wide reads: the reminder job runs for the whole county and
# finds each one's recipients itself; pages never use these) -------------------------------


def unvisited_case_counts(*, category: str, since: date, opened_by: date) -> dict[str, int]:
    """Village path → how many open cases of `category` (active persons, opened by
    `opened_by`) nobody has seen in person since `since` — read from the stored anchors
    (`VisitAnchor.last_seen_on`), one grouped query whatever the number of cases."""
    rows = (
        AidCase.objects.filter(
            status=AidCase.Status.OPEN,
            category=category,
            person__is_active=True,
            opened_on__lte=opened_by,
        )
        .filter(
            Q(visit_anchor__last_seen_on__isnull=True) | Q(visit_anchor__last_seen_on__lt=since)
        )
        .order_by()
        .values("person__area__path")
        .annotate(n=Count("id"))
    )
    return {r["person__area__path"]: r["n"] for r in rows}


def overdue_follow_ups_by_owner(*, today: date) -> list[dict]:
    """[{owner, n, oldest}] of open follow-ups past their due date, by owner (active ones).
    One grouped query."""
    return list(
        FollowUp.objects.filter(
            state__in=FollowUp.OPEN_STATES, due_on__lt=today, owner__is_active=True
        )
        .order_by()
        .values("owner")
        .annotate(n=Count("id"), oldest=Min("due_on"))
        .order_by("owner")
    )
