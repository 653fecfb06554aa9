"""URL-walk entries for the students app (schools, 一校一清册, profile forms)."""

from __future__ import annotations

from aidcases.models import AidCase
from tests.factories import make_person
from tests.urlwalk import ObjectUrl

OBJECT_URLS = {
    "school_roster": ObjectUrl(lambda w: {"pk": w.school_b.pk}),
    "school_edit": ObjectUrl(lambda w: {"pk": w.school_b.pk}),
    "student_profile_edit": ObjectUrl(lambda w: {"case_pk": w.student_case_b.pk}),
    "left_behind_profile_edit": ObjectUrl(lambda w: {"case_pk": w.left_behind_case_b.pk}),
}


def extend_world(world) -> None:
    from students import services as student_services

    world.school_b, _created = student_services.school_get_or_create(
        acting_user=world.officer_b, name="东冶中学", township=world.township_b
    )
    student = make_person(world.village_b, name="东冶学生", category=AidCase.Category.STUDENT)
    child = make_person(world.village_b, name="东冶留守", category=AidCase.Category.LEFT_BEHIND)
    world.student_case_b = student.cases.get()
    world.left_behind_case_b = child.cases.get()
