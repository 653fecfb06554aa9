"""The bank's result file (回盘, 代发结果) for a released batch: a kind of the hub's generic
upload flow ("reconciliation"), so its pages, jobs and command come from there.

Banks send the file in their own shape: a title ("XX银行代发工资明细"), the header (户名 or
姓名 or 收款人, 账号 or 卡号 — usually masked, 6217****1234 —, 金额 or 交易金额, 状态 or
处理结果, 失败原因 or 备注, 交易日期, 流水号 or 凭证号), the rows, a 合计 row and the
经办人's sign-off; the engine reads all of that (header under titles, totals and sign-off
lines, full-width characters, ¥ and commas, every date form). Summary lines that land in
the data columns ("总笔数：3") are left out here.

Each row is matched to one line of the batch, never by guess:
1. by the line reference of the payout list (its 名单编号 column, "L123"), when the bank
   gives it back — in a column of its own, or in the 摘要/附言 it echoes;
2. by the bank's serial, when exactly one line of the batch carries it as its voucher
   (a line paid by an earlier import of this file);
3. by name and amount within the batch: one line of that name (then the amount must
   agree), or one line of that name at that amount. Two candidates are a row error that
   asks for the 名单编号.
An unknown row, a row matching two lines, two rows for one line, a paid amount other than
the line's, a date after today and the same row twice are row errors; one error and
nothing is imported. 成功 marks the line paid (the serial as its voucher, the 交易日期 as
its date), 失败 marks it failed with the bank's reason (ready for a follow-up batch),
处理中 leaves it pending (a warning says so). A line already in the result the file states
is unchanged, so importing the same file again changes nothing; a line whose recorded
result the file contradicts (paid, and the file says failed) is a row error, never a silent
change. When no line is left pending the batch becomes RECONCILED.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidcases import access, importing
from aidcases.importing import Column
from aidcases.importing.forms import UploadForm
from aidcases.importing.kinds import UNCHANGED, UPDATED
from aidcases.models import User
from disbursements.models import AidBatch, AidLine
from disbursements.services import reconciliation as services

PERMISSION = "disbursements.pay"
L = AidLine.State

# What the bank says happened, as its files spell it.
PAID, FAILED, PENDING = "paid", "failed", "pending"
OUTCOME_LABELS = {
    PAID: gettext_lazy("成功"),
    FAILED: gettext_lazy("失败"),
    PENDING: gettext_lazy("处理中"),
}
_OUTCOMES = {
    PAID: (
        "成功", "交易成功", "处理成功", "代发成功", "转账成功", "支付成功", "入账成功", "已入账",
        "已成功", "已支付", "已转账", "已完成", "完成", "已记账", "记账成功", "正常", "ok",
        "success", "succeeded",
    ),
    FAILED: (
        "失败", "交易失败", "处理失败", "代发失败", "转账失败", "支付失败", "入账失败", "退票",
        "已退票", "退回", "已退回", "退汇", "户名不符", "账号不符", "户名账号不符", "账户不存在",
        "账号不存在", "账号错误", "户名错误", "账户已销户", "已销户", "销户", "账户冻结", "冻结",
        "止付", "账户状态异常", "拒绝", "被拒绝", "未成功", "未入账", "fail", "failed",
    ),
    PENDING: (
        "处理中", "银行处理中", "交易处理中", "待处理", "待确认", "已受理", "受理中", "在途",
        "等待处理", "进行中", "已提交", "processing",
    ),
}  # fmt: skip
# A status not in the lists above, decided by what it says (failure words first: 未成功).
_OUTCOME_WORDS = (
    (FAILED, ("失败", "退票", "退回", "退汇", "不符", "错误", "不存在", "销户", "冻结", "拒",
              "未成功", "未入账", "止付", "异常")),
    (PENDING, ("处理中", "待", "受理", "在途")),
    (PAID, ("成功", "入账", "已支付", "已转账")),
)  # fmt: skip
_STATUS_LOOKUP = {
    importing.normalize_header(word): outcome
    for outcome, words in _OUTCOMES.items()
    for word in words
}


@dataclass(frozen=True)
class Status:
    outcome: str
    text: str  # as the bank wrote it: a failure's reason when 失败原因 is blank


def parse_status(raw: Any) -> Status:
    text = importing.text(raw)
    key = importing.normalize_header(text)
    outcome = _STATUS_LOOKUP.get(key)
    if outcome is None:
        outcome = next(
            (found for found, words in _OUTCOME_WORDS if any(w in key for w in words)), None
        )
    if outcome is None:
        raise importing.CellError(
            _(
                "“%(value)s”不是可识别的处理结果，应为成功、失败或处理中（如交易成功、已入账、退票、户名不符）"
            )
            % {"value": text[:30]}
        )
    return Status(outcome, text)


def _amount(raw: Any) -> Decimal:
    value = importing.money(raw)
    if value <= 0:
        raise importing.CellError(_("金额须大于0"))
    return value


def _account(raw: Any) -> str:
    """The card or account number as the bank shows it (often masked): kept only to tell
    two rows apart, never matched, stored or shown."""
    return importing.cell_text(raw)[:40]


_LINE_REF = re.compile(r"(?<![A-Za-z0-9])[Ll](\d{1,12})(?!\d)")


def line_ref(raw: Any) -> int | None:
    """The payout list's 名单编号 ("L123") in the cell, if any: banks echo it in a column
    of its own or inside the 摘要/附言 text; anything else there is not a reference."""
    found = _LINE_REF.search(importing.cell_text(raw))
    return int(found.group(1)) if found else None


REF_COLUMN, NAME_COLUMN, AMOUNT_COLUMN, STATUS_COLUMN = "名单编号", "户名", "金额", "状态"
DATE_COLUMN, SERIAL_COLUMN = "交易日期", "流水号"

SPEC = importing.Spec(
    title="银行回盘文件",
    columns=(
        Column(
            "name", NAME_COLUMN,
            ("姓名", "收款人", "收款人姓名", "收款户名", "收款人户名", "收款方户名", "账户名称",
             "账户名", "户名称", "客户姓名", "客户名称", "对方户名", "持卡人", "持卡人姓名",
             "领款人", "收款人名称"),
            required=True, parse=importing.limited(50, importing.name), example="赵小明",
        ),
        Column(
            "account", "账号",
            ("卡号", "银行卡号", "收款账号", "收款人账号", "收款卡号", "收款方账号", "账户",
             "帐号", "银行账号", "对方账号", "卡折号", "存折号", "账号/卡号", "收款账户"),
            parse=_account, example="6217****1234",
            help="可以是部分隐藏的卡号，仅用于区分文件中的行",
        ),
        Column(
            "amount", AMOUNT_COLUMN,
            ("交易金额", "发放金额", "实发金额", "代发金额", "转账金额", "入账金额", "支付金额",
             "付款金额", "金额(元)"),
            required=True, parse=_amount, example="1,000.00",
        ),
        Column(
            "status", STATUS_COLUMN,
            ("处理结果", "交易状态", "处理状态", "结果", "交易结果", "代发结果", "入账状态",
             "回盘结果", "状态说明", "处理情况", "入账结果", "代发状态", "交易处理结果",
             "支付状态", "转账状态"),
            required=True, parse=parse_status, example="成功",
            help="成功、失败或处理中（交易成功、已入账、退票、户名不符等写法都可以）",
        ),
        Column(
            "reason", "失败原因",
            ("备注", "原因", "错误信息", "失败说明", "返回信息", "错误原因", "退票原因",
             "失败信息", "处理说明", "返回码说明", "说明", "错误描述"),
            parse=importing.limited(200),
        ),
        Column(
            "date", DATE_COLUMN,
            ("入账日期", "日期", "处理日期", "交易时间", "记账日期", "代发日期", "转账日期",
             "发放日期", "交易日", "入账时间", "处理时间"),
            parse=importing.full_date, example="2026-10-20",
            help="成功的行必须填写",
        ),
        Column(
            "serial", SERIAL_COLUMN,
            ("凭证号", "交易流水号", "银行流水号", "业务流水号", "交易参考号", "凭证号码",
             "银行流水", "流水", "记账流水号", "柜员流水号", "回单号", "交易编号", "凭证编号",
             "流水号/凭证号"),
            parse=importing.limited(60), example="20261020000123",
            help="成功的行必须填写，记为该记录的凭证号",
        ),
        Column(
            "ref", REF_COLUMN,
            ("编号", "客户编号", "参考号", "业务参考号", "客户参考号", "摘要", "用途", "附言",
             "交易附言", "名单号"),
            parse=line_ref, example="L123",
            help="发放名单中的“名单编号”（如 L123）；有它时按它对应，没有时按户名和金额对应",
        ),
    ),
)  # fmt: skip

# Summary lines of bank files that the engine's 合计/总计 rule does not catch.
_SUMMARY_PREFIXES = (
    "总笔数", "总金额", "成功笔数", "失败笔数", "成功金额", "失败金额", "笔数", "总额",
    "合计笔数", "本页合计", "累计", "处理中笔数",
)  # fmt: skip


def _summary_line(row: importing.Row) -> bool:
    first = next((importing.cell_text(c) for c in row.cells if importing.cell_text(c)), "")
    if first.replace(" ", "").startswith(_SUMMARY_PREFIXES):
        return True
    if row.raw.get("amount") is not None or row.raw.get("status") is not None:
        return False
    name = importing.cell_text(row.raw.get("name"))
    # "制单：张三", "打印日期：…" under the 户名 column: no name holds a colon
    return not name or ":" in name or "：" in name


def drop_summary_lines(sheet: importing.Sheet) -> importing.Sheet:
    dropped = {row.line for row in sheet.rows if not row.ok and _summary_line(row)}
    if dropped:
        sheet.rows = [row for row in sheet.rows if row.line not in dropped]
        sheet.report = importing.Report(
            [issue for issue in sheet.report.issues if issue.line not in dropped]
        )
        sheet.skipped.update(dict.fromkeys(dropped, _("说明行")))
    return sheet


# --- the plan ---------------------------------------------------------------------------------

PAY, FAIL, LEAVE, SAME = "pay", "fail", "leave", "same"
EFFECT_LABELS = {
    PAY: gettext_lazy("标记已发放"),
    FAIL: gettext_lazy("标记发放失败"),
    LEAVE: gettext_lazy("处理中，仍待发放"),
    SAME: gettext_lazy("已是此结果，不变"),
}


class _Line(NamedTuple):
    pk: int
    name: str
    amount: Decimal
    state: str
    voucher: str
    paid_on: date | None
    failure_reason: str

    @property
    def ref(self) -> str:
        return f"L{self.pk}"


@dataclass(kw_only=True)
class ReconciliationRow(importing.PlanRow):
    line_id: int
    effect: str
    name: str
    amount: Decimal
    outcome: str
    status_text: str
    paid_on: date | None = None
    serial: str = ""
    reason: str = ""

    @property
    def ref(self) -> str:
        return f"L{self.line_id}"

    @property
    def amount_text(self) -> str:
        return f"{self.amount:,.2f}"

    @property
    def paid_on_text(self) -> str:
        return self.paid_on.isoformat() if self.paid_on else ""

    @property
    def effect_label(self) -> str:
        label = str(EFFECT_LABELS[self.effect])
        return f"{label}：{self.reason}" if self.effect == FAIL else label


@dataclass(kw_only=True)
class ReconciliationPlan(importing.Plan):
    batch: AidBatch | None = None
    user: User | None = None

    def rows_of(self, effect: str) -> list[ReconciliationRow]:
        return [row for row in self.rows if row.effect == effect]


def batches_open_to(user: User):
    """Batches whose bank file this user may import: released, paid (or reconciled)."""
    if not user.has_perm(PERMISSION):
        return AidBatch.objects.none()
    return (
        AidBatch.objects.filter(access.scope_q(AidBatch, user), state__in=services.RECONCILABLE)
        .select_related("programme", "fund")
        .order_by("-created_at", "-id")
    )


class BatchChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: AidBatch) -> str:
        return f"{obj.name}（{obj.get_state_display()}）"


class ReconciliationUploadForm(UploadForm):
    batch = BatchChoiceField(
        label=gettext_lazy("资助批次"),
        queryset=AidBatch.objects.none(),
        empty_label=gettext_lazy("—请选择—"),
        error_messages={
            "required": gettext_lazy("请选择资助批次。"),
            "invalid_choice": gettext_lazy("请选择已下达发放或已发放的资助批次。"),
        },
        help_text=gettext_lazy("银行回盘文件对应的批次（已下达发放或已发放）。"),
    )
    field_order = ("batch", "file")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["file"].label = _("银行回盘文件")
        batches = batches_open_to(user)
        self.fields["batch"].queryset = batches
        if not self.is_bound and self.initial.get("batch") is None and batches.count() == 1:
            self.initial["batch"] = batches.first().pk

    def out_of_scope(self) -> bool:
        raw = self.data.get("batch", "")
        return bool(raw) and not (
            raw.isdigit()
            and AidBatch.objects.filter(access.scope_q(AidBatch, self.user), pk=raw).exists()
        )

    def options(self) -> dict[str, Any]:
        return {"batch": self.cleaned_data["batch"].pk}


def _batch_for(user: User | None, batch_id: Any) -> AidBatch:
    if user is None or not user.has_perm(PERMISSION):
        raise PermissionDenied
    batch = (
        AidBatch.objects.filter(access.scope_q(AidBatch, user), pk=batch_id)
        .select_related("programme", "fund")
        .first()
    )
    if batch is None:
        raise importing.UploadGone
    return batch


def _batch_lines(batch: AidBatch, user: User) -> list[_Line]:
    """Every payment line of the batch in the user's scope, in one query."""
    return [
        _Line(pk, importing.name(snap or name), amount, state, voucher, paid_on, reason)
        for pk, snap, name, amount, state, voucher, paid_on, reason in AidLine.objects.filter(
            access.scope_q(AidLine, user), batch=batch
        )
        .exclude(state=L.EXCLUDED)
        .values_list(
            "pk",
            "snap_name",
            "person__name",
            "amount",
            "state",
            "voucher",
            "paid_on",
            "failure_reason",
        )
        .order_by("pk")
    ]


