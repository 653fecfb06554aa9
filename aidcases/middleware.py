from __future__ import annotations

import contextvars
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

# The client address of the request being served, for audit rows written deep
# inside services that (rightly) never see the request.
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, for the audit log and django-axes (AXES_CLIENT_IP_CALLABLE).

    X-Forwarded-For is whatever the client sent with each proxy's view appended, so only the
    last TRUSTED_PROXY_COUNT entries are believable: with one HTTPS proxy in front, the last
    entry is the client as that proxy saw it; anything before it the client may have forged.
    With no trusted proxy (the default) the header is ignored and the socket address counts.
    """
    trusted = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") if trusted else ""
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    ip = hops[-trusted] if trusted and len(hops) >= trusted else request.META.get("REMOTE_ADDR")
    return ip or None


class RequestSizeLimitMiddleware:
    """Refuse a request body over MAX_REQUEST_BYTES before anything reads it (413), so that an
    upload cannot fill the disk or the memory of a web process. The HTTPS proxy in front caps
    it too (client_max_body_size, README)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.MAX_REQUEST_BYTES
        if length > limit:
            message = _("上传的内容太大（超过 %(mb)d MB），请拆分成几个文件分批上传。") % {
                "mb": limit // (1024 * 1024)
            }
            page = (
                '<!doctype html><html lang="zh-hans"><meta charset="utf-8">'
                f'<title>{message}</title><p>{message}</p><p><a href="/">返回首页</a></p></html>'
            )
            return HttpResponse(
                page,
                status=413,
                content_type="text/html; charset=utf-8",
            )
        return self.get_response(request)


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_ip.set(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            current_ip.reset(token)
        # Pages for signed-in users carry personal data: never cache them.
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            response.setdefault("Cache-Control", "no-store")
        return response
