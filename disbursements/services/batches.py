"""A batch's path: DRAFT → VERIFYING → LOCKED → IN_APPROVAL → IN_PUBLICITY → RELEASED →
PAID → CLOSED (RECONCILED comes with the bank's file), ABORTED before release.

Every step locks the batch row first (`select_for_update`), so two people clicking at
once take turns and the second sees the state the first left. Money moves only through
`funds.fund_move`, whose database CHECKs keep every fund at or above zero. A line's
`once_key` (UNIQUE) keeps a person from being paid twice by the same programme in the
same period, whichever batches they are in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases import access, case_details
from aidcases.audit import audit_event, audit_log
from aidcases.models import AidCase, Attachment, AuditEvent, User
from aidcases.services.attachments import attachment_add
from aidcases.services.common import acting, require_perm
from disbursements.models import (
    AidBatch,
    AidLine,
    AidProgramme,
    BatchApproval,
    Fund,
    FundMovement,
    Reversal,
)
from disbursements.services.funds import fund_move, fund_move_lines
from disbursements.services.submit_keys import once
from disbursements.workdays import working_days_end

__all__ = [
    "BulkOutcome",
    "batch_abort",
    "batch_approve",
    "batch_close",
    "batch_create",
    "batch_lock",
    "batch_reject",
    "batch_release",
    "batch_revise",
    "batch_start_publicity",
    "batch_start_verification",
    "batch_submit",
    "check_case_fits",
    "line_add",
    "line_exclude",
    "line_mark_failed",
    "line_mark_paid",
    "line_reverse",
    "line_verify",
    "line_warnings",
    "lines_mark_failed",
    "lines_mark_paid",
    "once_taken_by",
    "required_approvals",
]

S = AidBatch.State
L = AidLine.State
MK = FundMovement.Kind


def _locked(batch: AidBatch) -> AidBatch:
    return AidBatch.objects.select_for_update().select_related("programme", "fund").get(pk=batch.pk)


def _require_state(batch: AidBatch, *states: str) -> None:
    if batch.state not in states:
        raise ValidationError(
            _("批次当前为“%(state)s”，不能进行此操作。") % {"state": batch.get_state_display()},
            code="wrong_state",
        )


def _event(user: User, verb: str, obj, **details) -> None:
    audit_log(actor=user, verb=verb, obj=obj, details={k: str(v) for k, v in details.items()})


def _period_key(batch: AidBatch) -> str:
    mode = batch.programme.mode
    if mode == AidProgramme.Mode.ONE_OFF:
        return ""
    if mode == AidProgramme.Mode.MONTHLY:
        return f":{batch.month:%Y-%m}" if batch.month else f":{batch.pk}"
    return f":{batch.school_year}{batch.term}"


def _once_key(batch: AidBatch, person_id: int) -> str:
    return f"{batch.programme_id}:{person_id}{_period_key(batch)}"


# --- the list ---------------------------------------------------------------------


@transaction.atomic
def batch_create(
    *,
    acting_user: User,
    programme: AidProgramme,
    name: str,
    school_year: int,
    fund: Fund,
    term: str = "",
    month: date | None = None,
    follow_up_of: AidBatch | None = None,
    client_token: str | None = None,
) -> AidBatch:
    """A new batch in DRAFT. The form's `client_token` makes a double submit return the
    first batch."""
    require_perm(acting_user, "disbursements.manage_batches")
    if not programme.funds.filter(pk=fund.pk).exists():
        raise ValidationError({"fund": _("该资助项目不能使用这项资金。")})
    # the fund's row lock: a batch is not opened on a fund being switched off
    fund = Fund.objects.select_for_update().get(pk=fund.pk)
    if not fund.is_active:
        raise ValidationError({"fund": _("这项资金已停用。")})
    if programme.mode == AidProgramme.Mode.MONTHLY and month is None:
        raise ValidationError({"month": _("按月发放的项目请选择发放月份。")})

    def write() -> AidBatch:
        batch = AidBatch(
            programme=programme,
            name=name.strip(),
            school_year=school_year,
            term=term,
            month=month.replace(day=1) if month else None,
            fund=fund,
            follow_up_of=follow_up_of,
            approvals_required=programme.approvals_required,
            created_by=acting_user,
        )
        batch.full_clean()
        with acting(acting_user):
            batch.save()
        _event(acting_user, "batch.create", batch, programme=programme.pk)
        return batch

    return once(
        key=client_token,
        acting_user=acting_user,
        action="batch.create",
        model=AidBatch,
        write=write,
    )


def once_taken_by(batch: AidBatch, person_id: int) -> AidBatch | None:
    """The other batch in which the person already holds this programme's payment for
    the batch's period (a locked, approved or paid line), if any: they cannot be
    nominated again (the paid-once key would refuse the lock)."""
    line = (
        AidLine.objects.filter(once_key=_once_key(batch, person_id))
        .exclude(batch_id=batch.pk)
        .select_related("batch")
        .first()
    )
    return line.batch if line is not None else None


def check_case_fits(programme: AidProgramme, case: AidCase) -> None:
    """The programme's eligibility for one case (open, of a category it covers)."""
    if case.status != AidCase.Status.OPEN:
        raise ValidationError(_("该对象的帮扶档案已结案，不能提名。"), code="case_closed")
    if programme.categories and case.category not in programme.categories:
        raise ValidationError(
            _("该资助项目不适用于“%(category)s”。") % {"category": case.get_category_display()},
            code="wrong_category",
        )


