from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

# (url name, label, permission or None for every signed-in user). Later apps
# append their entries in AppConfig.ready() with `register_nav`.
NAV: list[tuple[str, str, str | None]] = [
    ("home", _("首页"), None),
    ("person_list", _("帮扶对象"), "aidcases.view_person"),
    ("people_import", _("花名册导入"), "aidcases.import_people"),
    ("school_list", _("学校"), "aidcases.view_person"),
    ("duplicate_review", _("疑似重复"), "aidcases.merge_people"),
    ("area_list", _("行政区划"), "aidcases.view_areas"),
]
ADMIN_NAV: list[tuple[str, str, str | None]] = [
    ("user_list", _("用户管理"), "aidcases.manage_users"),
    ("audit_list", _("审计日志"), "aidcases.view_audit"),
    ("job_list", _("后台任务"), None),
]


def register_nav(url_name: str, label: str, permission: str | None = None) -> None:
    NAV.append((url_name, label, permission))


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "admin_nav_items": []}

    def allowed(items):
        return [(n, label) for n, label, perm in items if perm is None or user.has_perm(perm)]

    return {"nav_items": allowed(NAV), "admin_nav_items": allowed(ADMIN_NAV)}