def _money(value: Decimal) -> str:
    return f"¥{value:,.2f}"


class _Matcher:
    """Finds the one line a row speaks of, or says why it cannot."""

    def __init__(self, lines: list[_Line]) -> None:
        self.by_pk = {line.pk: line for line in lines}
        self.by_voucher: dict[str, list[_Line]] = defaultdict(list)
        self.by_name: dict[str, list[_Line]] = defaultdict(list)
        for line in lines:
            if line.voucher:
                self.by_voucher[line.voucher].append(line)
            self.by_name[line.name].append(line)

    def find(self, values: dict) -> tuple[_Line | None, str, str]:
        """(line, "", "") or (None, column, message)."""
        name, amount = values["name"], values["amount"]
        ref = values.get("ref")
        if ref is not None:
            line = self.by_pk.get(ref)
            if line is None:
                return None, REF_COLUMN, _("本批次名单中没有名单编号 L%(ref)d") % {"ref": ref}
            if line.name != name:
                return (
                    None,
                    NAME_COLUMN,
                    _("户名与名单编号 %(ref)s 的收款人（%(name)s）不一致")
                    % {"ref": line.ref, "name": line.name},
                )
            return line, "", ""
        serial = values.get("serial")
        if serial:
            same = [line for line in self.by_voucher.get(serial, ()) if line.name == name]
            if len(same) == 1:
                return same[0], "", ""
        named = self.by_name.get(name, [])
        if not named:
            return None, NAME_COLUMN, _("本批次名单中没有“%(name)s”") % {"name": name}
        exact = [line for line in named if line.amount == amount]
        if len(exact) == 1:
            return exact[0], "", ""
        if len(named) == 1:
            return named[0], "", ""  # the amount is then checked against it
        return (
            None,
            NAME_COLUMN,
            _(
                "本批次有 %(n)d 条“%(name)s”的记录，无法确定是哪一条："
                "请在文件中加上发放名单的“名单编号”列"
            )
            % {"n": len(exact) or len(named), "name": name},
        )


