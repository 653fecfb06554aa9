"""People registry URLs for the two-township walk (tests/urlwalk.py)."""

from __future__ import annotations

from aidcases.models import AidCase
from tests.factories import make_person
from tests.urlwalk import ObjectUrl

OBJECT_URLS = {
    "person_edit": ObjectUrl(lambda w: {"pk": w.people_person_b.pk}),
    "case_create": ObjectUrl(lambda w: {"pk": w.people_person_b.pk}),
    "case_edit": ObjectUrl(lambda w: {"pk": w.people_case_b.pk}),
    "case_close": ObjectUrl(lambda w: {"pk": w.people_case_b.pk}),
}


def extend_world(world) -> None:
    world.people_person_b = make_person(
        world.village_b, name="孙东冶", category=AidCase.Category.TEKUN
    )
    world.people_case_b = world.people_person_b.cases.get()
