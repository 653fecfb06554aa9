"""Kinds of long work that run as Celery jobs, and their progress reporting.

An app registers a kind with `@register(...)` (in its own module, imported
from AppConfig.ready). The handler writes its result to the binary file it is
given and returns the download file name; `job_run` stores it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases.models import Job

Handler = Callable[..., str]


@dataclass(frozen=True)
class JobKind:
    kind: str
    label: str
    permission: str
    run: Handler


_KINDS: dict[str, JobKind] = {}


def register(kind: str, *, label: str, permission: str) -> Callable[[Handler], Handler]:
    def decorator(func: Handler) -> Handler:
        _KINDS[kind] = JobKind(kind=kind, label=label, permission=permission, run=func)
        return func

    return decorator


def get_kind(kind: str) -> JobKind:
    try:
        return _KINDS[kind]
    except KeyError as exc:
        raise ValueError(f"unknown job kind: {kind}") from exc


def kind_label(kind: str) -> str:
    return str(_KINDS[kind].label) if kind in _KINDS else kind


def user_message(exc: BaseException) -> str:
    """What a county worker reads when a job fails: ours in Chinese, others generic."""
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return _("处理时发生内部错误（%(name)s），请稍后重试或联系系统管理员。") % {
        "name": type(exc).__name__
    }


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
