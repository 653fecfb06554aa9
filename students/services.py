"""Writes of the students app: schools and the student / left-behind profiles."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from aidcases.audit import audit_log
from aidcases.models import AidCase, Area, User
from aidcases.services import _acting, _can_write_in, _require_perm
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
    school = School.objects.filter(area=township, name=name).first()
    if school is not None:
        return school, False
    with _acting(acting_user):
        school = School(name=name, area=township, stage=stage or _guess_stage(name))
        school.full_clean()
        school.save()
    audit_log(actor=acting_user, verb="school.create", obj=school, area=township)
    return school, True


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


def _profile_save(*, acting_user, case, model, fields, category, values):
    _require_perm(acting_user, "aidcases.change_person")
    if case.category != category:
        raise ValueError(f"case {case.pk} is not {category}")
    if not _can_write_in(acting_user, case.person.area):
        raise PermissionDenied
    with transaction.atomic(), _acting(acting_user):
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


def student_profile_save(*, acting_user: User, case: AidCase, **values):
    """Create or update; returns (profile, changed field names)."""
    return _profile_save(
        acting_user=acting_user,
        case=case,
        model=StudentProfile,
        fields=STUDENT_FIELDS,
        category=AidCase.Category.STUDENT,
        values=values,
    )


def left_behind_profile_save(*, acting_user: User, case: AidCase, **values):
    return _profile_save(
        acting_user=acting_user,
        case=case,
        model=LeftBehindProfile,
        fields=LEFT_BEHIND_FIELDS,
        category=AidCase.Category.LEFT_BEHIND,
        values=values,
    )
