"""Kinds of reminder, registered by the apps that own the data they look at.

A leaf app registers a kind with `register(...)` from AppConfig.ready(); the hub's
`send_reminders` command and its Celery task (`aidcases.tasks.send_reminders`) run a kind
by name without importing the app. A kind's `plan` says, for a day (and optionally a
quarter and stage given by hand), which reminders are due: a list of `Reminder`, each with
a unique claim key, its recipients and its text. `services.reminders_send` claims the keys
and writes the notifications (and emails) of those it could claim.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

STAGES = ("start", "mid", "end")
STAGE_LABELS = {"start": "季度初", "mid": "季度中", "end": "季度末前两周"}
QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")


@dataclass(frozen=True)
class Reminder:
    """One reminder about one thing (a team, an owner's overdue follow-ups …), claimed once
    by `key`, sent to each of `recipients` (users) as a notification."""

    key: str
    about: str
    recipients: list[Any]
    title: str
    body: str = ""
    link: str = ""


@dataclass(frozen=True)
class Plan:
    """What a kind would send: `period` names the quarter/month/day in words; `reminders`
    is empty when none is due (or today is no reminder day: `note` says why)."""

    period: str
    reminders: list[Reminder] = field(default_factory=list)
    note: str = ""


# (today, quarter "2026Q4" or None, stage or None) → Plan. Raises ValidationError for an
# option the kind cannot take.
Planner = Callable[..., Plan]


@dataclass(frozen=True)
class ReminderKind:
    kind: str
    label: str
    plan: Planner
    takes_quarter: bool = False
    takes_stage: bool = False


_KINDS: dict[str, ReminderKind] = {}


def register(
    kind: str,
    *,
    label: str,
    plan: Planner,
    takes_quarter: bool = False,
    takes_stage: bool = False,
) -> None:
    _KINDS[kind] = ReminderKind(
        kind=kind, label=label, plan=plan, takes_quarter=takes_quarter, takes_stage=takes_stage
    )


def kinds() -> list[ReminderKind]:
    return list(_KINDS.values())


def get_kind(kind: str) -> ReminderKind:
    try:
        return _KINDS[kind]
    except KeyError as exc:
        raise ValidationError(_("没有这种提醒：%(kind)s") % {"kind": kind}) from exc


def kind_label(kind: str) -> str:
    return str(_KINDS[kind].label) if kind in _KINDS else kind


def parse_quarter(text: str) -> tuple[int, int]:
    """ "2026Q4" → (2026, 4); anything else is a ValidationError in Chinese."""
    match = QUARTER_RE.match((text or "").strip().upper())
    if not match:
        raise ValidationError(_("季度应写作 2026Q4 这样的格式：%(text)s") % {"text": text})
    return int(match[1]), int(match[2])


def plan(kind: str, *, today: date, quarter: str | None = None, stage: str | None = None) -> Plan:
    """The kind's plan for `today` (or for the quarter and stage given by hand)."""
    found = get_kind(kind)
    if quarter is not None and not found.takes_quarter:
        raise ValidationError(_("“%(kind)s”不按季度发送，不能指定 --quarter") % {"kind": kind})
    if stage is not None and not found.takes_stage:
        raise ValidationError(_("“%(kind)s”没有阶段，不能指定 --stage") % {"kind": kind})
    if stage is not None and stage not in STAGES:
        raise ValidationError(_("阶段应为 start、mid 或 end：%(stage)s") % {"stage": stage})
    if quarter is not None:
        parse_quarter(quarter)
    return found.plan(today=today, quarter=quarter, stage=stage)
