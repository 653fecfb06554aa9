"""Screens of the roster import: upload → preview (every problem, or what will change) →
confirm. Files of people_import.JOB_ROWS rows or more are checked and imported by a worker,
with the shared job progress bar on the preview page.

Uploads are kept under MEDIA_ROOT in the uploading user's own folder, named by a random
token: another user's token is simply not found (404), and nothing is served by URL.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aidcases import access, importing, people_import, services
from aidcases.forms_import import PeopleImportForm, township_choices
from aidcases.models import AidCase, Area, Job

PERMISSION = people_import.PERMISSION


def _require(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def _upload_or_404(request: HttpRequest, token: str) -> tuple[dict, Area]:
    try:
        meta = people_import.upload_meta(request.user, token)
        township = people_import.upload_township(request.user, meta)
    except people_import.UploadMissing:
        raise Http404 from None
    return meta, township


def _job(request: HttpRequest, job_id: int | None) -> Job | None:
    if not job_id:
        return None
    return access.jobs_for(request.user).filter(pk=job_id).first()


# --- upload -----------------------------------------------------------------------------------


@login_required
def people_import_start(request: HttpRequest) -> HttpResponse:
    _require(request)
    form = PeopleImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST":
        raw = request.POST.get("township", "")
        # A township outside the user's scope is not "invalid input": it does not exist here.
        if raw and not (raw.isdigit() and township_choices(request.user).filter(pk=raw).exists()):
            raise Http404
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        token = people_import.upload_store(
            user=request.user,
            chunks=upload.chunks(),
            file_name=upload.name,
            category=data["category"],
            township=data["township"],
        )
        meta = people_import.upload_meta(request.user, token)
        if people_import.needs_job(meta):
            job = services.job_start(
                acting_user=request.user, kind="people_import_validate", params={"token": token}
            )
            people_import.upload_update(
                request.user, token, state="validating", validate_job=job.pk
            )
            return redirect("people_import_preview", token=token)
        plan = people_import.validate_upload(request.user, token)
        file_errors = [issue for issue in plan.errors if issue.line is None]
        if file_errors:
            # The file as a whole is wrong (not a roster, no header, a key column missing):
            # say so next to the upload, and keep nothing. Row problems go to the preview.
            people_import.upload_delete(request.user, token)
            for issue in file_errors:
                form.add_error("file", issue.message)
        else:
            return redirect("people_import_preview", token=token)
    return render(
        request,
        "aidcases/import/start.html",
        {
            "form": form,
            "categories": people_import.categories(),
            "job_rows": people_import.JOB_ROWS,
        },
    )


@login_required
@require_GET
def people_import_template(request: HttpRequest) -> HttpResponse:
    _require(request)
    try:
        entry = people_import.get(request.GET.get("category", ""))
    except ValueError:
        messages.error(request, _("请选择要下载哪一类花名册的模板。"))
        return redirect("people_import")
    buffer = io.BytesIO()
    importing.write_template(buffer, entry.template_spec)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=f"{entry.spec.title}_导入模板.xlsx")


# --- preview and confirm ----------------------------------------------------------------------


@login_required
def people_import_preview(request: HttpRequest, token: str) -> HttpResponse:
    _require(request)
    meta, township = _upload_or_404(request, token)
    state = meta.get("state")
    job = None
    if state == "validating":
        job = _job(request, meta.get("validate_job"))
    elif state == "committing":
        job = _job(request, meta.get("commit_job"))
    running = job is not None and not job.is_finished
    if request.htmx:
        # The page's poller: reload the whole page once the worker is done.
        response = HttpResponse("")
        if not running:
            response["HX-Refresh"] = "true"
        return response
    summary = people_import.upload_summary(request.user, token)
    committed = state == "committed"
    return render(
        request,
        "aidcases/import/preview.html",
        {
            "token": token,
            "meta": meta,
            "township": township,
            "category_label": AidCase.Category(meta["category"]).label,
            "job": job,
            "running": running,
            "job_failed": job is not None and job.state == Job.State.FAILED,
            "summary": summary,
            "committed": committed,
            "result_line": people_import.summary_line(
                meta.get("result") or {}, meta.get("schools") or []
            )
            if committed
            else "",
            "pending_line": "、".join(summary["pending"]) if summary else "",
            "can_confirm": bool(
                summary
                and summary["ok"]
                and not committed
                and not running
                and (summary["counts"]["new"] or summary["counts"]["updated"])
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
        "unchanged": _("未变（已登记，信息相同）"),
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
def people_import_confirm(request: HttpRequest, token: str) -> HttpResponse:
    _require(request)
    meta, _township = _upload_or_404(request, token)
    preview = reverse("people_import_preview", kwargs={"token": token})
    if meta.get("state") == "committed":
        messages.info(request, _("这个文件已经导入过了。"))
        return redirect(preview)
    if meta.get("state") in ("validating", "committing"):
        job = _job(
            request, meta.get("validate_job" if meta["state"] == "validating" else "commit_job")
        )
        if job is not None and not job.is_finished:
            messages.info(request, _("正在后台处理，请稍候。"))
            return redirect(preview)
    if people_import.needs_job(meta):
        job = services.job_start(
            acting_user=request.user, kind="people_import_commit", params={"token": token}
        )
        people_import.upload_update(request.user, token, state="committing", commit_job=job.pk)
        return redirect(preview)
    # Check the stored file again (the registry may have changed since the preview).
    plan = people_import.validate_upload(request.user, token)
    if not plan.ok:
        messages.error(
            request,
            _("复核时发现 %(n)d 处问题，未导入任何内容。请查看下面的问题清单。")
            % {"n": len(plan.errors)},
        )
        return redirect(preview)
    try:
        result = people_import.commit(plan, request.user)
    except ValidationError as exc:
        messages.error(request, "；".join([*exc.messages, _("未导入任何内容。")]))
        return redirect(preview)
    people_import.upload_update(
        request.user, token, state="committed", result=result.counts, schools=result.schools
    )
    return redirect(preview)  # the page says what was imported


@login_required
@require_GET
def people_import_report(request: HttpRequest, token: str) -> FileResponse:
    """The uploaded rows with a 错误说明 column (importing.write_error_report)."""
    _require(request)
    meta, township = _upload_or_404(request, token)
    path = people_import.upload_report_path(request.user, token)
    if path is None:
        raise Http404
    people_import.record_check_download(
        acting_user=request.user,
        township=township,
        file_name=meta["file_name"],
        category=meta["category"],
    )
    title = people_import.get(meta["category"]).spec.title
    response = FileResponse(path.open("rb"), as_attachment=True, filename=f"{title}_导入检查.xlsx")
    response["Cache-Control"] = "no-store"
    return response
