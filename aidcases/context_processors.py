"""Navigation for base.html: the hub's entries and those the leaf apps register."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

# (order, url name, label, permission or None for every signed-in user). Leaf
# apps add theirs in AppConfig.ready() with `register_nav`; `order` places them
# between the hub's own (10, 20 … leave room).
NAV: list[tuple[int, str, str, str | None]] = [
    (0, "home", _("首页"), None),
    (10, "person_list", _("帮扶对象"), "aidcases.view_person"),
    (20, "people_import", _("花名册导入"), "aidcases.import_people"),
    (40, "duplicate_review", _("疑似重复"), "aidcases.merge_people"),
    (90, "area_list", _("行政区划"), "aidcases.view_areas"),
]
ADMIN_NAV: list[tuple[int, str, str, str | None]] = [
    (10, "user_list", _("用户管理"), "aidcases.manage_users"),
    (20, "audit_list", _("审计日志"), "aidcases.view_audit"),
    (30, "job_list", _("后台任务"), None),
]


def register_nav(url_name: str, label: str, permission: str | None = None, *, order: int) -> None:
    """Add an entry to the main navigation (call it from AppConfig.ready())."""
    entry = (order, url_name, label, permission)
    existing = [item for item in NAV if item[1] == url_name]
    if existing:
        if existing != [entry]:
            raise ValueError(f"navigation entry {url_name!r} registered twice")
        return
    NAV.append(entry)
    NAV.sort(key=lambda item: item[0])


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "admin_nav_items": []}

    def allowed(items):
        return [
            (n, label) for _order, n, label, perm in items if perm is None or user.has_perm(perm)
        ]

    return {"nav_items": allowed(NAV), "admin_nav_items": allowed(ADMIN_NAV)}
