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

# Model permissions by role: app label → actions, on every model of the app.
# The hub's own are here; each leaf app adds its label's with
# `register_app_permissions` in AppConfig.ready().
ALL_ACTIONS = ("add", "change", "delete", "view")
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.ADMIN: {"aidcases": ALL_ACTIONS},
    Role.COUNTY_STAFF: {"aidcases": ("view",)},
    Role.APPROVER: {"aidcases": ("view",)},
    Role.TOWNSHIP_OFFICER: {"aidcases": ("view",)},
    Role.TEAM_LEADER: {"aidcases": ("view",)},
    Role.AUDITOR: {"aidcases": ("view",)},
}


def register_app_permissions(app_label: str, actions_by_role: dict[str, tuple[str, ...]]) -> None:
    """What each role may do on the models of `app_label` (roles left out: nothing).

    Call it from the app's AppConfig.ready(); `sync_role_groups` (after every
    migrate) then puts the permissions in the role groups.
    """
    for role in actions_by_role:
        Role(role)  # an unknown role fails here, not silently at sync
    for role, apps in ROLE_PERMISSIONS.items():
        apps.pop(app_label, None)
        if role in actions_by_role:
            apps[app_label] = tuple(actions_by_role[role])


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
