"""The pages of every import kind: template download, upload, preview (every problem, or what
will change), check workbook, confirm, cancel; a job with a progress bar when the file is big.

A kind gets them by registering (``importing.register``); there is no view code per kind. An
upload is looked up under the requesting user's own folder, so another user's token is a 404,
and its options are resolved for the user again at every step (``flow.context_of``).
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aidcases import access, services
from aidcases.importing import flow, uploads
from aidcases.importing import kinds as registry
from aidcases.importing.forms import UploadForm
from aidcases.importing.kinds import ImportKind, UploadGone
from aidcases.importing.workbooks import write_template
from aidcases.models import Job


def _kind(request: HttpRequest, name: str) -> ImportKind:
    try:
        kind = registry.get(name)
    except LookupError:
        raise Http404 from None
    flow.require(kind, request.user)
    return kind


def _upload(request: HttpRequest, kind: ImportKind, token: str) -> tuple[uploads.Upload, object]:
    try:
        upload = uploads.get(request.user, token, kind=kind.name)
        context = flow.context_of(upload)
    except UploadGone:
        raise Http404 from None
    return upload, context


def _job(request: HttpRequest, job_id: int | None) -> Job | None:
    if not job_id:
        return None
    return access.jobs_for(request.user).filter(pk=job_id).first()


def _running_job(request: HttpRequest, upload: uploads.Upload) -> Job | None:
    if upload.state == flow.VALIDATING:
        return _job(request, upload.meta.get("validate_job"))
    if upload.state == flow.COMMITTING:
        return _job(request, upload.meta.get("commit_job"))
    return None


def _preview_url(kind: ImportKind, upload: uploads.Upload) -> str:
    return reverse("import_preview", kwargs={"kind": kind.name, "token": upload.token})


# --- upload -----------------------------------------------------------------------------------


@login_required
def import_start(request: HttpRequest, kind: str) -> HttpResponse:
    kind_ = _kind(request, kind)
    form_class = kind_.upload_form or UploadForm
    # A link may preselect the kind's choices (a batch page's "导入名单" names its batch); a
    # value outside the user's choices is simply not selected.
    initial = {key: value for key, value in request.GET.items() if key != "file"}
    form = form_class(
        request.POST or None, request.FILES or None, user=request.user, initial=initial or None
    )
    if request.method == "POST" and form.out_of_scope():
        raise Http404
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        upload = uploads.store(
            user=request.user,
            kind=kind_.name,
            options=form.options(),
            chunks=file.chunks(),
            file_name=file.name,
        )
        if flow.needs_job(kind_, upload):
            job = services.job_start(
                acting_user=request.user,
                kind=flow.validate_job_kind(kind_),
                params={"token": upload.token},
            )
            upload.update(state=flow.VALIDATING, validate_job=job.pk)
            return redirect(_preview_url(kind_, upload))
        plan = flow.check(upload)
        problems = flow.file_errors(plan)
        if not problems:
            return redirect(_preview_url(kind_, upload))
        # The file as a whole is wrong: say so next to the upload, and keep nothing. Row
        # problems go to the preview.
        upload.delete()
        for issue in problems:
            form.add_error("file", issue.message)
    return render(
        request,
        "aidcases/import/start.html",
        {
            "kind": kind_,
            "form": form,
            "templates": kind_.templates(request.user),
            "job_rows": kind_.job_rows,
        },
    )


@login_required
@require_GET
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    kind_ = _kind(request, kind)
    options = kind_.template_options(request.GET)
    if options is None:
        messages.error(request, _("请选择要下载哪一种模板。"))
        return redirect("import_start", kind=kind_.name)
    buffer = io.BytesIO()
    write_template(buffer, kind_.template_spec(options))
    buffer.seek(0)
    return FileResponse(
        buffer, as_attachment=True, filename=f"{kind_.file_title(options)}_导入模板.xlsx"
    )


# --- preview, confirm, cancel -----------------------------------------------------------------


@login_required
def import_preview(request: HttpRequest, kind: str, token: str) -> HttpResponse:
    kind_ = _kind(request, kind)
    upload, context = _upload(request, kind_, token)
    job = _running_job(request, upload)
    running = job is not None and not job.is_finished
    if request.htmx:
        # The page's poller: reload the whole page once the worker is done.
        response = HttpResponse("")
        if not running:
            response["HX-Refresh"] = "true"
        return response
    summary = upload.summary()
    committed = upload.state == flow.COMMITTED
    counts = (summary or {}).get("counts") or {}
    return render(
        request,
        "aidcases/import/preview.html",
        {
            "kind": kind_,
            "upload": upload,
            "token": upload.token,
            "meta": upload.meta,
            "heading": kind_.heading(upload.options, context),
            "job": job,
            "running": running,
            "job_failed": job is not None and job.state == Job.State.FAILED,
            "summary": summary,
            "committed": committed,
            "result_line": registry.summary_line(
                upload.meta.get("result") or {}, upload.meta.get("notes") or []
            )
            if committed
            else "",
            "can_confirm": bool(
                summary
                and summary["ok"]
                and not committed
                and not running
                and (counts.get("new") or counts.get("updated"))
            ),
            "sections": _sections(summary),
        },
    )


def _sections(summary: dict | None) -> list[dict]:
    if not summary:
        return []
    labels = {
        "new": _("将新增"),
        "updated": _("将更新"),
        "unchanged": _("未变（已有，内容相同）"),
    }
    return [
        {
            "action": action,
            "label": labels[action],
            "count": summary["counts"][action],
            "rows": summary["rows"][action],
            "more": summary["counts"][action] - len(summary["rows"][action]),
        }
        for action in ("new", "updated", "unchanged")
        if summary["counts"][action]
    ]


@login_required
@require_POST
def import_confirm(request: HttpRequest, kind: str, token: str) -> HttpResponse:
    kind_ = _kind(request, kind)
    upload, _context = _upload(request, kind_, token)
    preview = _preview_url(kind_, upload)
    if upload.state == flow.COMMITTED:
        messages.info(request, _("这个文件已经导入过了。"))
        return redirect(preview)
    job = _running_job(request, upload)
    if job is not None and not job.is_finished:
        messages.info(request, _("正在后台处理，请稍候。"))
        return redirect(preview)
    if flow.needs_job(kind_, upload):
        job = services.job_start(
            acting_user=request.user,
            kind=flow.commit_job_kind(kind_),
            params={"token": upload.token},
        )
        upload.update(state=flow.COMMITTING, commit_job=job.pk)
        return redirect(preview)
    try:
        flow.confirm(upload)
    except ValidationError as exc:
        messages.error(request, "；".join([*exc.messages, _("未导入任何内容。")]))
    return redirect(preview)  # the page says what was imported, or what stopped it


@login_required
@require_POST
def import_cancel(request: HttpRequest, kind: str, token: str) -> HttpResponse:
    """Drop an upload that was not imported: its file and check workbook are deleted."""
    kind_ = _kind(request, kind)
    upload, _context = _upload(request, kind_, token)
    job = _running_job(request, upload)
    if upload.state == flow.COMMITTING or (job is not None and not job.is_finished):
        messages.info(request, _("正在后台处理，请等处理完成后再操作。"))
        return redirect(_preview_url(kind_, upload))
    if upload.state != flow.COMMITTED:
        messages.info(
            request, _("已放弃导入“%(file)s”，上传的文件已删除。") % {"file": upload.file_name}
        )
    upload.delete()
    return redirect("import_start", kind=kind_.name)


@login_required
@require_GET
def import_report(request: HttpRequest, kind: str, token: str) -> FileResponse:
    """The uploaded rows with a 错误说明 column (importing.write_error_report)."""
    kind_ = _kind(request, kind)
    upload, _context = _upload(request, kind_, token)
    if not upload.has_report():
        raise Http404
    flow.record_check_download(acting_user=request.user, upload=upload)
    response = FileResponse(
        upload.report_path.open("rb"),
        as_attachment=True,
        filename=f"{kind_.file_title(upload.options)}_导入检查.xlsx",
    )
    response["Cache-Control"] = "no-store"
    return response
