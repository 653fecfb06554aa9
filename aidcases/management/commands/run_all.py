"""`make run`: migrate, seed the demo, then serve web + Celery worker + beat.

Started without DATABASE_URL / REDIS_URL, this process owns the embedded
PostgreSQL and Redis (settings started them) and hands their URLs to its
children. Ctrl-C stops the children, then the servers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from aidcases import embedded


class Command(BaseCommand):
    help = "开发/演示：迁移数据库、生成演示数据，并启动网站、Celery worker 和 beat。"

    def add_arguments(self, parser):
        parser.add_argument("--addr", default=os.environ.get("RUN_ADDR", "127.0.0.1:8000"))
        parser.add_argument("--no-seed", action="store_true", help="不生成演示数据")

    def handle(self, *args, addr: str, no_seed: bool, **options):
        started = time.monotonic()
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("数据库已迁移。")
        if not no_seed:
            call_command("seed_demo")

        env = dict(os.environ)
        env["DATABASE_URL"] = (
            embedded.postgres_url() if settings.EMBEDDED_POSTGRES else env["DATABASE_URL"]
        )
        env["REDIS_URL"] = settings.REDIS_URL
        env.setdefault("DEBUG", "true" if settings.DEBUG else "false")
        var = embedded.VAR_DIR
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [
                python, "-m", "celery", "-A", "aidcases", "worker",
                "-l", "info", "--concurrency", "2", "-n", "worker@%h",
            ],
            "beat": [
                python, "-m", "celery", "-A", "aidcases", "beat", "-l", "info",
                "--schedule", str(var / "celerybeat-schedule"),
            ],
        }  # fmt: skip
        children: dict[str, subprocess.Popen] = {}
        for name, cmd in commands.items():
            children[name] = subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR)

        where = "内置" if settings.EMBEDDED_POSTGRES else "DATABASE_URL 指定的"
        self.stdout.write(
            self.style.SUCCESS(
                f"\n帮扶对象管理系统已启动：http://{addr}/ （{where} PostgreSQL；"
                f"启动用时 {time.monotonic() - started:.1f} 秒）\n按 Ctrl-C 停止全部服务。\n"
            )
        )
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in children.items():
                    if proc.poll() is not None:
                        self.stderr.write(
                            f"{name} 已退出（代码 {proc.returncode}），正在停止全部服务。"
                        )
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in children.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for proc in children.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
            self.stdout.write("已停止。")
