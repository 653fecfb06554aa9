"""The demo data command and the role → group mapping."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from aidcases import services
from aidcases.management.commands.seed_demo import DEMO_PASSWORD
from aidcases.models import Area, AreaEvent, AuditEvent, User, UserEvent
from aidcases.roles import ROLE_PERMISSIONS, group_name

ROLE_GROUPS = {
    "admin": "系统管理员",
    "county_staff": "县级工作人员",
    "approver": "审批人",
    "township_officer": "乡镇专干",
    "team_leader": "服务队队长",
    "auditor": "审计员",
}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    return {
        "areas": sorted(Area.objects.values_list("code", "name", "level", "path")),
        "users": sorted(User.objects.values_list("username", "role", "area__code", "password")),
        "area_history": AreaEvent.objects.count(),
        "user_history": UserEvent.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


# --- seed_demo ----------------------------------------------------------------


def test_seed_demo_twice_creates_everything_once(db):
    seed()
    first = snapshot()

    out = seed()

    assert snapshot() == first
    assert "区划新增 0 个" in out
    assert "新建账号 0 个" in out


def test_seed_demo_builds_a_county_with_townships_and_villages(db):
    seed()

    county = Area.objects.get(parent__isnull=True)
    assert county.level == Area.Level.COUNTY
    townships = Area.objects.filter(parent=county)
    assert townships.count() >= 4
    assert set(townships.values_list("level", flat=True)) == {Area.Level.TOWNSHIP}
    for township in townships:
        villages = Area.objects.filter(parent=township)
        assert villages.exists(), township.name
        assert set(villages.values_list("level", flat=True)) == {Area.Level.VILLAGE}
    assert all(a.path.startswith(county.path) for a in Area.objects.all())


def test_seed_demo_creates_a_user_for_every_role(db):
    seed()

    # Every role has a demo account; township officers have two (townships A and B).
    assert set(User.objects.values_list("role", flat=True)) == set(User.Role.values)
    assert User.objects.exclude(role=User.Role.TOWNSHIP_OFFICER).count() == len(User.Role) - 1
    for user in User.objects.all():
        assert list(user.groups.values_list("name", flat=True)) == [group_name(user.role)]
        assert user.check_password(DEMO_PASSWORD)


def test_seed_demo_puts_officers_in_two_different_townships(db):
    seed()

    officers = User.objects.filter(role=User.Role.TOWNSHIP_OFFICER).select_related("area")
    assert {o.area.level for o in officers} == {Area.Level.TOWNSHIP}
    assert len({o.area_id for o in officers}) >= 2
    leader = User.objects.get(role=User.Role.TEAM_LEADER)
    assert leader.area is not None


def test_seed_demo_admin_can_manage_users(db):
    seed()

    admin = User.objects.get(role=User.Role.ADMIN)
    assert admin.is_superuser and admin.is_staff
    assert admin.has_perm("aidcases.manage_users")


def test_seed_demo_prints_passwords_only_in_debug(db, settings):
    settings.DEBUG = False
    quiet = seed()
    settings.DEBUG = True
    loud = seed()

    assert DEMO_PASSWORD not in quiet
    assert "非 DEBUG 模式" in quiet
    assert DEMO_PASSWORD in loud
    assert "officer_a" in loud


def test_seed_demo_keeps_existing_accounts_as_they_are(db):
    seed()
    officer = User.objects.get(username="officer_a")
    officer.set_password("changed-by-the-officer-77")
    officer.save(update_fields=["password"])

    seed()

    officer.refresh_from_db()
    assert officer.check_password("changed-by-the-officer-77")


# --- sync_roles -----------------------------------------------------------------


def sync() -> str:
    out = io.StringIO()
    call_command("sync_roles", stdout=out)
    return out.getvalue()


def group_perms() -> dict[str, set[str]]:
    return {
        g.name: {f"{p.content_type.app_label}.{p.codename}" for p in g.permissions.all()}
        for g in Group.objects.prefetch_related("permissions__content_type")
    }


def test_sync_roles_creates_one_group_per_role(db):
    Group.objects.all().delete()

    out = sync()

    assert set(Group.objects.values_list("name", flat=True)) == set(ROLE_GROUPS.values())
    for name in ROLE_GROUPS.values():
        assert name in out
    assert all(perms for perms in group_perms().values())


def test_every_role_has_a_group_mapping():
    assert set(ROLE_PERMISSIONS) == set(User.Role.values)
    assert {r: group_name(r) for r in User.Role.values} == ROLE_GROUPS


def test_sync_roles_is_idempotent(db):
    sync()
    first_groups = sorted(Group.objects.values_list("pk", "name"))
    first_perms = group_perms()

    sync()

    assert sorted(Group.objects.values_list("pk", "name")) == first_groups
    assert group_perms() == first_perms


def test_sync_roles_restores_permissions_changed_by_hand(db):
    sync()
    officers = Group.objects.get(name="乡镇专干")
    officers.permissions.add(Permission.objects.get(codename="delete_area"))
    officers.permissions.remove(Permission.objects.get(codename="view_area"))

    sync()

    perms = group_perms()["乡镇专干"]
    assert "aidcases.delete_area" not in perms
    assert "aidcases.view_area" in perms


def test_role_groups_get_the_permissions_of_their_role(db):
    sync()
    perms = group_perms()

    admin = perms["系统管理员"]
    assert {"aidcases.add_area", "aidcases.change_user", "aidcases.delete_area"} <= admin
    officer = perms["乡镇专干"]
    assert "aidcases.view_area" in officer
    assert "aidcases.change_area" not in officer
    assert "aidcases.change_user" not in officer
    assert not any(p.startswith("disbursements.") and "view_" not in p for p in officer)
    auditor = perms["审计员"]
    assert all(p.split(".")[1].startswith("view_") for p in auditor)
    leader = perms["服务队队长"]
    assert not any(p.startswith(("students.", "disbursements.")) for p in leader)


# --- group membership follows the role ------------------------------------------


def test_service_created_user_belongs_to_exactly_their_role_group(admin, township_a):
    user = services.user_create(
        acting_user=admin,
        username="new_officer",
        password="maple-harbor-2931",
        role=User.Role.TOWNSHIP_OFFICER,
        area=township_a,
    )

    assert list(user.groups.values_list("name", flat=True)) == ["乡镇专干"]
    assert user.has_perm("aidcases.view_area")
    assert not user.has_perm("aidcases.change_area")


@pytest.mark.parametrize(
    ("new_role", "group"),
    [
        (User.Role.AUDITOR, "审计员"),
        (User.Role.APPROVER, "审批人"),
        (User.Role.TEAM_LEADER, "服务队队长"),
    ],
)
def test_changing_role_moves_user_to_the_new_group(admin, officer_a, new_role, group):
    extra = Group.objects.create(name="培训班")  # not a role group: left alone
    officer_a.groups.add(extra)

    services.user_update(
        acting_user=admin,
        user=officer_a,
        role=new_role,
        area=officer_a.area,
        full_name=officer_a.full_name,
    )

    officer_a.refresh_from_db()
    names = set(officer_a.groups.values_list("name", flat=True))
    assert names == {group, "培训班"}
