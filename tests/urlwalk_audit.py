"""URL-walk entries for the audit pages: a field-history event of township B's person."""

from __future__ import annotations

from tests.factories import make_person
from tests.urlwalk import ObjectUrl


def extend_world(world) -> None:
    from aidcases.models import PersonEvent

    person = make_person(world.village_b, name="周东冶", category="tekun", phone="13800138001")
    world.history_event_b = PersonEvent.objects.filter(pgh_obj_id=person.pk).latest("pgh_id")


OBJECT_URLS = {
    # Only admins and auditors read history: every township role is refused whatever the id.
    "history_reveal": ObjectUrl(
        lambda w: {
            "model": "aidcases.PersonEvent",
            "pgh_id": w.history_event_b.pgh_id,
            "field": "phone",
        },
        owner_status=403,
        other_status=403,
        method="post",
    ),  # fmt: skip
}
