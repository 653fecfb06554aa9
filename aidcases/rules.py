"""Per-action permissions (django-rules). Area scoping stays in access.py."""

from __future__ import annotations

import rules

from aidcases.models import User


@rules.predicate
def is_active_user(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def _has_role(*roles: str):
    @rules.predicate(name=f"has_role_{'_'.join(roles)}")
    def predicate(user) -> bool:
        return bool(user and user.is_authenticated and user.is_active and user.role in roles)

    return predicate


is_admin = _has_role(User.Role.ADMIN)
is_auditor = _has_role(User.Role.AUDITOR)
is_county_staff = _has_role(User.Role.COUNTY_STAFF)
is_approver = _has_role(User.Role.APPROVER)
is_township_officer = _has_role(User.Role.TOWNSHIP_OFFICER)
is_team_leader = _has_role(User.Role.TEAM_LEADER)

rules.add_perm("aidcases.manage_users", is_admin)
rules.add_perm("aidcases.manage_areas", is_admin)
rules.add_perm("aidcases.view_audit", is_admin | is_auditor)
rules.add_perm("aidcases.export_audit", is_admin | is_auditor)
rules.add_perm("aidcases.view_areas", is_active_user)

# People: who registers and edits, who may see identifiers unmasked (each
# reveal is audited). Team leaders see phones (they visit), not ID numbers.
rules.add_perm("aidcases.view_person", is_active_user)
rules.add_perm("aidcases.change_person", is_admin | is_county_staff | is_township_officer)
rules.add_perm(
    "aidcases.reveal_id_number",
    is_admin | is_county_staff | is_township_officer | is_approver | is_auditor,
)
rules.add_perm(
    "aidcases.reveal_phone",
    is_admin | is_county_staff | is_township_officer | is_approver | is_auditor | is_team_leader,
)
rules.add_perm("aidcases.export_people", is_admin | is_county_staff | is_township_officer)
rules.add_perm("aidcases.import_people", is_admin | is_county_staff | is_township_officer)
rules.add_perm("aidcases.merge_people", is_admin | is_county_staff | is_township_officer)
