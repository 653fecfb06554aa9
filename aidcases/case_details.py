"""What a leaf app keeps about a case that another leaf app needs, without either one
importing the other's models: the money app freezes a child's school and grade into the
公示 snapshot, and the students app keeps them.

A leaf app registers a provider in ``AppConfig.ready()``::

    case_details.register(selectors.case_school_details)

A provider takes case ids and returns ``{case_id: {"school": …, "grade": …}}`` for the cases
it knows (in a fixed number of queries, whatever the count); readers call ``for_cases``.
The keys are plain strings listed in ``KEYS``; the first provider that names a key for a
case wins. Callers have already checked the user's right to the cases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Details = dict[str, str]
Provider = Callable[[list[int]], dict[int, Details]]

# The details readers may ask for.
KEYS = ("school", "grade")

_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def for_cases(case_ids: Iterable[int]) -> dict[int, Details]:
    """The registered details of each case (a case no provider knows is left out)."""
    ids = sorted(set(case_ids))
    found: dict[int, Details] = {}
    if not ids:
        return found
    for provider in _PROVIDERS:
        for case_id, details in provider(ids).items():
            merged = found.setdefault(case_id, {})
            for key, value in details.items():
                if key in KEYS and value and key not in merged:
                    merged[key] = value
    return found