def _row_key(row: importing.Row) -> tuple:
    """The same transaction twice: every value of the row alike."""
    values = row.values
    status = values["status"]
    return (
        values.get("serial") or "",
        values["name"],
        values["amount"],
        values.get("account") or "",
        values.get("date"),
        status.outcome if status else None,
    )


def validate(
    sheet: importing.Sheet,
    batch: AidBatch,
    user: User,
    *,
    file_name: str = "",
    progress: importing.Progress | None = None,
) -> ReconciliationPlan:
    """Match every row to a line of the batch and decide what it does; write nothing.
    Problems (and warnings) go into ``sheet.report``."""
    plan = ReconciliationPlan(sheet=sheet, file_name=file_name, batch=batch, user=user)
    report = sheet.report
    if sheet.header_row is None or sheet.missing_required:
        return plan
    if batch.state not in services.RECONCILABLE:
        report.add(
            None,
            "",
            _("批次“%(batch)s”当前为“%(state)s”，下达发放后才能导入银行回盘文件。")
            % {"batch": batch.name, "state": batch.get_state_display()},
        )
        return plan
    today = timezone.localdate()
    lines = _batch_lines(batch, user)
    matcher = _Matcher(lines)
    rows = [row for row in sheet.rows if row.ok]
    report.extend(importing.find_duplicates(rows, _row_key, label=NAME_COLUMN))
    bad = {issue.line for issue in report.errors}

    taken: dict[int, int] = {}  # line id → the row that matched it
    total = len(sheet.rows)
    for done, row in enumerate(rows, 1):
        if progress is not None and done % 500 == 0:
            progress(done, total, _("正在核对第%(n)d行") % {"n": row.line})
        if row.line in bad:
            continue
        planned = _plan_row(row, matcher, taken, today, report)
        if planned is not None:
            plan.rows.append(planned)
    if not report.ok:
        bad = {issue.line for issue in report.errors}
        plan.rows = [r for r in plan.rows if r.line not in bad]
    plan.notes = _notes(plan, lines)
    return plan


