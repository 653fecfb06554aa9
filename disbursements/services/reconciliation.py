"""回盘: the bank's result file applied to a released batch, and RECONCILED.

The file is read and matched line by line in `disbursements.reconciliation_import`; what it
decided comes here as line ids: the lines the bank paid (each with its own serial and
date), those it could not pay (each with the bank's reason). Both go through the bulk
payment services (`lines_mark_paid`, `lines_mark_failed`: money, history and audit as on
the batch page), in one transaction — a line that is no longer pending rolls everything
back. When no line of the batch is left pending, the batch becomes RECONCILED by itself:
PAID → RECONCILED, audited like every other step of a batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aidcases.audit import audit_log
from aidcases.models import User
from aidcases.services.common import require_perm
from disbursements.models import AidBatch, AidLine
from disbursements.services.batches import (
    BulkOutcome,
    _locked,
    _require_state,
    _transition,
    lines_mark_failed,
    lines_mark_paid,
)

__all__ = [
    "RECONCILABLE",
    "ReconciliationOutcome",
    "batch_reconcile",
    "reconciliation_apply",
]

S = AidBatch.State
L = AidLine.State

# Batches whose bank file may be imported: released (being paid) or paid; a reconciled
# batch takes the same file again, changing nothing.
RECONCILABLE = (S.RELEASED, S.PAID, S.RECONCILED)


@dataclass
class ReconciliationOutcome:
    paid: int = 0
    failed: int = 0
    reconciled: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.paid or self.failed or self.reconciled)


def _refuse_changed(outcome: BulkOutcome) -> None:
    """A line the check found pending is pending no more (paid from the batch page in
    between): nothing of the file is written."""
    moved = [line for line in outcome.already] + [line for line, _why in outcome.refused]
    if moved:
        raise ValidationError(
            _("%(names)s 的发放状态在检查之后已被修改，未导入任何内容，请重新导入。")
            % {"names": "、".join(line.snap_name or str(line.pk) for line in moved[:10])},
            code="changed_since_check",
        )


def _no_line_pending(batch: AidBatch) -> bool:
    return not AidLine.objects.filter(batch=batch, state=L.PENDING).exists()


@transaction.atomic
def batch_reconcile(*, acting_user: User, batch: AidBatch) -> AidBatch:
    """PAID → RECONCILED: the bank's file has given every line its result (none pending)."""
    require_perm(acting_user, "disbursements.pay")
    batch = _locked(batch)
    _require_state(batch, S.PAID)
    if not _no_line_pending(batch):
        raise ValidationError(_("还有待发放的记录，不能对账完成。"), code="pending_lines")
    return _transition(acting_user, batch, S.RECONCILED)


@transaction.atomic
def reconciliation_apply(
    *,
    acting_user: User,
    batch: AidBatch,
    paid: Mapping[int, tuple[date, str]],
    failed: Mapping[int, str],
    pending: int = 0,
    unchanged: int = 0,
    file_name: str = "",
) -> ReconciliationOutcome:
    """Mark `paid` lines paid (line id → (交易日期, 流水号)) and `failed` lines failed
    (line id → the bank's reason), all or none; then, when no line is pending any more,
    the batch becomes RECONCILED. A file that changes nothing writes nothing (not even
    an audit row): importing it again is harmless."""
    require_perm(acting_user, "disbursements.pay")
    batch = _locked(batch)
    _require_state(batch, *RECONCILABLE)
    result = ReconciliationOutcome()
    if paid:
        outcome = lines_mark_paid(
            acting_user=acting_user, batch=batch, line_ids=list(paid), per_line=dict(paid)
        )
        _refuse_changed(outcome)
        result.paid = len(outcome.done)
    if failed:
        outcome = lines_mark_failed(
            acting_user=acting_user, batch=batch, line_ids=list(failed), per_line=dict(failed)
        )
        _refuse_changed(outcome)
        result.failed = len(outcome.done)
    batch.refresh_from_db(fields=["state"])
    if batch.state == S.PAID and _no_line_pending(batch):
        batch_reconcile(acting_user=acting_user, batch=batch)
        result.reconciled = True
    if result.changed:
        audit_log(
            actor=acting_user,
            verb="batch.import_reconciliation",
            obj=batch,
            details={
                "file": file_name,
                "paid": result.paid,
                "failed": result.failed,
                "pending": pending,
                "unchanged": unchanged,
                "reconciled": result.reconciled,
            },
        )
    return result
