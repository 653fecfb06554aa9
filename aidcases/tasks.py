"""Celery tasks: thin wrappers that take ids and call one service. ``run_job`` is plugged in as
the job runner (``jobs.set_runner``) by AppConfig.ready()."""

from __future__ import annotations

from celery import shared_task

from aidcases import services
from aidcases.importing import uploads


@shared_task(name="aidcases.tasks.run_job", acks_late=True)
def run_job(job_id: int) -> None:
    services.job_run(job_id=job_id)


@shared_task(name="aidcases.tasks.reap_stale_jobs")
def reap_stale_jobs() -> int:
    return services.job_fail_stale()


@shared_task(name="aidcases.tasks.delete_expired_job_files")
def delete_expired_job_files() -> int:
    return services.job_delete_expired_files()


@shared_task(name="aidcases.tasks.purge_expired_uploads")
def purge_expired_uploads() -> int:
    """Import uploads older than IMPORT_UPLOAD_TTL (24 hours): the file and its check workbook."""
    return uploads.purge_expired()


@shared_task(name="aidcases.tasks.send_reminders")
def send_reminders(kind: str) -> int:
    """One kind of reminder due today (the kind decides whether today is a reminder day).
    Safe to run twice, retried or in two workers at once: each reminder is claimed once."""
    _plan, outcomes = services.reminders_run(acting_user=None, kind=kind)
    return sum(1 for o in outcomes if o.sent)