def _plan_row(row, matcher, taken, today, report) -> ReconciliationRow | None:
    values = row.values
    status: Status = values["status"]
    day: date | None = values.get("date")
    serial: str = values.get("serial") or ""
    if day is not None and day > today:
        report.add(row.line, DATE_COLUMN, _("交易日期晚于今天（%(day)s）") % {"day": day})
        return None
    if status.outcome == PAID and day is None:
        report.add(row.line, DATE_COLUMN, _("成功的记录须有交易日期（记为发放日期）"))
        return None
    if status.outcome == PAID and not serial:
        report.add(row.line, SERIAL_COLUMN, _("成功的记录须有流水号或凭证号（记为凭证号）"))
        return None
    line, column, message = matcher.find(values)
    if line is None:
        report.add(row.line, column, message)
        return None
    if line.pk in taken:
        report.add(
            row.line,
            NAME_COLUMN,
            _("与第%(other)d行对应名单中的同一条记录（%(ref)s %(name)s）")
            % {"other": taken[line.pk], "ref": line.ref, "name": line.name},
        )
        return None
    taken[line.pk] = row.line
    amount = values["amount"]
    if amount != line.amount:
        higher = amount > line.amount
        report.add(
            row.line,
            AMOUNT_COLUMN,
            (
                _("金额 %(amount)s 高于名单应发金额 %(line)s")
                if higher
                else _("金额 %(amount)s 低于名单应发金额 %(line)s，请与银行核对")
            )
            % {"amount": _money(amount), "line": _money(line.amount)},
        )
        return None
    reason = (values.get("reason") or "").strip() or status.text
    effect = _effect(row, line, status, report)
    if effect is None:
        return None
    return ReconciliationRow(
        line=row.line,
        action=UPDATED if effect in (PAY, FAIL) else UNCHANGED,
        changes=[str(EFFECT_LABELS[effect])] if effect in (PAY, FAIL) else [],
        line_id=line.pk,
        effect=effect,
        name=line.name,
        amount=amount,
        outcome=status.outcome,
        status_text=status.text,
        paid_on=day,
        serial=serial,
        reason=reason[:200] if effect == FAIL else "",
    )


