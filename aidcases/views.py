from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from aidcases import access, selectors, services
from aidcases.filters import AuditEventFilter, HistoryFilter
from aidcases.forms import PasswordResetForm, UserForm
from aidcases.models import Job, User
from aidcases.pagination import CURSOR_PARAMS, keyset_paginate, paginate
from aidcases.viewutils import add_service_errors, querystring_without_page, require_perm

PAGE_SIZE = 50


def _page(request: HttpRequest, queryset, size: int = PAGE_SIZE):
    return paginate(queryset, request.GET.get("page"), per_page=size)


# --- home -------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    from aidcases.dashboard import cards_for

    return render(
        request,
        "aidcases/home.html",
        {
            "cards": cards_for(request.user),
            "roots": selectors.area_roots(user=request.user),
            "jobs": selectors.jobs_recent(user=request.user),
        },
    )


# --- accounts ---------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.user_record_password_change(user=self.request.user)
        return response


# --- areas ------------------------------------------------------------------


@login_required
def area_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "aidcases.view_areas")
    return render(
        request, "aidcases/area_list.html", {"roots": selectors.area_roots(user=request.user)}
    )


@login_required
def area_detail(request: HttpRequest, code: str) -> HttpResponse:
    area = access.get_for_user_or_404(access.areas_for(request.user), request.user, code=code)
    return render(
        request,
        "aidcases/area_detail.html",
        {
            "area": area,
            "ancestors": area.ancestors(),
            "children": selectors.area_children(user=request.user, area=area),
        },
    )


# --- users ------------------------------------------------------------------


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "aidcases.manage_users")
    users = access.users_for(request.user).order_by("-is_active", "role", "username")
    q = request.GET.get("q", "").strip()
    if q:
        from django.db.models import Q

        users = users.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    return render(
        request,
        "aidcases/user_list.html",
        {"page": _page(request, users), "q": q, "qs": querystring_without_page(request)},
    )


@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, "aidcases.manage_users")
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(
                acting_user=request.user,
                username=data["username"],
                password=data["password"],
                role=data["role"],
                area=data["area"],
                full_name=data["full_name"],
                phone=data["phone"],
                email=data["email"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已创建用户“%(name)s”。") % {"name": user})
            return redirect("user_list")
    return render(request, "aidcases/user_form.html", {"form": form, "creating": True})


@login_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, "aidcases.manage_users")
    target = access.get_for_user_or_404(access.users_for(request.user), request.user, pk=pk)
    initial = {
        "username": target.username,
        "full_name": target.full_name,
        "role": target.role,
        "area": target.area,
        "phone": target.phone,
        "email": target.email,
    }
    form = UserForm(request.POST or None, initial=initial, editing=target)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.user_update(
                acting_user=request.user,
                user=target,
                role=data["role"],
                area=data["area"],
                full_name=data["full_name"],
                phone=data["phone"],
                email=data["email"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存用户“%(name)s”。") % {"name": target})
            return redirect("user_list")
    return render(
        request, "aidcases/user_form.html", {"form": form, "creating": False, "target": target}
    )


@login_required
@require_POST
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, "aidcases.manage_users")
    target = access.get_for_user_or_404(access.users_for(request.user), request.user, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.user_set_active(acting_user=request.user, user=target, active=active)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        msg = _("已启用“%(name)s”。") if active else _("已停用“%(name)s”。")
        messages.success(request, msg % {"name": target})
    return redirect("user_list")


@login_required
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, "aidcases.manage_users")
    target = access.get_for_user_or_404(access.users_for(request.user), request.user, pk=pk)
    form = PasswordResetForm(request.POST or None, user=target)
    if request.method == "POST" and form.is_valid():
        services.user_reset_password(
            acting_user=request.user, user=target, password=form.cleaned_data["password"]
        )
        messages.success(request, _("已重置“%(name)s”的密码。") % {"name": target})
        return redirect("user_list")
    return render(request, "aidcases/user_password.html", {"form": form, "target": target})


# --- audit ------------------------------------------------------------------


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "aidcases.view_audit")
    filterset = AuditEventFilter(
        request.GET or None, queryset=access.audit_events_for(request.user)
    )
    return render(
        request,
        "aidcases/audit_list.html",
        {
            "filter": filterset,
            "page": keyset_paginate(filterset.qs, request.GET, per_page=PAGE_SIZE),
            "qs": _querystring_without_cursor(request),
        },
    )


def _querystring_without_cursor(request: HttpRequest) -> str:
    params = request.GET.copy()
    for name in CURSOR_PARAMS:
        params.pop(name, None)
    return params.urlencode()


@login_required
def history_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "aidcases.view_audit")
    from aidcases import history

    models = [
        (m._meta.label, m.pgh_tracked_model._meta.verbose_name) for m in history.event_models()
    ]
    form = HistoryFilter(request.GET or None, queryset=User.objects.none(), models=models).form
    filters = history.Filters()
    if form.is_valid():
        data = form.cleaned_data
        filters = history.Filters(
            model=data.get("model") or "",
            label=data.get("label") or "",
            user_id=data["user"].pk if data.get("user") else None,
            start=data.get("start"),
            end=data.get("end"),
        )
    page = _page(request, history.HistorySequence(filters))
    return render(
        request,
        "aidcases/history_list.html",
        {
            "filter": {"form": form},
            "page": page,
            "qs": querystring_without_page(request),
            "can_reveal": request.user.has_perm("aidcases.reveal_phone"),
        },
    )


