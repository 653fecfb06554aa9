"""One paginator for every list page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Count, F, OrderBy, Q
from django.db.models.sql.where import WhereNode
from django.utils.functional import cached_property


class ListPaginator(Paginator):
    """Counts without the joins that display adds (`select_related`, annotations
    such as a township name): at province scale the page's COUNT is the dearest
    query, and those joins follow non-null foreign keys, so they do not change it.
    `count_queryset` is the same rows without the display extras."""

    def __init__(self, object_list, per_page, *, count_queryset=None, ids_first=False, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count_queryset = count_queryset
        self.ids_first = ids_first

    def page(self, number):
        if not self.ids_first:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        return self._get_page(rows_by_ids_first(self.object_list, bottom, top), number, self)

    @cached_property
    def count(self) -> int:
        qs = self.count_queryset if self.count_queryset is not None else self.object_list
        if hasattr(qs, "select_related"):
            return qs.select_related(None).prefetch_related(None).order_by().count()
        return len(qs)


def paginate(
    queryset, page_number, *, per_page: int = 50, count_queryset=None, ids_first: bool = False
):
    """A page of `queryset`. `ids_first`: see `rows_by_ids_first`."""
    return ListPaginator(
        queryset, per_page, count_queryset=count_queryset, ids_first=ids_first
    ).get_page(page_number)


def rows_by_ids_first(queryset, start: int, stop: int) -> list:
    """Rows `start:stop` of `queryset` in two queries: the page's ids in the list's order
    without the display joins, then those rows with them. Where a scope or filter leaves
    thousands of rows to sort, PostgreSQL otherwise joins every one of them to the person,
    area and team tables before the sort keeps 50 (an officer's visit list: 4,945 rows
    joined, 120 ms, for a page that needs 50)."""
    if stop <= start:
        return []
    ids = list(
        queryset.select_related(None)
        .prefetch_related(None)
        .values_list("pk", flat=True)[start:stop]
    )
    # The ids come from the scoped, filtered query: the second asks by id alone (its WHERE
    # dropped; a scope's subqueries would otherwise run again for 50 rows).
    display = queryset.order_by()
    display.query.where = WhereNode()
    rows = {row.pk: row for row in display.filter(pk__in=ids)}
    return [rows[pk] for pk in ids if pk in rows]


# --- keyset pagination ------------------------------------------------------------
#
# OFFSET makes PostgreSQL produce and throw away every row before the page:
# page 2,000 of the people list read 100,000 rows (and computed their display
# columns) to show 50. The links of a keyset page say instead where the page
# starts: `after=<id>` (the last row of the previous page) or `before=<id>` (the
# first row of the next one). The server looks that row's sort values up *in the
# same scoped, filtered queryset* (an id out of scope finds nothing and shows the
# first page), and asks for the rows after those values, which the sort's index
# answers directly. Only ids reach the URL: no names or birth dates in access
# logs. `page=N` alone (an old bookmark) still works by offset; `page=last` reads
# the end backwards. Pages hold the same rows as offset pages of the same number.

CURSOR_PARAMS = ("page", "after", "before")
# Offset pages start no deeper than this; a deeper typed page number is found
# through the row before it (`_row_at`), then read like a 下一页 page.
DEEP_OFFSET = 1_000
FEW_GROUPS = 200  # up to this many related ids are asked for by id (`_sort_groups`)


@dataclass(frozen=True)
class _Key:
    path: str  # field path, "area__path"
    descending: bool
    nulls_last: bool  # PostgreSQL's default: last ascending, first descending


def _keys(queryset) -> list[_Key]:
    query = queryset.query
    ordering = list(query.order_by) or (
        list(queryset.model._meta.ordering) if query.default_ordering else []
    )
    keys = []
    for item in ordering:
        if isinstance(item, str):
            descending = item.startswith("-")
            keys.append(_Key(item.lstrip("-"), descending, nulls_last=not descending))
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            nulls_last = item.nulls_last or (not item.descending and not item.nulls_first)
            keys.append(_Key(item.expression.name, item.descending, bool(nulls_last)))
        else:
            raise ValueError(f"keyset pagination needs field orderings, not {item!r}")
    paths = [k.path for k in keys]
    if not ({"pk", "id"} & set(paths)):
        raise ValueError("keyset pagination needs the primary key last in the ordering")
    return keys


def _beyond(keys: list[_Key], values, *, backwards: bool) -> Q:
    """Rows strictly after `values` in the order of `keys` (before, backwards)."""
    never = Q(pk__in=[])

    def past(key: _Key, value) -> Q:
        descending, nulls_last = key.descending, key.nulls_last
        if backwards:
            descending, nulls_last = not descending, not nulls_last
        if value is None:
            return never if nulls_last else Q(**{f"{key.path}__isnull": False})
        q = Q(**{f"{key.path}__{'lt' if descending else 'gt'}": value})
        return q | Q(**{f"{key.path}__isnull": True}) if nulls_last else q

    def same(key: _Key, value) -> Q:
        return Q(**{f"{key.path}__isnull": True}) if value is None else Q(**{key.path: value})

    condition = never
    for i, key in enumerate(keys):
        term = past(key, values[i])
        for earlier, value in zip(keys[:i], values[:i], strict=True):
            term &= same(earlier, value)
        condition |= term
    # The same bound on the first column alone, which an index can seek to.
    first, value = keys[0], values[0]
    if value is not None:
        descending = first.descending != backwards
        nulls_after = first.nulls_last != backwards
        bound = Q(**{f"{first.path}__{'lte' if descending else 'gte'}": value})
        if nulls_after:
            bound |= Q(**{f"{first.path}__isnull": True})
        condition &= bound
    return condition


def _sort_groups(queryset, keys: list[_Key]) -> list[tuple[object, int]] | None:
    """The rows counted by the value of the first sort key, in the list's order,
    when that key is a field across a foreign key ("area__path"); else None.

    Counting by the foreign key's column alone reads an index on the list's own
    table (GROUP BY area_id), and the distinct values are put in order by a
    second query on the related table, so that no row is joined or sorted. Meant
    for a foreign key to a small table (areas: thousands of rows), which is read
    whole when many of its rows are counted (an IN list of 3,000 ids cost more
    than reading 3,200 areas in order)."""
    first = keys[0]
    head, _sep, tail = first.path.partition("__")
    if not tail or "__" in tail:
        return None
    try:
        field = queryset.model._meta.get_field(head)
    except FieldDoesNotExist:
        return None
    if not (field.many_to_one and field.concrete):
        return None
    counts = dict(
        queryset.order_by()
        .values_list(field.attname)
        .annotate(rows=Count("*"))
        .values_list(field.attname, "rows")
    )
    column = F(tail)
    order = column.desc() if first.descending else column.asc()
    groups: list[tuple[object, int]] = []
    nulls = counts.pop(None, 0)
    related = field.related_model._base_manager.order_by(order)
    if len(counts) <= FEW_GROUPS:
        related = related.filter(pk__in=list(counts))
    for pk, value in related.values_list("pk", tail):
        if pk not in counts:
            continue
        if value is None:  # sorts with the rows that have no related row
            nulls += counts[pk]
        elif groups and groups[-1][0] == value:
            groups[-1] = (value, groups[-1][1] + counts[pk])
        else:
            groups.append((value, counts[pk]))
    if nulls:
        groups = [*groups, (None, nulls)] if first.nulls_last else [(None, nulls), *groups]
    return groups


def _row_at(queryset, keys: list[_Key], index: int, groups) -> tuple | None:
    """The sort values of the row at `index` (from 0) of `queryset`'s order.

    With `groups` (`_sort_groups`), the row is found within its first-key group:
    an offset over a few dozen rows by index, not over every row before it (an
    OFFSET of 100,000 rows, joined and sorted by the area path, took 180 ms)."""
    paths = [k.path for k in keys]
    rows = queryset.prefetch_related(None).values_list(*paths)
    if groups is not None:
        seen = 0
        for value, count in groups:
            if index < seen + count:
                first = keys[0].path
                lookup = {f"{first}__isnull": True} if value is None else {first: value}
                rows, index = rows.filter(**lookup), index - seen
                break
            seen += count
        else:
            return None
    return next(iter(rows[index : index + 1]), None)


class KeysetPage(Sequence):
    """A page for `_pagination.html`, shaped like Django's Page where the
    templates use it (iteration, number, paginator.count/num_pages)."""

    def __init__(self, object_list, *, number: int, paginator, has_next: bool, has_previous: bool):
        self.object_list = list(object_list)
        self.number = number
        self.paginator = paginator
        self._has_next, self._has_previous = has_next, has_previous

    def __getitem__(self, index):
        return self.object_list[index]

    def __len__(self) -> int:
        return len(self.object_list)

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self._has_previous

    def has_other_pages(self) -> bool:
        return self._has_next or self._has_previous

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_query(self) -> str:
        return urlencode({"after": self.object_list[-1].pk, "page": self.number + 1})

    @property
    def previous_query(self) -> str:
        if self.number <= 2:
            return "page=1"
        return urlencode({"before": self.object_list[0].pk, "page": self.number - 1})


def _int_param(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def keyset_paginate(queryset, params, *, per_page: int = 50, count_queryset=None) -> KeysetPage:
    """The page that `params` (request.GET) asks for; see the comment above.

    Queries: the count, the page, and one lookup of the cursor row when the
    request carries one (or of the row before a typed deep page number) —
    whatever the depth."""
    keys = _keys(queryset)
    paginator = ListPaginator(queryset, per_page, count_queryset=count_queryset)
    number = _int_param(params.get("page")) or 1
    after, before = _int_param(params.get("after")), _int_param(params.get("before"))
    cursor = after or before
    groups = None
    if cursor is None and params.get("page") != "last" and (number - 1) * per_page >= DEEP_OFFSET:
        counted = count_queryset if count_queryset is not None else queryset
        groups = _sort_groups(counted, keys)
        if groups is not None:  # they count the list too
            paginator.count = sum(count for _value, count in groups)
    num_pages = paginator.num_pages
    if cursor is not None:
        values = (
            queryset.filter(pk=cursor)
            .prefetch_related(None)
            .values_list(*[k.path for k in keys])
            .first()
        )
        if values is None:  # gone, or never in this list: start again
            cursor, number = None, 1
    if params.get("page") == "last" and cursor is None:
        number = num_pages
        size = paginator.count - (num_pages - 1) * per_page
        rows = list(queryset.reverse()[:size])[::-1] if size > 0 else []
        return KeysetPage(
            rows, number=number, paginator=paginator, has_next=False, has_previous=number > 1
        )
    if cursor is None:
        number = min(number, num_pages)
        start = (number - 1) * per_page
        if start < DEEP_OFFSET:
            rows = list(queryset[start : start + per_page])
            return KeysetPage(
                rows,
                number=number,
                paginator=paginator,
                has_next=number < num_pages,
                has_previous=number > 1,
            )
        # A typed deep page number: find the row before it (no display columns
        # computed for the rows skipped), then read the page by key.
        values = _row_at(queryset, keys, start - 1, groups)
        if values is None:  # the list shrank meanwhile
            return keyset_paginate(queryset, {}, per_page=per_page, count_queryset=count_queryset)
        backwards = False
    else:
        backwards = after is None
    number = max(1, min(number, num_pages))
    beyond = queryset.filter(_beyond(keys, values, backwards=backwards))
    if backwards:
        rows = list(beyond.reverse()[: per_page + 1])
        more, rows = len(rows) > per_page, rows[:per_page][::-1]
        return KeysetPage(
            rows, number=number, paginator=paginator, has_next=True, has_previous=more
        )
    rows = list(beyond[: per_page + 1])
    more, rows = len(rows) > per_page, rows[:per_page]
    return KeysetPage(rows, number=number, paginator=paginator, has_next=more, has_previous=True)
