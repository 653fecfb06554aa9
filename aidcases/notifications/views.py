"""Each user reads only their own notifications: another's id is a 404 (access.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from aidcases import access, services
from aidcases.pagination import paginate

PAGE_SIZE = 30


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    qs = access.notifications_for(request.user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return render(
        request,
        "aidcases/notifications/notification_list.html",
        {
            "page": paginate(qs, request.GET.get("page"), per_page=PAGE_SIZE),
            "unread_only": unread_only,
            "qs": "unread=1" if unread_only else "",
        },
    )


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read; with `open` go on to what it is about (a path of this site only)."""
    notification = access.get_for_user_or_404(
        access.notifications_for(request.user), request.user, pk=pk
    )
    services.notification_mark_read(acting_user=request.user, notification=notification)
    link = notification.link
    if request.POST.get("open") and link and url_has_allowed_host_and_scheme(link, None):
        return redirect(link)
    return redirect("notification_list")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_all_read(acting_user=request.user)
    return redirect("notification_list")
