"""Signing in and out, lockout, password change, sessions and security headers.

Logins go through `client.post(reverse("login"))`, never `force_login`: axes
only counts attempts that reach `authenticate()` with a request.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from aidcases.models import AuditEvent
from tests.conftest import PASSWORD

NEW_PASSWORD = "river-lantern-47"


def login(client, username: str, password: str, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def is_signed_in(client) -> bool:
    return SESSION_KEY in client.session


# --- login ------------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_is_in_chinese(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "登录" in body
    assert 'lang="zh-hans"' in body


def test_login_with_right_password_redirects_home(client, officer_a):
    response = login(client, "officer_a", PASSWORD)

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert is_signed_in(client)


def test_login_is_audited_with_client_ip(client, officer_a):
    login(client, "officer_a", PASSWORD, REMOTE_ADDR="198.51.100.23")

    event = AuditEvent.objects.get(verb="auth.login")
    assert event.actor == officer_a
    assert event.ip == "198.51.100.23"
    assert event.area == officer_a.area


def test_login_audit_takes_client_ip_from_proxy_header(client, officer_a, settings):
    settings.TRUSTED_PROXY_COUNT = 2  # the client, as the outer of two proxies saw it
    login(client, "officer_a", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.7, 10.0.0.1")

    assert AuditEvent.objects.get(verb="auth.login").ip == "203.0.113.7"


def test_wrong_password_is_refused_and_audited(client, officer_a):
    response = login(client, "officer_a", "not-the-password")

    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    assert not is_signed_in(client)
    event = AuditEvent.objects.get(verb="auth.login_failed")
    assert event.actor is None
    assert event.details == {"username": "officer_a"}
    assert event.ip == "127.0.0.1"
    assert not AuditEvent.objects.filter(verb="auth.login").exists()


def test_failed_login_audit_never_records_the_password(client, officer_a):
    login(client, "officer_a", "typo-of-secret-123")

    event = AuditEvent.objects.get(verb="auth.login_failed")
    assert "typo-of-secret-123" not in str(event.details)


def test_failed_login_for_an_unknown_name_does_not_store_what_was_typed(client, officer_a):
    # A password typed into the name field is the usual way a secret reaches a log.
    login(client, "horse-battery-77", "whatever")

    event = AuditEvent.objects.get(verb="auth.login_failed")
    assert "horse-battery-77" not in str(event.details)
    assert event.details == {"username_known": False}


def test_failed_login_for_an_existing_account_names_it(client, officer_a):
    login(client, "officer_a", "not-the-password")

    event = AuditEvent.objects.get(verb="auth.login_failed")
    assert event.details == {"username": "officer_a"}
    assert event.object_id == str(officer_a.pk) and event.area == officer_a.area


def test_account_is_locked_after_failure_limit_even_with_right_password(client, officer_a):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "officer_a", "not-the-password")

    response = login(client, "officer_a", PASSWORD)

    assert response.status_code == 429
    body = response.content.decode()
    assert "账号已被临时锁定" in body
    assert not is_signed_in(client)
    assert not AuditEvent.objects.filter(verb="auth.login").exists()


def test_fewer_failures_than_the_limit_do_not_lock(client, officer_a):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "officer_a", "not-the-password")

    response = login(client, "officer_a", PASSWORD)

    assert response.status_code == 302
    assert is_signed_in(client)


def test_lockout_of_one_account_does_not_lock_another(client, officer_a, officer_b):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "officer_a", "not-the-password")

    response = login(client, "officer_b", PASSWORD)

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(officer_b.pk)


def test_inactive_user_cannot_log_in(client, officer_a):
    officer_a.is_active = False
    officer_a.save(update_fields=["is_active"])

    response = login(client, "officer_a", PASSWORD)

    assert response.status_code == 200
    assert not is_signed_in(client)


# --- logout -----------------------------------------------------------------


def test_logout_by_get_is_refused(client, officer_a):
    login(client, "officer_a", PASSWORD)

    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert is_signed_in(client)


def test_logout_by_post_signs_out_and_is_audited(client, officer_a):
    login(client, "officer_a", PASSWORD)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response.url == reverse("login")
    assert not is_signed_in(client)
    event = AuditEvent.objects.get(verb="auth.logout")
    assert event.actor == officer_a
    assert client.get(reverse("home")).status_code == 302


# --- password change --------------------------------------------------------


def change_password(client, old: str, new: str, new2: str | None = None):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new2 or new},
    )


def test_password_change_works_and_is_audited(client, officer_a):
    login(client, "officer_a", PASSWORD)

    response = change_password(client, PASSWORD, NEW_PASSWORD)

    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    assert is_signed_in(client)  # the session survives its own password change
    officer_a.refresh_from_db()
    assert officer_a.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(verb="auth.password_change")
    assert event.actor == officer_a
    assert NEW_PASSWORD not in str(event.details)


def test_new_password_works_for_the_next_login(client, officer_a):
    login(client, "officer_a", PASSWORD)
    change_password(client, PASSWORD, NEW_PASSWORD)
    client.post(reverse("logout"))

    assert login(client, "officer_a", PASSWORD).status_code == 200
    assert login(client, "officer_a", NEW_PASSWORD).status_code == 302


def test_password_change_with_wrong_old_password_is_refused(client, officer_a):
    login(client, "officer_a", PASSWORD)

    response = change_password(client, "not-the-password", NEW_PASSWORD)

    assert response.status_code == 200
    assert "你的旧密码不正确" in response.content.decode()
    officer_a.refresh_from_db()
    assert officer_a.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(verb="auth.password_change").exists()


@pytest.mark.parametrize(
    ("new", "message", "english"),
    [
        ("ab3-xy", "密码长度太短", "This password is too short"),
        ("4827193650", "密码只包含数字", "This password is entirely numeric"),
        ("password123", "这个密码太常见了", "This password is too common"),
    ],
)
def test_weak_new_password_is_refused_in_chinese(client, officer_a, new, message, english):
    login(client, "officer_a", PASSWORD)

    response = change_password(client, PASSWORD, new)

    assert response.status_code == 200
    body = response.content.decode()
    assert english not in body
    assert message in body
    officer_a.refresh_from_db()
    assert officer_a.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(verb="auth.password_change").exists()


def test_password_change_page_needs_login(client, db):
    response = client.get(reverse("password_change"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- sessions ---------------------------------------------------------------


def test_session_ends_when_the_browser_closes():
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


def test_session_idle_timeout_defaults_to_eight_hours():
    assert settings.SESSION_COOKIE_AGE == 8 * 3600


def test_session_cookie_after_login_is_a_browser_session_cookie(client, officer_a):
    login(client, "officer_a", PASSWORD)

    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == ""
    assert cookie["max-age"] == ""
    assert cookie["httponly"]
    assert client.session.get_expire_at_browser_close()
    assert client.session.get_expiry_age() == 8 * 3600


# --- anonymous access -------------------------------------------------------

PRIVATE_GETS = [
    ("home", []),
    ("area_list", []),
    ("area_load", []),
    ("area_detail", ["149901"]),
    ("user_list", []),
    ("user_create", []),
    ("user_edit", [1]),
    ("user_password", [1]),
    ("audit_list", []),
    ("history_list", []),
    ("job_list", []),
    ("job_detail", [1]),
    ("job_download", [1]),
    ("password_change", []),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "args"), PRIVATE_GETS)
def test_anonymous_user_is_sent_to_login(client, name, args):
    url = reverse(name, args=args)

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["audit_export", "user_set_active"])
def test_anonymous_post_is_sent_to_login(client, name):
    url = reverse(name, args=[1] if name == "user_set_active" else [])

    response = client.post(url, {"active": "0"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_health_check_is_public(client):
    # The one page a load balancer polls without a session. It may report
    # "degraded" (no worker in tests) but must never redirect to the login page.
    response = client.get(reverse("healthz"))

    assert response.status_code in (200, 503)
    assert response["Content-Type"] == "application/json"


# --- headers ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["home", "area_list", "user_list", "audit_list", "job_list"])
def test_signed_in_pages_are_not_cached(client_for, admin, name):
    response = client_for(admin).get(reverse(name))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_signed_in_officer_pages_are_not_cached(client_for, officer_a):
    response = client_for(officer_a).get(reverse("area_detail", args=[officer_a.area.code]))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("signed_in", [False, True])
def test_pages_send_a_strict_content_security_policy(client, admin, signed_in):
    if signed_in:
        client.force_login(admin)

    response = client.get(reverse("home" if signed_in else "login"))

    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy


@pytest.mark.django_db
def test_pages_refuse_to_be_framed(client):
    response = client.get(reverse("login"))

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_lockout_tables_keep_no_typed_name_that_is_not_an_account(client, officer_a):
    from axes.models import AccessAttempt, AccessFailureLog

    password_typed_as_name = "Secret-Pa55word"
    for _ in range(2):
        login(client, password_typed_as_name, "whatever")
    login(client, "officer_a", "not-the-password")

    stored = [
        *AccessAttempt.objects.values_list("username", flat=True),
        *AccessFailureLog.objects.values_list("username", flat=True),
    ]
    assert password_typed_as_name not in stored and "officer_a" in stored
    # Still counted per typed name: the two failures under the hash are one attempt row.
    attempt = AccessAttempt.objects.exclude(username="officer_a").get()
    assert attempt.failures_since_start == 2 and attempt.username.startswith("unknown-")
