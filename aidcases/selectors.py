"""Reads of the hub app, always scoped through access.py."""

from __future__ import annotations

import pghistory.models
from django.apps import apps
from django.db.models import Count, QuerySet

from aidcases import access
from aidcases.models import Area, Job, User


def area_children(*, user: User, area: Area) -> QuerySet[Area]:
    return (
        access.areas_for(user)
        .filter(parent=area)
        .annotate(child_count=Count("children"))
        .order_by("code")
    )


def area_roots(*, user: User) -> QuerySet[Area]:
    """The top of what this user sees: the county for county roles, their own
    area for township roles."""
    qs = access.areas_for(user).annotate(child_count=Count("children")).order_by("code")
    if access.sees_everything(user):
        return qs.filter(parent__isnull=True)
    return qs.filter(pk=user.area_id)


def history_event_models() -> list[type[pghistory.models.Event]]:
    """Every pghistory event model in the project (later apps add theirs)."""
    return [
        m
        for m in apps.get_models()
        if issubclass(m, pghistory.models.Event) and not m._meta.abstract
    ]


def history_events(*, user: User) -> QuerySet:
    if not user.has_perm("aidcases.view_audit"):
        return pghistory.models.MiddlewareEvents.objects.none()
    return pghistory.models.MiddlewareEvents.objects.across(*history_event_models()).order_by(
        "-pgh_created_at"
    )


def jobs_recent(*, user: User, limit: int = 5) -> list[Job]:
    return list(access.jobs_for(user).order_by("-created_at")[:limit])
