"""Reveals from the field-history page: the same audited act as the 一人一档 page's 显示."""

from __future__ import annotations

import pghistory.models
from django.utils.translation import gettext_lazy

from aidcases import history
from aidcases.audit import audit_log
from aidcases.models import AidCase, Person, User
from aidcases.services.common import require_perm
from aidcases.verbs import register_verbs

register_verbs({"user.reveal": gettext_lazy("查看用户完整电话")})


def _person_of(tracked: type, row: dict) -> Person | None:
    if tracked is Person:
        return Person.objects.select_related("area").filter(pk=row["pgh_obj_id"]).first()
    if row.get("person_id"):
        return Person.objects.select_related("area").filter(pk=row["person_id"]).first()
    if row.get("case_id"):
        case = AidCase.objects.select_related("person__area").filter(pk=row["case_id"]).first()
        return case.person if case else None
    return None


def history_reveal(
    *, acting_user: User, model: type[pghistory.models.Event], pgh_id: int, field_name: str
) -> dict | None:
    """The clear values (this event's and the one before) of a masked field of one history
    event; None when there is no such event or field. Writes "person.reveal" (as the 显示
    button does) for a person's data, "user.reveal" for an account's phone."""
    require_perm(acting_user, "aidcases.view_audit")
    require_perm(acting_user, "aidcases.reveal_phone")
    values = history.clear_values(model, pgh_id, field_name)
    if values is None:
        return None
    tracked = model.pgh_tracked_model
    details = {"field": field_name, "history": f"{model._meta.label}#{pgh_id}"}
    person = _person_of(tracked, values["row"])
    if person is not None:
        audit_log(
            actor=acting_user, verb="person.reveal", obj=person, area=person.area, details=details
        )
    elif tracked is User:
        account = User.objects.filter(pk=values["row"]["pgh_obj_id"]).first()
        audit_log(actor=acting_user, verb="user.reveal", obj=account, details=details)
    else:
        audit_log(actor=acting_user, verb="person.reveal", details=details)
    return values