def _effect(row, line: _Line, status: Status, report) -> str | None:
    """What the row does to the line in its present state, or None (a row error)."""
    outcome = status.outcome
    if line.state == L.PENDING:
        if outcome == PENDING:
            report.add(
                row.line,
                STATUS_COLUMN,
                _("银行仍在处理中：此记录保持待发放，待银行给出结果后再导入"),
                warning=True,
            )
            return LEAVE
        return PAY if outcome == PAID else FAIL
    done = L.PAID if line.state == L.REVERSED else line.state  # a reversal was paid first
    if outcome == PENDING:
        report.add(
            row.line,
            STATUS_COLUMN,
            _("银行文件为处理中，但此记录已是“%(state)s”，未作改动")
            % {"state": L(line.state).label},
            warning=True,
        )
        return SAME
    if (outcome == PAID and done == L.PAID) or (outcome == FAILED and done == L.FAILED):
        return SAME
    if done == L.PAID:
        report.add(
            row.line,
            STATUS_COLUMN,
            _(
                "此记录已于 %(day)s 标记为已发放（凭证号 %(voucher)s），银行文件却为“%(status)s”："
                "已发放的记录不能改为失败，如确未到账请在批次页面冲正"
            )
            % {"day": line.paid_on, "voucher": line.voucher or "—", "status": status.text},
        )
    else:
        report.add(
            row.line,
            STATUS_COLUMN,
            _("此记录已标记为发放失败（%(reason)s），银行文件却为“%(status)s”：请与银行核对")
            % {"reason": line.failure_reason, "status": status.text},
        )
    return None


