"""The steps every import goes through, for any kind: check a staged upload (inline, or in a
job when it is big), keep its preview and check workbook, confirm (re-check, then commit all
or nothing), and the two job kinds that do the same in a worker with a progress bar.

The web pages (``views``) and the command base (``commands``) only call these.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, transaction
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _

from aidcases import jobs, xlsx
from aidcases.audit import audit_log
from aidcases.importing import kinds as registry
from aidcases.importing import uploads
from aidcases.importing.kinds import ACTIONS, ImportKind, Plan, Progress, Result, UploadGone
from aidcases.importing.spec import Issue
from aidcases.importing.uploads import Upload
from aidcases.importing.workbooks import write_error_report
from aidcases.models import Job, User

# Upload states: uploaded → (validating →) validated → (committing →) committed.
UPLOADED, VALIDATING, VALIDATED, COMMITTING, COMMITTED = (
    "uploaded",
    "validating",
    "validated",
    "committing",
    "committed",
)


def kind_of(upload: Upload) -> ImportKind:
    try:
        return registry.get(upload.kind)
    except LookupError:
        raise UploadGone from None


def require(kind: ImportKind, user: User) -> None:
    """The kind's permission, for every step."""
    if not (user.is_authenticated and user.has_perm(kind.permission)):
        raise PermissionDenied


def context_of(upload: Upload) -> Any:
    """The upload's options resolved for its user, if they still may import with them."""
    kind = kind_of(upload)
    require(kind, upload.user)
    return kind.context(upload.user, upload.options)


def needs_job(kind: ImportKind, upload: Upload) -> bool:
    """Big files are read by a worker: many rows, or more bytes than the web process opens."""
    estimate = upload.rows_estimate
    return estimate is None or estimate >= kind.job_rows


# --- checking ---------------------------------------------------------------------------------


def check(upload: Upload, *, progress: Progress | None = None, state: str = VALIDATED) -> Plan:
    """Read and check a staged upload (writes nothing to the database); keep the preview
    data and the check workbook beside it."""
    kind = kind_of(upload)
    context = context_of(upload)
    with upload.file_path.open("rb") as handle:
        sheet = kind.read(handle, upload.file_name, upload.options)
    plan = kind.validate(
        sheet,
        acting_user=upload.user,
        context=context,
        file_name=upload.file_name,
        progress=progress,
    )
    upload.save_summary(plan_summary(kind, plan))
    with upload.report_path.open("wb") as out:
        write_error_report(out, sheet, plan.full_report)
    upload.update(state=state, ok=plan.ok)
    return plan


def file_errors(plan: Plan) -> list[Issue]:
    """Problems with the file as a whole (not a roster, no header, a key column missing)."""
    return [issue for issue in plan.errors if issue.line is None]


def _issue_dict(issue: Issue) -> dict:
    return {
        "line": issue.line,
        "column": issue.column,
        "message": issue.message,
        "warning": issue.warning,
    }


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, int | float | str):
        return value
    return str(value)


def plan_summary(kind: ImportKind, plan: Plan) -> dict:
    """What the preview page shows, as JSON-able data: counts, every problem, and the first
    ``kind.preview_rows`` rows of each action in the kind's preview columns."""
    by_action: dict[str, list[dict]] = {action: [] for action in ACTIONS}
    for row in plan.rows:
        shown = by_action[row.action]
        if len(shown) < kind.preview_rows:
            shown.append(
                {
                    "line": row.line,
                    "cells": [_cell(getattr(row, attr)) for _label, attr in kind.preview_columns],
                    "changes": list(row.changes),
                }
            )
    sheet = plan.sheet
    return {
        "ok": plan.ok,
        "counts": plan.counts,
        "total": len(sheet.rows),
        "notes": plan.notes,
        "columns": [str(label) for label, _attr in kind.preview_columns],
        "rows": by_action,
        "errors": [_issue_dict(i) for i in plan.errors],
        "warnings": [_issue_dict(i) for i in plan.report.warnings],
        "skipped": len(sheet.skipped),
        "header_row": sheet.header_row,
        "sheet_name": sheet.sheet_name or "",
        "missing_optional": sheet.missing_optional,
        "checked_at": timezone.now().isoformat(),
    }


# --- committing -------------------------------------------------------------------------------


def _recheck_failed(plan: Plan) -> ValidationError:
    return ValidationError(
        _("复核时发现 %(n)d 处问题，未导入任何内容，请回到预览页查看。") % {"n": len(plan.errors)}
    )


def confirm(upload: Upload) -> Result:
    """Check the stored file again (the records may have changed since the preview), then
    commit it inline. Raises ValidationError, having written nothing, when it fails."""
    kind = kind_of(upload)
    plan = check(upload)
    if not plan.ok:
        raise _recheck_failed(plan)
    result = kind.commit(plan, acting_user=upload.user)
    finish(upload, result)
    return result


def finish(upload: Upload, result: Result) -> None:
    upload.update(state=COMMITTED, result=result.counts, notes=result.notes)
    upload.discard_personal_data()