@transaction.atomic
def line_add(
    *,
    acting_user: User,
    batch: AidBatch,
    case: AidCase,
    amount: Decimal | None = None,
    reason: str = "",
    retry_of: AidLine | None = None,
    client_token: str | None = None,
) -> AidLine:
    """Nominate one person (through one of their cases). Township officers only in their
    township (out of scope = "does not exist"). The form's `client_token` (one per person
    on the form) makes a double submit return the line the first one added."""
    require_perm(acting_user, "disbursements.nominate")
    return once(
        key=client_token,
        acting_user=acting_user,
        action="aid_line.add",
        model=AidLine,
        write=lambda: _line_add(
            acting_user=acting_user,
            batch=batch,
            case=case,
            amount=amount,
            reason=reason,
            retry_of=retry_of,
        ),
    )


def _line_add(
    *,
    acting_user: User,
    batch: AidBatch,
    case: AidCase,
    amount: Decimal | None,
    reason: str,
    retry_of: AidLine | None,
) -> AidLine:
    case = access.get_for_user_or_404(
        AidCase.objects.select_related("person"), acting_user, pk=case.pk
    )
    batch = _locked(batch)
    _require_state(batch, S.DRAFT, S.VERIFYING)
    check_case_fits(batch.programme, case)
    taken = once_taken_by(batch, case.person_id)
    if taken is not None:
        raise ValidationError(
            _("%(name)s 本期已在该项目的其他批次（%(batch)s）中，不能重复资助。")
            % {"name": case.person.name, "batch": taken.name},
            code="paid_once",
        )
    if retry_of is not None:
        retry_of = AidLine.objects.get(pk=retry_of.pk)  # its state now, not as the caller saw it
        if batch.follow_up_of_id is None or retry_of.batch_id != batch.follow_up_of_id:
            raise ValidationError(_("补发只能在原批次的补发批次中进行。"), code="retry_elsewhere")
        if retry_of.state != L.FAILED or retry_of.person_id != case.person_id:
            raise ValidationError(_("只能补发发放失败的记录。"), code="retry_not_failed")
        amount = amount or retry_of.amount
    if amount is None:
        amount = batch.programme.standard_for(case.hardship_level)
        if amount is None:
            raise ValidationError({"amount": _("该项目没有这个认定等级的资助标准，请填写金额。")})
    line = AidLine(
        batch=batch,
        person=case.person,
        case=case,
        amount=amount,
        fund=batch.fund,
        reason=reason.strip(),
        nominated_by=acting_user,
        retry_of=retry_of,
    )
    line.full_clean(exclude=["batch", "person"])
    try:
        with transaction.atomic(), acting(acting_user):
            line.save()
    except IntegrityError as exc:
        raise ValidationError(_("此人已在本批次名单中。"), code="duplicate") from exc
    _event(acting_user, "aid_line.add", line, batch=batch.pk, amount=amount)
    return line


@transaction.atomic
def line_exclude(*, acting_user: User, line: AidLine, reason: str) -> AidLine:
    require_perm(acting_user, "disbursements.nominate")
    line = access.get_for_user_or_404(AidLine.objects.all(), acting_user, pk=line.pk)
    batch = _locked(line.batch)
    _require_state(batch, S.DRAFT, S.VERIFYING)
    if not reason.strip():
        raise ValidationError(_("请说明剔除原因。"))
    with acting(acting_user):
        line.state = L.EXCLUDED
        line.verification_note = reason.strip()[:300]
        line.save(update_fields=["state", "verification_note"])
    _event(acting_user, "aid_line.exclude", line, reason=reason.strip())
    return line


