"""The bank's result file (回盘) for a released batch, through the hub's upload flow (the
"reconciliation" kind), its pages and its command: banks' own headers and quirks, matching
each row to one line (名单编号, serial, name + amount — never by guess), all or nothing,
the same file twice changes nothing, and RECONCILED once no line is pending."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.urls import reverse

from aidcases import importing
from aidcases.models import AidCase, AuditEvent, Job
from disbursements import services
from disbursements.management.commands.import_reconciliation import Command
from disbursements.models import AidBatch, AidLine, Fund, FundMovement
from disbursements.reconciliation_import import SPEC, line_ref, parse_status
from tests.factories import make_person
from tests.fixtures.bank_files import bank_row, write_bank_file

pytestmark = pytest.mark.django_db

S, L = AidBatch.State, AidLine.State


def run(path, batch, user, *, commit=True):
    kind = importing.get("reconciliation")
    context = kind.context(user, {"batch": batch.pk})
    with path.open("rb") as handle:
        sheet = kind.read(handle, path.name, {"batch": batch.pk})
    plan = kind.validate(sheet, acting_user=user, context=context, file_name=path.name)
    if commit and plan.ok:
        kind.commit(plan, acting_user=user)
    return plan


def errors(plan) -> list[str]:
    return [str(issue) for issue in plan.errors]


def lines_by_name(batch) -> dict[str, AidLine]:
    return {line.snap_name: line for line in batch.lines.all()}


@pytest.fixture
def released(walk):
    """A released batch of 赵小明, 钱小红 and 孙小刚, ¥500 each; today is 2026-10-19."""
    return walk("released")


def everyone_paid(released) -> list[dict]:
    return [
        bank_row("赵小明", 500, "成功", serial="DF001"),
        bank_row("钱小红", "500.00", "成功", serial="DF002"),
        bank_row("孙小刚", "¥500.00", "成功", serial="DF003"),
    ]


# --- reading the bank's file ------------------------------------------------------------------


def test_status_words_banks_use_are_understood():
    assert {parse_status(w).outcome for w in ("成功", "交易成功", "已入账", "处理成功")} == {"paid"}
    failed = ("失败", "退票", "户名不符", "账户已销户", "交易失败：账号不存在", "未成功")
    assert {parse_status(w).outcome for w in failed} == {"failed"}
    assert {parse_status(w).outcome for w in ("处理中", "银行处理中", "待处理")} == {"pending"}
    with pytest.raises(importing.CellError, match="不是可识别的处理结果"):
        parse_status("已打印")


def test_the_line_reference_is_found_in_its_column_or_in_the_echoed_summary():
    assert line_ref("L123") == 123
    assert line_ref("２０２６秋助学金 Ｌ45") == 45  # full-width, inside the 摘要
    assert line_ref("工资") is None and line_ref("DL12") is None and line_ref(12) is None


def test_a_bank_file_marks_lines_paid_and_failed_with_its_serials_dates_and_reasons(
    tmp_path, county_staff, released
):
    fund = Fund.objects.get(pk=released.fund_id)
    committed = fund.committed
    path = write_bank_file(
        tmp_path / "回盘.xlsx",
        [
            bank_row("赵小明", 500, "交易成功", serial="DF001", day=date(2026, 10, 18)),
            bank_row("钱小红", "500.00", "已入账", serial="DF002", day="2026年10月19日"),
            bank_row("孙小刚", "500.00", "退票", reason="账户已销户", serial="DF003"),
        ],
    )

    plan = run(path, released, county_staff)

    assert plan.ok, errors(plan)
    assert plan.counts == {"new": 0, "updated": 3, "unchanged": 0}
    assert "将标记已发放 2 人（合计 ¥1,000.00），标记发放失败 1 人" in plan.notes[0]
    lines = lines_by_name(released)
    zhao, qian, sun = lines["赵小明"], lines["钱小红"], lines["孙小刚"]
    assert (zhao.state, zhao.voucher, zhao.paid_on, zhao.method) == (
        L.PAID,
        "DF001",
        date(2026, 10, 18),
        AidLine.Method.BANK,
    )
    assert (qian.state, qian.voucher, qian.paid_on) == (L.PAID, "DF002", date(2026, 10, 19))
    assert (sun.state, sun.failure_reason, sun.once_key) == (L.FAILED, "账户已销户", None)
    fund.refresh_from_db()
    assert fund.paid == Decimal("1000.00") and fund.committed == committed - Decimal("1500.00")
    assert FundMovement.objects.filter(kind="pay").count() == 2
    assert FundMovement.objects.filter(kind="uncommit").count() == 1
    assert AuditEvent.objects.filter(verb="aid_line.pay").count() == 2
    event = AuditEvent.objects.get(verb="batch.import_reconciliation")
    assert event.details["paid"] == 2 and event.details["failed"] == 1
    released.refresh_from_db()
    assert released.state == S.RECONCILED  # nothing pending any more


def test_each_failed_row_keeps_its_own_reason_or_the_banks_status(tmp_path, county_staff, released):
    rows = [
        bank_row("赵小明", 500, "失败", reason="账号不存在", day=None),
        bank_row("钱小红", 500, "交易失败", reason="收款人户名与账号不符"),
        bank_row("孙小刚", 500, "账户冻结"),
    ]
    plan = run(write_bank_file(tmp_path / "回盘.xlsx", rows), released, county_staff)
    assert plan.ok, errors(plan)
    reasons = {line.snap_name: line.failure_reason for line in released.lines.all()}
    assert reasons == {
        "赵小明": "账号不存在",
        "钱小红": "收款人户名与账号不符",
        "孙小刚": "账户冻结",
    }
    events = AuditEvent.objects.filter(verb="aid_line.fail")
    assert sorted(e.details["reason"] for e in events) == sorted(reasons.values())


def test_title_totals_signoff_blank_rows_masked_cards_and_full_width_are_read(
    tmp_path, county_staff, released
):
    rows = [
        bank_row("赵　小明", "５００．００", "成功", account="6217 **** **** 1234", serial="DF001"),
        bank_row("钱小红", "￥500", "成功", account="622848******5678", serial="ＤＦ002",
                 day=datetime(2026, 10, 19, 14, 30)),
        bank_row("孙小刚", "500", "处理中", account="6230****0001", day=None),
    ]  # fmt: skip
    path = write_bank_file(tmp_path / "回盘.xlsx", rows)
    book = openpyxl.load_workbook(path)
    book.active.insert_rows(6)  # a blank row in the middle of the data
    book.save(path)

    plan = run(path, released, county_staff)

    assert plan.ok, errors(plan)
    assert plan.sheet.header_row == 4
    assert sorted(plan.sheet.skipped.values()) == ["合计行", "签字行"]
    lines = lines_by_name(released)
    assert lines["赵小明"].state == L.PAID and lines["钱小红"].voucher == "DF002"
    assert lines["孙小刚"].state == L.PENDING


def test_bank_summary_lines_in_the_data_columns_are_not_rows(tmp_path, county_staff, released):
    path = write_bank_file(tmp_path / "回盘.xlsx", everyone_paid(released), totals=False)
    book = openpyxl.load_workbook(path)
    book.active.append(["总计", None, None, "1,500.00", "3笔"])
    book.active.append([None, "总笔数：3", None, None, "成功笔数：3"])
    book.active.append([None, "制单：张会计"])
    book.save(path)

    plan = run(path, released, county_staff)

    assert plan.ok, errors(plan)
    assert sorted(plan.sheet.skipped.values()) == ["合计行", "签字行", "说明行", "说明行"]


def test_the_payout_lists_line_reference_matches_first(tmp_path, county_staff, released):
    lines = lines_by_name(released)
    rows = [
        bank_row("赵小明", 500, serial="DF001", ref=f"L{lines['赵小明'].pk}"),
        bank_row("钱小红", 500, serial="DF002", ref=f"2026秋季助学金 L{lines['钱小红'].pk}"),
    ]
    plan = run(write_bank_file(tmp_path / "回盘.xlsx", rows), released, county_staff)
    assert plan.ok, errors(plan)
    assert sorted(r.line_id for r in plan.rows) == sorted([lines["赵小明"].pk, lines["钱小红"].pk])

    wrong = [
        bank_row("赵小明", 500, serial="DF009", ref=f"L{lines['钱小红'].pk}"),
        bank_row("孙小刚", 500, serial="DF010", ref="L99999999"),
    ]
    plan = run(write_bank_file(tmp_path / "错.xlsx", wrong), released, county_staff)
    found = errors(plan)
    assert any("第5行 [户名]" in e and "不一致" in e for e in found), found
    assert any("第6行 [名单编号]" in e and "L99999999" in e for e in found), found


# --- row errors: one and nothing is imported --------------------------------------------------


def assert_nothing_written(batch):
    assert set(batch.lines.values_list("state", flat=True)) == {L.PENDING}
    assert not AuditEvent.objects.filter(verb__in=["aid_line.pay", "aid_line.fail"]).exists()
    batch.refresh_from_db()
    assert batch.state == S.RELEASED


def test_an_unknown_row_stops_the_whole_file(tmp_path, county_staff, released):
    rows = [*everyone_paid(released), bank_row("王五", 500, serial="DF004")]
    plan = run(write_bank_file(tmp_path / "回盘.xlsx", rows), released, county_staff)
    assert errors(plan) == ["第8行 [户名] 本批次名单中没有“王五”"]
    assert_nothing_written(released)


def test_an_amount_above_or_below_the_lines_is_an_error(tmp_path, county_staff, released):
    rows = [
        bank_row("赵小明", "600.00", serial="DF001"),
        bank_row("钱小红", "1,500", serial="DF002"),
        bank_row("孙小刚", "499.99", serial="DF003"),
    ]
    found = errors(run(write_bank_file(tmp_path / "回盘.xlsx", rows), released, county_staff))
    assert "第5行 [金额] 金额 ¥600.00 高于名单应发金额 ¥500.00" in found
    assert "第6行 [金额] 金额 ¥1,500.00 高于名单应发金额 ¥500.00" in found
    assert any(e.startswith("第7行 [金额] 金额 ¥499.99 低于名单应发金额") for e in found), found
    assert_nothing_written(released)


def test_a_date_after_today_is_an_error(tmp_path, county_staff, released):
    rows = [bank_row("赵小明", 500, serial="DF001", day="2026.10.20")]  # today is 10-19
    found = errors(run(write_bank_file(tmp_path / "回盘.xlsx", rows), released, county_staff))
    assert found == ["第5行 [交易日期] 交易日期晚于今天（2026-10-20）"]
    assert_nothing_written(released)


def test_the_same_row_twice_or_two_rows_for_one_line_are_errors(tmp_path, county_staff, released):
    rows = [
        bank_row("赵小明", 500, serial="DF001"),
        bank_row("赵小明", 500, serial="DF001"),
        bank_row("钱小红", 500, serial="DF002"),
        bank_row("钱小红", 500, serial="DF012"),
    ]
    found = errors(run(write_bank_file(tmp_path / "回盘.xlsx", rows), released, county_staff))
    assert "第5行 [户名] 与第6行重复" in found and "第6行 [户名] 与第5行重复" in found
    assert any(e.startswith("第8行 [户名] 与第7行对应名单中的同一条记录") for e in found), found
    assert_nothing_written(released)


def test_a_successful_row_needs_the_banks_serial_and_date(tmp_path, county_staff, released):
    rows = [bank_row("赵小明", 500, serial=None), bank_row("钱小红", 500, serial="X", day=None)]
    found = errors(run(write_bank_file(tmp_path / "回盘.xlsx", rows), released, county_staff))
    assert any(e.startswith("第5行 [流水号]") for e in found), found
    assert any(e.startswith("第6行 [交易日期]") for e in found), found


class TestNamesakes:
    """Two people of the same name at the same amount: name + amount cannot tell them
    apart, the 名单编号 can."""

    @pytest.fixture
    def students(self, village_a):
        return [
            make_person(village_a, name=name, category=AidCase.Category.STUDENT).cases.get()
            for name in ("赵小明", "钱小红", "赵小明")
        ]

    def test_name_and_amount_matching_two_lines_is_an_error(self, tmp_path, county_staff, released):
        rows = [bank_row("赵小明", 500, serial="DF001"), bank_row("钱小红", 500, serial="DF002")]
        found = errors(run(write_bank_file(tmp_path / "回盘.xlsx", rows), released, county_staff))
        assert len(found) == 1 and found[0].startswith("第5行 [户名] 本批次有 2 条“赵小明”")
        assert "名单编号" in found[0]
        assert_nothing_written(released)

    def test_the_line_reference_tells_them_apart(self, tmp_path, county_staff, released):
        first, second = released.lines.filter(snap_name="赵小明").order_by("pk")
        rows = [
            bank_row("赵小明", 500, serial="DF001", ref=f"L{second.pk}"),
            bank_row("赵小明", 500, "失败", reason="户名不符", serial="DF002", ref=f"L{first.pk}"),
        ]
        plan = run(write_bank_file(tmp_path / "回盘.xlsx", rows), released, county_staff)
        assert plan.ok, errors(plan)
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.state, first.failure_reason) == (L.FAILED, "户名不符")
        assert (second.state, second.voucher) == (L.PAID, "DF001")


# --- the same file again, results already recorded, RECONCILED -------------------------------


def test_importing_the_same_file_again_changes_nothing(tmp_path, county_staff, released):
    rows = [*everyone_paid(released)[:2], bank_row("孙小刚", 500, "失败", reason="账号不存在")]
    path = write_bank_file(tmp_path / "回盘.xlsx", rows)
    assert run(path, released, county_staff).ok
    events, movements = AuditEvent.objects.count(), FundMovement.objects.count()
    history = AidLine.pgh_event_model.objects.count()

    again = run(path, released, county_staff)

    assert again.ok, errors(again)
    assert again.counts == {"new": 0, "updated": 0, "unchanged": 3}
    assert "已是文件所示结果不变 3 人" in again.notes[0]
    assert AuditEvent.objects.count() == events and FundMovement.objects.count() == movements
    assert AidLine.pgh_event_model.objects.count() == history
    released.refresh_from_db()
    assert released.state == S.RECONCILED


def test_a_paid_line_the_file_now_calls_failed_is_an_error_not_a_change(
    tmp_path, county_staff, released
):
    zhao = lines_by_name(released)["赵小明"]
    services.line_mark_paid(
        acting_user=county_staff, line=zhao, paid_on=date(2026, 10, 19), method="bank",
        voucher="YH-1",
    )  # fmt: skip
    rows = [bank_row("赵小明", 500, "失败", reason="户名不符", serial="DF001")]
    found = errors(run(write_bank_file(tmp_path / "回盘.xlsx", rows), released, county_staff))
    assert len(found) == 1
    assert found[0].startswith("第5行 [状态] 此记录已于 2026-10-19 标记为已发放")
    zhao.refresh_from_db()
    assert zhao.state == L.PAID and zhao.voucher == "YH-1"


def test_a_line_paid_from_the_batch_page_is_unchanged_by_the_bank_file(
    tmp_path, county_staff, released
):
    ids = list(released.lines.values_list("pk", flat=True))
    services.lines_mark_paid(
        acting_user=county_staff, batch=released, line_ids=ids[:1], paid_on=date(2026, 10, 19),
        voucher="YH-BATCH",
    )  # fmt: skip
    plan = run(write_bank_file(tmp_path / "回盘.xlsx", everyone_paid(released)), released,
               county_staff)  # fmt: skip
    assert plan.ok and plan.counts == {"new": 0, "updated": 2, "unchanged": 1}
    assert AidLine.objects.get(pk=ids[0]).voucher == "YH-BATCH"


def test_processing_rows_stay_pending_and_the_batch_is_reconciled_by_the_final_file(
    tmp_path, county_staff, released
):
    first = [*everyone_paid(released)[:2], bank_row("孙小刚", 500, "处理中", day=None)]
    plan = run(write_bank_file(tmp_path / "第一次.xlsx", first), released, county_staff)
    assert plan.ok, errors(plan)
    assert "处理中仍待发放 1 人" in plan.notes[0]
    assert "导入后本批次仍有 1 条待发放记录" in plan.notes
    assert [str(w) for w in plan.report.warnings] == [
        "提示：第7行 [状态] 银行仍在处理中：此记录保持待发放，待银行给出结果后再导入"
    ]
    released.refresh_from_db()
    assert released.state == S.RELEASED
    assert not AuditEvent.objects.filter(verb="batch.reconciled").exists()

    final = write_bank_file(tmp_path / "最终.xlsx", everyone_paid(released))
    plan = run(final, released, county_staff)
    assert plan.ok and plan.counts == {"new": 0, "updated": 1, "unchanged": 2}
    released.refresh_from_db()
    assert released.state == S.RECONCILED
    assert AuditEvent.objects.filter(verb="batch.paid").count() == 1
    event = AuditEvent.objects.get(verb="batch.reconciled")
    assert event.actor == county_staff and event.details["from"] == S.PAID


def test_a_paid_batch_is_reconciled_by_a_file_that_confirms_it(tmp_path, county_staff, released):
    ids = list(released.lines.values_list("pk", flat=True))
    services.lines_mark_paid(acting_user=county_staff, batch=released, line_ids=ids,
                             paid_on=date(2026, 10, 19), voucher="YH-BATCH")  # fmt: skip
    released.refresh_from_db()
    assert released.state == S.PAID
    plan = run(write_bank_file(tmp_path / "回盘.xlsx", everyone_paid(released)), released,
               county_staff)  # fmt: skip
    assert plan.ok and "批次将转为“已对账”" in plan.notes[-1]
    released.refresh_from_db()
    assert released.state == S.RECONCILED


def test_reconcile_refuses_a_batch_not_paid_or_with_a_line_pending(county_staff, released):
    with pytest.raises(ValidationError, match="不能进行此操作"):
        services.batch_reconcile(acting_user=county_staff, batch=released)
    AidBatch.objects.filter(pk=released.pk).update(state=S.PAID)  # its lines still pending
    with pytest.raises(ValidationError, match="还有待发放的记录"):
        services.batch_reconcile(acting_user=county_staff, batch=released)
    assert not AuditEvent.objects.filter(verb="batch.reconciled").exists()


def test_a_failed_line_is_ready_for_a_follow_up_batch(
    tmp_path, county_staff, officer_a, released, funded, students
):
    rows = [*everyone_paid(released)[:2], bank_row("孙小刚", 500, "户名不符", serial="DF003")]
    assert run(write_bank_file(tmp_path / "回盘.xlsx", rows), released, county_staff).ok
    failed = released.lines.get(state=L.FAILED)
    assert failed.failure_reason == "户名不符"
    programme, fund = funded
    follow_up = services.batch_create(
        acting_user=county_staff, programme=programme, name="补发批次", school_year=2026,
        term="autumn", fund=fund, follow_up_of=released,
    )  # fmt: skip
    line = services.line_add(
        acting_user=officer_a, batch=follow_up, case=failed.case, retry_of=failed
    )
    assert line.amount == Decimal("500.00") and line.retry_of == failed


def test_only_a_released_or_paid_batch_takes_a_bank_file(tmp_path, county_staff, walk):
    batch = walk("in_publicity")
    plan = run(write_bank_file(tmp_path / "回盘.xlsx", [bank_row("赵小明", 500, serial="1")]),
               batch, county_staff)  # fmt: skip
    assert any("下达发放后才能导入银行回盘文件" in e for e in errors(plan))


# --- the pages --------------------------------------------------------------------------------


def upload(client, batch, path):
    with path.open("rb") as handle:
        file = SimpleUploadedFile(path.name, handle.read())
    response = client.post(
        reverse("import_start", args=["reconciliation"]), {"batch": batch.pk, "file": file}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    return response["Location"].rstrip("/").rsplit("/", 1)[-1]


def test_staff_upload_preview_and_confirm_from_the_batch_page(
    tmp_path, client_for, county_staff, released
):
    client = client_for(county_staff)
    detail = client.get(released.get_absolute_url()).content.decode()
    link = reverse("import_start", args=["reconciliation"]) + f"?batch={released.pk}"
    assert link in detail
    assert f'<option value="{released.pk}" selected>' in client.get(link).content.decode()
    rows = [*everyone_paid(released)[:2], bank_row("孙小刚", 500, "失败", reason="账户冻结")]
    token = upload(client, released, write_bank_file(tmp_path / "回盘.xlsx", rows))

    html = client.get(reverse("import_preview", args=["reconciliation", token])).content.decode()

    assert 'data-testid="count-updated">3<' in html
    assert "将标记已发放 2 人（合计 ¥1,000.00），标记发放失败 1 人" in html
    assert "6217****1234" not in html  # the card numbers stay in the file
    assert set(released.lines.values_list("state", flat=True)) == {L.PENDING}
    done = client.post(reverse("import_confirm", args=["reconciliation", token]), follow=True)
    assert "更新 3" in done.content.decode() and "已对账" in done.content.decode()
    released.refresh_from_db()
    assert released.state == S.RECONCILED
    page = client.get(released.get_absolute_url()).content.decode()
    assert 'data-testid="act-reconcile"' not in page  # reconciled: nothing more to import


def test_a_big_bank_file_goes_through_the_jobs_with_a_result_workbook(
    tmp_path, client_for, county_staff, released, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(importing.get("reconciliation"), "job_rows", 2)
    client = client_for(county_staff)
    with django_capture_on_commit_callbacks(execute=True):
        token = upload(client, released, write_bank_file(tmp_path / "回盘.xlsx",
                                                         everyone_paid(released)))  # fmt: skip
    assert Job.objects.get(kind="reconciliation_import_validate").state == Job.State.SUCCEEDED
    preview = reverse("import_preview", args=["reconciliation", token])
    assert 'data-testid="count-updated">3<' in client.get(preview).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_confirm", args=["reconciliation", token]))

    commit = Job.objects.get(kind="reconciliation_import_commit")
    assert commit.state == Job.State.SUCCEEDED, commit.error
    rows = list(openpyxl.load_workbook(commit.result_file.path).active.iter_rows(values_only=True))
    header = next(row for row in rows if row and "处理方式" in row)
    assert (
        sorted(row[header.index("处理方式")] for row in rows[rows.index(header) + 1 :])
        == ["标记已发放"] * 3
    )
    released.refresh_from_db()
    assert released.state == S.RECONCILED


def test_the_check_workbook_of_a_bad_file_reads_back(tmp_path, client_for, county_staff, released):
    client = client_for(county_staff)
    rows = [*everyone_paid(released), bank_row("王五", "800", serial="DF004")]
    token = upload(client, released, write_bank_file(tmp_path / "回盘.xlsx", rows))
    html = client.get(reverse("import_preview", args=["reconciliation", token])).content.decode()
    assert "整个文件都不会导入" in html and "本批次名单中没有“王五”" in html

    report = client.get(reverse("import_report", args=["reconciliation", token]))

    content = b"".join(report.streaming_content)
    book = openpyxl.load_workbook(io.BytesIO(content))
    values = list(book.active.iter_rows(values_only=True))
    header = next(row for row in values if row and "错误说明" in row)
    notes = {row[0]: row[header.index("错误说明")] for row in values if isinstance(row[0], int)}
    assert "本批次名单中没有“王五”" in notes[8] and notes[5] is None
    assert AuditEvent.objects.filter(verb="batch.reconciliation_check").count() == 1
    # read again by the engine, the workbook gives the same rows (to fix and upload again)
    sheet = importing.read(content, "回盘_导入检查.xlsx", SPEC)
    assert [(r.values["name"], r.values["amount"]) for r in sheet.rows] == [
        ("赵小明", Decimal("500.00")),
        ("钱小红", Decimal("500.00")),
        ("孙小刚", Decimal("500.00")),
        ("王五", Decimal("800.00")),
    ]
    assert set(released.lines.values_list("state", flat=True)) == {L.PENDING}


def test_only_who_pays_out_may_import_a_bank_file(client_for, officer_a, approver, auditor, walk):
    batch = walk("released")
    url = reverse("import_start", args=["reconciliation"])
    for user in (officer_a, approver, auditor):
        assert client_for(user).get(url).status_code == 403
        page = client_for(user).get(batch.get_absolute_url())
        assert 'data-testid="act-reconcile"' not in page.content.decode()


def test_the_upload_for_a_batch_not_released_is_refused(tmp_path, client_for, county_staff, walk):
    batch = walk("in_publicity")
    file = SimpleUploadedFile("a.csv", "户名,金额,状态\n赵小明,500,成功\n".encode())
    response = client_for(county_staff).post(
        reverse("import_start", args=["reconciliation"]), {"batch": batch.pk, "file": file}
    )
    assert response.status_code == 200
    assert "请选择已下达发放或已发放的资助批次" in response.content.decode()


# --- the command ------------------------------------------------------------------------------


def test_command_dry_run_changes_nothing_then_imports(tmp_path, county_staff, released, capsys):
    path = write_bank_file(tmp_path / "回盘.xlsx", everyone_paid(released))
    args = ["import_reconciliation", str(path), "--batch", str(released.pk), "--user",
            "county_staff"]  # fmt: skip
    call_command(*args, "--dry-run")
    assert "检查通过（试运行，未写入）：新增 0，更新 3，未变 0" in capsys.readouterr().out
    assert_nothing_written(released)

    call_command(*args)
    out = capsys.readouterr().out
    assert "已标记已发放 3 人（合计 ¥1,500.00）" in out and "状态转为“已对账”" in out
    call_command(*args)
    assert "新增 0，更新 0，未变 3" in capsys.readouterr().out


def test_command_exits_1_with_row_column_and_message(
    tmp_path, county_staff, released, capsys, monkeypatch
):
    # run_from_argv closes the connections when done: the test's transaction must stay
    monkeypatch.setattr(connections, "close_all", lambda: None)
    rows = [*everyone_paid(released)[:2], bank_row("孙小刚", "900", serial="DF003")]
    path = write_bank_file(tmp_path / "回盘.xlsx", rows)
    argv = ["manage.py", "import_reconciliation", str(path), "--batch", str(released.pk),
            "--user", "county_staff"]  # fmt: skip

    with pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(argv)

    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "第7行 [金额] 金额 ¥900.00 高于名单应发金额 ¥500.00" in err
    assert "共 1 处问题，未导入任何内容。" in err
    assert_nothing_written(released)


def test_command_refuses_who_may_not_pay_and_an_unknown_batch(tmp_path, officer_a, released):
    path = write_bank_file(tmp_path / "回盘.xlsx", everyone_paid(released))
    with pytest.raises(CommandError, match="无权"):
        call_command("import_reconciliation", str(path), "--batch", str(released.pk),
                     "--user", "officer_a")  # fmt: skip
    with pytest.raises(CommandError, match="找不到资助批次"):
        call_command("import_reconciliation", str(path), "--batch", "999999")


def test_checking_reads_the_batch_in_one_query_whatever_the_rows(
    tmp_path, county_staff, released, django_assert_num_queries
):
    kind = importing.get("reconciliation")
    path = write_bank_file(tmp_path / "回盘.xlsx", everyone_paid(released))
    with path.open("rb") as handle:
        sheet = kind.read(handle, path.name, {"batch": released.pk})
    with django_assert_num_queries(1):
        plan = kind.validate(sheet, acting_user=county_staff, context=released)
    assert plan.ok and plan.counts["updated"] == 3
