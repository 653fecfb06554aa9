"""The students app's sections of the 一人一档 archive page.

Registered from StudentsConfig.ready(); the hub renders each section's
template with {"person", "section", "data", "user"}.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from aidcases import archive, pii
from aidcases.models import AidCase, Person, User
from students import selectors


@dataclass
class ProfileEntry:
    case: AidCase
    profile: object | None  # StudentProfile / LeftBehindProfile, None while not filled in
    edit_url: str | None
    school_url: str | None
    teacher_phone_masked: str = ""


def _edit_url(user: User, url_name: str, case: AidCase) -> str | None:
    if not user.has_perm("aidcases.change_person"):
        return None
    return reverse(url_name, args=[case.pk])


def _school_url(user: User, school) -> str | None:
    # Link to the roster only when this user may open it (another township's
    # school would answer 404).
    if school is None or not selectors.school_visible_to(user=user, school=school):
        return None
    return reverse("school_roster", args=[school.pk])


def _entries(person: Person, user: User, *, category: str, related: str, url_name: str):
    cases = list(
        person.cases.filter(category=category)
        .select_related(f"{related}__school__area")
        .order_by("-status", "-opened_on", "-pk")  # open first, then newest
    )
    if not cases:
        return None
    entries = []
    for case in cases:
        profile = getattr(case, related, None)
        school = getattr(profile, "school", None)
        phone = getattr(profile, "teacher_phone", "")
        entries.append(
            ProfileEntry(
                case=case,
                profile=profile,
                edit_url=_edit_url(user, url_name, case)
                if case.status == AidCase.Status.OPEN
                else None,
                school_url=_school_url(user, school),
                teacher_phone_masked=pii.mask_phone(phone) if phone else "",
            )
        )
    return {"entries": entries}


def student_context(person: Person, user: User):
    return _entries(
        person,
        user,
        category=AidCase.Category.STUDENT,
        related="student_profile",
        url_name="student_profile_edit",
    )


def left_behind_context(person: Person, user: User):
    return _entries(
        person,
        user,
        category=AidCase.Category.LEFT_BEHIND,
        related="left_behind_profile",
        url_name="left_behind_profile_edit",
    )


STUDENT_SECTION = archive.Section(
    key="students.student",
    title="学生信息",
    template="students/_archive_student.html",
    context=student_context,
    order=22,
)
LEFT_BEHIND_SECTION = archive.Section(
    key="students.left_behind",
    title="留守儿童信息",
    template="students/_archive_left_behind.html",
    context=left_behind_context,
    order=24,
)


def register_sections() -> None:
    archive.register(STUDENT_SECTION)
    archive.register(LEFT_BEHIND_SECTION)
