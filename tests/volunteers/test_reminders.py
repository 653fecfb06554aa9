"""Reminders about volunteers' data: which day each stage falls on (holidays, make-up
days), who is reminded of what, once only (reruns, the daily task, the command), and a
number of queries that does not grow with the teams."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aidcases import services
from aidcases.models import AidCase, Notification, ReminderClaim
from tests.factories import UserFactory, make_person
from tests.volunteers.factories import make_team, make_visit
from tests.volunteers.test_visits_world import freeze
from volunteers import reminders
from volunteers.models import Activity, FollowUp
from volunteers.selectors.teams import Quarter

pytestmark = pytest.mark.django_db

NATIONAL_DAY = [f"2026-10-0{d}" for d in range(1, 8)]


@pytest.fixture(autouse=True)
def calendar(settings):
    settings.PUBLIC_HOLIDAYS = [*NATIONAL_DAY, "2027-01-01"]
    settings.MAKEUP_WORKDAYS = ["2026-10-10"]


@pytest.fixture
def team(township_a, leader):
    return make_team(township_a, leader=leader)


def run(kind, today, **options):
    return services.reminders_run(acting_user=None, kind=kind, today=today, **options)


def activity(team, day, user):
    return Activity.objects.create(
        team=team, date=day, kind=Activity.Kind.FIVE_CARES, content="走访", entered_by=user
    )


# --- stage days -------------------------------------------------------------------------


def test_the_quarter_starts_on_the_first_working_day_after_national_day():
    assert reminders.stage_days(Quarter(2026, 4))["start"] == date(2026, 10, 8)
    assert reminders.stage_on(date(2026, 10, 7)) is None  # still the holiday
    assert reminders.stage_on(date(2026, 10, 8)) == "start"


def test_the_first_quarter_starts_after_new_year_and_the_weekend():
    assert reminders.stage_days(Quarter(2027, 1))["start"] == date(2027, 1, 4)


def test_mid_quarter_falling_on_a_sunday_moves_to_monday():
    assert reminders.stage_days(Quarter(2026, 4))["mid"] == date(2026, 11, 16)
    assert reminders.stage_on(date(2026, 11, 15)) == "start"
    assert reminders.stage_on(date(2026, 11, 16)) == "mid"


def test_the_end_reminder_is_two_weeks_before_the_quarter_ends(settings):
    assert reminders.stage_days(Quarter(2026, 4))["end"] == date(2026, 12, 17)
    settings.PUBLIC_HOLIDAYS = ["2026-12-17"]  # a holiday moves it earlier, never later
    assert reminders.stage_days(Quarter(2026, 4))["end"] == date(2026, 12, 16)


def test_the_last_day_of_a_quarter_is_still_its_end_stage():
    assert reminders.stage_on(date(2026, 12, 31)) == "end"
    assert reminders.stage_on(date(2027, 1, 1)) is None


def test_nothing_is_sent_before_the_quarters_first_working_day(team, leader):
    plan, outcomes = run("team-activity", date(2026, 10, 5))
    assert outcomes == [] and "2026-10-08" in plan.note
    assert not Notification.objects.exists()


# --- team activities ---------------------------------------------------------------------


def test_a_team_without_activity_reminds_its_leader_and_its_townships_officers(
    team, leader, officer_a, officer_b, county_staff
):
    plan, outcomes = run("team-activity", date(2026, 10, 8))
    assert [o.reminder.key for o in outcomes] == [f"team-activity:2026Q4:start:team={team.pk}"]
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        "leader",
        "officer_a",
    }
    n = Notification.objects.get(recipient=leader)
    assert n.link == f"/teams/{team.pk}/" and "2026年第四季度" in n.title


def test_a_team_with_an_activity_this_quarter_is_not_reminded(team, officer_a):
    activity(team, date(2026, 10, 9), officer_a)
    _plan, outcomes = run("team-activity", date(2026, 11, 16))
    assert outcomes == []


def test_last_quarters_activity_does_not_count(team, officer_a):
    activity(team, date(2026, 9, 30), officer_a)
    _plan, outcomes = run("team-activity", date(2026, 10, 8))
    assert len(outcomes) == 1


def test_an_inactive_team_is_not_reminded(team):
    team.is_active = False
    team.save(update_fields=["is_active"])
    assert run("team-activity", date(2026, 10, 8))[1] == []


def test_a_rerun_the_same_stage_sends_nothing_new_and_the_next_stage_does(team, leader, officer_a):
    run("team-activity", date(2026, 10, 8))
    _plan, again = run("team-activity", date(2026, 10, 9))  # still the start stage
    assert [o.sent for o in again] == [False]
    assert Notification.objects.count() == 2
    _plan, mid = run("team-activity", date(2026, 11, 16))
    assert [o.sent for o in mid] == [True]
    assert Notification.objects.count() == 4


def test_emails_go_to_recipients_with_an_address(
    team, leader, officer_a, django_capture_on_commit_callbacks
):
    leader.email = "leader@example.org"
    leader.save(update_fields=["email"])
    officer_a.email = ""
    officer_a.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        run("team-activity", date(2026, 10, 8))
    with django_capture_on_commit_callbacks(execute=True):
        run("team-activity", date(2026, 10, 8))
    assert [m.to for m in mail.outbox] == [["leader@example.org"]]
    assert team.name in mail.outbox[0].body


def test_the_daily_task_sends_todays_stage_once(monkeypatch, team, leader, officer_a):
    from aidcases.tasks import send_reminders

    freeze(monkeypatch, date(2026, 12, 17))
    assert send_reminders.delay("team-activity").get() == 1
    assert send_reminders.delay("team-activity").get() == 0
    assert ReminderClaim.objects.get().key == f"team-activity:2026Q4:end:team={team.pk}"


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_job_at_once_remind_each_team_once(county, township_a, officer_a):
    import threading

    teams = [make_team(township_a, name=f"城关镇第{i}服务队") for i in range(5)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            run("team-activity", date(2026, 10, 8))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert Notification.objects.filter(recipient=officer_a).count() == len(teams)


def _team_activity_queries(today) -> int:
    with CaptureQueriesContext(connection) as ctx:
        run("team-activity", today)
    return len(ctx.captured_queries)


def test_the_quarterly_job_runs_a_fixed_number_of_queries_whatever_the_teams(
    township_a, township_b, officer_a, officer_b
):
    def teams(n, offset):
        for i in range(n):
            area = township_a if i % 2 else township_b
            leader = UserFactory(username=f"leader{offset + i}", role="team_leader", area=area)
            make_team(area, name=f"第{offset + i}服务队", leader=leader)

    teams(3, 0)
    few = _team_activity_queries(date(2026, 10, 8))
    teams(30, 100)
    many = _team_activity_queries(date(2026, 11, 16))
    assert Notification.objects.filter(kind="team-activity").count() == 3 * 2 + 33 * 2
    assert many == few


# --- follow-ups ---------------------------------------------------------------------------


def _follow_up(case, owner, due_on, state=FollowUp.State.OPEN, need="修缮屋顶"):
    resolution = "已修好" if state == FollowUp.State.RESOLVED else ""
    return FollowUp.objects.create(
        case=case,
        need=need,
        owner=owner,
        due_on=due_on,
        state=state,
        resolution=resolution,
        created_by=owner,
    )


def test_overdue_follow_ups_give_their_owner_one_notification_a_day(
    village_a, officer_a, officer_b, leader
):
    case = make_person(village_a, name="张大山", category=AidCase.Category.TEKUN).cases.get()
    today = date(2026, 11, 20)
    _follow_up(case, officer_a, today - timedelta(days=3))
    _follow_up(case, officer_a, today - timedelta(days=1), need="送医")
    _follow_up(case, officer_a, today)  # due today: not overdue yet
    _follow_up(case, officer_b, today - timedelta(days=9), state=FollowUp.State.RESOLVED)
    _follow_up(case, leader, today - timedelta(days=2), state=FollowUp.State.IN_PROGRESS)
    _plan, outcomes = run("follow-ups", today)
    assert {o.reminder.recipients[0].username for o in outcomes} == {"officer_a", "leader"}
    n = Notification.objects.get(recipient=officer_a)
    assert "2 项" in n.title and "2026年11月17日" in n.body
    assert run("follow-ups", today)[1][0].sent is False
    assert Notification.objects.count() == 2
    run("follow-ups", today + timedelta(days=1))
    assert Notification.objects.count() == 4


# --- left-behind and tekun visits -----------------------------------------------------------


@pytest.fixture
def child(village_a):
    case = make_person(village_a, name="刘小雨", category=AidCase.Category.LEFT_BEHIND).cases.get()
    case.opened_on = date(2026, 1, 5)
    case.save(update_fields=["opened_on"])
    return case


def test_a_child_not_seen_last_month_is_reported_to_the_township_officer(
    child, officer_a, officer_b
):
    make_visit(child, day=date(2026, 9, 20), left_behind_kind="home")
    plan, outcomes = run("left-behind", date(2026, 11, 2))
    assert plan.period == "2026年10月"
    assert [o.reminder.recipients for o in outcomes] == [[officer_a]]
    assert "1 名留守儿童" in Notification.objects.get().title
    assert run("left-behind", date(2026, 11, 20))[1][0].sent is False  # once a month


def test_a_child_seen_last_month_is_not_reported(child, officer_a):
    make_visit(child, day=date(2026, 10, 15), left_behind_kind="home")
    assert run("left-behind", date(2026, 11, 2))[1] == []


def test_a_visit_without_seeing_the_child_does_not_count(child, officer_a):
    make_visit(
        child,
        day=date(2026, 10, 15),
        seen_in_person=False,
        not_seen_reason="外出",
        left_behind_kind="home",
    )
    assert len(run("left-behind", date(2026, 11, 2))[1]) == 1


def test_left_behind_waits_for_the_months_first_working_day(child, officer_a):
    plan, outcomes = run("left-behind", date(2026, 10, 7))  # National Day
    assert outcomes == [] and "2026-10-08" in plan.note


@pytest.fixture
def tekun(village_a):
    case = make_person(village_a, name="张大山", category=AidCase.Category.TEKUN).cases.get()
    case.opened_on = date(2026, 1, 5)
    case.save(update_fields=["opened_on"])
    return case


def test_tekun_persons_not_seen_this_quarter_are_reported_two_weeks_before_its_end(
    tekun, officer_a
):
    make_visit(tekun, day=date(2026, 9, 28))  # last quarter
    plan, outcomes = run("tekun", date(2026, 12, 16))
    assert outcomes == [] and "2026-12-17" in plan.note
    _plan, outcomes = run("tekun", date(2026, 12, 17))
    assert [o.reminder.key for o in outcomes] == [f"tekun:2026Q4:user={officer_a.pk}"]
    assert run("tekun", date(2026, 12, 18))[1][0].sent is False


def test_a_tekun_person_seen_this_quarter_is_not_reported(tekun, officer_a):
    make_visit(tekun, day=date(2026, 10, 20))
    assert run("tekun", date(2026, 12, 17))[1] == []


# --- the command ------------------------------------------------------------------------------


def call(*args) -> str:
    import io

    out = io.StringIO()
    call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


def test_the_command_dry_run_prints_who_would_be_reminded_and_writes_nothing(
    team, leader, officer_a
):
    out = call("--kind", "team-activity", "--quarter", "2026Q4", "--stage", "mid", "--dry-run")
    assert f"{team.name}（城关镇） → " in out and "将提醒" in out
    assert "2026年第四季度 季度中" in out and "试运行" in out
    assert not Notification.objects.exists() and not ReminderClaim.objects.exists()


def test_the_command_sends_and_a_second_run_sends_nothing(team, leader, officer_a):
    first = call("--kind", "team-activity", "--quarter", "2026Q4", "--stage", "start")
    assert "已提醒" in first and "本次发送 1 条（通知 2 条）" in first
    second = call("--kind", "team-activity", "--quarter", "2026Q4", "--stage", "start")
    assert "此前已提醒，不再发送" in second and "本次发送 0 条" in second
    assert Notification.objects.count() == 2


@pytest.mark.parametrize(
    "args,message",
    [
        (["--kind", "team-activity", "--quarter", "2026Q5", "--stage", "end"], "2026Q4"),
        (["--kind", "team-activity", "--quarter", "2026Q4"], "--stage"),
        (["--kind", "follow-ups", "--stage", "end"], "没有阶段"),
        (["--quarter", "2026Q4", "--stage", "end"], "--kind"),
        (["--kind", "team-activity", "--stage", "later"], "later"),
        (["--kind", "notices"], "notices"),
    ],
)
def test_a_bad_option_fails_with_a_clear_message(args, message):
    with pytest.raises(CommandError, match=message):
        call(*args)
    assert not ReminderClaim.objects.exists()


def test_every_kind_of_reminder_runs_daily_from_the_beat_schedule(settings):
    from aidcases import reminders as hub
    from aidcases.celery import app

    entries = {
        e["args"][0]: e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "aidcases.tasks.send_reminders"
    }
    assert set(entries) == {k.kind for k in hub.kinds()}
    assert "aidcases.tasks.send_reminders" in app.tasks
    for entry in entries.values():
        assert entry["schedule"].hour == {settings.REMINDER_HOUR}
