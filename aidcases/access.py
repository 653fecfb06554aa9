"""The one place that decides what a user may see.

Every list, detail, search, import, export and download gets its queryset or
object through here. Township-bound roles see their area's subtree; county-level
roles see everything. Anything out of scope is a 404 — we do not even confirm
that it exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import Http404

from aidcases.models import Area, AuditEvent, Job, User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

M = TypeVar("M", bound=Model)


def sees_everything(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_county_level)


def area_q(user: User, area_field: str = "area") -> Q:
    """A filter that keeps rows whose `area_field` lies in the user's scope.

    `area_field` is the path to an Area foreign key ("area", "person__area").
    """
    if not (user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    if sees_everything(user):
        return Q()
    if user.area_id is None:
        return Q(pk__in=[])
    return Q(**{f"{area_field}__path__startswith": user.area.path})


def scope(queryset: QuerySet[M], user: User, *, area_field: str = "area") -> QuerySet[M]:
    return queryset.filter(area_q(user, area_field))


def get_for_user_or_404(queryset: QuerySet[M], user: User, **lookup) -> M:
    """Fetch one object for this user, or 404 when it is missing or out of scope."""
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc


# --- per-model scopes ---------------------------------------------------------


def areas_for(user: User) -> QuerySet[Area]:
    qs = Area.objects.select_related("parent")
    if not (user.is_authenticated and user.is_active):
        return qs.none()
    if sees_everything(user):
        return qs
    if user.area_id is None:
        return qs.none()
    return qs.filter(path__startswith=user.area.path)


def users_for(user: User) -> QuerySet[User]:
    """Accounts a user may manage: system admins only, all of them."""
    qs = User.objects.select_related("area")
    return qs if user.is_authenticated and user.has_perm("aidcases.manage_users") else qs.none()


def audit_events_for(user: User) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.select_related("actor", "object_type", "area")
    return qs if user.is_authenticated and user.has_perm("aidcases.view_audit") else qs.none()


def jobs_for(user: User) -> QuerySet[Job]:
    """Jobs a user may watch or download from: their own; system admins see all.

    The job id alone never grants access — the result file may hold personal data.
    """
    qs = Job.objects.select_related("requested_by")
    if not (user.is_authenticated and user.is_active):
        return qs.none()
    if user.role == User.Role.ADMIN:
        return qs
    return qs.filter(requested_by=user)
