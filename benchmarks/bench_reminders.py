"""The quarterly team-activity reminder job for 3,000 teams.

DESIGN budget: ≤ 5 s with a number of queries that does not grow with the teams (the test
tests/volunteers/test_reminders.py asserts the count is the same for 3 and 33 teams; this
prints the count at 3,000). Runs in the benchmark database (``aidcases_bench``, or
TEST_DATABASE_NAME) as ``make bench`` does. When it holds fewer than 3,000 active teams (no
province load yet), it adds a county of its own, kept between runs: 提醒县, 30 townships
with an officer each, 100 teams per township each with a leader account (every other one
with an email address). The job is run for a quarter no activity is recorded in (2030Q1,
stage start), so every active team is reminded — the worst case — through the same
service as the beat task and the command (`services.reminders_run`), emails included
(Django's in-memory backend: building and handing over 3,000 messages, not SMTP). Then run
again (everything claimed: nothing new). The claims and notifications it made are deleted
afterwards, so every run starts alike.

    .venv/bin/python -m benchmarks.bench_reminders
"""

from __future__ import annotations

import sys
import time

TEAMS = 3_000
TOWNSHIPS = 30
QUARTER, STAGE = "2030Q1", "start"


def _world() -> None:
    from django.db import transaction

    from aidcases.models import Area, User
    from volunteers.models import Team

    if Team.objects.filter(is_active=True).count() >= TEAMS:
        return
    with transaction.atomic():
        county, _ = Area.objects.get_or_create(
            code="149700", defaults={"name": "提醒县", "level": "county", "path": "/149700/"}
        )
        per_township = TEAMS // TOWNSHIPS
        for t in range(1, TOWNSHIPS + 1):
            code = f"149700{t:03d}"
            township, _ = Area.objects.get_or_create(
                code=code,
                defaults={
                    "name": f"提醒{t}镇",
                    "level": "township",
                    "parent": county,
                    "path": f"/149700/{code}/",
                },
            )
            User.objects.get_or_create(
                username=f"remind_officer_{t}",
                defaults={
                    "role": "township_officer",
                    "area": township,
                    "email": f"officer{t}@example.org",
                },
            )
            have = set(Team.objects.filter(area=township).values_list("name", flat=True))
            leaders = User.objects.bulk_create(
                User(
                    username=f"remind_leader_{t}_{n}",
                    role="team_leader",
                    area=township,
                    email=f"leader{t}.{n}@example.org" if n % 2 else "",
                )
                for n in range(per_township)
                if f"提醒{t}镇第{n}服务队" not in have
            )
            Team.objects.bulk_create(
                Team(name=f"提醒{t}镇第{n}服务队", kind="other", area=township, leader=leader)
                for n, leader in zip(
                    (n for n in range(per_township) if f"提醒{t}镇第{n}服务队" not in have),
                    leaders,
                    strict=True,
                )
            )


def _clean() -> None:
    from aidcases.models import Notification, ReminderClaim

    ReminderClaim.objects.filter(key__startswith=f"team-activity:{QUARTER}:").delete()
    Notification.objects.filter(kind="team-activity", title__contains="2030年第一季度").delete()


def _timed_run(label: str) -> tuple[str, float, int, int, int, int]:
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from aidcases import services

    mail.outbox = []
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        _plan, outcomes = services.reminders_run(
            acting_user=None, kind="team-activity", quarter=QUARTER, stage=STAGE
        )
        seconds = time.perf_counter() - start
    sent = [o for o in outcomes if o.sent]
    notes = sum(len(o.reminder.recipients) for o in sent)
    return label, seconds, len(queries.captured_queries), len(sent), notes, len(mail.outbox)


def main(*, setup: bool = True) -> list[str]:
    if setup:  # `make bench` has set up the benchmark database already
        from benchmarks.bench_people_import import _setup

        _setup()
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _world()
    from volunteers.models import Team

    teams = Team.objects.filter(is_active=True).count()
    _clean()
    lines = []
    try:
        for label in ("first run", "rerun (all claimed)"):
            label, seconds, queries, sent, notes, mails = _timed_run(label)
            lines.append(
                f"team-activity reminders, {teams:,} active teams, {label}: {seconds:.2f} s, "
                f"{queries} queries; {sent:,} teams reminded, {notes:,} notifications, "
                f"{mails:,} emails (budget ≤ 5 s)"
            )
            print(lines[-1], flush=True)
    finally:
        _clean()
    return lines


if __name__ == "__main__":
    main()
    sys.exit(0)