def _notes(plan: ReconciliationPlan, lines: list[_Line]) -> list[str]:
    pay, fail = plan.rows_of(PAY), plan.rows_of(FAIL)
    leave, same = plan.rows_of(LEAVE), plan.rows_of(SAME)
    if not plan.ok:  # nothing will be imported: counts of the good rows would mislead
        return []
    notes = [
        _(
            "将标记已发放 %(paid)d 人（合计 %(total)s），标记发放失败 %(failed)d 人，"
            "处理中仍待发放 %(pending)d 人，已是文件所示结果不变 %(same)d 人"
        )
        % {
            "paid": len(pay),
            "total": _money(sum((r.amount for r in pay), Decimal(0))),
            "failed": len(fail),
            "pending": len(leave),
            "same": len(same),
        }
    ]
    still = sum(1 for line in lines if line.state == L.PENDING) - len(pay) - len(fail)
    if still > 0:
        notes.append(_("导入后本批次仍有 %(n)d 条待发放记录") % {"n": still})
    elif plan.batch is not None and plan.batch.state != AidBatch.State.RECONCILED:
        notes.append(_("导入后本批次没有待发放的记录，批次将转为“已对账”"))
    return notes


def commit(
    plan: ReconciliationPlan, user: User, *, progress: importing.Progress | None = None
) -> importing.Result:
    """Write the plan through `reconciliation_apply` (one transaction): all or none."""
    if plan.user is None or plan.user.pk != user.pk:
        raise PermissionDenied
    if not plan.ok:
        raise ValidationError(_("文件有 %(n)d 处问题，未导入任何内容。") % {"n": len(plan.errors)})
    pay, fail = plan.rows_of(PAY), plan.rows_of(FAIL)
    if progress is not None:
        progress(0, len(pay) + len(fail), _("正在导入"))
    outcome = services.reconciliation_apply(
        acting_user=user,
        batch=plan.batch,
        paid={row.line_id: (row.paid_on, row.serial) for row in pay},
        failed={row.line_id: row.reason for row in fail},
        pending=len(plan.rows_of(LEAVE)),
        unchanged=len(plan.rows_of(SAME)),
        file_name=plan.file_name,
    )
    if progress is not None:
        progress(len(pay) + len(fail), len(pay) + len(fail), _("导入完成"))
    notes = [
        _(
            "已标记已发放 %(paid)d 人（合计 %(total)s），标记发放失败 %(failed)d 人，"
            "处理中 %(pending)d 人"
        )
        % {
            "paid": outcome.paid,
            "total": _money(sum((r.amount for r in pay), Decimal(0))),
            "failed": outcome.failed,
            "pending": len(plan.rows_of(LEAVE)),
        }
    ]
    if outcome.reconciled:
        notes.append(_("本批次已全部对账，状态转为“已对账”"))
    return importing.Result(
        counts=plan.counts, notes=notes, written=outcome.changed, rows=plan.rows
    )


