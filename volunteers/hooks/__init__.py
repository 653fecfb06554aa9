"""Registrations with the hub, one module per concern (each has `register()`):
teams (teams, volunteers, memberships, activities), pairings, visits (visits,
follow-ups, due visits, coverage), imports (visit and team-roster imports, demo seed),
reminders (the kinds of reminder the hub sends)."""

from __future__ import annotations

import importlib

CONCERNS = ("teams", "pairings", "visits", "imports", "reminders")


def register_all() -> None:
    for name in CONCERNS:
        importlib.import_module(f"volunteers.hooks.{name}").register()
