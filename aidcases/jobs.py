"""Kinds of long work that run as Celery jobs, and their progress reporting.

An app registers a kind with `@register(...)` (in its own module, imported
from AppConfig.ready). The handler writes its result to the binary file it is
given and returns the download file name; `job_run` stores it.

A result file is served only while the one fetching it still holds what the job
needed (`access.job_file_allowed`): the kind's `permission`; a scope that covers
the area the job ran for; every reveal permission (`REVEAL_PERMISSIONS`) the
requester held when it ran — a file may hold whatever its requester could reveal
then; and the kind's own `still_allowed(job, user)` hook when it has one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

Handler = Callable[..., str]
# (job, user) → may `user` still fetch this job's file? A kind's extra download check.
DownloadCheck = Callable[[Any, Any], bool]
# (done, total, message): what a handler is given to report progress (the job row's bar and
# heartbeat; see services.jobs.ProgressReporter).
Progress = Callable[[int, int | None, str], None]


@dataclass(frozen=True)
class JobKind:
    kind: str
    label: str
    permission: str
    run: Handler
    still_allowed: DownloadCheck | None = None


# Permissions that let a file hold personal data in clear. What of them the requester held
# when the job ran is recorded with the job and required again at download.
REVEAL_PERMISSIONS = ("aidcases.reveal_id_number", "aidcases.reveal_phone")

_KINDS: dict[str, JobKind] = {}


def register(
    kind: str, *, label: str, permission: str, still_allowed: DownloadCheck | None = None
) -> Callable[[Handler], Handler]:
    def decorator(func: Handler) -> Handler:
        _KINDS[kind] = JobKind(
            kind=kind, label=label, permission=permission, run=func, still_allowed=still_allowed
        )
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


# How a created job reaches a worker. aidcases.tasks plugs its Celery task in from
# AppConfig.ready(); the job services call ``enqueue`` and so never import the tasks (which
# import the services).
_runner: Callable[[int], None] | None = None


def set_runner(runner: Callable[[int], None]) -> None:
    global _runner
    _runner = runner


def enqueue(job_id: int) -> None:
    if _runner is None:
        raise RuntimeError("no job runner: aidcases.tasks is not loaded (AppConfig.ready)")
    _runner(job_id)
