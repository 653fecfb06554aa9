"""Releasing and paying a 5,000-line batch, timed (issue 9: ≤ 10 s each).

Runs in the benchmark database (kept between runs, as ``make bench`` does) on the registry
scenario's persons: a fund with posted income, a programme and a batch of 5,000 open
student cases, taken through the services from DRAFT to IN_PUBLICITY — the lines are
nominated and verified in bulk SQL shaped as `line_add` and `line_verify` write them (5,000
calls of each are not what is measured) — then the publicity window is moved into the
past and the timed part runs through the services: `batch_release`, and paying every line
with `lines_mark_paid`, the service of the batch page's bulk form. Locking and approving
the 5,000 lines are timed too (no budget). All in one transaction rolled back at the end,
history triggers on: every run starts from the same data.

    .venv/bin/python -m benchmarks.bench_payout
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from decimal import Decimal

LINES = 5_000
BUDGET_S = 10


def _timed(label: str, func, results: list, *, budget: float | None = None):
    start = time.perf_counter()
    value = func()
    seconds = time.perf_counter() - start
    results.append((label, seconds))
    over = " **over budget**" if budget is not None and seconds > budget else ""
    print(f"{label:<52} {seconds:7.2f} s{over}", flush=True)
    return value


def main(*, setup: bool = True) -> list[tuple[str, float]]:
    if setup:  # `make bench` has set up the benchmark database already
        from benchmarks.bench_people_import import _setup

        _setup()
    from django.db import transaction

    with transaction.atomic():
        results = _run()
        transaction.set_rollback(True)
    return results


def _users():
    from aidcases.models import User
    from aidcases.roles import put_in_role_group

    admin = User.objects.get(username="admin")
    approver, _ = User.objects.get_or_create(
        username="bench_approver", defaults={"role": User.Role.APPROVER, "area": admin.area}
    )
    put_in_role_group(approver)
    return admin, approver


def _batch(admin):
    from django.utils import timezone

    from disbursements import services
    from disbursements.models import AidProgramme

    today = timezone.localdate()
    source = services.funding_source_create(
        acting_user=admin, kind="allocation", name="发放基准拨款"
    )
    fund = services.fund_create(acting_user=admin, name="发放基准资金")
    entry = services.fund_entry_create(
        acting_user=admin,
        data=services.FundEntryData(
            source=source, fund=fund, amount=Decimal("10000000"), received_on=today
        ),
    )
    services.fund_entry_post(acting_user=admin, entry=entry)
    programme = AidProgramme.objects.create(
        name="发放基准助学金",
        kind="student",
        mode="per_term",
        standard_amounts={"special": "1500", "hard": "1000", "": "500"},
        categories=["student"],
        yearly_cap=Decimal("3000"),
    )
    programme.funds.add(fund)
    batch = services.batch_create(
        acting_user=admin,
        programme=programme,
        name="发放基准批次（5000人）",
        school_year=today.year if today.month >= 9 else today.year - 1,
        term="autumn",
        fund=fund,
    )
    return batch


def _nominate_and_verify(batch, admin) -> int:
    """5,000 lines as `line_add` writes them, then verified as `line_verify` does (the
    history triggers record both, with the acting user)."""
    from django.db import connection

    from aidcases.services.common import acting
    from disbursements import services

    with acting(admin), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO disbursements_aidline
                (batch_id, person_id, case_id, amount, fund_id, reason, nominated_by_id,
                 nominated_at, verification_method, verified_by_id, verified_at,
                 verification_note, snap_name, snap_village, snap_school, snap_grade,
                 snap_level, snap_birth_date, state, once_key, method, paid_on, voucher,
                 failure_reason, receipt_id, retry_of_id)
            SELECT %(batch)s, c.person_id, c.id,
                   coalesce(%(amounts)s::jsonb ->> c.hardship_level, %(amounts)s::jsonb ->> ''
                   )::numeric,
                   %(fund)s, '', %(admin)s, now(), '', NULL, NULL, '', '', '', '', '', '', NULL,
                   'pending', NULL, '', NULL, '', '', NULL, NULL
            FROM aidcases_aidcase c
            JOIN aidcases_person p ON p.id = c.person_id
            JOIN aidcases_area v ON v.id = p.area_id
            WHERE c.category = 'student' AND c.status = 'open' AND p.is_active
              AND v.code LIKE '1498%%'
            ORDER BY c.id DESC
            LIMIT %(n)s
            """,
            {
                "batch": batch.pk,
                "amounts": '{"special": "1500", "hard": "1000", "": "500"}',
                "fund": batch.fund_id,
                "admin": admin.pk,
                "n": LINES,
            },
        )
        services.batch_start_verification(acting_user=admin, batch=batch)
        cursor.execute(
            "UPDATE disbursements_aidline SET verification_method = 'phone',"
            " verified_by_id = %s, verified_at = now() WHERE batch_id = %s",
            [admin.pk, batch.pk],
        )
    return batch.lines.count()


def _run() -> list[tuple[str, float]]:
    from django.conf import settings
    from django.utils import timezone

    from disbursements import services
    from disbursements.models import AidBatch, AidLine
    from disbursements.workdays import working_days_end

    admin, approver = _users()
    results: list[tuple[str, float]] = []
    batch = _batch(admin)
    n = _timed(
        f"set up: nominate and verify {LINES} lines (bulk SQL)",
        lambda: _nominate_and_verify(batch, admin),
        [],
    )
    assert n == LINES, n
    _timed(
        f"lock {LINES} lines (batch_lock: snapshot, paid-once keys)",
        lambda: services.batch_lock(acting_user=admin, batch=batch),
        results,
    )
    services.batch_submit(acting_user=admin, batch=batch)
    _timed(
        f"approve {LINES} lines (batch_approve: yearly caps)",
        lambda: services.batch_approve(acting_user=approver, batch=batch),
        results,
    )
    today = timezone.localdate()
    services.batch_start_publicity(
        acting_user=admin, batch=batch, starts=today, phone="0350-1234567", issuer="共青团基准县委"
    )
    # The window passes: the same dates a batch started ten days ago would have.
    starts = today - timedelta(days=10)
    AidBatch.objects.filter(pk=batch.pk).update(
        publicity_starts=starts,
        publicity_ends=working_days_end(starts, settings.PUBLICITY_WORKING_DAYS),
    )
    _timed(
        f"release {LINES} lines (batch_release, budget {BUDGET_S} s)",
        lambda: services.batch_release(acting_user=admin, batch=batch),
        results,
        budget=BUDGET_S,
    )
    ids = list(batch.lines.values_list("pk", flat=True))
    outcome = _timed(
        f"pay {LINES} lines (lines_mark_paid, budget {BUDGET_S} s)",
        lambda: services.lines_mark_paid(
            acting_user=admin, batch=batch, line_ids=ids, paid_on=today, voucher="YH-BENCH"
        ),
        results,
        budget=BUDGET_S,
    )
    assert len(outcome.done) == LINES and not outcome.refused
    batch.refresh_from_db()
    assert batch.state == AidBatch.State.PAID
    assert AidLine.objects.filter(batch=batch, state=AidLine.State.PAID).count() == LINES
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
