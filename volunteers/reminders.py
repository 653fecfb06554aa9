"""The reminders about volunteers' data, registered with the hub (hooks/reminders.py):

- team-activity: on the quarter's first working day, at mid-quarter (the first working day
  from the 15th of its middle month) and two weeks before its end (the last working day on
  or before end − 14 days, so a team still has two weeks), every active team with no
  activity recorded yet this quarter → its leader and its township's officers. Once per
  team, quarter and stage. A daily run sends the latest stage whose day has come, so a
  day the beat missed is caught up the next morning.
- follow-ups: daily, one notification per owner listing how many of their follow-ups are
  overdue (not one per follow-up: an owner with forty overdue items would get forty a
  day and stop reading them). Once per owner per day.
- left-behind: from the month's first working day, each township officer gets how many
  留守 children in their area nobody has seen in person since the start of last month.
  Once per officer per month.
- tekun: from two weeks before the quarter's end (the end stage's day), each township
  officer gets how many 特困 persons in their area nobody has seen this quarter. Once per
  officer per quarter.

Each planner reads with a fixed number of queries (the teams or grouped counts, the
officers) whatever the number of teams or cases; the hub's `reminders_send` claims and
writes. Working days come from the hub's calendar (aidcases/workdays.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.urls import reverse

from aidcases import reminders
from aidcases.models import AidCase, User
from aidcases.reminders import STAGE_LABELS, STAGES, Plan, Reminder
from aidcases.workdays import first_working_day_from, last_working_day_until
from volunteers.selectors import teams as team_selectors
from volunteers.selectors import visits as visit_selectors
from volunteers.selectors.teams import Quarter

# --- days ------------------------------------------------------------------------------


def stage_days(quarter: Quarter) -> dict[str, date]:
    middle_month = quarter.start.month + 1
    return {
        "start": first_working_day_from(quarter.start),
        "mid": first_working_day_from(date(quarter.year, middle_month, 15)),
        "end": last_working_day_until(quarter.end - timedelta(days=14)),
    }


def stage_on(day: date) -> str | None:
    """The latest stage of `day`'s quarter whose day has come (None before the first)."""
    days = stage_days(Quarter.of(day))
    reached = [s for s in STAGES if days[s] <= day]
    return reached[-1] if reached else None


def _quarter(text: str | None, today: date) -> Quarter:
    if text is None:
        return Quarter.of(today)
    year, number = reminders.parse_quarter(text)
    return Quarter(year, number)


# --- recipients --------------------------------------------------------------------------


class Officers:
    """Active township officers by area path, loaded once (one query): those over a path
    are the officers whose area contains it."""

    def __init__(self) -> None:
        self.by_path: dict[str, list[User]] = defaultdict(list)
        users = User.objects.filter(
            role=User.Role.TOWNSHIP_OFFICER, is_active=True, area__isnull=False
        ).select_related("area")
        for user in users.order_by("username"):
            self.by_path[user.area.path].append(user)

    def over(self, path: str) -> list[User]:
        found: list[User] = []
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            found += self.by_path.get("/" + "/".join(parts[:i]) + "/", [])
        return found


def _unique(users: list[User]) -> list[User]:
    seen: dict[int, User] = {}
    for user in users:
        seen.setdefault(user.pk, user)
    return list(seen.values())


# --- the planners --------------------------------------------------------------------------


def plan_team_activity(*, today: date, quarter: str | None = None, stage: str | None = None):
    if quarter is not None and stage is None:
        raise ValidationError("指定 --quarter 时请同时用 --stage 指明阶段（start、mid 或 end）。")
    q = _quarter(quarter, today)
    days = stage_days(q)
    if stage is None:
        stage = stage_on(today)
        if stage is None:
            return Plan(
                period=q.label,
                note=f"本季度第一次提醒在 {days['start']:%Y-%m-%d}（第一个工作日），今天不发送。",
            )
    period = f"{q.label} {STAGE_LABELS[stage]}"
    officers = Officers()
    teams = (
        team_selectors.teams_without_activity(quarter=q)
        .select_related("area", "leader")
        .order_by("area__path", "name", "pk")
    )
    planned = []
    for team in teams:
        leader = [team.leader] if team.leader is not None and team.leader.is_active else []
        recipients = _unique(leader + officers.over(team.area.path))
        planned.append(
            Reminder(
                key=f"team-activity:{q.short_label}:{stage}:team={team.pk}",
                about=f"{team.name}（{team.area.name}）",
                recipients=recipients,
                title=f"{team.name}{q.label}尚未开展团队活动",
                body=(
                    f"{team.name}在{q.label}还没有记录团队活动。服务队每季度至少开展一次活动，"
                    f"本季度到 {q.end:%Y年%m月%d日} 结束，请及时组织并在系统中记录。"
                ),
                link=reverse("team_detail", args=[team.pk]),
            )
        )
    return Plan(period=period, reminders=planned)


