"""Edits the money-in screens need beside services/funds.py: a funding source's details,
and a draft entry (a posted one is final; its correction is a cancelling entry)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases.audit import audit_log
from aidcases.models import User
from aidcases.services.common import acting, require_perm
from disbursements.models import FundEntry, FundingSource
from disbursements.services.funds import FundEntryData

__all__ = ["fund_entry_update", "funding_source_update"]

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