@transaction.atomic
def batch_start_verification(*, acting_user: User, batch: AidBatch) -> AidBatch:
    require_perm(acting_user, "disbursements.verify")
    batch = _locked(batch)
    _require_state(batch, S.DRAFT)
    if not batch.lines.exclude(state=L.EXCLUDED).exists():
        raise ValidationError(_("名单为空，不能提交审验。"))
    return _transition(acting_user, batch, S.VERIFYING)


@transaction.atomic
def line_verify(*, acting_user: User, line: AidLine, method: str, note: str = "") -> AidLine:
    require_perm(acting_user, "disbursements.verify")
    batch = _locked(line.batch)
    _require_state(batch, S.VERIFYING)
    line = AidLine.objects.select_for_update().get(pk=line.pk)
    if method not in AidLine.Verification.values:
        raise ValidationError({"verification_method": _("请选择核查方式。")})
    with acting(acting_user):
        line.verification_method = method
        line.verification_note = note.strip()[:300]
        line.verified_by = acting_user
        line.verified_at = timezone.now()
        line.save(
            update_fields=["verification_method", "verification_note", "verified_by", "verified_at"]
        )
    _event(acting_user, "aid_line.verify", line, method=method)
    return line


def _snapshot(line: AidLine, details: dict[str, str]) -> None:
    person = line.person
    line.snap_name = person.name
    line.snap_village = person.area.name
    line.snap_birth_date = person.birth_date
    line.snap_level = line.case.get_hardship_level_display() if line.case.hardship_level else ""
    line.snap_school = details.get("school", "")[:100]
    line.snap_grade = details.get("grade", "")[:20]


_SNAPSHOT = [
    "snap_name",
    "snap_village",
    "snap_school",
    "snap_grade",
    "snap_level",
    "snap_birth_date",
    "once_key",
]


def _taken_elsewhere(batch: AidBatch, keys: dict[str, AidLine]) -> list[str]:
    """Names of the people whose paid-once key another batch holds already."""
    taken = AidLine.objects.filter(once_key__in=list(keys)).exclude(batch=batch)
    return [keys[key].person.name for key in taken.values_list("once_key", flat=True)]


def _refuse_taken(names: list[str]) -> ValidationError:
    return ValidationError(
        _("%(name)s 本期已在该项目的其他批次中，不能重复资助。") % {"name": "、".join(names[:10])},
        code="paid_once",
    )


def _write_snapshots(lines: list[AidLine]) -> None:
    """One UPDATE … FROM unnest(…) for every line (bulk_update's CASE per row and field
    grows with the square of the lines: 7.6 s for 5,000)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE disbursements_aidline AS l
            SET snap_name = v.snap_name, snap_village = v.snap_village,
                snap_school = v.snap_school, snap_grade = v.snap_grade,
                snap_level = v.snap_level, snap_birth_date = v.snap_birth_date,
                once_key = v.once_key
            FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[],
                        %s::text[], %s::date[], %s::text[])
                AS v(id, snap_name, snap_village, snap_school, snap_grade, snap_level,
                     snap_birth_date, once_key)
            WHERE l.id = v.id
            """,
            [[line.pk for line in lines]]
            + [[getattr(line, name) for line in lines] for name in _SNAPSHOT],
        )