def plan_follow_ups(*, today: date, quarter: str | None = None, stage: str | None = None):
    rows = visit_selectors.overdue_follow_ups_by_owner(today=today)
    owners = User.objects.in_bulk([r["owner"] for r in rows])
    link = reverse("follow_up_list") + "?tab=mine"
    planned = [
        Reminder(
            key=f"follow-ups:{today:%Y-%m-%d}:user={r['owner']}",
            about=f"{owners[r['owner']]}的逾期跟进事项 {r['n']} 项",
            recipients=[owners[r["owner"]]],
            title=f"您有 {r['n']} 项跟进事项已逾期",
            body=(
                f"您负责的跟进事项中有 {r['n']} 项已过办理期限"
                f"（最早的期限为 {r['oldest']:%Y年%m月%d日}），请尽快处理并填写处理结果。"
            ),
            link=link,
        )
        for r in rows
    ]
    return Plan(period=f"{today:%Y年%m月%d日}", reminders=planned)


def _per_officer(counts: dict[str, int], officers: Officers) -> dict[int, tuple[User, int]]:
    """Village path → count, summed for each officer over the villages in their area."""
    out: dict[int, tuple[User, int]] = {}
    for path, n in counts.items():
        for officer in officers.over(path):
            user, total = out.get(officer.pk, (officer, 0))
            out[officer.pk] = (user, total + n)
    return out


def plan_left_behind(*, today: date, quarter: str | None = None, stage: str | None = None):
    month_start = today.replace(day=1)
    last_month = (month_start - timedelta(days=1)).replace(day=1)
    period = f"{last_month.year}年{last_month.month}月"
    first_day = first_working_day_from(month_start)
    if today < first_day:
        return Plan(period=period, note=f"本月从 {first_day:%Y-%m-%d}（第一个工作日）起发送。")
    counts = visit_selectors.unvisited_case_counts(
        category=AidCase.Category.LEFT_BEHIND,
        since=last_month,
        opened_by=month_start - timedelta(days=1),
    )
    link = reverse("visit_coverage") + "?category=left_behind"
    planned = [
        Reminder(
            key=f"left-behind:{last_month:%Y-%m}:user={officer.pk}",
            about=f"{officer.area.name} {n} 名留守儿童{period}未走访",
            recipients=[officer],
            title=f"{n} 名留守儿童{period}未走访",
            body=(
                f"{officer.area.name}有 {n} 名留守儿童自{period}1日以来没有见到本人的走访记录。"
                "留守儿童每月至少走访一次，请安排走访并录入记录。"
            ),
            link=link,
        )
        for officer, n in sorted(
            _per_officer(counts, Officers()).values(), key=lambda x: x[0].username
        )
    ]
    return Plan(period=period, reminders=planned)


def plan_tekun(*, today: date, quarter: str | None = None, stage: str | None = None):
    q = _quarter(quarter, today)
    day = stage_days(q)["end"]
    if quarter is None and today < day:
        return Plan(period=q.label, note=f"本季度在 {day:%Y-%m-%d}（季度末前两周）发送。")
    counts = visit_selectors.unvisited_case_counts(
        category=AidCase.Category.TEKUN, since=q.start, opened_by=q.end
    )
    link = reverse("visit_coverage") + "?category=tekun"
    planned = [
        Reminder(
            key=f"tekun:{q.short_label}:user={officer.pk}",
            about=f"{officer.area.name} {n} 名特困人员{q.label}未走访",
            recipients=[officer],
            title=f"{n} 名特困人员{q.label}尚未走访",
            body=(
                f"{officer.area.name}有 {n} 名特困人员在{q.label}还没有见到本人的走访记录。"
                f"特困人员每季度至少走访一次，本季度到 {q.end:%Y年%m月%d日} 结束，请及时安排。"
            ),
            link=link,
        )
        for officer, n in sorted(
            _per_officer(counts, Officers()).values(), key=lambda x: x[0].username
        )
    ]
    return Plan(period=q.label, reminders=planned)
