"""Checks of the production deployment files (no database, no Django models).

Covers docker-compose.yml, .env.example, Dockerfile and .dockerignore at the repository
root. The last test validates the compose file with a real Compose implementation: the
``docker compose`` plugin if present, else the ``docker-compose`` v1 binary; it is skipped
only when neither is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

SERVICES = {"postgres", "redis", "web", "worker", "beat"}
APP_SERVICES = ("web", "worker", "beat")
INFRA_SERVICES = ("postgres", "redis")
REQUIRED_APP_VARS = {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$", re.IGNORECASE)
INTERPOLATION = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f".env.example: not NAME=value: {line!r}"
        values[name.strip()] = value.strip()
    return values


def _volume_sources(service: dict) -> list[str]:
    sources = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            sources.append(volume.split(":", 1)[0])
        else:
            sources.append(volume.get("source", ""))
    return sources


def _volume_targets(service: dict) -> dict[str, str]:
    targets = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume.get("source", ""), volume["target"]
        targets[target] = source
    return targets


def _environment(service: dict) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict((item.split("=", 1) + [None])[:2] for item in env)
    return env


def _env_files(service: dict) -> list[str]:
    env_file = service.get("env_file", [])
    items = [env_file] if isinstance(env_file, str) else env_file
    return [item if isinstance(item, str) else item["path"] for item in items]


def _command_text(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def test_compose_spec_without_version_key(compose):
    assert "version" not in compose, "Compose Specification: no top-level version key"


def test_five_services(compose):
    assert set(compose["services"]) == SERVICES


def test_app_services_wait_for_healthy_postgres_and_redis(compose):
    for name in APP_SERVICES:
        depends_on = compose["services"][name].get("depends_on")
        assert isinstance(depends_on, dict), f"{name}: depends_on must use the long form"
        for dependency in INFRA_SERVICES:
            assert depends_on.get(dependency, {}).get("condition") == "service_healthy", (
                f"{name} must wait for {dependency} to be healthy"
            )


def test_restart_policies_and_healthchecks(compose):
    services = compose["services"]
    for name in SERVICES:
        assert services[name].get("restart") == "unless-stopped", name
    for name in ("postgres", "redis", "web"):
        healthcheck = services[name].get("healthcheck")
        assert healthcheck and healthcheck.get("test"), f"{name} needs a healthcheck"
        assert not healthcheck.get("disable"), name
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    web_check = " ".join(services["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/healthz" in web_check
    assert "curl" not in web_check and "wget" not in web_check


def test_images_and_commands(compose):
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert "--appendonly yes" in _command_text(services["redis"])
    for name in APP_SERVICES:
        assert services[name].get("build") in (".", {"context": "."}), name
    web = _command_text(services["web"])
    assert web.index("migrate --noinput") < web.index("sync_roles") < web.index("gunicorn")
    assert "aidcases.wsgi:application" in web
    # gunicorn listens on 0.0.0.0:8000 inside the container (gunicorn.conf.py), and the host
    # publishes it on its loopback only, for the HTTPS proxy in front.
    assert [str(port) for port in services["web"]["ports"]] == ["127.0.0.1:8000:8000"]
    assert "celery -A aidcases worker" in _command_text(services["worker"])
    beat = _command_text(services["beat"])
    assert "celery -A aidcases beat" in beat
    assert "--schedule /app/var/celerybeat-schedule" in beat


def test_app_services_share_env_file(compose):
    for name in APP_SERVICES:
        assert _env_files(compose["services"][name]) == [".env"], name


def test_named_volumes_declared_and_used(compose):
    declared = set(compose.get("volumes") or {})
    services = compose["services"]
    used = set()
    for service in services.values():
        for source in _volume_sources(service):
            # A named volume, not a bind mount of a host path.
            assert source and not source.startswith((".", "/", "~")), source
            used.add(source)
    assert used <= declared, f"undeclared volumes: {used - declared}"
    assert _volume_targets(services["postgres"]).get("/var/lib/postgresql/data") in declared
    assert _volume_targets(services["redis"]).get("/data") in declared
    media_web = _volume_targets(services["web"]).get("/app/media")
    media_worker = _volume_targets(services["worker"]).get("/app/media")
    assert media_web and media_web == media_worker, "web and worker must share the media volume"


def test_no_plaintext_secrets_in_compose(compose):
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "POSTGRES_PASSWORD:" not in text
    assert "POSTGRES_PASSWORD=" not in text
    assert "SECRET_KEY" not in text
    for name, service in compose["services"].items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key) and value not in (None, ""):
                assert INTERPOLATION.match(str(value)), f"{name}: {key} has a literal value"


def test_env_example_lists_what_the_app_needs(env_example):
    assert REQUIRED_APP_VARS <= set(env_example)
    expected = {
        "DEBUG",
        "CSRF_TRUSTED_ORIGINS",
        "POSTGRES_DB",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "EMAIL_URL",
        "DEFAULT_FROM_EMAIL",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_AGE",
        "FIELD_ENCRYPTION_KEYS",
        "ID_HASH_KEY",
        "MEDIA_ROOT",
    }
    assert expected <= set(env_example)
    assert "TIME_ZONE" not in env_example, "TIME_ZONE is fixed in code"
    assert env_example["DEBUG"].lower() == "false"
    assert env_example["REDIS_URL"] == "redis://redis:6379/0"
    assert env_example["MEDIA_ROOT"] == "/app/media"


def test_env_example_database_url_agrees_with_postgres_vars(env_example):
    match = re.fullmatch(
        r"postgres(?:ql)?://([^:@/]+):([^@/]+)@postgres:5432/([^/?]+)", env_example["DATABASE_URL"]
    )
    assert match, env_example["DATABASE_URL"]
    user, password, database = match.groups()
    assert user == env_example["POSTGRES_USER"]
    assert password == env_example["POSTGRES_PASSWORD"]
    assert database == env_example["POSTGRES_DB"]


def test_env_example_allows_the_healthcheck_host(env_example):
    hosts = {host.strip() for host in env_example["ALLOWED_HOSTS"].split(",")}
    assert "127.0.0.1" in hosts, "the web healthcheck requests http://127.0.0.1:8000/healthz"


def test_dockerfile_shape():
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim-bookworm\b", text, re.MULTILINE)
    assert "pip install --no-cache-dir -r requirements.txt" in text
    assert "collectstatic --noinput" in text
    assert re.search(r"^USER (?!root\b|0\b)\S+", text, re.MULTILINE), "must run as non-root"
    assert re.search(r"^EXPOSE 8000\b", text, re.MULTILINE)
    assert "aidcases.wsgi:application" in text
    # Build-only settings values must not become image-wide ENV.
    env_lines = [line for line in text.splitlines() if line.startswith("ENV ")]
    assert not any("SECRET_KEY" in line or "DATABASE_URL" in line for line in env_lines)


def test_dockerignore_excludes_local_state():
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for pattern in (".venv", "var/", "media/", ".git", ".pytest_cache", "node_modules", ".env"):
        assert pattern in patterns, pattern
    assert "**/__pycache__" in patterns and "**/*.pyc" in patterns


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], check=False, capture_output=True, text=True, timeout=60
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    docker_compose = shutil.which("docker-compose")
    if docker_compose:
        return [docker_compose]
    return None


def test_compose_config_validates(tmp_path):
    command = _compose_command()
    if command is None:
        # make test installs Debian's docker-compose (scripts/test-deps.sh); in CI a
        # missing one is a failure, like a missing browser.
        message = (
            "no Compose implementation: neither the `docker compose` plugin nor the "
            "`docker-compose` binary is installed"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    result = subprocess.run(
        [*command, "-f", str(tmp_path / "docker-compose.yml"), "config", "-q"],
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # Unset variables would be silently interpolated as empty strings.
    assert "is not set" not in result.stderr, result.stderr


def gunicorn_settings() -> dict:
    import runpy

    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_listens_where_the_compose_file_publishes():
    config = gunicorn_settings()
    assert config["bind"] == "0.0.0.0:8000" and config["accesslog"] == "-"


def test_the_access_log_keeps_no_query_string_or_referer():
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.glogging import Logger

    number = "149901201203150013"
    environ = {
        "REMOTE_ADDR": "203.0.113.9",
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/people/?q={number}",
        "PATH_INFO": "/people/",
        "QUERY_STRING": f"q={number}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://aidcases.example.org/people/?q={number}",
        "HTTP_USER_AGENT": "Mozilla/5.0",
    }
    response = SimpleNamespace(status="200 OK", sent=1024, headers=[])
    # The atoms gunicorn itself fills in for one request, formatted as it formats them.
    atoms = Logger.atoms(Logger.__new__(Logger), response, [], environ, timedelta(milliseconds=42))

    line = gunicorn_settings()["access_log_format"] % atoms

    assert number not in line
    assert '"GET /people/ HTTP/1.1" 200 1024 42ms' in line
