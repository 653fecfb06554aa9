"""Importing the bank's result file (回盘) of a released 5,000-line batch, timed (issue 10:
≤ 10 s for a 5,000-row bank file at province scale).

Runs in the benchmark database on the registry scenario's persons. A batch of its own (a
fund with posted income, a programme, 5,000 lines nominated and verified in bulk SQL, as
`bench_payout` does) is taken through the services to RELEASED; then a bank-style file is
written (title, payer line, header, 5,000 rows, 合计, sign-off): 4,950 成功 with their own
serials and 50 失败 (账户已销户 / 户名不符), matched by name + amount, and by the 名单编号
in the 摘要 where a name is not unique in the batch. Timed: reading and checking the file
(the import kind's `read` + `validate`), the commit (`lines_mark_paid` with a serial and
date per line, `lines_mark_failed`, RECONCILED), and the same file again (all unchanged);
before them, the same through the upload pages' steps (check with its workbook, then
confirm: re-check and commit), undone by a savepoint.
All in one transaction rolled back at the end: the benchmark database is left as it was.

    .venv/bin/python -m benchmarks.bench_reconciliation
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

LINES = 5_000
FAILED = 50
BUDGET_S = 10


def _timed(label: str, func, results: list, *, budget: float | None = None):
    start = time.perf_counter()
    value = func()
    seconds = time.perf_counter() - start
    results.append((label, seconds))
    over = " **over budget**" if budget is not None and seconds > budget else ""
    print(f"{label:<60} {seconds:7.2f} s{over}", flush=True)
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


def _released_batch(admin, approver):
    """A batch of its own, DRAFT → RELEASED through the services (lines in bulk SQL)."""
    from django.conf import settings
    from django.utils import timezone

    from benchmarks.bench_payout import _nominate_and_verify
    from disbursements import services
    from disbursements.models import AidBatch, AidProgramme
    from disbursements.workdays import working_days_end

    today = timezone.localdate()
    source = services.funding_source_create(
        acting_user=admin, kind="allocation", name="回盘基准拨款"
    )
    fund = services.fund_create(acting_user=admin, name="回盘基准资金")
    entry = services.fund_entry_create(
        acting_user=admin,
        data=services.FundEntryData(
            source=source, fund=fund, amount=Decimal("10000000"), received_on=today
        ),
    )
    services.fund_entry_post(acting_user=admin, entry=entry)
    programme = AidProgramme.objects.create(
        name="回盘基准助学金",
        kind="student",
        mode="one_off",
        standard_amounts={"special": "1500", "hard": "1000", "": "500"},
        categories=["student"],
    )
    programme.funds.add(fund)
    batch = services.batch_create(
        acting_user=admin,
        programme=programme,
        name="回盘基准批次（5000人）",
        school_year=today.year if today.month >= 9 else today.year - 1,
        fund=fund,
    )
    assert _nominate_and_verify(batch, admin) == LINES
    services.batch_lock(acting_user=admin, batch=batch)
    services.batch_submit(acting_user=admin, batch=batch)
    services.batch_approve(acting_user=approver, batch=batch)
    services.batch_start_publicity(
        acting_user=admin, batch=batch, starts=today, phone="0350-1234567", issuer="共青团基准县委"
    )
    starts = today - timedelta(days=10)
    AidBatch.objects.filter(pk=batch.pk).update(
        publicity_starts=starts,
        publicity_ends=working_days_end(starts, settings.PUBLICITY_WORKING_DAYS),
    )
    return services.batch_release(acting_user=admin, batch=batch)


def write_bank_file(path: Path, batch) -> Path:
    """The bank's file for every line of `batch`, as a county bank sends it."""
    from django.utils import timezone
    from openpyxl import Workbook

    lines = list(
        batch.lines.order_by("snap_village", "pk").values_list("pk", "snap_name", "amount")
    )
    names = Counter(name for _pk, name, _amount in lines)
    today = timezone.localdate()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("代发明细")
    sheet.append(["青山县农村商业银行代发工资明细"])
    sheet.append(["付款单位：共青团基准县委", None, "付款账号：1503****0001"])
    sheet.append(["序号", "户名", "账号", "交易金额", "处理结果", "失败原因", "交易日期",
                  "流水号", "摘要"])  # fmt: skip
    total = Decimal(0)
    for number, (pk, name, amount) in enumerate(lines, 1):
        failed = number % (LINES // FAILED) == 0
        sheet.append(
            [
                number,
                name,
                f"6217****{number:04d}"[-12:],
                f"{amount:,.2f}",
                "失败" if failed else "交易成功",
                ("账户已销户" if number % 2 else "户名不符") if failed else None,
                today.isoformat(),
                f"DF{today:%Y%m%d}{number:06d}",
                f"助学金 L{pk}" if names[name] > 1 else "助学金",
            ]
        )
        total += amount
    sheet.append(["合计", None, None, f"{total:,.2f}", f"共{len(lines)}笔"])
    sheet.append([])
    sheet.append(["经办人：李四", None, None, "复核人：王五"])
    book.save(path)
    return path


def _run() -> list[tuple[str, float]]:
    from aidcases import importing
    from benchmarks.bench_payout import _users
    from disbursements.models import AidBatch, AidLine

    admin, approver = _users()
    results: list[tuple[str, float]] = []
    batch = _timed(
        f"set up: a released batch of {LINES} lines (not timed)",
        lambda: _released_batch(admin, approver),
        [],
    )
    kind = importing.get("reconciliation")
    options = {"batch": batch.pk}
    with tempfile.TemporaryDirectory() as folder:
        path = _timed(
            f"set up: write the {LINES}-row bank file (not timed)",
            lambda: write_bank_file(Path(folder) / "回盘.xlsx", batch),
            [],
        )

        def check():
            with path.open("rb") as handle:
                sheet = kind.read(handle, path.name, options)
            context = kind.context(admin, options)
            return kind.validate(sheet, acting_user=admin, context=context, file_name=path.name)

        # As the upload pages do it (check → preview → confirm: re-check, then commit),
        # with the check workbooks written each time; undone, to time the kind alone after.
        from django.db import transaction

        from aidcases.importing import flow, uploads

        savepoint = transaction.savepoint()
        upload = uploads.store(
            user=admin,
            kind=kind.name,
            options=options,
            chunks=[path.read_bytes()],
            file_name=path.name,
        )
        try:
            start = time.perf_counter()
            _timed("upload pages: check (the preview and its check workbook)",
                   lambda: flow.check(upload), results)  # fmt: skip
            _timed("upload pages: confirm (re-check and commit)",
                   lambda: flow.confirm(upload), results)  # fmt: skip
            total = time.perf_counter() - start
            print(f"{'upload pages: check + confirm':<60} {total:7.2f} s")
            results.append((f"upload pages, {LINES} rows: check + confirm", total))
        finally:
            upload.delete()
            transaction.savepoint_rollback(savepoint)

        start = time.perf_counter()
        plan = _timed(f"check {LINES}-row bank file (read + validate)", check, results)
        assert plan.ok, [str(i) for i in plan.errors[:10]]
        assert plan.counts["updated"] == LINES, plan.counts
        _timed(
            f"commit (paid {LINES - FAILED}, failed {FAILED}, RECONCILED)",
            lambda: kind.commit(plan, acting_user=admin),
            results,
        )
        total = time.perf_counter() - start
        over = " **over budget**" if total > BUDGET_S else ""
        print(f"{'check + commit, budget ' + str(BUDGET_S) + ' s':<60} {total:7.2f} s{over}")
        results.append((f"bank file of {LINES} rows, check + commit (budget {BUDGET_S} s)", total))
        batch.refresh_from_db()
        assert batch.state == AidBatch.State.RECONCILED, batch.state
        assert batch.lines.filter(state=AidLine.State.PAID).count() == LINES - FAILED
        again = _timed("the same file again: check (all unchanged)", check, results)
        assert again.ok and again.counts["unchanged"] == LINES, again.counts
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
