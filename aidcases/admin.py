"""Django admin, limited to system admins (系统管理员), with no history screens.

The admin does not know our area scoping or masking, so it is not a way around them: only
an active system admin (who sees every area and may reveal) gets in — any other signed-in
user gets a 404, an anonymous one the login page. pghistory's event browser and every
model's "history" view are removed: field history, masked, is at /audit/history/.
What stays (role groups, axes lockouts) holds no beneficiary data.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from aidcases.models import User

# App labels whose admin pages are removed: pghistory's event browser shows every field of
# every change in clear.
REMOVED_APPS = {"pghistory"}


def _no_history(self, request, object_id, extra_context=None):
    raise Http404


class AdminSite(admin.AdminSite):
    site_header = "帮扶对象管理系统 · 系统管理"
    site_title = "系统管理"
    index_title = "系统管理"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_authenticated and user.role == User.Role.ADMIN)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def gate(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not self.has_permission(request):
                raise Http404
            return inner(request, *args, **kwargs)

        gate.__dict__.update(inner.__dict__)
        return gate

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # One sign-in page for the whole site (axes, audit): the app's.
        if not request.user.is_authenticated:
            return redirect_to_login(request.GET.get("next") or self.index_path())
        if not self.has_permission(request):
            raise Http404
        return redirect(self.index_path())

    def index_path(self) -> str:
        from django.urls import reverse

        return reverse("admin:index", current_app=self.name)


site = AdminSite(name="admin")


def build_site() -> AdminSite:
    """Our site with what the installed apps registered on Django's default one, less the
    removed apps and every history view. Called from urls.py once the apps are ready."""
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in REMOVED_APPS or model in site._registry:
            continue
        without_history = type(
            type(model_admin).__name__, (type(model_admin),), {"history_view": _no_history}
        )
        site.register(model, without_history)
    return site
