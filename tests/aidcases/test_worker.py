"""One integration test with a real Celery worker process (everything else runs
tasks eagerly): a job started through the service is picked up from Redis,
runs against the same PostgreSQL, and its row ends up succeeded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from aidcases import services, tasks
from aidcases.celery import app
from aidcases.models import AidCase, Job, Notification, ReminderClaim
from tests.factories import make_person
from volunteers.models import FollowUp

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


def _wait_for(job: Job) -> Job:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.2)
    pytest.fail(f"job {job.pk} did not finish within 60 s")


def test_a_reminder_task_delivered_twice_to_a_real_worker_reminds_once(
    worker, village_a, officer_a
):
    case = make_person(village_a, name="张大山", category=AidCase.Category.TEKUN).cases.get()
    FollowUp.objects.create(
        case=case,
        need="修缮屋顶",
        owner=officer_a,
        due_on=timezone.localdate() - timedelta(days=3),
        created_by=officer_a,
    )
    # As a retried or duplicated beat message would: the same task twice through Redis.
    tasks.send_reminders.delay("follow-ups")
    tasks.send_reminders.delay("follow-ups")
    # One worker (solo pool) takes its queue in order: once this job is done, both
    # reminder tasks have run (there is no result backend to wait on).
    _wait_for(services.job_start(acting_user=officer_a, kind="demo_echo", params={"rows": 1}))
    assert Notification.objects.filter(recipient=officer_a).count() == 1
    assert ReminderClaim.objects.count() == 1


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
