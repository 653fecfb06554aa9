"""Account management pages: only system admins, every change audited."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aidcases.models import AuditEvent, User, UserEvent
from tests.conftest import PASSWORD
from tests.factories import UserFactory

STRONG = "maple-harbor-2931"


def officer_form(**overrides) -> dict:
    data = {
        "username": "zhao_officer",
        "full_name": "赵海峰",
        "role": User.Role.TOWNSHIP_OFFICER,
        "area": "",
        "phone": "13800000000",
        "email": "",
        "password": STRONG,
    }
    data.update(overrides)
    return data


def edit_form(user: User, **overrides) -> dict:
    data = {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "area": user.area_id or "",
        "phone": user.phone,
        "email": user.email,
    }
    data.update(overrides)
    return data


def login(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


# --- create -----------------------------------------------------------------


def test_admin_creates_township_officer_through_the_form(client_for, admin, township_a):
    response = client_for(admin).post(reverse("user_create"), officer_form(area=township_a.pk))

    assert response.status_code == 302
    assert response.url == reverse("user_list")
    user = User.objects.get(username="zhao_officer")
    assert user.role == User.Role.TOWNSHIP_OFFICER
    assert user.area == township_a
    assert user.full_name == "赵海峰"
    assert not user.is_staff and not user.is_superuser
    assert user.check_password(STRONG)
    assert list(user.groups.values_list("name", flat=True)) == ["乡镇专干"]
    event = AuditEvent.objects.get(verb="user.create")
    assert event.actor == admin
    assert event.object_id == str(user.pk)
    assert event.area == township_a
    assert event.details == {"role": "township_officer", "area": township_a.code}
    assert STRONG not in str(event.details)


def test_created_officer_can_log_in(client_for, client, admin, township_a):
    client_for(admin).post(reverse("user_create"), officer_form(area=township_a.pk))
    client.post(reverse("logout"))

    response = login(client, "zhao_officer", STRONG)

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(User.objects.get(username="zhao_officer").pk)


def test_township_officer_without_area_is_rejected(client_for, admin, township_a):
    response = client_for(admin).post(reverse("user_create"), officer_form(area=""))

    assert response.status_code == 200
    assert "乡镇专干和服务队队长必须指定所属区域。" in response.content.decode()
    assert not User.objects.filter(username="zhao_officer").exists()
    assert not AuditEvent.objects.filter(verb="user.create").exists()


def test_township_officer_cannot_be_bound_to_the_whole_county(client_for, admin, county):
    response = client_for(admin).post(reverse("user_create"), officer_form(area=county.pk))

    assert response.status_code == 200
    assert "不能是整个县" in response.content.decode()
    assert not User.objects.filter(username="zhao_officer").exists()


def test_county_role_may_be_created_without_area(client_for, admin, county):
    response = client_for(admin).post(
        reverse("user_create"), officer_form(role=User.Role.AUDITOR, area="")
    )

    assert response.status_code == 302
    user = User.objects.get(username="zhao_officer")
    assert user.area is None
    assert list(user.groups.values_list("name", flat=True)) == ["审计员"]


@pytest.mark.parametrize("username", ["officer_a", "OFFICER_A", " officer_a "])
def test_duplicate_username_is_rejected(client_for, admin, officer_a, township_a, username):
    response = client_for(admin).post(
        reverse("user_create"), officer_form(username=username, area=township_a.pk)
    )

    assert response.status_code == 200
    assert "已被使用" in response.content.decode()
    assert User.objects.filter(username__iexact="officer_a").count() == 1
    assert not AuditEvent.objects.filter(verb="user.create").exists()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("ab3-xy", "密码长度太短"),
        ("4827193650", "密码只包含数字"),
        ("password123", "这个密码太常见了"),
    ],
)
def test_weak_password_is_rejected_in_chinese(client_for, admin, township_a, password, message):
    response = client_for(admin).post(
        reverse("user_create"), officer_form(area=township_a.pk, password=password)
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(username="zhao_officer").exists()


def test_password_too_similar_to_username_is_rejected(client_for, admin, township_a):
    response = client_for(admin).post(
        reverse("user_create"),
        officer_form(username="zhangweiming", area=township_a.pk, password="zhangweiming1"),
    )

    assert response.status_code == 200
    assert not User.objects.filter(username="zhangweiming").exists()


# --- edit -------------------------------------------------------------------


def test_admin_edits_role_and_area_and_the_change_is_audited(
    client_for, admin, officer_a, township_a, township_b
):
    response = client_for(admin).post(
        reverse("user_edit", args=[officer_a.pk]),
        edit_form(officer_a, role=User.Role.TEAM_LEADER, area=township_b.pk),
    )

    assert response.status_code == 302
    officer_a.refresh_from_db()
    assert officer_a.role == User.Role.TEAM_LEADER
    assert officer_a.area == township_b
    assert list(officer_a.groups.values_list("name", flat=True)) == ["服务队队长"]
    event = AuditEvent.objects.get(verb="user.update")
    assert event.actor == admin
    assert event.object_id == str(officer_a.pk)
    assert event.details == {
        "role": ["township_officer", "team_leader"],
        "area": [township_a.code, township_b.code],
    }


def test_edit_audit_names_only_what_changed(client_for, admin, officer_a, township_a, village_a):
    client_for(admin).post(
        reverse("user_edit", args=[officer_a.pk]), edit_form(officer_a, area=village_a.pk)
    )

    event = AuditEvent.objects.get(verb="user.update")
    assert event.details == {"area": [township_a.code, village_a.code]}


def test_edit_cannot_change_the_login_name(client_for, admin, officer_a):
    client_for(admin).post(
        reverse("user_edit", args=[officer_a.pk]), edit_form(officer_a, username="renamed")
    )

    officer_a.refresh_from_db()
    assert officer_a.username == "officer_a"


def test_promoting_to_admin_gives_admin_rights(client_for, admin, county_staff):
    client_for(admin).post(
        reverse("user_edit", args=[county_staff.pk]),
        edit_form(county_staff, role=User.Role.ADMIN, area=""),
    )

    county_staff.refresh_from_db()
    assert county_staff.role == User.Role.ADMIN
    assert county_staff.is_staff and county_staff.is_superuser
    assert county_staff.has_perm("aidcases.manage_users")


def test_demoting_an_admin_removes_superuser(client_for, admin):
    other = UserFactory(username="bob_admin", role=User.Role.ADMIN)
    assert other.is_superuser

    client_for(admin).post(
        reverse("user_edit", args=[other.pk]),
        edit_form(other, role=User.Role.AUDITOR, area=""),
    )

    other.refresh_from_db()
    assert other.role == User.Role.AUDITOR
    assert not other.is_staff and not other.is_superuser
    assert not other.has_perm("aidcases.manage_users")


def test_admin_cannot_change_own_role(client_for, admin):
    response = client_for(admin).post(
        reverse("user_edit", args=[admin.pk]), edit_form(admin, role=User.Role.AUDITOR)
    )

    assert response.status_code == 200
    assert "不能修改自己的角色。" in response.content.decode()
    admin.refresh_from_db()
    assert admin.role == User.Role.ADMIN
    assert admin.is_superuser
    assert not AuditEvent.objects.filter(verb="user.update").exists()


def test_admin_may_edit_own_name(client_for, admin):
    response = client_for(admin).post(
        reverse("user_edit", args=[admin.pk]), edit_form(admin, full_name="新名字")
    )

    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.full_name == "新名字"


# --- activate / deactivate ----------------------------------------------------


def test_deactivate_needs_post(client_for, admin, officer_a):
    response = client_for(admin).get(reverse("user_set_active", args=[officer_a.pk]))

    assert response.status_code == 405
    officer_a.refresh_from_db()
    assert officer_a.is_active


def test_admin_deactivates_user_and_it_is_audited(client_for, admin, officer_a):
    response = client_for(admin).post(
        reverse("user_set_active", args=[officer_a.pk]), {"active": "0"}
    )

    assert response.status_code == 302
    officer_a.refresh_from_db()
    assert not officer_a.is_active
    event = AuditEvent.objects.get(verb="user.deactivate")
    assert event.actor == admin
    assert event.object_id == str(officer_a.pk)


def test_deactivated_user_cannot_log_in(client_for, client, admin, officer_a):
    client_for(admin).post(reverse("user_set_active", args=[officer_a.pk]), {"active": "0"})
    client.logout()

    response = login(client, "officer_a", PASSWORD)

    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_deactivation_ends_the_users_open_session(client, admin, officer_a):
    from django.test import Client

    officer_client = Client()
    officer_client.force_login(officer_a)
    assert officer_client.get(reverse("home")).status_code == 200

    client.force_login(admin)
    client.post(reverse("user_set_active", args=[officer_a.pk]), {"active": "0"})

    response = officer_client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_admin_reactivates_user_and_it_is_audited(client_for, client, admin, officer_a):
    officer_a.is_active = False
    officer_a.save(update_fields=["is_active"])

    client_for(admin).post(reverse("user_set_active", args=[officer_a.pk]), {"active": "1"})

    officer_a.refresh_from_db()
    assert officer_a.is_active
    assert AuditEvent.objects.filter(verb="user.activate", object_id=str(officer_a.pk)).exists()
    client.logout()
    assert login(client, "officer_a", PASSWORD).status_code == 302


def test_deactivating_an_inactive_user_writes_no_event(client_for, admin, officer_a):
    officer_a.is_active = False
    officer_a.save(update_fields=["is_active"])

    client_for(admin).post(reverse("user_set_active", args=[officer_a.pk]), {"active": "0"})

    assert not AuditEvent.objects.filter(verb="user.deactivate").exists()


def test_admin_cannot_deactivate_self(client_for, admin):
    client = client_for(admin)

    response = client.post(reverse("user_set_active", args=[admin.pk]), {"active": "0"})

    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.is_active
    assert not AuditEvent.objects.filter(verb="user.deactivate").exists()
    page = client.get(response.url)
    assert "不能停用自己的账号。" in page.content.decode()


# --- reset password -----------------------------------------------------------


def test_admin_resets_password_and_it_is_audited(client_for, client, admin, officer_a):
    new = "willow-copper-5820"

    response = client_for(admin).post(
        reverse("user_password", args=[officer_a.pk]), {"password": new, "password2": new}
    )

    assert response.status_code == 302
    event = AuditEvent.objects.get(verb="user.password_reset")
    assert event.actor == admin
    assert event.object_id == str(officer_a.pk)
    client.logout()
    assert login(client, "officer_a", PASSWORD).status_code == 200
    assert login(client, "officer_a", new).status_code == 302


def test_reset_password_appears_in_no_audit_or_history_row(client_for, admin, officer_a):
    new = "willow-copper-5820"

    client_for(admin).post(
        reverse("user_password", args=[officer_a.pk]), {"password": new, "password2": new}
    )

    officer_a.refresh_from_db()
    assert AuditEvent.objects.filter(verb="user.password_reset").exists()
    for event in AuditEvent.objects.all():
        assert new not in str(event.details)
        assert new not in event.object_repr
    # Neither the password nor its hash is copied into field history.
    for row in UserEvent.objects.filter(pgh_obj=officer_a).values():
        assert "password" not in row
        assert officer_a.password not in str(row)


def test_reset_password_rejects_mismatch_and_weak_passwords(client_for, admin, officer_a):
    client = client_for(admin)
    url = reverse("user_password", args=[officer_a.pk])

    mismatch = client.post(url, {"password": STRONG, "password2": STRONG + "x"})
    weak = client.post(url, {"password": "4827193650", "password2": "4827193650"})

    assert "两次输入的密码不一致。" in mismatch.content.decode()
    assert "密码只包含数字" in weak.content.decode()
    officer_a.refresh_from_db()
    assert officer_a.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(verb="user.password_reset").exists()


# --- who may manage users -----------------------------------------------------

NON_ADMINS = ["county_staff", "approver", "officer_a", "leader", "auditor"]


@pytest.mark.parametrize("role_fixture", NON_ADMINS)
@pytest.mark.parametrize("name", ["user_list", "user_create"])
def test_non_admin_gets_403_on_user_pages(request, client_for, officer_b, role_fixture, name):
    user = request.getfixturevalue(role_fixture)

    response = client_for(user).get(reverse(name))

    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


@pytest.mark.parametrize("role_fixture", NON_ADMINS)
@pytest.mark.parametrize(
    ("name", "method"),
    [("user_edit", "get"), ("user_password", "get"), ("user_set_active", "post")],
)
def test_non_admin_gets_403_on_user_detail_pages(
    request, client_for, officer_b, role_fixture, name, method
):
    # A role without user management must be told "no permission" (as on the
    # list), not "not found": scoping 404s are for objects out of the user's area.
    user = request.getfixturevalue(role_fixture)

    response = getattr(client_for(user), method)(reverse(name, args=[officer_b.pk]))

    assert response.status_code == 403


@pytest.mark.parametrize("role_fixture", NON_ADMINS)
def test_non_admin_cannot_change_any_account(request, client_for, officer_b, role_fixture):
    client = client_for(request.getfixturevalue(role_fixture))
    password_before = officer_b.password

    client.post(reverse("user_create"), officer_form(area=officer_b.area_id, username="intruder"))
    client.post(
        reverse("user_edit", args=[officer_b.pk]),
        edit_form(officer_b, role=User.Role.ADMIN, area=""),
    )
    client.post(reverse("user_set_active", args=[officer_b.pk]), {"active": "0"})
    client.post(
        reverse("user_password", args=[officer_b.pk]), {"password": STRONG, "password2": STRONG}
    )

    officer_b.refresh_from_db()
    assert officer_b.role == User.Role.TOWNSHIP_OFFICER
    assert officer_b.is_active
    assert officer_b.password == password_before
    assert not User.objects.filter(username="intruder").exists()
    assert not AuditEvent.objects.filter(verb__startswith="user.").exists()


@pytest.mark.parametrize("role_fixture", NON_ADMINS)
def test_non_admin_has_no_user_management_link(request, client_for, role_fixture):
    response = client_for(request.getfixturevalue(role_fixture)).get(reverse("home"))

    assert reverse("user_list") not in response.content.decode()


# --- list -------------------------------------------------------------------


def test_user_list_shows_every_account_to_admin(client_for, admin, officer_a, officer_b, auditor):
    response = client_for(admin).get(reverse("user_list"))

    assert response.status_code == 200
    shown = {u.username for u in response.context["page"]}
    assert {"alice_admin", "officer_a", "officer_b", "auditor"} <= shown


def test_user_list_search_matches_login_name_or_full_name(client_for, admin, officer_a):
    UserFactory(username="wang_wu", full_name="王五", role=User.Role.APPROVER)
    UserFactory(username="li_si", full_name="李四", role=User.Role.APPROVER)
    client = client_for(admin)

    by_username = client.get(reverse("user_list"), {"q": "WANG"})
    by_full_name = client.get(reverse("user_list"), {"q": "李四"})
    nothing = client.get(reverse("user_list"), {"q": "不存在的人"})

    assert [u.username for u in by_username.context["page"]] == ["wang_wu"]
    assert [u.username for u in by_full_name.context["page"]] == ["li_si"]
    assert list(nothing.context["page"]) == []
    assert "没有符合条件的用户。" in nothing.content.decode()


def _user_list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("user_list"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_user_list_query_count_does_not_grow_with_users(
    client_for, admin, township_a, village_a, township_b
):
    client = client_for(admin)
    areas = [township_a, village_a, township_b]

    def add_users(start: int, stop: int) -> None:
        for i in range(start, stop):
            UserFactory(
                username=f"officer{i:02d}",
                role=User.Role.TOWNSHIP_OFFICER,
                area=areas[i % len(areas)],
            )

    add_users(0, 5)
    few = _user_list_queries(client)
    add_users(5, 30)
    many = _user_list_queries(client)

    assert many == few