@login_required
@require_POST
def history_reveal(request: HttpRequest, model: str, pgh_id: int, field: str) -> HttpResponse:
    """htmx: the clear value of one masked field of one history event (audited)."""
    require_perm(request, "aidcases.view_audit")
    from aidcases import history
    from aidcases.services.history import history_reveal as reveal

    event_model = history.event_model(model)
    if event_model is None or not history.is_masked(field):
        raise Http404
    values = reveal(acting_user=request.user, model=event_model, pgh_id=pgh_id, field_name=field)
    if values is None:
        raise Http404
    shown = values["value"] or "—"
    if values["before"] and values["before"] != values["value"]:
        shown = f"{values['before']} → {shown}"
    response = HttpResponse(
        format_html('<span class="font-monospace revealed">{}：{}</span>', field, shown)
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def audit_export(request: HttpRequest) -> HttpResponse:
    require_perm(request, "aidcases.export_audit")
    params = {k: v for k, v in request.POST.items() if k in AuditEventFilter.base_filters and v}
    job = services.job_start(acting_user=request.user, kind="audit_export", params=params)
    return redirect(job)


# --- jobs -------------------------------------------------------------------


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "aidcases/job_list.html",
        {"page": _page(request, access.jobs_for(request.user)), "qs": ""},
    )


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = access.get_for_user_or_404(access.jobs_for(request.user), request.user, pk=pk)
    job = _reap_if_stale(job)
    template = "aidcases/_job_status.html" if request.htmx else "aidcases/job_detail.html"
    refused = job.state == Job.State.SUCCEEDED and not access.job_file_allowed(request.user, job)
    return render(request, template, {"job": job, "download_refused": refused})


def _reap_if_stale(job: Job) -> Job:
    # A poll is a good moment to notice a dead worker, even if beat is down too.
    if not job.is_finished and services.job_fail_stale():
        job.refresh_from_db()
    return job


@login_required
def job_download(request: HttpRequest, pk: int) -> FileResponse:
    job = access.get_for_user_or_404(access.jobs_for(request.user), request.user, pk=pk)
    if job.state != Job.State.SUCCEEDED or not job.result_file:
        raise Http404
    if not access.job_file_allowed(request.user, job):
        raise PermissionDenied  # their job, but no longer what it needed: 403, not 404
    services.job_record_download(acting_user=request.user, job=job)
    response = FileResponse(
        job.result_file.open("rb"), as_attachment=True, filename=job.result_name
    )
    response["Cache-Control"] = "no-store"
    return response


# --- health -----------------------------------------------------------------


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, Redis and worker reachability, for load balancers and compose."""
    from django.conf import settings

    checks: dict[str, dict] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except Exception as exc:  # report, don't crash: this page is the diagnosis
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    try:
        import redis

        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
        checks["redis"] = {"ok": True}
    except Exception as exc:
        checks["redis"] = {"ok": False, "error": type(exc).__name__}
    if checks["redis"]["ok"]:
        from aidcases.celery import app

        try:
            replies = app.control.ping(timeout=1.0) or []
            checks["worker"] = {"ok": bool(replies), "workers": len(replies)}
        except Exception as exc:
            checks["worker"] = {"ok": False, "error": type(exc).__name__}
    else:
        checks["worker"] = {"ok": False, "error": "redis unreachable"}
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if ok else "degraded", **checks}, status=200 if ok else 503)
