"""Edits the money-in screens need beside services/funds.py: a funding source's details,
a fund's details and whether it is in use, and a draft entry (a posted one is final; its
correction is a cancelling entry)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases.audit import audit_log
from aidcases.models import User
from aidcases.services.common import acting, require_perm
from disbursements.models import AidBatch, Fund, FundEntry, FundingSource
from disbursements.services.funds import FundEntryData

__all__ = [
    "FUND_FIELDS",
    "fund_deactivate",
    "fund_entry_update",
    "fund_reactivate",
    "fund_update",
    "funding_source_update",
]

# What a fund's edit may change; its totals move only through fund_move.
FUND_FIELDS = (
    "name",
    "purpose",
    "restriction",
    "restricted_programme",
    "restricted_school_name",
    "restricted_person",
)
# Batches that will still commit or pay from their fund.
OPEN_BATCH_STATES = (
    AidBatch.State.DRAFT,
    AidBatch.State.VERIFYING,
    AidBatch.State.LOCKED,
    AidBatch.State.IN_APPROVAL,
    AidBatch.State.IN_PUBLICITY,
    AidBatch.State.RELEASED,
)

SOURCE_FIELDS = (
    "kind",
    "name",
    "contact_name",
    "contact_phone",
    "publish_name",
    "notes",
    "is_active",
)


@transaction.atomic
def funding_source_update(*, acting_user: User, source: FundingSource, **changes) -> list[str]:
    """Change a source's details; returns the names of the fields that changed."""
    require_perm(acting_user, "disbursements.manage_funds")
    unknown = set(changes) - set(SOURCE_FIELDS)
    if unknown:
        raise TypeError(f"funding_source_update: unknown fields {sorted(unknown)}")
    source = FundingSource.objects.select_for_update().get(pk=source.pk)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    changed = [name for name, value in changes.items() if getattr(source, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(source, name, changes[name])
    source.full_clean()
    with acting(acting_user):
        source.save(update_fields=changed)
    # the phone itself stays out of the audit row: only that it changed
    audit_log(
        actor=acting_user, verb="funding_source.update", obj=source, details={"changed": changed}
    )
    return changed


@transaction.atomic
def fund_entry_update(*, acting_user: User, entry: FundEntry, data: FundEntryData) -> list[str]:
    """Edit a draft entry. A posted or cancelled entry is final: refused."""
    require_perm(acting_user, "disbursements.manage_funds")
    entry = FundEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.state != FundEntry.State.DRAFT:
        raise ValidationError(_("已入账的记录不能修改；如有错误，请冲销后重新登记。"), code="final")
    if data.received_on > timezone.localdate():
        raise ValidationError({"received_on": _("到账日期不能晚于今天。")})
    values = {
        "source": data.source,
        "fund": data.fund,
        "amount": data.amount,
        "received_on": data.received_on,
        "document_number": data.document_number.strip(),
        "receipt_state": data.receipt_state,
        "notes": data.notes,
    }
    changed = [name for name, value in values.items() if getattr(entry, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(entry, name, values[name])
    entry.full_clean()
    with acting(acting_user):
        entry.save(update_fields=changed)
    audit_log(
        actor=acting_user,
        verb="fund_entry.update",
        obj=entry,
        details={"changed": changed, "amount": str(entry.amount), "fund": entry.fund_id},
    )
    return changed


def _locked_fund(fund: Fund) -> Fund:
    # The same row lock as every movement (fund_move): a deactivation and a commit
    # take turns, so no money is committed from a fund just switched off.
    return Fund.objects.select_for_update().get(pk=fund.pk)


@transaction.atomic
def fund_update(*, acting_user: User, fund: Fund, **changes) -> list[str]:
    """Change a fund's name, purpose or restriction; returns the fields that changed.
    The restriction's other targets are cleared, so the fund names one target at most."""
    require_perm(acting_user, "disbursements.manage_funds")
    unknown = set(changes) - set(FUND_FIELDS)
    if unknown:
        raise TypeError(f"fund_update: unknown fields {sorted(unknown)}")
    fund = _locked_fund(fund)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    if "restricted_school_name" in changes:
        changes["restricted_school_name"] = changes["restricted_school_name"].strip()
    restriction = changes.get("restriction", fund.restriction)
    targets = {
        Fund.Restriction.PROGRAMME: "restricted_programme",
        Fund.Restriction.SCHOOL: "restricted_school_name",
        Fund.Restriction.PERSON: "restricted_person",
    }
    for kind, target in targets.items():
        if kind != restriction:
            changes[target] = "" if target == "restricted_school_name" else None
    changed = [name for name, value in changes.items() if getattr(fund, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(fund, name, changes[name])
    fund.full_clean(exclude=["income", "committed", "paid"])
    with acting(acting_user):
        fund.save(update_fields=changed)
    audit_log(actor=acting_user, verb="fund.update", obj=fund, details={"changed": changed})
    return changed


def _why_in_use(fund: Fund) -> list[str]:
    reasons = []
    if fund.balance:
        reasons.append(_("余额 ¥%(amount)s 未用完") % {"amount": f"{fund.balance:,.2f}"})
    if fund.committed:
        reasons.append(_("已下达未发放 ¥%(amount)s") % {"amount": f"{fund.committed:,.2f}"})
    batches = list(
        AidBatch.objects.filter(fund=fund, state__in=OPEN_BATCH_STATES)
        .order_by("-created_at")
        .values_list("name", flat=True)[:5]
    )
    if batches:
        reasons.append(_("尚有未完成的资助批次：%(names)s") % {"names": "、".join(batches)})
    if FundEntry.objects.filter(fund=fund, state=FundEntry.State.DRAFT).exists():
        reasons.append(_("尚有未确认的入账草稿"))
    return reasons


@transaction.atomic
def fund_deactivate(*, acting_user: User, fund: Fund, reason: str) -> Fund:
    """Stop using a fund: it leaves the choice lists (new entries, batches, programmes).
    Refused while it holds a balance, open commitments, open batches or draft entries
    (each named); its ledger stays readable."""
    require_perm(acting_user, "disbursements.manage_funds")
    if not reason.strip():
        raise ValidationError({"reason": _("请说明停用原因。")})
    fund = _locked_fund(fund)
    if not fund.is_active:
        return fund  # a second click: already off
    reasons = _why_in_use(fund)
    if reasons:
        raise ValidationError(
            _("不能停用“%(fund)s”：%(why)s。") % {"fund": fund.name, "why": "；".join(reasons)},
            code="fund_in_use",
        )
    with acting(acting_user):
        fund.is_active = False
        fund.save(update_fields=["is_active"])
    audit_log(
        actor=acting_user, verb="fund.deactivate", obj=fund, details={"reason": reason.strip()}
    )
    return fund


@transaction.atomic
def fund_reactivate(*, acting_user: User, fund: Fund) -> Fund:
    require_perm(acting_user, "disbursements.manage_funds")
    fund = _locked_fund(fund)
    if fund.is_active:
        return fund
    with acting(acting_user):
        fund.is_active = True
        fund.save(update_fields=["is_active"])
    audit_log(actor=acting_user, verb="fund.reactivate", obj=fund)
    return fund
