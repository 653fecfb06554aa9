"""Aid cases (one per person and category while open) and their one-to-one profiles."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases.audit import audit_log
from aidcases.models import AidCase, Person, TekunProfile, User
from aidcases.services.common import acting, require_area, require_perm


def case_open(
    *,
    acting_user: User,
    person: Person,
    category: str,
    hardship_level: str = "",
    flags: list[str] | None = None,
    opened_on: date | None = None,
    notes: str = "",
) -> AidCase:
    require_perm(acting_user, "aidcases.change_person")
    require_area(acting_user, person.area)
    if AidCase.objects.filter(person=person, category=category, status="open").exists():
        raise ValidationError(
            {"category": _("%(name)s已有在册的“%(cat)s”档案。")
             % {"name": person.name, "cat": AidCase.Category(category).label}}
        )  # fmt: skip
    with transaction.atomic(), acting(acting_user):
        case = AidCase(
            person=person,
            category=category,
            hardship_level=hardship_level,
            flags=sorted(set(flags or [])),
            opened_on=opened_on or timezone.localdate(),
            notes=notes,
            created_by=acting_user,
        )
        case.full_clean(exclude=["created_by"])
        case.save()
        audit_log(
            actor=acting_user,
            verb="case.open",
            obj=case,
            area=person.area,
            details={"category": category, "level": hardship_level},
        )
    return case


def case_update(
    *,
    acting_user: User,
    case: AidCase,
    hardship_level: str,
    flags: list[str],
    notes: str = "",
) -> list[str]:
    require_perm(acting_user, "aidcases.change_person")
    require_area(acting_user, case.person.area)
    new = {"hardship_level": hardship_level, "flags": sorted(set(flags)), "notes": notes}
    changed = [k for k, v in new.items() if getattr(case, k) != v]
    if not changed:
        return []
    with transaction.atomic(), acting(acting_user):
        for k in changed:
            setattr(case, k, new[k])
        case.full_clean(exclude=["created_by"])
        case.save(update_fields=changed)
        audit_log(
            actor=acting_user,
            verb="case.update",
            obj=case,
            area=case.person.area,
            details={"fields": changed},
        )
    return changed


def case_close(*, acting_user: User, case: AidCase, closed_on: date, reason: str) -> AidCase:
    require_perm(acting_user, "aidcases.change_person")
    require_area(acting_user, case.person.area)
    if not reason.strip():
        raise ValidationError({"closed_reason": _("请填写结案原因。")})
    if case.status == AidCase.Status.CLOSED:
        raise ValidationError(_("该档案已结案。"))
    if closed_on < case.opened_on:
        raise ValidationError({"closed_on": _("结案日期不能早于建档日期。")})
    with transaction.atomic(), acting(acting_user):
        case.status = AidCase.Status.CLOSED
        case.closed_on = closed_on
        case.closed_reason = reason.strip()
        case.save(update_fields=["status", "closed_on", "closed_reason"])
        audit_log(
            actor=acting_user,
            verb="case.close",
            obj=case,
            area=case.person.area,
            details={"reason": case.closed_reason},
        )
    return case


TEKUN_FIELDS = (
    "support_mode",
    "care_home",
    "health",
    "disability",
    "lives_alone",
    "responsible_cadre",
    "responsible_cadre_phone",
)


def case_profile_save(
    *,
    acting_user: User,
    case: AidCase,
    model: type[models.Model],
    fields: tuple[str, ...],
    category: str,
    values: dict,
) -> tuple[models.Model, list[str]]:
    """Create or update a case's one-to-one profile (the hub's 特困人员, or a leaf app's);
    returns (profile, changed field names). Audited when anything was written."""
    require_perm(acting_user, "aidcases.change_person")
    if case.category != category:
        raise ValueError(f"case {case.pk} is not {category}")
    require_area(acting_user, case.person.area)
    with transaction.atomic(), acting(acting_user):
        profile, created = model.objects.get_or_create(case=case)
        changed = [k for k in fields if k in values and getattr(profile, k) != values[k]]
        for k in changed:
            setattr(profile, k, values[k])
        if changed:
            profile.full_clean()
            profile.save()
        if changed or created:
            audit_log(
                actor=acting_user,
                verb="case.profile",
                obj=case,
                area=case.person.area,
                details={"fields": changed},
            )
    return profile, changed


def tekun_profile_save(*, acting_user: User, case: AidCase, **values) -> TekunProfile:
    profile, _changed = case_profile_save(
        acting_user=acting_user,
        case=case,
        model=TekunProfile,
        fields=TEKUN_FIELDS,
        category=AidCase.Category.TEKUN,
        values=values,
    )
    return profile
