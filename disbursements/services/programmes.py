"""Aid programmes (资助项目): what they pay, to whom, from which funds, with how many
approvals. `programme_save` creates or edits one with its approval bands, all checked
before anything is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aidcases.audit import audit_log
from aidcases.models import HARDSHIP_FLAGS, AidCase, User, hardship_level_choices
from aidcases.services.common import acting, require_perm
from disbursements.models import AidProgramme, ApprovalBand, Fund

__all__ = ["SCHOOL_STAGES", "ProgrammeData", "programme_save"]

# The students app's School.Stage codes (this app does not import the students app).
SCHOOL_STAGES = [
    ("primary", "小学"),
    ("junior", "初中"),
    ("senior", "高中"),
    ("vocational", "中职"),
    ("university", "大学"),
]
MAX_MONTHS = 24


@dataclass(frozen=True)
class ProgrammeData:
    name: str
    kind: str
    mode: str
    months: int | None = None
    # 认定等级 code → amount; "" = anyone without a level
    standard_amounts: dict[str, Decimal] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    school_stages: list[str] = field(default_factory=list)
    yearly_cap: Decimal | None = None
    funds: list[Fund] = field(default_factory=list)
    approvals_required: int = 1
    # (batch total from, approvals)
    bands: list[tuple[Decimal, int]] = field(default_factory=list)
    is_active: bool = True


def _validate(data: ProgrammeData) -> dict:
    errors: dict[str, list[str]] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not data.name.strip():
        err("name", _("请填写项目名称。"))
    if data.mode == AidProgramme.Mode.MONTHLY:
        if not data.months or not 1 <= data.months <= MAX_MONTHS:
            err("months", _("按月发放的项目请填写发放月数（1–%(max)s）。") % {"max": MAX_MONTHS})
    levels = {code for code, _label in hardship_level_choices()} | {""}
    amounts = {}
    for level, raw in data.standard_amounts.items():
        if level not in levels:
            err("standard_amounts", _("未知的认定等级：%(level)s。") % {"level": level})
            continue
        try:
            amount = Decimal(str(raw))
        except (InvalidOperation, ValueError):
            err("standard_amounts", _("资助标准请填写金额。"))
            continue
        if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e8"):
            err("standard_amounts", _("资助标准必须大于0。"))
            continue
        if amount != amount.quantize(Decimal("0.01")):
            err("standard_amounts", _("资助标准最多保留两位小数。"))
            continue
        amounts[level] = amount
    if not amounts and "standard_amounts" not in errors:
        err("standard_amounts", _("请至少填写一个资助标准金额。"))
    if data.yearly_cap is not None:
        if data.yearly_cap <= 0:
            err("yearly_cap", _("每人每年上限必须大于0。"))
        elif amounts and data.yearly_cap < min(amounts.values()):
            err("yearly_cap", _("每人每年上限低于资助标准，任何人都无法获批。"))
    for name, chosen, allowed in (
        ("categories", data.categories, AidCase.Category.values),
        ("levels", data.levels, levels - {""}),
        ("flags", data.flags, [code for code, _label in HARDSHIP_FLAGS]),
        ("school_stages", data.school_stages, [code for code, _label in SCHOOL_STAGES]),
    ):
        if set(chosen) - set(allowed):
            err(name, _("包含无效的选项。"))
    if not data.funds:
        err("funds", _("请至少选择一项可用资金。"))
    elif any(not f.is_active for f in data.funds):
        err("funds", _("已停用的资金不能再用于资助项目。"))
    if data.approvals_required < 1:
        err("approvals_required", _("至少需要1人审批。"))
    floors = [floor for floor, _n in data.bands]
    if len(set(floors)) != len(floors):
        err("bands", _("审批档位的起点金额不能重复。"))
    for floor, approvals in data.bands:
        if floor <= 0:
            err("bands", _("审批档位的起点金额必须大于0。"))
        if approvals < 1:
            err("bands", _("审批档位至少需要1人审批。"))
        elif approvals < data.approvals_required:
            err("bands", _("大额档位的审批人数不能少于基本审批人数。"))
    if errors:
        raise ValidationError(errors)
    return {k: str(v) for k, v in amounts.items()}


@transaction.atomic
def programme_save(
    *, acting_user: User, data: ProgrammeData, programme: AidProgramme | None = None
) -> AidProgramme:
    """Create (`programme=None`) or edit a programme and replace its approval bands.

    Batches keep the approvals they were created with: an edit changes what later
    batches need, not one already on its way."""
    require_perm(acting_user, "disbursements.manage_batches")
    amounts = _validate(data)
    creating = programme is None
    if creating:
        programme = AidProgramme()
    else:
        programme = AidProgramme.objects.select_for_update().get(pk=programme.pk)
    before = {} if creating else _snapshot(programme)
    programme.name = data.name.strip()
    programme.kind = data.kind
    programme.mode = data.mode
    programme.months = data.months if data.mode == AidProgramme.Mode.MONTHLY else None
    programme.standard_amounts = amounts
    programme.categories = list(dict.fromkeys(data.categories))
    programme.levels = list(dict.fromkeys(data.levels))
    programme.flags = list(dict.fromkeys(data.flags))
    programme.school_stages = list(dict.fromkeys(data.school_stages))
    programme.yearly_cap = data.yearly_cap
    programme.approvals_required = data.approvals_required
    programme.is_active = data.is_active
    programme.full_clean()
    with acting(acting_user):
        programme.save()
        programme.funds.set(data.funds)
        programme.bands.all().delete()
        ApprovalBand.objects.bulk_create(
            ApprovalBand(programme=programme, min_total=floor, approvals=approvals)
            for floor, approvals in sorted(data.bands)
        )
    after = _snapshot(programme)
    changed = sorted(k for k in after if before.get(k) != after[k])
    if not creating and not changed:
        return programme
    audit_log(
        actor=acting_user,
        verb="programme.create" if creating else "programme.update",
        obj=programme,
        details={"changed": changed} if not creating else {},
    )
    return programme


def _snapshot(programme: AidProgramme) -> dict:
    return {
        "name": programme.name,
        "kind": programme.kind,
        "mode": programme.mode,
        "months": programme.months,
        "standard_amounts": dict(programme.standard_amounts),
        "categories": list(programme.categories),
        "levels": list(programme.levels),
        "flags": list(programme.flags),
        "school_stages": list(programme.school_stages),
        "yearly_cap": f"{programme.yearly_cap:.2f}" if programme.yearly_cap is not None else None,
        "approvals_required": programme.approvals_required,
        "is_active": programme.is_active,
        "funds": sorted(programme.funds.values_list("pk", flat=True)) if programme.pk else [],
        "bands": sorted((str(b.min_total), b.approvals) for b in programme.bands.all())
        if programme.pk
        else [],
    }