def write_result(target: IO[bytes], kind: ImportKind, result: Result, options: dict) -> None:
    """What happened to each row, in the kind's preview columns (IDs masked as there)."""
    sample = result.rows[:200]

    def width(label: str, attr: str) -> float:
        return xlsx.fit_width(label, (_cell(getattr(row, attr)) for row in sample))

    columns = [xlsx.Column(_("原行号"), "line", kind="int", width=8)]
    columns += [
        xlsx.Column(
            str(label), lambda row, attr=attr: _cell(getattr(row, attr)), width=width(label, attr)
        )
        for label, attr in kind.preview_columns
    ]
    columns += [
        xlsx.Column(_("处理结果"), "action_label", width=10),
        xlsx.Column(_("变更内容"), lambda row: "、".join(row.changes), width=40, wrap=True),
    ]
    xlsx.export_rows(
        target,
        sheet_name=_("导入结果"),
        columns=columns,
        rows=result.rows,
        title=f"{kind.file_title(options)} {_('导入结果')}：{result.summary_line()}",
    )


@transaction.atomic
def record_check_download(*, acting_user: User, upload: Upload) -> None:
    """The check workbook holds the uploaded personal data: its download is audited."""
    kind = kind_of(upload)
    area = kind.audit_area(context_of(upload))
    audit_log(
        actor=acting_user,
        verb=kind.check_download_verb,
        obj=area,
        area=area,
        details={"file": upload.file_name, "kind": kind.name, **upload.options},
    )


# --- jobs (files of kind.job_rows rows or more) -----------------------------------------------


def detached(report: Progress) -> Progress:
    """Progress written from inside the commit's transaction would stay invisible until it
    commits: write it from a short-lived thread, on its own connection."""

    def call(done: int, total: int | None = None, message: str = "") -> None:
        def run() -> None:
            try:
                report(done, total, message)
            finally:
                connections.close_all()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(timeout=10)

    return call


@contextmanager
def _gone_as_message() -> Iterator[None]:
    """A job whose upload expired, or whose user lost the right to it, fails with a reason."""
    try:
        yield
    except (UploadGone, PermissionDenied):
        raise ValidationError(
            _("找不到上传的文件（可能已过期），或您已无权进行这项导入。请重新上传。")
        ) from None


def validate_job_kind(kind: ImportKind) -> str:
    return f"{kind.name}_import_validate"


def commit_job_kind(kind: ImportKind) -> str:
    return f"{kind.name}_import_commit"


def _upload_of(job: Job, kind: ImportKind) -> Upload:
    with _gone_as_message():
        return uploads.get(job.requested_by, job.params["token"], kind=kind.name)


def run_validate_job(kind: ImportKind, *, job: Job, out: IO[bytes], progress: Progress) -> str:
    upload = _upload_of(job, kind)
    progress(0, None, _("正在读取文件"))
    with _gone_as_message():
        check(upload, progress=progress)
    with upload.report_path.open("rb") as handle:
        shutil.copyfileobj(handle, out)
    return f"{kind.file_title(upload.options)}_导入检查.xlsx"


def run_commit_job(kind: ImportKind, *, job: Job, out: IO[bytes], progress: Progress) -> str:
    """Re-check the stored file, then commit it (all or nothing); the result workbook is
    the job's file."""
    upload = _upload_of(job, kind)
    progress(0, None, _("正在复核文件"))

    def checking(done: int, total: int | None = None, message: str = "") -> None:
        progress(done, (total or 0) * 2 or None, message)

    with _gone_as_message():
        plan = check(upload, progress=checking, state=COMMITTING)
    if not plan.ok:
        upload.update(state=VALIDATED, commit_job=None)
        raise _recheck_failed(plan)
    rows = len(plan.sheet.rows)
    report = detached(progress)

    def committing(done: int, total: int | None = None, message: str = "") -> None:
        todo = max(total or 0, 1)
        report(rows + done * rows // todo, rows * 2, message)

    result = kind.commit(plan, acting_user=upload.user, progress=committing)
    finish(upload, result)
    write_result(out, kind, result, upload.options)
    return f"{kind.file_title(upload.options)}_导入结果.xlsx"


def register(kind: ImportKind) -> ImportKind:
    """Make a kind available: its pages at /imports/<name>/, its two job kinds
    (``<name>_import_validate``, ``<name>_import_commit``) and ``ImportCommand``."""
    registry.add(kind)
    jobs.register(
        validate_job_kind(kind), label=_lazy_label(kind, "检查"), permission=kind.permission
    )(lambda **kw: run_validate_job(kind, **kw))
    jobs.register(commit_job_kind(kind), label=_lazy_label(kind, ""), permission=kind.permission)(
        lambda **kw: run_commit_job(kind, **kw)
    )
    return kind


def _lazy_label(kind: ImportKind, suffix: str) -> Any:
    return lazy(lambda: f"{kind.title}{suffix}", str)()
