"""One integration test with a real Celery worker process (everything else runs
tasks eagerly): a job started through the service is picked up from Redis,
runs against the same PostgreSQL, and its row ends up succeeded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from aidcases import services
from aidcases.celery import app
from aidcases.models import Job

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    db = connection.settings_dict
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    port = f":{db['PORT']}" if db["PORT"] and not db["HOST"].startswith("/") else ""
    auth = db["USER"] + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


@pytest.fixture
def worker():
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url(),
        REDIS_URL=settings.REDIS_URL,
        CELERY_QUEUE=queue,
        AIDCASES_TESTING="true",
        AIDCASES_TEST_JOB_KINDS="true",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tests.worker_app", "worker", "-l", "warning",
         "--pool", "solo", "-Q", queue, "-n", f"{queue}@%h"],
        cwd=settings.BASE_DIR,
        env=env,
    )  # fmt: skip
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if app.control.ping(timeout=0.5, destination=[f"{queue}@{os.uname().nodename}"]):
                break
            assert proc.poll() is None, "worker exited during start-up"
        else:
            pytest.fail("worker did not answer ping within 60 s")
        yield proc
    finally:
        app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_a_real_worker_runs_a_job_to_completion(worker, officer_a, client):
    job = services.job_start(acting_user=officer_a, kind="demo_echo", params={"rows": 25})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.2)
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.total == 25 and job.progress == 100
    assert job.result_file

    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["worker"]["ok"] is True
