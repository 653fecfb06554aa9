"""The 一人一档 (per-person archive) page is assembled from sections.

The hub owns identity, family, cases, attachments and history; the leaf apps
(aid received, visits, follow-ups …) register their sections here from
AppConfig.ready(), the way apps register with the Django admin. The hub never
imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aidcases.models import Person, User


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    template: str  # rendered with {"person", "section", "data", "user"}
    # (person, user) -> context data, or None to hide the section for this person
    context: Callable[[Person, User], Any]
    order: int = 100


_SECTIONS: dict[str, Section] = {}


def register(section: Section) -> Section:
    if section.key in _SECTIONS and _SECTIONS[section.key] != section:
        raise ValueError(f"archive section {section.key!r} registered twice")
    _SECTIONS[section.key] = section
    return section


def unregister(key: str) -> None:
    _SECTIONS.pop(key, None)


def sections() -> list[Section]:
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))


def render_data(person: Person, user: User) -> list[tuple[Section, Any]]:
    """Each visible section with its data, in order."""
    out = []
    for section in sections():
        data = section.context(person, user)
        if data is not None:
            out.append((section, data))
    return out
