"""The money app's section of the 一人一档 page: 资助记录, every line of the person.

The hub shows the page only to those who may view the person (scope checked there), so
the section adds no check of its own beyond the role reading people at all."""

from __future__ import annotations

from aidcases import archive
from aidcases.models import Person, User
from disbursements.selectors.batches import person_aid_lines


def aid_context(person: Person, user: User):
    if not user.has_perm("aidcases.view_person"):
        return None
    lines = person_aid_lines(person=person)
    if not lines:
        return None
    return {"lines": lines}


AID_SECTION = archive.Section(
    key="disbursements.aid",
    title="资助记录",
    template="disbursements/batches/_archive_aid.html",
    context=aid_context,
    order=40,
)


def register_sections() -> None:
    archive.register(AID_SECTION)