class ReconciliationImport(importing.ImportKind):
    name = "reconciliation"
    title = gettext_lazy("银行回盘导入")
    permission = PERMISSION
    description = gettext_lazy(
        "导入银行返回的代发结果（回盘）文件：按发放名单的“名单编号”，没有时按户名和金额，"
        "对应到批次中的每一条记录。成功的标记为已发放（流水号记为凭证号，交易日期记为发放日期），"
        "失败的标记为发放失败并记下原因（可在补发批次中重新发放），处理中的保持待发放。"
        "有一行出错则整个文件都不导入；重复导入同一文件不会有任何改动。"
    )
    upload_form = ReconciliationUploadForm
    preview_columns = (
        (gettext_lazy("名单编号"), "ref"),
        (gettext_lazy("户名"), "name"),
        (gettext_lazy("金额（元）"), "amount_text"),
        (gettext_lazy("银行处理结果"), "status_text"),
        (gettext_lazy("交易日期"), "paid_on_text"),
        (gettext_lazy("流水号"), "serial"),
        (gettext_lazy("处理方式"), "effect_label"),
    )
    back_url_name = "batch_list"
    back_label = gettext_lazy("查看资助批次")
    check_download_verb = "batch.reconciliation_check"

    def spec(self, options):
        return SPEC

    def read(self, source, file_name, options):
        return drop_summary_lines(super().read(source, file_name, options))

    def context(self, user, options) -> AidBatch:
        return _batch_for(user, options.get("batch"))

    def heading(self, options, context: AidBatch) -> str:
        return _("银行回盘 · %(batch)s") % {"batch": context.name}

    def file_title(self, options) -> str:
        return _("银行回盘")

    def validate(self, sheet, *, acting_user, context: AidBatch, file_name="", progress=None):
        return validate(sheet, context, acting_user, file_name=file_name, progress=progress)

    def commit(self, plan, *, acting_user, progress=None):
        return commit(plan, acting_user, progress=progress)


KIND = ReconciliationImport()

VERBS = {
    "batch.reconciled": gettext_lazy("批次对账完成"),
    "batch.import_reconciliation": gettext_lazy("导入银行回盘文件"),
    "batch.reconciliation_check": gettext_lazy("下载银行回盘导入检查表"),
}


def register() -> None:
    """The kind and its audit verbs (called from hooks_batches.register)."""
    from aidcases.audit import register_verbs

    register_verbs(VERBS)
    try:
        importing.get(KIND.name)
    except LookupError:
        importing.register(KIND)
