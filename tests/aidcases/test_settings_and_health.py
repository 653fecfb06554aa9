from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

BASE_DIR = Path(settings.BASE_DIR)


def _production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AIDCASES_"))}
    env.pop("PYTEST_CURRENT_TEST", None)
    env.update(
        DEBUG="false",
        SECRET_KEY="x7Qm2vR9pL4sT8wY1zC6nB3kJ5hG0fD-a9Sx_Lq2Ww8Ee4Rr6Tt1Yy3Uu5Ii7Oo",
        ALLOWED_HOSTS="aid.example.org",
        CSRF_TRUSTED_ORIGINS="https://aid.example.org",
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",  # check --deploy needs no database
        REDIS_URL="redis://127.0.0.1:1/0",
        FIELD_ENCRYPTION_KEYS="cHJvZHVjdGlvbi1rZXktZm9yLWNoZWNrLWRlcGxveSE=",
        ID_HASH_KEY="production-hash-key-for-check-deploy",
    )
    env.update(extra)
    return env


def _run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = _run_manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key():
    env = _production_env()
    del env["SECRET_KEY"]
    result = _run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_malformed_setting_fails_at_start():
    result = _run_manage("check", env=_production_env(SESSION_COOKIE_AGE="eight hours"))
    assert result.returncode != 0
    assert "ValueError" in result.stderr


def test_chinese_and_shanghai_time_are_configured():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True


def test_tests_run_on_postgresql():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@pytest.mark.django_db
def test_healthz_reports_each_dependency(client):
    response = client.get(reverse("healthz"))
    body = response.json()
    assert body["database"] == {"ok": True}
    assert body["redis"] == {"ok": True}
    # No worker runs during unit tests (see test_worker.py for the real one).
    assert body["worker"]["ok"] is False
    assert response.status_code == 503
    assert body["status"] == "degraded"


@pytest.mark.django_db
def test_healthz_reports_an_unreachable_redis(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    body = client.get(reverse("healthz")).json()
    assert body["redis"]["ok"] is False
    assert body["worker"]["ok"] is False


@pytest.mark.django_db
def test_pages_send_a_csp_without_inline_script(client_for, officer_a):
    response = client_for(officer_a).get(reverse("home"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["Cache-Control"] == "no-store"
    assert b"<script>" not in response.content  # no inline script tags
