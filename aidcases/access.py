"""The one place that decides what a user may see.

Every list, detail, search, import, export and download gets its queryset or
object through here. Township-bound roles see their area's subtree; county-level
roles see everything. Anything out of scope is a 404 — we do not even confirm
that it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from aidcases import jobs
from aidcases.models import Area, AuditEvent, Job, Notification, User

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
    """Fetch one object for this user, or 404 when it is missing or out of scope.

    The queryset is narrowed to the user's scope here (`scope_q`), whatever the caller
    passed: an unscoped queryset cannot leak another township's object.
    """
    try:
        return queryset.filter(scope_q(queryset.model, user)).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc


# Model → (user → Q of the rows the user may reach). The hub's models with their own rules
# are here; any other model is scoped through its path to an Area (an
# `area` / `person` / `case` foreign key found on it). Leaf apps may add theirs with
# `register_scope` in AppConfig.ready().
_SCOPES: dict[type[Model], Callable[[User], Q]] = {}
_NOTHING = Q(pk__in=[])


def register_scope(model: type[Model], rule: Callable[[User], Q]) -> None:
    _SCOPES[model] = rule


def _area_path(model: type[Model]) -> str | None:
    from aidcases.models import AidCase, Person

    for name, target, path in (
        ("area", Area, "area"),
        ("person", Person, "person__area"),
        ("case", AidCase, "case__person__area"),
    ):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if field.is_relation and field.related_model is target:
            return path
    return None


def scope_q(model: type[Model], user: User) -> Q:
    """The rows of `model` in the user's scope, as a filter. Fails loudly for a model
    nobody has said how to scope (never silently everything)."""
    if not (user.is_authenticated and user.is_active):
        return _NOTHING
    if model in _SCOPES:
        return _SCOPES[model](user)
    path = _area_path(model)
    if path is None:
        raise ImproperlyConfigured(f"access: no scope rule for {model._meta.label}")
    return area_q(user, path)


def _area_scope(user: User) -> Q:
    if sees_everything(user):
        return Q()
    return Q(path__startswith=user.area.path) if user.area_id else _NOTHING


register_scope(Area, _area_scope)
register_scope(User, lambda u: Q() if u.has_perm("aidcases.manage_users") else _NOTHING)
register_scope(AuditEvent, lambda u: Q() if u.has_perm("aidcases.view_audit") else _NOTHING)
register_scope(Job, lambda u: Q() if u.role == User.Role.ADMIN else Q(requested_by=u))
# A notification is its recipient's only: not even a system admin reads another's.
register_scope(Notification, lambda u: Q(recipient=u))


# --- per-model scopes ---------------------------------------------------------


def areas_for(user: User) -> QuerySet[Area]:
    return Area.objects.select_related("parent").filter(scope_q(Area, user))


def users_for(user: User) -> QuerySet[User]:
    """Accounts a user may manage: system admins only, all of them."""
    return User.objects.select_related("area").filter(scope_q(User, user))


def audit_events_for(user: User) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.select_related("actor", "object_type", "area").filter(
        scope_q(AuditEvent, user)
    )


def scope_path(user: User) -> str | None:
    """The user's scope as data: "" for everything, an area path for a subtree, None for nothing."""
    if not (user.is_authenticated and user.is_active):
        return None
    if sees_everything(user):
        return ""
    return user.area.path if user.area_id else None


def scope_covers(user: User, path: str | None) -> bool:
    """Whether the user's scope today includes a scope recorded earlier (`scope_path`)."""
    current = scope_path(user)
    if current is None or path is None:
        return False
    return current == "" or (path != "" and path.startswith(current))


def job_ran_for(user: User) -> dict:
    """What a job's file may hold when made for `user`: their scope and reveal permissions.

    Recorded in the job's "job.create" audit row (`services.job_start`), and again as
    "job.rescope" when it changed before the job ran (`job_run`); the file is served only
    while the one fetching it still covers the latest record (`job_file_allowed`).
    """
    return {
        "scope": scope_path(user),
        "reveals": [p for p in jobs.REVEAL_PERMISSIONS if user.has_perm(p)],
    }


def job_ran_for_recorded(job: Job) -> dict | None:
    from django.contrib.contenttypes.models import ContentType

    details = (
        AuditEvent.objects.filter(
            verb__in=("job.create", "job.rescope"),
            object_type=ContentType.objects.get_for_model(Job),
            object_id=str(job.pk),
        )
        .order_by("-at", "-id")
        .values_list("details", flat=True)
        .first()
    )
    ran_for = (details or {}).get("ran_for")
    return ran_for if isinstance(ran_for, dict) else None


def job_file_allowed(user: User, job: Job) -> bool:
    """May `user` fetch this job's file today? (They already see the job: `jobs_for`.)

    The file was made with the requester's scope and permissions when it ran; it is
    served only while the one fetching it still holds all of them — so a user who lost
    the reveal permission, or moved to another township, cannot fetch an earlier export.
    A job without the record (from before it was kept) is refused: export again.
    """
    try:
        kind = jobs.get_kind(job.kind)
    except ValueError:
        return False
    if not user.has_perm(kind.permission):
        return False
    ran_for = job_ran_for_recorded(job)
    if ran_for is None:
        return False
    return (
        scope_covers(user, ran_for.get("scope"))
        and all(user.has_perm(p) for p in ran_for.get("reveals", []))
        and (kind.still_allowed is None or bool(kind.still_allowed(job, user)))
    )


def notifications_for(user: User) -> QuerySet[Notification]:
    """The user's own notifications, newest first; anyone else's is out of scope (404)."""
    return Notification.objects.filter(scope_q(Notification, user)).order_by("-created_at", "-id")


def unread_notification_count(user: User) -> int:
    """The navbar's figure: one index-only count (partial index `notification_unread`)."""
    return Notification.objects.filter(scope_q(Notification, user), read_at__isnull=True).count()


def jobs_for(user: User) -> QuerySet[Job]:
    """Jobs a user may watch or download from: their own; system admins see all.

    The job id alone never grants access — the result file may hold personal data.
    """
    return Job.objects.select_related("requested_by").filter(scope_q(Job, user))
