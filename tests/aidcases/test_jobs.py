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


# --- downloads re-check what the job needed ---------------------------------------------------


def _deny(monkeypatch, *perms):
    """The user's role no longer grants `perms` (as if the role table had changed)."""
    from aidcases.models import User

    has_perm = User.has_perm
    monkeypatch.setattr(
        User,
        "has_perm",
        lambda self, perm, obj=None: perm not in perms and has_perm(self, perm, obj),
    )


@pytest.fixture
def full_export(start, officer_b, village_b):
    from tests.factories import make_person

    make_person(village_b, name="钱东冶", category="tekun")
    job = start(officer_b, kind="people_export", filters={}, full=True)
    assert job.state == Job.State.SUCCEEDED
    assert AuditEvent.objects.get(verb="person.export").details["full_id_and_phone"] is True
    return job


def test_requester_downloads_a_full_export_while_nothing_changed(
    full_export, client_for, officer_b
):
    response = client_for(officer_b).get(reverse("job_download", args=[full_export.pk]))
    assert response.status_code == 200


def test_full_export_is_refused_once_the_reveal_permission_is_gone(
    full_export, client_for, officer_b, monkeypatch
):
    _deny(monkeypatch, "aidcases.reveal_id_number")
    client = client_for(officer_b)

    assert client.get(reverse("job_download", args=[full_export.pk])).status_code == 403
    page = client.get(full_export.get_absolute_url())
    assert page.status_code == 200
    assert reverse("job_download", args=[full_export.pk]) not in page.content.decode()
    assert "请重新导出" in page.content.decode()
    assert not AuditEvent.objects.filter(verb="job.download").exists()


def test_export_is_refused_once_the_kind_permission_is_gone(
    full_export, client_for, officer_b, monkeypatch
):
    _deny(monkeypatch, "aidcases.export_people")
    response = client_for(officer_b).get(reverse("job_download", args=[full_export.pk]))
    assert response.status_code == 403


def test_export_is_refused_after_the_requester_moved_township(
    full_export, client_for, officer_b, admin, township_a
):
    services.user_update(
        acting_user=admin, user=officer_b, role=officer_b.role, area=township_a, full_name=""
    )
    officer_b.refresh_from_db()
    response = client_for(officer_b).get(reverse("job_download", args=[full_export.pk]))
    assert response.status_code == 403


def test_export_is_served_after_a_move_to_a_scope_that_covers_it(
    full_export, client_for, officer_b, admin, county
):
    services.user_update(
        acting_user=admin, user=officer_b, role="county_staff", area=county, full_name=""
    )
    officer_b.refresh_from_db()
    response = client_for(officer_b).get(reverse("job_download", args=[full_export.pk]))
    assert response.status_code == 200


def test_a_job_kind_may_add_its_own_download_check(start, client_for, officer_a, monkeypatch):
    from aidcases import jobs

    job = start(officer_a)
    kind = jobs.get_kind("demo_echo")
    monkeypatch.setitem(
        jobs._KINDS,
        "demo_echo",
        jobs.JobKind(**{**kind.__dict__, "still_allowed": lambda j, u: False}),
    )
    response = client_for(officer_a).get(reverse("job_download", args=[job.pk]))
    assert response.status_code == 403


def test_a_job_whose_requester_moved_before_it_ran_is_checked_against_the_new_scope(
    officer_b, admin, county, township_a, client_for, django_capture_on_commit_callbacks
):
    # Moved up to the county between the click and the run: the file holds the county's rows.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.job_start(acting_user=officer_b, kind="demo_echo", params={})
    services.user_update(
        acting_user=admin, user=officer_b, role="county_staff", area=county, full_name=""
    )
    for callback in callbacks:
        callback()
    assert AuditEvent.objects.get(verb="job.rescope").details["ran_for"]["scope"] == ""
    # Back in a township: the earlier file, made at county scope, is not served.
    services.user_update(
        acting_user=admin, user=officer_b, role="township_officer", area=township_a, full_name=""
    )
    officer_b.refresh_from_db()
    response = client_for(officer_b).get(reverse("job_download", args=[job.pk]))
    assert response.status_code == 403


def test_a_job_without_a_record_of_whom_it_ran_for_is_not_served(start, officer_a):
    from aidcases import access

    job = start(officer_a)
    assert access.job_file_allowed(officer_a, job)
    job_without = Job.objects.create(
        kind="demo_echo", requested_by=officer_a, state=Job.State.SUCCEEDED
    )
    assert not access.job_file_allowed(officer_a, job_without)
