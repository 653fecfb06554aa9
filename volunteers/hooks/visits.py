"""Hub registrations for the visits concern: navigation, audit verbs, the 一人一档
sections 走访记录 and 跟进事项, and the home-page cards."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidcases import archive, dashboard
from aidcases.audit import register_verbs
from aidcases.context_processors import VOLUNTEERING, register_nav
from aidcases.models import Person, User
from volunteers import scoping

ARCHIVE_VISITS = 20  # the newest visits shown on the archive page


def visits_section(person: Person, user: User):
    from volunteers.models import Visit

    if not user.has_perm("volunteers.view_visit"):
        return None
    qs = (
        Visit.objects.filter(scoping.of_person_q(Visit, user, person), case__person=person)
        .select_related("team", "case")
        .prefetch_related("visitors")
        .order_by("-date", "-id")
    )
    visits = list(qs[: ARCHIVE_VISITS + 1])
    if not visits:
        return None
    return {"visits": visits[:ARCHIVE_VISITS], "more": len(visits) > ARCHIVE_VISITS}


def follow_ups_section(person: Person, user: User):
    from volunteers.models import FollowUp

    if not user.has_perm("volunteers.view_followup"):
        return None
    rows = list(
        FollowUp.objects.filter(scoping.of_person_q(FollowUp, user, person), case__person=person)
        .select_related("owner")
        .order_by("-created_at", "-id")[:50]
    )
    if not rows:
        return None
    return {"follow_ups": rows, "today": timezone.localdate()}


VISITS_SECTION = archive.Section(
    key="volunteers.visits",
    title="走访记录",
    template="volunteers/visits/_archive_visits.html",
    context=visits_section,
    order=60,
)
FOLLOW_UPS_SECTION = archive.Section(
    key="volunteers.follow_ups",
    title="跟进事项",
    template="volunteers/visits/_archive_follow_ups.html",
    context=follow_ups_section,
    order=62,
)


def visits_card(user: User):
    from volunteers.selectors import visits as selectors

    if not user.has_perm("volunteers.view_visit"):
        return None
    today = timezone.localdate()
    start = selectors.quarter_start(today)
    return {
        "title": _("本季度走访人次"),
        "value": dashboard.cached_figure(
            user, "visits", lambda: selectors.visits_this_quarter(user=user, today=today)
        ),
        "note": _("%(start)s 起") % {"start": start.strftime("%Y-%m-%d")},
        "url": reverse("visit_list") + f"?date_from={start.isoformat()}",
    }


def overdue_card(user: User):
    from volunteers.selectors import visits as selectors

    if not user.has_perm("volunteers.view_visit"):
        return None
    return {
        "title": _("逾期未走访"),
        "value": dashboard.cached_figure(
            user,
            "overdue_visits",
            lambda: selectors.overdue_count(user=user, today=timezone.localdate()),
        ),
        "note": _("特困每季度、留守儿童每月至少走访一次"),
        "url": reverse("visit_due") + "?state=overdue",
    }


def urgent_card(user: User):
    """Open urgent follow-ups — mandatory reports first — listed by name, on the home page
    of every county user and of the township's officer until handled."""
    from volunteers.selectors import visits as selectors

    if not user.has_perm("volunteers.view_followup"):
        return None
    qs = selectors.open_urgent_follow_ups(user=user)
    first = list(qs[:3])
    if not first:
        return {
            "title": _("未处理的紧急事项"),
            "value": 0,
            "note": _("暂无"),
            "url": reverse("follow_up_list") + "?tab=all&state=open&urgency=urgent",
        }
    total = qs.count() if len(first) == 3 else len(first)
    names = "；".join(f"{f.case.person.name}：{f.need}" for f in first)
    if total > len(first):
        names += _(" 等")
    return {
        "title": _("未处理的紧急事项"),
        "value": total,
        "note": names,
        "url": reverse("follow_up_list") + "?tab=all&state=open&urgency=urgent",
    }


def register() -> None:
    for name, label, perm, order in (
        ("visit_list", gettext_lazy("走访记录"), "volunteers.view_visit", 55),
        ("follow_up_list", gettext_lazy("跟进事项"), "volunteers.view_followup", 57),
    ):
        register_nav(name, label, perm, order=order, group=VOLUNTEERING)
    register_verbs(
        {
            "visit.record": gettext_lazy("登记走访"),
            "follow_up.open": gettext_lazy("生成跟进事项"),
            "follow_up.start": gettext_lazy("开始处理跟进事项"),
            "follow_up.resolve": gettext_lazy("办结跟进事项"),
            "follow_up.close": gettext_lazy("关闭跟进事项"),
            "follow_up.reassign": gettext_lazy("转交跟进事项"),
            "follow_up.refer": gettext_lazy("转介跟进事项"),
        }
    )
    archive.register(VISITS_SECTION)
    archive.register(FOLLOW_UPS_SECTION)
    dashboard.register_card(urgent_card)
    dashboard.register_card(visits_card)
    dashboard.register_card(overdue_card)
