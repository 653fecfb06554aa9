"""The county's rules for what a visit opens, shared by every way a visit arrives (the
phone form, the Excel import, the demo seed): which needs become follow-ups, who owns
them and by when they are due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from aidcases.models import AidCase, User
from volunteers.models import CARES, MANDATORY_REPORTS, FollowUp

# Days to handle a need found on a visit; mandatory reports are due the same day.
NORMAL_DAYS = 14
URGENT_NEED_DAYS = 3


@dataclass(frozen=True)
class Need:
    source_key: str  # a CARE_KEYS key or a MANDATORY_REPORTS field
    text: str
    urgency: str
    is_mandatory_report: bool = False


def needs_of(values: dict) -> list[Need]:
    """The follow-ups a visit opens, from its field values (`<care>_note`, `<care>_concern`,
    the `report_*` checklist): a care marked as needing attention, a non-empty 急难愁盼,
    and every ticked mandatory report (urgent)."""
    needs: list[Need] = []
    for key, label in CARES:
        note = (values.get(f"{key}_note") or "").strip()
        flagged = bool(values.get(f"{key}_concern"))
        if flagged or (key == "urgent" and note):
            text = f"{label}：{note}" if note else _("%(care)s需关注") % {"care": label}
            urgency = FollowUp.Urgency.URGENT if key == "urgent" else FollowUp.Urgency.NORMAL
            needs.append(Need(key, text[:300], urgency))
    for field, label in MANDATORY_REPORTS:
        if values.get(field):
            text = _("强制报告：%(what)s") % {"what": label}
            needs.append(Need(field, text, FollowUp.Urgency.URGENT, is_mandatory_report=True))
    return needs


def due_on(need: Need, visit_date: date, today: date) -> date:
    """Mandatory reports: today (the day it is entered, whatever the visit date).
    Otherwise counted from the visit, but never before today."""
    if need.is_mandatory_report:
        return today
    days = URGENT_NEED_DAYS if need.urgency == FollowUp.Urgency.URGENT else NORMAL_DAYS
    return max(visit_date + timedelta(days=days), today)


def owner_for(case: AidCase, entered_by: User) -> User:
    """Who owns a follow-up: the township officer of the person's township (the first
    active one by username), so that what a team leader finds lands on the officer's list;
    the person who entered the visit when the township has no officer."""
    path = case.person.area.path
    parts = path.strip("/").split("/")
    prefixes = ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]
    officer = (
        User.objects.filter(
            role=User.Role.TOWNSHIP_OFFICER, is_active=True, area__path__in=prefixes
        )
        .order_by("username")
        .first()
    )
    return officer or entered_by
