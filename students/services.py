"""Writes of the students app: schools and the student / left-behind profiles."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aidcases.audit import audit_log
from aidcases.models import AidCase, Area, User
from aidcases.services import acting, case_profile_save, require_area, require_perm
from students.models import LeftBehindProfile, School, StudentProfile

STUDENT_FIELDS = ("school", "grade", "class_name", "enrolment_year", "student_number")
LEFT_BEHIND_FIELDS = (
    "school",
    "grade",
    "father_work_place",
    "mother_work_place",
    "guardian_age",
    "guardian_health",
    "teacher_name",
    "teacher_phone",
    "parent_contact_frequency",
    "knows_person",
    "knows_family",
    "knows_study",
)


def school_normalize_name(name: str) -> str:
    return "".join((name or "").split())


def school_find(*, name: str, township: Area) -> School | None:
    return School.objects.filter(area=township, name=school_normalize_name(name)).first()


@transaction.atomic
def school_get_or_create(
    *, acting_user: User | None, name: str, township: Area, stage: str = ""
) -> tuple[School, bool]:
    """A school by name within a township, created when not yet known."""
    name = school_normalize_name(name)
    school = school_find(name=name, township=township)
    if school is not None:
        return school, False
    with acting(acting_user):
        school = _school_insert(acting_user=acting_user, name=name, township=township, stage=stage)
    return school, True


def _school_insert(*, acting_user: User | None, name: str, township: Area, stage: str) -> School:
    """Store a new school and its audit row; the caller holds the transaction and
    the `acting` context, and has checked the name."""
    school = School(name=name, area=township, stage=stage or _guess_stage(name))
    school.full_clean()
    school.save()
    audit_log(actor=acting_user, verb="school.create", obj=school, area=township)
    return school


def _guess_stage(name: str) -> str:
    for marker, stage in (
        ("大学", School.Stage.UNIVERSITY),
        ("学院", School.Stage.UNIVERSITY),
        ("职业", School.Stage.VOCATIONAL),
        ("职中", School.Stage.VOCATIONAL),
        ("高中", School.Stage.SENIOR),
        ("中学", School.Stage.JUNIOR),
        ("初中", School.Stage.JUNIOR),
        ("小学", School.Stage.PRIMARY),
    ):
        if marker in name:
            return stage
    return ""


def student_profile_save(*, acting_user: User, case: AidCase, **values):
    """Create or update; returns (profile, changed field names)."""
    return case_profile_save(
        acting_user=acting_user,
        case=case,
        model=StudentProfile,
        fields=STUDENT_FIELDS,
        category=AidCase.Category.STUDENT,
        values=values,
    )


def left_behind_profile_save(*, acting_user: User, case: AidCase, **values):
    return case_profile_save(
        acting_user=acting_user,
        case=case,
        model=LeftBehindProfile,
        fields=LEFT_BEHIND_FIELDS,
        category=AidCase.Category.LEFT_BEHIND,
        values=values,
    )


def _school_clean(*, name: str, township: Area) -> str:
    """The normalised name of a school from the school form; the township must be one."""
    name = school_normalize_name(name)
    if not name:
        raise ValidationError({"name": _("请填写学校名称。")})
    if township.level != Area.Level.TOWNSHIP:
        raise ValidationError({"area": _("学校应挂在乡(镇)一级，请选择乡(镇)。")})
    return name


def _require_unique_name(*, name: str, township: Area, exclude_pk: int | None = None) -> None:
    clash = School.objects.filter(area=township, name=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError(
            {"name": _("%(township)s已有名为“%(name)s”的学校。") % {"township": township.name,
                                                                 "name": name}}
        )  # fmt: skip


def school_create(*, acting_user: User, name: str, township: Area, stage: str = "") -> School:
    """A new school from the school form: unlike school_get_or_create (imports,
    profile forms), a name already used in the township is an error."""
    require_perm(acting_user, "aidcases.change_person")
    require_area(acting_user, township)
    name = _school_clean(name=name, township=township)
    with transaction.atomic(), acting(acting_user):
        _require_unique_name(name=name, township=township)
        school = _school_insert(acting_user=acting_user, name=name, township=township, stage=stage)
    return school


def school_update(
    *,
    acting_user: User,
    school: School,
    name: str,
    township: Area,
    stage: str,
    is_active: bool = True,
) -> list[str]:
    """Rename, move, re-stage or (de)activate a school. Returns changed field names."""
    require_perm(acting_user, "aidcases.change_person")
    require_area(acting_user, school.area, township)
    name = _school_clean(name=name, township=township)
    stage = stage or _guess_stage(name)
    with transaction.atomic(), acting(acting_user):
        school = School.objects.select_for_update().get(pk=school.pk)
        new = {"name": name, "area_id": township.pk, "stage": stage, "is_active": is_active}
        changed = [k for k, v in new.items() if getattr(school, k) != v]
        if not changed:
            return []
        _require_unique_name(name=name, township=township, exclude_pk=school.pk)
        before = {k: getattr(school, k) for k in changed}
        for k in changed:
            setattr(school, k, new[k])
        school.full_clean()
        school.save(update_fields=changed)
        audit_log(
            actor=acting_user,
            verb="school.update",
            obj=school,
            area=township,
            details={
                "fields": [k.removesuffix("_id") for k in changed],
                "before": {k.removesuffix("_id"): v for k, v in before.items()},
            },
        )
    return [k.removesuffix("_id") for k in changed]
