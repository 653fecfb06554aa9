from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_failure, worker_shutting_down

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aidcases.settings")

app = Celery("aidcases")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_failure.connect
def _fail_job_row(sender=None, args=None, kwargs=None, exception=None, **_):
    """A run_job task that blew up outside job_run's own handling (e.g. a
    time limit) still marks its row failed."""
    if getattr(sender, "name", "") != "aidcases.tasks.run_job":
        return
    job_id = (args or [None])[0] or (kwargs or {}).get("job_id")
    if job_id is None:
        return
    from aidcases.jobs import user_message
    from aidcases.services import job_mark_failed

    job_mark_failed(job_id=job_id, error=user_message(exception))


@worker_shutting_down.connect
def _log_shutdown(sig=None, how=None, exitcode=None, **_):
    # Jobs interrupted here are re-queued (acks_late + reject_on_worker_lost)
    # or, if the worker is killed hard, failed later by reap_stale_jobs.
    import logging

    logging.getLogger(__name__).warning("worker shutting down (%s, %s)", sig, how)
