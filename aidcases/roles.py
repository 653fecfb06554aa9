"""Roles → Django groups and model permissions.

Created by `sync_role_groups()`, which runs after every `migrate` (post_migrate)
and from `python manage.py sync_roles`; never by hand in the admin. Per-action
rules (who may approve, export …) are in aidcases/rules.py; area scoping is in
aidcases/access.py.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from aidcases.models import User

Role = User.Role

# Model permissions by role: app label → actions. "*" = every model in the app.
_ALL = ("add", "change", "delete", "view")
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.ADMIN: {"aidcases": _ALL, "students": _ALL, "disbursements": _ALL, "volunteers": _ALL},
    Role.COUNTY_STAFF: {
        "aidcases": ("view",),
        "students": ("add", "change", "view"),
        "disbursements": ("add", "change", "view"),
        "volunteers": ("add", "change", "view"),
    },
    Role.APPROVER: {
        "aidcases": ("view",),
        "students": ("view",),
        "disbursements": ("change", "view"),
        "volunteers": ("view",),
    },
    Role.TOWNSHIP_OFFICER: {
        "aidcases": ("view",),
        "students": ("add", "change", "view"),
        "disbursements": ("view",),
        "volunteers": ("add", "change", "view"),
    },
    Role.TEAM_LEADER: {"aidcases": ("view",), "volunteers": ("add", "change", "view")},
    Role.AUDITOR: {
        "aidcases": ("view",),
        "students": ("view",),
        "disbursements": ("view",),
        "volunteers": ("view",),
    },
}


def group_name(role: str) -> str:
    return str(Role(role).label)


def sync_role_groups() -> dict[str, int]:
    """Create one group per role and give it exactly its permissions. Idempotent."""
    counts = {}
    for role, apps in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name(role))
        perms = Permission.objects.none()
        for app_label, actions in apps.items():
            perms |= Permission.objects.filter(
                content_type__app_label=app_label,
                codename__regex=rf"^({'|'.join(actions)})_",
            )
        group.permissions.set(perms)
        counts[role] = group.permissions.count()
    return counts


def put_in_role_group(user: User) -> None:
    """A user belongs to exactly the group of their role."""
    role_groups = Group.objects.filter(name__in=[group_name(r) for r in Role.values])
    user.groups.remove(*role_groups)
    group, _ = Group.objects.get_or_create(name=group_name(user.role))
    user.groups.add(group)
