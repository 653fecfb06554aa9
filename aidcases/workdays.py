"""The county's working-day calendar: weekends and the holiday list
(settings.PUBLIC_HOLIDAYS, ISO dates) do not count; make-up working days
(settings.MAKEUP_WORKDAYS, 调休上班的周末) do. Used by the 公示 window (disbursements,
which re-exports it from disbursements.workdays) and by the reminders' stage days."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings


def _dates(name: str) -> set[date]:
    return {date.fromisoformat(str(d)) for d in getattr(settings, name, ()) or ()}


def is_working_day(day: date) -> bool:
    if day in _dates("MAKEUP_WORKDAYS"):
        return True
    return day.weekday() < 5 and day not in _dates("PUBLIC_HOLIDAYS")


def working_days_end(start: date, count: int) -> date:
    """The last day of a window of `count` working days that begins on `start` (or on
    the first working day after it)."""
    day = start
    while not is_working_day(day):
        day += timedelta(days=1)
    left = count - 1
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def first_working_day_from(day: date) -> date:
    """`day` itself when it is a working day, else the next one."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def last_working_day_until(day: date) -> date:
    """`day` itself when it is a working day, else the working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day
