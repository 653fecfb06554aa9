from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aidcases import services
from aidcases.models import AuditEvent, Job


@pytest.fixture
def start(django_capture_on_commit_callbacks):
    """Start a job the way a view does; the eager task runs at commit."""

    def _start(user, kind="demo_echo", **params):
        with django_capture_on_commit_callbacks(execute=True):
            job = services.job_start(acting_user=user, kind=kind, params=params)
        job.refresh_from_db()
        return job

    return _start


def test_job_runs_to_success_with_a_file(start, officer_a):
    job = start(officer_a, rows=7)
    assert job.state == Job.State.SUCCEEDED
    assert (job.progress, job.done, job.total) == (100, 7, 7)
    assert job.result_name == "测试.xlsx"
    assert job.expires_at > job.finished_at
    with job.result_file.open("rb") as f:
        ws = load_workbook(f).active
        assert ws.max_row == 8  # header + 7
    assert AuditEvent.objects.filter(verb="job.create", object_id=str(job.pk)).exists()


def test_job_is_not_enqueued_before_commit(officer_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.job_start(acting_user=officer_a, kind="demo_echo", params={})
    job.refresh_from_db()
    assert job.state == Job.State.PENDING
    assert len(callbacks) == 1


def test_running_a_job_twice_does_the_work_once(start, officer_a):
    job = start(officer_a)
    first_file = job.result_file.name
    services.job_run(job_id=job.pk)  # a retried / duplicated task delivery
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED
    assert job.result_file.name == first_file


def test_a_validation_error_fails_the_job_with_its_chinese_message(start, officer_a):
    with pytest.raises(Exception):  # noqa: B017 - eager tasks propagate
        start(officer_a, kind="demo_invalid")
    job = Job.objects.get(kind="demo_invalid")
    assert job.state == Job.State.FAILED
    assert job.error == "第3行：身份证号码校验位错误。"
    assert job.finished_at is not None


def test_a_crash_fails_the_job_without_leaking_internal_details(start, officer_a):
    with pytest.raises(RuntimeError):
        start(officer_a, kind="demo_crash")
    job = Job.objects.get(kind="demo_crash")
    assert job.state == Job.State.FAILED
    assert "RuntimeError" in job.error and "内部错误" in job.error
    assert "140822199001011234" not in job.error


def test_a_job_whose_worker_died_is_marked_failed(officer_a):
    long_ago = timezone.now() - timedelta(hours=1)
    dead = Job.objects.create(
        kind="demo_echo",
        requested_by=officer_a,
        state=Job.State.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
    )
    alive = Job.objects.create(
        kind="demo_echo",
        requested_by=officer_a,
        state=Job.State.RUNNING,
        started_at=long_ago,
        heartbeat_at=timezone.now(),
    )
    never_picked = Job.objects.create(kind="demo_echo", requested_by=officer_a, created_at=long_ago)
    assert services.job_fail_stale() == 2
    dead.refresh_from_db(), alive.refresh_from_db(), never_picked.refresh_from_db()
    assert dead.state == never_picked.state == Job.State.FAILED
    assert "任务中断" in dead.error
    assert alive.state == Job.State.RUNNING


def test_polling_a_dead_job_shows_it_failed(client_for, officer_a):
    long_ago = timezone.now() - timedelta(hours=1)
    job = Job.objects.create(
        kind="demo_echo", requested_by=officer_a, state=Job.State.RUNNING, heartbeat_at=long_ago
    )
    response = client_for(officer_a).get(job.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-state="failed"' in response.content.decode()
    assert "hx-get" not in response.content.decode()  # polling stops


def test_a_running_job_partial_keeps_polling(client_for, officer_a):
    job = Job.objects.create(
        kind="demo_echo",
        requested_by=officer_a,
        state=Job.State.RUNNING,
        heartbeat_at=timezone.now(),
        progress=40,
    )
    response = client_for(officer_a).get(job.get_absolute_url(), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "hx-get" in html and 'data-width="40"' in html
    assert "<html" not in html  # a partial, not the page


def test_download_is_audited_and_not_cached(start, client_for, officer_a):
    job = start(officer_a)
    response = client_for(officer_a).get(reverse("job_download", args=[job.pk]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "attachment" in response["Content-Disposition"]
    b"".join(response.streaming_content)
    event = AuditEvent.objects.get(verb="job.download")
    assert event.actor == officer_a and event.object_id == str(job.pk)


def test_another_user_cannot_see_or_download_a_job(start, client_for, officer_a, county_staff):
    job = start(officer_a)
    client = client_for(county_staff)  # even a county-level user: the job is personal
    assert client.get(job.get_absolute_url()).status_code == 404
    assert client.get(reverse("job_download", args=[job.pk])).status_code == 404


def test_admin_can_see_every_job(start, client_for, officer_a, admin):
    job = start(officer_a)
    assert client_for(admin).get(job.get_absolute_url()).status_code == 200


def test_unfinished_job_has_no_download(client_for, officer_a):
    job = Job.objects.create(kind="demo_echo", requested_by=officer_a)
    assert client_for(officer_a).get(reverse("job_download", args=[job.pk])).status_code == 404


def test_a_user_cannot_start_a_job_kind_their_role_lacks(officer_a):
    with pytest.raises(PermissionDenied):
        services.job_start(acting_user=officer_a, kind="audit_export", params={})
    assert not Job.objects.exists()


def test_expired_result_files_are_deleted(start, officer_a):
    job = start(officer_a)
    path = job.result_file.path
    Job.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert services.job_delete_expired_files() == 1
    job.refresh_from_db()
    assert not job.result_file
    import os

    assert not os.path.exists(path)


def test_beat_schedule_runs_the_reaper_and_cleanup(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"aidcases.tasks.reap_stale_jobs", "aidcases.tasks.delete_expired_job_files"} <= tasks
    from aidcases.celery import app

    app.loader.import_default_modules()
    assert tasks <= set(app.tasks)
