"""Background jobs (exports, imports): start, run once, fail, expire their files."""

from __future__ import annotations

import logging
import tempfile
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidcases import access, jobs
from aidcases.audit import audit_log
from aidcases.models import Job, User
from aidcases.services.common import acting, require_perm
from aidcases.verbs import register_verbs

logger = logging.getLogger(__name__)

register_verbs({"job.rescope": gettext_lazy("后台任务按变更后的权限运行")})


@transaction.atomic
def job_start(*, acting_user: User, kind: str, params: dict | None = None) -> Job:
    """Create a job row and hand it to a worker once the transaction commits."""
    job_kind = jobs.get_kind(kind)
    require_perm(acting_user, job_kind.permission)
    job = Job.objects.create(kind=kind, params=params or {}, requested_by=acting_user)
    # Whom the file is made for (scope, reveal permissions): the run and every download
    # are checked against it (access.job_file_allowed).
    ran_for = access.job_ran_for(acting_user)
    audit_log(
        actor=acting_user,
        verb="job.create",
        obj=job,
        details={"kind": kind, **job.params, "ran_for": ran_for},
    )

    transaction.on_commit(lambda: jobs.enqueue(job.pk))
    return job


def job_run(*, job_id: int) -> None:
    """Run one job. Safe to call twice: only the call that claims the row runs it."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=Job.State.PENDING).update(
        state=Job.State.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        logger.info("job %s already claimed or finished; skipping", job_id)
        return
    job = Job.objects.select_related("requested_by", "requested_by__area").get(pk=job_id)
    # The file is made with the requester's scope and permissions of now; when they changed
    # since the click, that is recorded too, so that downloads are checked against what the
    # file really holds.
    now_for = access.job_ran_for(job.requested_by)
    if access.job_ran_for_recorded(job) != now_for:
        audit_log(actor=None, verb="job.rescope", obj=job, details={"ran_for": now_for})
    reporter = ProgressReporter(job)
    try:
        with tempfile.TemporaryFile() as out, acting(job.requested_by):
            filename = jobs.get_kind(job.kind).run(job=job, out=out, progress=reporter)
            out.seek(0)
            job.result_file.save(filename, File(out), save=False)
        job.result_name = filename
        job.state = Job.State.SUCCEEDED
        job.progress = 100
        job.message = _("已完成")
        job.finished_at = timezone.now()
        job.expires_at = job.finished_at + settings.JOB_FILE_TTL
        job.save(
            update_fields=[
                "result_file",
                "result_name",
                "state",
                "progress",
                "message",
                "finished_at",
                "expires_at",
            ]
        )
    except Exception as exc:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        job_mark_failed(job_id=job.pk, error=jobs.user_message(exc))
        raise


def job_mark_failed(*, job_id: int, error: str) -> bool:
    """Mark an unfinished job failed. Returns False when it had already finished."""
    return bool(
        Job.objects.filter(pk=job_id, state__in=[Job.State.PENDING, Job.State.RUNNING]).update(
            state=Job.State.FAILED, error=error[:2000], finished_at=timezone.now()
        )
    )


def job_fail_stale(*, now: datetime | None = None) -> int:
    """Fail jobs whose worker died: running without a heartbeat, or never picked up."""
    now = now or timezone.now()
    limit = now - settings.JOB_STALE_AFTER
    stale = Q(state=Job.State.RUNNING, heartbeat_at__lt=limit) | Q(
        state=Job.State.PENDING, created_at__lt=limit
    )
    return Job.objects.filter(stale).update(
        state=Job.State.FAILED,
        error=_("任务中断：后台处理进程长时间无响应（可能已重启或未启动），请重新发起。"),
        finished_at=now,
    )


def job_delete_expired_files(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    count = 0
    for job in Job.objects.filter(expires_at__lt=now).exclude(result_file=""):
        job.result_file.delete(save=False)
        Job.objects.filter(pk=job.pk).update(result_file="")
        count += 1
    return count


@transaction.atomic
def job_record_download(*, acting_user: User, job: Job) -> None:
    audit_log(
        actor=acting_user,
        verb="job.download",
        obj=job,
        details={"kind": job.kind, "file": job.result_name},
    )


class ProgressReporter:
    """Writes progress to the job row, at most about once a second.

    Each write is also the heartbeat: a running job whose heartbeat stops is
    failed by `job_fail_stale`.
    """

    def __init__(self, job: Job, *, min_interval: float = 1.0):
        self.job = job
        self.min_interval = min_interval
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None, message: str = "") -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if now - self._last < self.min_interval and not finished:
            return
        self._last = now
        progress = min(99, int(done * 100 / total)) if total else 0
        fields: dict[str, Any] = {
            "done": done,
            "total": total,
            "progress": progress,
            "heartbeat_at": timezone.now(),
        }
        if message:
            fields["message"] = message[:200]
        Job.objects.filter(pk=self.job.pk, state=Job.State.RUNNING).update(**fields)