@transaction.atomic
def batch_lock(*, acting_user: User, batch: AidBatch) -> AidBatch:
    """VERIFYING → LOCKED: every line verified; the list is frozen with a snapshot of each
    person; each line takes its paid-once key (a person already in another batch of the
    same programme and period is refused, by name). The lines are read in one query and
    written by one bulk UPDATE (history triggers record each row): a 5,000-line batch
    took 14 s one line at a time."""
    require_perm(acting_user, "disbursements.verify")
    batch = _locked(batch)
    _require_state(batch, S.VERIFYING)
    lines = list(
        batch.lines.exclude(state=L.EXCLUDED)
        .select_related("person__area", "case")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    unverified = [line.person.name for line in lines if not line.verified_at]
    if unverified:
        raise ValidationError(
            _("还有 %(n)d 人未核查：%(names)s")
            % {"n": len(unverified), "names": "、".join(unverified[:10])}
        )
    # school and grade as the students app registered them with the hub (no leaf reads
    # another's models): one read for the whole list
    details = case_details.for_cases(line.case_id for line in lines)
    keys = {}
    for line in lines:
        _snapshot(line, details.get(line.case_id, {}))
        line.once_key = _once_key(batch, line.person_id)
        keys[line.once_key] = line
    taken = _taken_elsewhere(batch, keys)
    if taken:
        raise _refuse_taken(taken)
    try:
        with transaction.atomic(), acting(acting_user):
            _write_snapshots(lines)
    except IntegrityError as exc:  # another batch took a key since the check above
        raise _refuse_taken(_taken_elsewhere(batch, keys) or [_("名单中有人")]) from exc
    return _transition(acting_user, batch, S.LOCKED, lines=len(lines))


def required_approvals(batch: AidBatch) -> int:
    total = batch.lines.exclude(state=L.EXCLUDED).aggregate(t=Sum("amount"))["t"] or Decimal(0)
    band = batch.programme.bands.filter(min_total__lte=total).order_by("-min_total").first()
    return max(batch.programme.approvals_required, band.approvals if band else 1)


@transaction.atomic
def batch_submit(*, acting_user: User, batch: AidBatch) -> AidBatch:
    require_perm(acting_user, "disbursements.manage_batches")
    batch = _locked(batch)
    _require_state(batch, S.LOCKED)
    batch.approvals_required = required_approvals(batch)
    batch.save(update_fields=["approvals_required"])
    return _transition(acting_user, batch, S.IN_APPROVAL)


def line_warnings(line: AidLine) -> list[str]:
    """What an approver must see about a line: aided this year by another programme, or
    over the programme's yearly cap (which blocks approval)."""
    warnings = []
    year_lines = AidLine.objects.filter(
        person_id=line.person_id,
        batch__school_year=line.batch.school_year,
        state__in=[L.PENDING, L.PAID],
    ).exclude(batch__state=S.ABORTED)
    others = year_lines.exclude(batch__programme_id=line.batch.programme_id)
    if others.exists():
        warnings.append(_("本学年已获其他项目资助"))
    if _over_cap(line):
        warnings.append(_("超过本项目每人每年上限"))
    return warnings


def _over_cap(line: AidLine) -> bool:
    cap = line.batch.programme.yearly_cap
    if cap is None:
        return False
    taken = AidLine.objects.filter(
        person_id=line.person_id,
        batch__programme_id=line.batch.programme_id,
        batch__school_year=line.batch.school_year,
    ).exclude(pk=line.pk).exclude(state__in=[L.EXCLUDED, L.FAILED, L.REVERSED]).exclude(
        batch__state=S.ABORTED
    ).aggregate(t=Sum("amount"))["t"] or Decimal(0)
    return taken + line.amount > cap


def _over_caps(batch: AidBatch) -> list[str]:
    """Names of the people whose line takes them over the programme's yearly cap
    (`_over_cap` for every line, in two queries whatever the batch's size)."""
    cap = batch.programme.yearly_cap
    if cap is None:
        return []
    live = batch.lines.exclude(state=L.EXCLUDED)
    taken: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for pk, person_id, amount in (
        AidLine.objects.filter(
            person_id__in=live.values("person_id"),
            batch__programme_id=batch.programme_id,
            batch__school_year=batch.school_year,
        )
        .exclude(state__in=[L.EXCLUDED, L.FAILED, L.REVERSED])
        .exclude(batch__state=S.ABORTED)
        .values_list("pk", "person_id", "amount")
    ):
        taken[person_id].append((pk, amount))
    return [
        name
        for pk, person_id, amount, name in live.order_by("pk").values_list(
            "pk", "person_id", "amount", "person__name"
        )
        if sum((a for other, a in taken[person_id] if other != pk), Decimal(0)) + amount > cap
    ]


@transaction.atomic
def batch_approve(*, acting_user: User, batch: AidBatch, comment: str = "") -> AidBatch:
    """One approval of this round. Nobody approves a batch they created or nominated
    lines in, nor twice; a line over the yearly cap blocks approval."""
    require_perm(acting_user, "disbursements.approve")
    batch = _locked(batch)
    _require_state(batch, S.IN_APPROVAL)
    if (
        batch.created_by_id == acting_user.pk
        or batch.lines.filter(nominated_by=acting_user).exists()
    ):
        raise PermissionDenied(_("不能审批自己创建或提名的批次。"))
    over = _over_caps(batch)
    if over:
        raise ValidationError(
            _("以下人员超过每人每年上限，不能审批：%(names)s") % {"names": "、".join(over[:10])}
        )
    try:
        with transaction.atomic():
            BatchApproval.objects.create(
                batch=batch,
                approver=acting_user,
                round=batch.approval_round,
                approved=True,
                comment=comment,
            )
    except IntegrityError as exc:
        raise ValidationError(_("您已审批过本批次。"), code="approved_twice") from exc
    _event(acting_user, "batch.approve", batch, round=batch.approval_round)
    return batch


def approvals_given(batch: AidBatch) -> int:
    return batch.approvals.filter(round=batch.approval_round, approved=True).count()


@transaction.atomic
def batch_reject(*, acting_user: User, batch: AidBatch, comment: str) -> AidBatch:
    require_perm(acting_user, "disbursements.approve")
    if not comment.strip():
        raise ValidationError({"comment": _("请填写退回意见。")})
    batch = _locked(batch)
    _require_state(batch, S.IN_APPROVAL)
    BatchApproval.objects.create(
        batch=batch,
        approver=acting_user,
        round=batch.approval_round,
        approved=False,
        comment=comment,
    )
    batch.approval_round += 1
    batch.last_comment = comment.strip()[:300]
    batch.save(update_fields=["approval_round", "last_comment"])
    return _transition(acting_user, batch, S.LOCKED, verb="batch.reject", comment=comment.strip())


@transaction.atomic
def batch_start_publicity(
    *, acting_user: User, batch: AidBatch, starts: date, phone: str, issuer: str
) -> AidBatch:
    """IN_APPROVAL (with every approval this round needs) → IN_PUBLICITY, for at least
    PUBLICITY_WORKING_DAYS working days from `starts`."""
    require_perm(acting_user, "disbursements.manage_batches")
    batch = _locked(batch)
    _require_state(batch, S.IN_APPROVAL)
    if approvals_given(batch) < batch.approvals_required:
        raise ValidationError(
            _("还需 %(n)d 人审批。") % {"n": batch.approvals_required - approvals_given(batch)}
        )
    if starts < timezone.localdate():
        raise ValidationError({"publicity_starts": _("公示开始日期不能早于今天。")})
    if not phone.strip() or not issuer.strip():
        raise ValidationError(_("请填写异议受理电话和公示单位。"))
    batch.publicity_starts = starts
    batch.publicity_ends = working_days_end(starts, settings.PUBLICITY_WORKING_DAYS)
    batch.publicity_phone = phone.strip()
    batch.issuer = issuer.strip()
    batch.save(update_fields=["publicity_starts", "publicity_ends", "publicity_phone", "issuer"])
    return _transition(acting_user, batch, S.IN_PUBLICITY, starts=starts, ends=batch.publicity_ends)


@transaction.atomic
def batch_revise(*, acting_user: User, batch: AidBatch, comment: str) -> AidBatch:
    """Change the list after it was locked (or during publicity): back to VERIFYING; a
    new lock, new approvals and a new publicity period follow."""
    require_perm(acting_user, "disbursements.manage_batches")
    if not comment.strip():
        raise ValidationError({"comment": _("请说明修改名单的原因。")})
    batch = _locked(batch)
    _require_state(batch, S.LOCKED, S.IN_APPROVAL, S.IN_PUBLICITY)
    batch.lines.update(once_key=None)
    batch.approval_round += 1
    batch.publicity_starts = batch.publicity_ends = None
    batch.last_comment = comment.strip()[:300]
    batch.save(
        update_fields=["approval_round", "publicity_starts", "publicity_ends", "last_comment"]
    )
    return _transition(
        acting_user, batch, S.VERIFYING, verb="batch.revise", comment=comment.strip()
    )


@transaction.atomic
def batch_abort(*, acting_user: User, batch: AidBatch, comment: str) -> AidBatch:
    require_perm(acting_user, "disbursements.manage_batches")
    if not comment.strip():
        raise ValidationError({"comment": _("请说明终止原因。")})
    batch = _locked(batch)
    _require_state(batch, S.DRAFT, S.VERIFYING, S.LOCKED, S.IN_APPROVAL, S.IN_PUBLICITY)
    batch.lines.update(once_key=None)
    batch.last_comment = comment.strip()[:300]
    batch.save(update_fields=["last_comment"])
    return _transition(acting_user, batch, S.ABORTED, comment=comment.strip())


# --- money ------------------------------------------------------------------------


@transaction.atomic
def batch_release(*, acting_user: User, batch: AidBatch) -> AidBatch:
    """IN_PUBLICITY, window over → RELEASED: the lines become payment lines and the fund
    commits their total (refused, changing nothing, when the balance does not cover it)."""
    require_perm(acting_user, "disbursements.pay")
    batch = _locked(batch)
    _require_state(batch, S.IN_PUBLICITY)
    if batch.publicity_ends is None or batch.publicity_ends >= timezone.localdate():
        raise ValidationError(
            _("公示期到 %(end)s 结束，结束后才能下达发放。") % {"end": batch.publicity_ends}
        )
    total = batch.lines.filter(state=L.PENDING).aggregate(t=Sum("amount"))["t"] or Decimal(0)
    if total > 0:
        fund_move(
            acting_user=acting_user, fund=batch.fund, kind=MK.COMMIT, amount=total, batch=batch
        )
    return _transition(acting_user, batch, S.RELEASED, total=total)


def _locked_line(line: AidLine) -> tuple[AidBatch, AidLine]:
    batch = _locked(line.batch)
    return batch, (
        AidLine.objects.select_for_update(of=("self",))
        .select_related("fund", "person__area", "case")
        .get(pk=line.pk)
    )


def _settle(acting_user: User, batch: AidBatch) -> None:
    if batch.state == S.RELEASED and not batch.lines.filter(state=L.PENDING).exists():
        _transition(acting_user, batch, S.PAID)


@transaction.atomic
def line_mark_paid(
    *,
    acting_user: User,
    line: AidLine,
    paid_on: date,
    method: str,
    voucher: str = "",
    receipt: Attachment | None = None,
    receipt_file=None,
) -> AidLine:
    """pending → paid, once: a second call for a paid line changes nothing (a double
    submit is harmless: the line's state is the idempotency key) and moves no money.

    Cash and in-kind need the signed receipt: an `Attachment` of the person, or
    `receipt_file`, an upload stored here as one through the hub's attachment rules
    (type sniffed, images re-encoded) — only after the line is locked and found pending,
    so a second submit stores no second copy."""
    require_perm(acting_user, "disbursements.pay")
    batch, line = _locked_line(line)
    if line.state == L.PAID:
        return line
    _require_state(batch, S.RELEASED)
    if line.state != L.PENDING:
        raise ValidationError(_("只有待发放的记录可以标记为已发放。"))
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": _("发放日期不能晚于今天。")})
    needs_receipt = method in (AidLine.Method.CASH, AidLine.Method.IN_KIND)
    if needs_receipt and receipt is None and receipt_file is None:
        raise ValidationError({"receipt": _("现金或实物发放需上传签收单。")})
    if method == AidLine.Method.BANK and not voucher.strip():
        raise ValidationError({"voucher": _("银行代发请填写凭证号或银行流水号。")})
    if receipt is not None and receipt.person_id != line.person_id:
        raise ValidationError({"receipt": _("签收单须是该受助人的附件。")})
    if needs_receipt and receipt is None:
        try:
            receipt = attachment_add(
                acting_user=acting_user,
                person=line.person,
                case=line.case,
                upload=receipt_file,
                kind=Attachment.Kind.DOCUMENT,
                title=_("签收单：%(batch)s") % {"batch": batch.name},
                permission="disbursements.pay",
            )
        except ValidationError as exc:
            raise ValidationError({"receipt": exc.messages}) from exc
    if not needs_receipt:
        receipt = None
    fund_move(acting_user=acting_user, fund=line.fund, kind=MK.PAY, amount=line.amount, line=line)
    with acting(acting_user):
        line.state = L.PAID
        line.paid_on = paid_on
        line.method = method
        line.voucher = voucher.strip()
        line.receipt = receipt
        line.save(update_fields=["state", "paid_on", "method", "voucher", "receipt"])
    _event(acting_user, "aid_line.pay", line, amount=line.amount, voucher=line.voucher)
    _settle(acting_user, batch)
    return line


@dataclass
class BulkOutcome:
    """What a bulk payment did: lines changed now, lines already in the wanted state
    (a double submit: nothing moved), and the lines refused with why."""

    done: list[AidLine] = field(default_factory=list)
    already: list[AidLine] = field(default_factory=list)
    refused: list[tuple[AidLine, str]] = field(default_factory=list)


def _locked_lines(batch: AidBatch, line_ids: Iterable[int]) -> list[AidLine]:
    """The batch's lines among `line_ids`, locked, in id order (two bulk payments of
    overlapping lines lock them in the same order, so they take turns, never deadlock).
    Ids of other batches are left out."""
    lines = list(
        AidLine.objects.select_for_update()
        .filter(batch=batch, pk__in=list(line_ids))
        .order_by("pk")
    )
    for line in lines:
        line.batch = batch  # str(line) in the audit rows names the batch: no query per line
    return lines


def _bulk_money(
    acting_user: User,
    batch: AidBatch,
    line_ids: Iterable[int],
    *,
    final_state: str,
    kind: str,
    changes: dict,
    verb: str,
    details,
    refusal: str,
    per_line: dict[int, dict] | None = None,
) -> BulkOutcome:
    """Move the pending lines among `line_ids` to `final_state`: one fund UPDATE per
    fund and a movement per line (`fund_move_lines`), one UPDATE of the lines (history
    triggers record each row), an audit event per line, bulk-inserted. `per_line` gives
    a line's own values besides `changes` (a bank file's serial and date per line)."""
    outcome = BulkOutcome()
    for line in _locked_lines(batch, line_ids):
        if line.state == final_state:
            outcome.already.append(line)
        elif line.state != L.PENDING:
            outcome.refused.append((line, refusal))
        else:
            outcome.done.append(line)
    if not outcome.done:
        return outcome
    by_fund: dict[int, list[AidLine]] = defaultdict(list)
    for line in outcome.done:
        by_fund[line.fund_id].append(line)
    funds = {f.pk: f for f in Fund.objects.filter(pk__in=by_fund)}
    with acting(acting_user):  # the history rows of the fund and the lines name the payer
        for fund_id, lines in sorted(by_fund.items()):
            fund_move_lines(acting_user=acting_user, fund=funds[fund_id], kind=kind, lines=lines)
        if per_line:
            _write_per_line(outcome.done, final_state, changes, per_line)
        else:
            AidLine.objects.filter(pk__in=[line.pk for line in outcome.done]).update(
                state=final_state, **changes
            )
    events = []
    for line in outcome.done:
        line.state = final_state
        for name, value in {**changes, **(per_line or {}).get(line.pk, {})}.items():
            setattr(line, name, value)
        events.append(audit_event(actor=acting_user, verb=verb, obj=line, details=details(line)))
    AuditEvent.objects.bulk_create(events, batch_size=2000)
    _settle(acting_user, batch)
    return outcome


_PER_LINE_SQL = {
    # a payment: its own date and voucher, in the same statement as its state (a paid
    # line's voucher may not change afterwards)
    L.PAID: (
        ("paid_on", "voucher"),
        """
        UPDATE disbursements_aidline AS l
        SET state = %s, method = %s, paid_on = v.paid_on, voucher = v.voucher
        FROM unnest(%s::bigint[], %s::date[], %s::text[]) AS v(id, paid_on, voucher)
        WHERE l.id = v.id
        """,
    ),
    # a failure: its own reason; it no longer counts toward "paid once"
    L.FAILED: (
        ("failure_reason",),
        """
        UPDATE disbursements_aidline AS l
        SET state = %s, once_key = NULL, failure_reason = v.failure_reason
        FROM unnest(%s::bigint[], %s::text[]) AS v(id, failure_reason)
        WHERE l.id = v.id
        """,
    ),
}


def _write_per_line(lines: list[AidLine], state: str, changes: dict, per_line: dict) -> None:
    """One UPDATE … FROM unnest(…) giving each line its own values (a bank file's date
    and serial, or reason, per line); lines without them take `changes`."""
    fields, sql = _PER_LINE_SQL[state]
    ids = [line.pk for line in lines]
    fixed = [changes.get("method", "")] if state == L.PAID else []
    columns = [[per_line.get(pk, {}).get(name, changes.get(name)) for pk in ids] for name in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [state, *fixed, ids, *columns])


@transaction.atomic
def lines_mark_paid(
    *,
    acting_user: User,
    batch: AidBatch,
    line_ids: Iterable[int],
    paid_on: date | None = None,
    voucher: str = "",
    per_line: dict[int, tuple[date, str]] | None = None,
) -> BulkOutcome:
    """Bank payment of many lines with one voucher (the bank's batch reference): what
    `line_mark_paid` does for each, in a constant number of statements. Paid lines are
    left as they are (a double submit moves no money); lines not pending are refused by
    name and the others still go through. `per_line` maps a line id to its own (paid
    date, voucher), as the bank's result file (回盘) gives them; the other lines take
    `paid_on` and `voucher`."""
    require_perm(acting_user, "disbursements.pay")
    batch = _locked(batch)
    _require_state(batch, S.RELEASED)
    line_ids = list(line_ids)
    voucher = voucher.strip()
    own = {pk: (day, code.strip()) for pk, (day, code) in (per_line or {}).items()}
    wanted = [own.get(pk, (paid_on, voucher)) for pk in line_ids]
    if any(day is None for day, _code in wanted):
        raise ValidationError({"paid_on": _("请填写发放日期。")})
    if any(day > timezone.localdate() for day, _code in wanted):
        raise ValidationError({"paid_on": _("发放日期不能晚于今天。")})
    if any(not code for _day, code in wanted):
        raise ValidationError({"voucher": _("银行代发请填写凭证号或银行流水号。")})
    return _bulk_money(
        acting_user,
        batch,
        line_ids,
        final_state=L.PAID,
        kind=MK.PAY,
        changes={"paid_on": paid_on, "method": AidLine.Method.BANK, "voucher": voucher},
        verb="aid_line.pay",
        details=lambda line: {"amount": str(line.amount), "voucher": line.voucher},
        refusal=_("只有待发放的记录可以标记为已发放。"),
        per_line={pk: {"paid_on": day, "voucher": code} for pk, (day, code) in own.items()},
    )


@transaction.atomic
def lines_mark_failed(
    *,
    acting_user: User,
    batch: AidBatch,
    line_ids: Iterable[int],
    reason: str = "",
    per_line: dict[int, str] | None = None,
) -> BulkOutcome:
    """`line_mark_failed` for many lines with one reason: their commitments go back to
    the fund, one movement each. `per_line` maps a line id to its own reason (the bank's
    result file gives one per row); the other lines take `reason`."""
    require_perm(acting_user, "disbursements.pay")
    line_ids = list(line_ids)
    reason = reason.strip()[:200]
    own = {pk: text.strip()[:200] for pk, text in (per_line or {}).items()}
    if not (reason or own) or any(not own.get(pk, reason) for pk in line_ids):
        raise ValidationError({"failure_reason": _("请填写失败原因。")})
    batch = _locked(batch)
    _require_state(batch, S.RELEASED)
    return _bulk_money(
        acting_user,
        batch,
        line_ids,
        final_state=L.FAILED,
        kind=MK.UNCOMMIT,
        changes={"failure_reason": reason, "once_key": None},
        verb="aid_line.fail",
        details=lambda line: {"reason": line.failure_reason},
        refusal=_("只有待发放的记录可以标记为失败。"),
        per_line={pk: {"failure_reason": text} for pk, text in own.items()},
    )


@transaction.atomic
def line_mark_failed(*, acting_user: User, line: AidLine, reason: str) -> AidLine:
    """pending → failed: the committed money goes back to the fund; the person may be paid
    again only through a follow-up batch that points to this line."""
    require_perm(acting_user, "disbursements.pay")
    if not reason.strip():
        raise ValidationError({"failure_reason": _("请填写失败原因。")})
    batch, line = _locked_line(line)
    if line.state == L.FAILED:
        return line
    _require_state(batch, S.RELEASED)
    if line.state != L.PENDING:
        raise ValidationError(_("只有待发放的记录可以标记为失败。"))
    fund_move(
        acting_user=acting_user, fund=line.fund, kind=MK.UNCOMMIT, amount=line.amount, line=line
    )
    with acting(acting_user):
        line.state = L.FAILED
        line.failure_reason = reason.strip()[:200]
        line.once_key = None
        line.save(update_fields=["state", "failure_reason", "once_key"])
    _event(acting_user, "aid_line.fail", line, reason=line.failure_reason)
    _settle(acting_user, batch)
    return line


@transaction.atomic
def line_reverse(
    *,
    acting_user: User,
    line: AidLine,
    reason: str,
    voucher: str = "",
    client_token: str | None = None,
) -> Reversal:
    """冲正: the only correction of a paid line. The money returns to the fund. The
    form's `client_token` makes a double submit return the first reversal."""
    require_perm(acting_user, "disbursements.pay")
    if not reason.strip():
        raise ValidationError({"reason": _("请填写冲正原因。")})
    return once(
        key=client_token,
        acting_user=acting_user,
        action="aid_line.reverse",
        model=Reversal,
        write=lambda: _line_reverse(
            acting_user=acting_user, line=line, reason=reason, voucher=voucher
        ),
    )


def _line_reverse(*, acting_user: User, line: AidLine, reason: str, voucher: str) -> Reversal:
    _batch, line = _locked_line(line)
    if line.state != L.PAID:
        raise ValidationError(_("只有已发放的记录可以冲正。"))
    fund_move(
        acting_user=acting_user, fund=line.fund, kind=MK.REVERSAL, amount=line.amount, line=line
    )
    reversal = Reversal.objects.create(
        line=line,
        amount=line.amount,
        reason=reason.strip(),
        voucher=voucher.strip(),
        by=acting_user,
    )
    with acting(acting_user):
        line.state = L.REVERSED
        line.once_key = None
        line.save(update_fields=["state", "once_key"])
    _event(acting_user, "aid_line.reverse", line, amount=line.amount, reason=reversal.reason)
    return reversal


@transaction.atomic
def batch_close(*, acting_user: User, batch: AidBatch) -> AidBatch:
    require_perm(acting_user, "disbursements.manage_batches")
    batch = _locked(batch)
    _require_state(batch, S.PAID, S.RECONCILED)
    return _transition(acting_user, batch, S.CLOSED)


def _transition(
    acting_user: User, batch: AidBatch, to: str, *, verb: str = "", **details
) -> AidBatch:
    source = batch.state
    with acting(acting_user):
        AidBatch.objects.filter(pk=batch.pk).update(state=to)
    batch.refresh_from_db(fields=["state"])
    _event(acting_user, verb or f"batch.{to}", batch, **{"from": source}, **details)
    return batch
