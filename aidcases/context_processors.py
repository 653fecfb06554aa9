"""Navigation for base.html: the hub's entries and those the leaf apps register."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

# Entries that share a group show as one dropdown named after it (the bar stays one line
# with a dozen entries); an entry alone in its group, or with none, is a plain link.
PEOPLE = _("帮扶对象")
VOLUNTEERING = _("志愿服务")
SYSTEM = _("系统")

# (order, url name, label, permission or None for every signed-in user, group). Leaf
# apps add theirs in AppConfig.ready() with `register_nav`; `order` places them
# between the hub's own (10, 20 … leave room).
NAV: list[tuple[int, str, str, str | None, str | None]] = [
    (0, "home", _("首页"), None, None),
    (10, "person_list", _("帮扶对象名册"), "aidcases.view_person", PEOPLE),
    (20, "people_import", _("花名册导入"), "aidcases.import_people", PEOPLE),
    (40, "duplicate_review", _("疑似重复"), "aidcases.merge_people", PEOPLE),
    (90, "area_list", _("行政区划"), "aidcases.view_areas", None),
]
ADMIN_NAV: list[tuple[int, str, str, str | None, str | None]] = [
    (10, "user_list", _("用户管理"), "aidcases.manage_users", SYSTEM),
    (20, "audit_list", _("审计日志"), "aidcases.view_audit", SYSTEM),
    (30, "job_list", _("后台任务"), None, SYSTEM),
]


def register_nav(
    url_name: str,
    label: str,
    permission: str | None = None,
    *,
    order: int,
    group: str | None = None,
) -> None:
    """Add an entry to the main navigation (call it from AppConfig.ready()); entries of
    one `group` (e.g. `context_processors.PEOPLE`, or the app's own label) share a dropdown."""
    entry = (order, url_name, label, permission, group)
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
        return [item for item in items if item[3] is None or user.has_perm(item[3])]

    current = getattr(getattr(request, "resolver_match", None), "url_name", None)
    visible, visible_admin = allowed(NAV), allowed(ADMIN_NAV)
    return {
        "nav_items": [(n, label) for _o, n, label, _p, _g in visible],
        "admin_nav_items": [(n, label) for _o, n, label, _p, _g in visible_admin],
        "nav_menu": _menu(visible, current),
        "admin_nav_menu": _menu(visible_admin, current),
    }


def _menu(items, current: str | None) -> list[dict]:
    """[{label, url_name (a link) or entries (a dropdown), active}] in order, a group at the
    place of its first entry."""
    menu: list[dict] = []
    groups: dict[str, dict] = {}
    for _order, name, label, _perm, group in items:
        if group is None:
            menu.append({"label": label, "url_name": name, "active": name == current})
            continue
        if group not in groups:
            groups[group] = {"label": group, "entries": [], "active": False}
            menu.append(groups[group])
        groups[group]["entries"].append((name, label))
        groups[group]["active"] |= name == current
    for entry in menu:
        if len(entry.get("entries", ())) == 1:  # alone in its group: a plain link
            (name, label) = entry.pop("entries")[0]
            entry["url_name"], entry["label"] = name, label
    return menu


def notifications(request: HttpRequest) -> dict:
    """The navbar's unread count, computed only when a page renders it (one indexed count)."""
    from django.utils.functional import SimpleLazyObject

    from aidcases import access

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notification_count": SimpleLazyObject(
            lambda: access.unread_notification_count(user)
        )
    }
