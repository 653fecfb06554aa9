"""Kinds of long work that run as Celery jobs, and their progress reporting.

An app registers a kind with `@register(...)` (in its own module, imported
from AppConfig.ready). The handler writes its result to the binary file it is
given and returns the download file name; `job_run` stores it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

Handler = Callable[..., str]
# (done, total, message): what a handler is given to report progress (the job row's bar and
# heartbeat; see services.jobs.ProgressReporter).
Progress = Callable[[int, int | None, str], None]


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
