"""Money in and the fund ledger.

Every change of a fund's totals goes through `fund_move`: it locks the fund row, changes
the totals with one UPDATE whose CHECK constraints keep the balance at or above zero
(so two workers that both "see" enough money cannot both take it), and appends the
movement with the balance after it. Callers are already inside their own transaction
and write their own audit event in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases.audit import audit_log
from aidcases.models import User
from aidcases.services.common import acting, require_perm
from disbursements.models import Fund, FundEntry, FundingSource, FundMovement
from disbursements.services.submit_keys import once

__all__ = [
    "FundEntryData",
    "InsufficientFunds",
    "fund_create",
    "fund_entry_cancel",
    "fund_entry_create",
    "fund_entry_post",
    "fund_move",
    "fund_move_lines",
    "funding_source_create",
]

K = FundMovement.Kind
# How each movement kind changes (income, committed, paid).
_EFFECT: dict[str, tuple[int, int, int]] = {
    K.INCOME: (1, 0, 0),
    K.INCOME_CANCELLED: (-1, 0, 0),
    K.COMMIT: (0, 1, 0),
    K.UNCOMMIT: (0, -1, 0),
    K.PAY: (0, -1, 1),  # a committed amount is paid out
    K.REVERSAL: (0, 0, -1),  # a paid amount comes back
}


class InsufficientFunds(ValidationError):
    pass


def _yuan(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


def _change_totals(fund: Fund, kind: str, amount: Decimal) -> Fund:
    """Lock `fund` and move its totals by `amount` of `kind` in one UPDATE, which the
    table's CHECKs refuse (InsufficientFunds, nothing changed) when a total or the balance
    would go below zero. Returns the fund as locked before the change; `fund` is refreshed.
    Call inside a transaction."""
    d_income, d_committed, d_paid = _EFFECT[kind]
    locked = Fund.objects.select_for_update().get(pk=fund.pk)
    try:
        with transaction.atomic():  # a savepoint: a CHECK failure leaves the outer intact
            Fund.objects.filter(pk=fund.pk).update(
                income=F("income") + d_income * amount,
                committed=F("committed") + d_committed * amount,
                paid=F("paid") + d_paid * amount,
            )
    except IntegrityError as exc:
        raise InsufficientFunds(
            _("%(fund)s余额不足：可用 %(balance)s，本次需要 %(amount)s。")
            % {"fund": locked.name, "balance": _yuan(locked.balance), "amount": _yuan(amount)},
            code="insufficient_funds",
        ) from exc
    fund.refresh_from_db(fields=["income", "committed", "paid"])
    return locked


def fund_move(
    *,
    acting_user: User,
    fund: Fund,
    kind: str,
    amount: Decimal,
    entry: FundEntry | None = None,
    batch=None,
    line=None,
) -> FundMovement:
    """Apply one movement to `fund` (which is refreshed in place). Raises
    InsufficientFunds, and changes nothing, when it would take the balance (or a
    total) below zero."""
    if amount <= 0:
        raise ValidationError(_("金额必须大于0。"))
    with transaction.atomic():
        _change_totals(fund, kind, amount)
        return FundMovement.objects.create(
            fund=fund,
            kind=kind,
            amount=amount,
            entry=entry,
            batch=batch,
            line=line,
            balance_after=fund.balance,
            by=acting_user,
        )


def fund_move_lines(*, acting_user: User, fund: Fund, kind: str, lines: list) -> list[FundMovement]:
    """`fund_move` for many lines at once (a bulk payment): the fund is locked and its
    totals changed by one UPDATE for the lines' sum — the same CHECKs refuse it, changing
    nothing, if any total would go below zero — and each line still gets its own
    movement, with the running balance after it, in the order given. `fund` is
    refreshed in place."""
    if not lines:
        return []
    if any(line.amount <= 0 for line in lines):
        raise ValidationError(_("金额必须大于0。"))
    d_income, d_committed, d_paid = _EFFECT[kind]
    total = sum((line.amount for line in lines), Decimal(0))
    with transaction.atomic():
        locked = _change_totals(fund, kind, total)
        # The balance moves by (income − committed − paid) per yuan of each movement.
        per_yuan = d_income - d_committed - d_paid
        balance = locked.balance
        movements = []
        now = timezone.now()
        for line in lines:
            balance += per_yuan * line.amount
            movements.append(
                FundMovement(
                    fund=fund,
                    kind=kind,
                    amount=line.amount,
                    line=line,
                    balance_after=balance,
                    by=acting_user,
                    at=now,
                )
            )
        return FundMovement.objects.bulk_create(movements, batch_size=2000)


@transaction.atomic
def funding_source_create(
    *,
    acting_user: User,
    kind: str,
    name: str,
    contact_name: str = "",
    contact_phone: str = "",
    publish_name: bool = False,
    notes: str = "",
) -> FundingSource:
    require_perm(acting_user, "disbursements.manage_funds")
    source = FundingSource(
        kind=kind,
        name=name.strip(),
        contact_name=contact_name,
        contact_phone=contact_phone,
        publish_name=publish_name,
        notes=notes,
    )
    source.full_clean()
    with acting(acting_user):
        source.save()
    audit_log(actor=acting_user, verb="funding_source.create", obj=source)
    return source


@transaction.atomic
def fund_create(*, acting_user: User, name: str, purpose: str = "", **restriction) -> Fund:
    require_perm(acting_user, "disbursements.manage_funds")
    fund = Fund(name=name.strip(), purpose=purpose, **restriction)
    fund.full_clean()
    with acting(acting_user):
        fund.save()
    audit_log(actor=acting_user, verb="fund.create", obj=fund)
    return fund


@dataclass(frozen=True)
class FundEntryData:
    source: FundingSource
    fund: Fund
    amount: Decimal
    received_on: date
    document_number: str = ""
    receipt_state: str = FundEntry.ReceiptState.ISSUED
    notes: str = ""


@transaction.atomic
def fund_entry_create(
    *, acting_user: User, data: FundEntryData, client_token: str | None = None
) -> FundEntry:
    """A draft entry: it counts for nothing until posted. The form's `client_token` makes
    a double submit return the first draft instead of a second one."""
    require_perm(acting_user, "disbursements.manage_funds")
    if data.received_on > timezone.localdate():
        raise ValidationError({"received_on": _("到账日期不能晚于今天。")})

    def write() -> FundEntry:
        if not Fund.objects.select_for_update().get(pk=data.fund.pk).is_active:
            raise ValidationError({"fund": _("这项资金已停用。")})
        entry = FundEntry(
            source=data.source,
            fund=data.fund,
            amount=data.amount,
            received_on=data.received_on,
            document_number=data.document_number.strip(),
            receipt_state=data.receipt_state,
            notes=data.notes,
            created_by=acting_user,
        )
        entry.full_clean()
        with acting(acting_user):
            entry.save()
        audit_log(
            actor=acting_user,
            verb="fund_entry.create",
            obj=entry,
            details={"amount": str(entry.amount), "fund": entry.fund_id},
        )
        return entry

    return once(
        key=client_token,
        acting_user=acting_user,
        action="fund_entry.create",
        model=FundEntry,
        write=write,
    )


@transaction.atomic
def fund_entry_post(*, acting_user: User, entry: FundEntry) -> FundEntry:
    """draft → posted: the money counts in the fund's income. Posting twice is refused."""
    require_perm(acting_user, "disbursements.manage_funds")
    entry = FundEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.state != FundEntry.State.DRAFT:
        raise ValidationError(_("只有草稿状态的入账可以确认入账。"), code="not_draft")
    with acting(acting_user):
        entry.state = FundEntry.State.POSTED
        entry.posted_by = acting_user
        entry.posted_at = timezone.now()
        entry.save(update_fields=["state", "posted_by", "posted_at"])
        fund_move(
            acting_user=acting_user,
            fund=entry.fund,
            kind=K.INCOME,
            amount=entry.amount,
            entry=entry,
        )
    audit_log(
        actor=acting_user,
        verb="fund_entry.post",
        obj=entry,
        details={"amount": str(entry.amount), "fund": entry.fund_id},
    )
    return entry


