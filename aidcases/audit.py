"""Writing and naming audit events. Services call `audit_log` inside their transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from aidcases.middleware import current_ip
from aidcases.models import Area, AuditEvent, User
from aidcases.verbs import VERBS, register_verbs, verb_label

__all__ = ["VERBS", "audit_event", "audit_log", "register_verbs", "verb_label"]


def audit_event(
    *,
    actor: User | None,
    verb: str,
    obj: models.Model | None = None,
    details: dict[str, Any] | None = None,
    area: Area | None = None,
) -> AuditEvent:
    """The event, unsaved: `audit_log` saves one, batch services bulk-create many."""
    if area is None and obj is not None:
        area = obj if isinstance(obj, Area) else getattr(obj, "area", None)
    return AuditEvent(
        actor=actor if actor is not None and actor.is_authenticated else None,
        verb=verb,
        # get_for_model is cached by Django: no query per event.
        object_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        area=area if isinstance(area, Area) else None,
        details=details or {},
        ip=current_ip.get(),
    )


def audit_log(
    *,
    actor: User | None,
    verb: str,
    obj: models.Model | None = None,
    details: dict[str, Any] | None = None,
    area: Area | None = None,
) -> AuditEvent:
    """Record one event. Call it inside the service's transaction so that the
    event and the change it describes commit (or roll back) together."""
    event = audit_event(actor=actor, verb=verb, obj=obj, details=details, area=area)
    event.save()
    return event
