"""Field-level change history across every pghistory event table, fast at scale.

pghistory's aggregate `Events` view computes a diff for every event of every
table before filtering, which takes seconds once the registry holds hundreds of
thousands of rows. Here each event table is asked only for its newest rows
(index on the primary key) in one UNION ALL query that also merges them; the
rows shown are then read from their tables (one query per table on the page) and
their diffs from their predecessors (one more per table with updates shown).

Phones (every `phone` / `*_phone` field of every table) are masked here like on every
other page; their clear values come only through `services.history_reveal`, which
writes the same audit event as the 一人一档 page's 显示 button. ID numbers (ciphertext,
hash, tail) are never shown at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pghistory.models
from django.apps import apps
from django.db.models import IntegerField, OuterRef, Subquery, Value
from django.utils import timezone

from aidcases import pii
from aidcases.models import User

SECRET_PREFIXES = ("id_number_",)  # ciphertext and keyed hash: never shown
HIDDEN_FIELDS = {"search_tokens", "name_sort", "updated_at"}


def event_models() -> list[type[pghistory.models.Event]]:
    return [
        m
        for m in apps.get_models()
        if issubclass(m, pghistory.models.Event) and not m._meta.abstract
    ]


def _tracked_fields(model) -> list[str]:
    return [
        f.attname
        for f in model._meta.concrete_fields
        if not f.name.startswith("pgh_") and f.attname not in HIDDEN_FIELDS
    ]


def is_masked(name: str) -> bool:
    """Fields shown masked, revealed only by a logged 显示."""
    return name == "phone" or name.endswith("_phone")


def _shown(name: str, value: Any) -> Any:
    if is_masked(name):
        return pii.mask_phone(value) if value else value
    if name.startswith(SECRET_PREFIXES):
        return "（已加密）" if value else ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass
class Entry:
    model_label: str
    tracked_label: str
    pgh_id: int
    pgh_created_at: datetime
    pgh_label: str
    pgh_obj_id: Any
    data: dict
    user_id: int | None
    user: User | None = None
    diff: dict = field(default_factory=dict)
    # Masked fields with a value in this entry (each gets a 显示 for roles that may reveal).
    masked: list[str] = field(default_factory=list)

    @property
    def diff_json(self) -> str:
        return json.dumps(self.diff or self.data, ensure_ascii=False, default=str)


@dataclass
class Filters:
    model: str = ""
    label: str = ""
    user_id: int | None = None
    start: date | None = None
    end: date | None = None


def _queryset(model, filters: Filters):
    qs = model.objects.all()
    if filters.label:
        qs = qs.filter(pgh_label=filters.label)
    if filters.user_id:
        qs = qs.filter(pgh_context__metadata__user=filters.user_id)
    if filters.start:
        qs = qs.filter(pgh_created_at__date__gte=filters.start)
    if filters.end:
        qs = qs.filter(pgh_created_at__date__lte=filters.end)
    return qs


class HistorySequence:
    """Sliceable and countable, so Django's Paginator pages it like a queryset."""

    def __init__(self, filters: Filters):
        self.filters = filters
        models = event_models()
        if filters.model:
            models = [m for m in models if m._meta.label == filters.model]
        self.models = models
        self._count: int | None = None

    def _heads(self, stop: int | None = None):
        """(table number, pgh_id, pgh_created_at) of every table's events in one UNION ALL
        query: the page and the count cost one query each, however many tables are tracked."""
        branches = []
        for number, model in enumerate(self.models):
            qs = (
                _queryset(model, self.filters)
                .annotate(table=Value(number, output_field=IntegerField()))
                .values("table", "pgh_id", "pgh_created_at")
            )
            branches.append(qs)
        if len(branches) <= 1:  # one table left: no UNION
            return branches[0].order_by() if branches else None
        if stop is not None:  # each table's newest `stop` only (its primary-key index)
            branches = [qs.order_by("-pgh_id")[:stop] for qs in branches]
        return branches[0].union(*branches[1:], all=True)

    def count(self) -> int:
        if self._count is None:
            heads = self._heads()
            self._count = heads.count() if heads is not None else 0
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[Entry]:
        start, stop = key.start or 0, key.stop
        if stop is not None and stop <= start:  # (an empty page: a LIMIT 0 would empty the UNION)
            return []
        heads = self._heads(stop)
        if heads is None:
            return []
        shown = list(heads.order_by("-pgh_created_at", "-pgh_id")[start:stop])
        wanted: dict[int, list[int]] = {}
        for head in shown:
            wanted.setdefault(head["table"], []).append(head["pgh_id"])
        entries: dict[tuple[int, int], Entry] = {}
        for number, ids in wanted.items():
            model = self.models[number]
            fields = _tracked_fields(model)
            rows = (
                model.objects.filter(pgh_id__in=ids)
                .annotate(
                    prev_id=Subquery(
                        model.objects.filter(
                            pgh_obj_id=OuterRef("pgh_obj_id"), pgh_id__lt=OuterRef("pgh_id")
                        )
                        .order_by("-pgh_id")
                        .values("pgh_id")[:1]
                    ),
                    actor=_actor_expression(),
                )
                .values("pgh_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "prev_id", "actor",
                        *fields)
            )  # fmt: skip
            tracked = model.pgh_tracked_model._meta.verbose_name
            for row in rows:
                entry = Entry(
                    model_label=model._meta.label,
                    tracked_label=str(tracked),
                    pgh_id=row["pgh_id"],
                    pgh_created_at=row["pgh_created_at"],
                    pgh_label=row["pgh_label"],
                    pgh_obj_id=row["pgh_obj_id"],
                    data={f: _shown(f, row[f]) for f in fields},
                    user_id=int(row["actor"]) if str(row["actor"] or "").isdigit() else None,
                )
                entry.prev_id = row["prev_id"]
                entry.raw = {f: row[f] for f in fields}
                entries[(number, row["pgh_id"])] = entry
        page = [
            entries[(h["table"], h["pgh_id"])]
            for h in shown
            if (h["table"], h["pgh_id"]) in entries
        ]
        self._attach_diffs(page)
        for entry in page:
            before = getattr(entry, "raw_before", None)
            shown_fields = entry.diff if entry.diff else entry.data
            entry.masked = [
                f
                for f in shown_fields
                if is_masked(f) and (entry.raw.get(f) or (before and before.get(f)))
            ]
        users = User.objects.in_bulk({e.user_id for e in page if e.user_id})
        for entry in page:
            entry.user = users.get(entry.user_id)
        return page

    def _attach_diffs(self, page: list[Entry]) -> None:
        by_model: dict[str, list[Entry]] = {}
        for entry in page:
            if entry.pgh_label == "update" and entry.prev_id:
                by_model.setdefault(entry.model_label, []).append(entry)
        for label, entries in by_model.items():
            model = apps.get_model(label)
            fields = _tracked_fields(model)
            previous = {
                row["pgh_id"]: row
                for row in model.objects.filter(pgh_id__in=[e.prev_id for e in entries]).values(
                    "pgh_id", *fields
                )
            }
            for entry in entries:
                before = previous.get(entry.prev_id)
                if before is None:
                    continue
                entry.raw_before = before
                entry.diff = {
                    f: ([_shown(f, before[f]), "已修改"] if f.startswith(SECRET_PREFIXES)
                        else [_shown(f, before[f]), entry.data[f]])
                    for f in fields
                    if before[f] != entry.raw[f]
                }  # fmt: skip


def _actor_expression():
    from django.db.models import F

    return F("pgh_context__metadata__user")


def event_model(label: str) -> type[pghistory.models.Event] | None:
    return next((m for m in event_models() if m._meta.label == label), None)


def clear_values(model: type[pghistory.models.Event], pgh_id: int, name: str) -> dict | None:
    """One event's clear value of a masked field, with the value before it (for a 显示),
    and what the event belongs to; None when there is no such event."""
    fields = _tracked_fields(model)
    if name not in fields or not is_masked(name):
        return None
    row = model.objects.filter(pgh_id=pgh_id).values("pgh_obj_id", *fields).first()
    if row is None:
        return None
    before = (
        model.objects.filter(pgh_obj_id=row["pgh_obj_id"], pgh_id__lt=pgh_id)
        .order_by("-pgh_id")
        .values_list(name, flat=True)
        .first()
    )
    return {"value": row[name] or "", "before": before or "", "row": row}