@transaction.atomic
def fund_entry_cancel(*, acting_user: User, entry: FundEntry, reason: str) -> FundEntry:
    """A posted entry is corrected by a cancelling entry that points to it; the original
    is kept (marked cancelled). Refused when the money is already committed or paid
    (the fund would go below zero)."""
    require_perm(acting_user, "disbursements.manage_funds")
    if not reason.strip():
        raise ValidationError({"notes": _("请说明冲销原因。")})
    entry = FundEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.state != FundEntry.State.POSTED or entry.cancels_id is not None:
        raise ValidationError(_("只有已入账的入账记录可以冲销。"), code="not_posted")
    with acting(acting_user):
        cancelling = FundEntry.objects.create(
            source=entry.source,
            fund=entry.fund,
            amount=entry.amount,
            received_on=timezone.localdate(),
            document_number=entry.document_number,
            receipt_state=entry.receipt_state,
            state=FundEntry.State.POSTED,
            cancels=entry,
            notes=reason.strip()[:200],
            created_by=acting_user,
            posted_by=acting_user,
            posted_at=timezone.now(),
        )
        fund_move(
            acting_user=acting_user,
            fund=entry.fund,
            kind=K.INCOME_CANCELLED,
            amount=entry.amount,
            entry=cancelling,
        )
        entry.state = FundEntry.State.CANCELLED
        entry.save(update_fields=["state"])
    audit_log(
        actor=acting_user,
        verb="fund_entry.cancel",
        obj=entry,
        details={"amount": str(entry.amount), "reason": reason.strip(), "by": cancelling.pk},
    )
    return cancelling
