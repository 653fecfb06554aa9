"""What every write checks first, and how it names its author in the history.

Public so that the leaf apps' services check
permission and scope exactly as the hub does, instead of keeping copies.
"""

from __future__ import annotations

import pghistory
from django.core.exceptions import PermissionDenied

from aidcases import access
from aidcases.models import Area, User


def acting(user: User | None):
    """The pghistory context that names `user` on the history rows the triggers
    write inside it — also outside a request (commands, tasks). Wrap every save
    of a tracked model in it: `with transaction.atomic(), acting(acting_user): …`."""
    return pghistory.context(user=user.pk if user is not None else None)


def require_perm(user: User, perm: str) -> None:
    """Raise PermissionDenied unless `user` has the permission `perm`."""
    if not user.has_perm(perm):
        raise PermissionDenied


def can_write_in(user: User, area: Area) -> bool:
    """Whether `area` lies in the user's scope as `access.areas_for` draws it. One query."""
    return access.areas_for(user).filter(pk=area.pk).exists()


def require_area(user: User, *areas: Area) -> None:
    """Raise PermissionDenied unless every one of `areas` is in the user's scope
    (a move checks both the old and the new area)."""
    if not all(can_write_in(user, area) for area in areas):
        raise PermissionDenied
