"""Keyset pagination (aidcases/pagination.py): deep pages of the people list and
the audit log are found through the row they start after, and hold exactly the
rows of the offset page with the same number, in the same order."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aidcases import pagination, selectors
from aidcases.models import AuditEvent, Person
from aidcases.pagination import keyset_paginate
from aidcases.people import views as people_views
from aidcases.people.filters import SORTS
from tests.factories import make_id_number, make_person

PER_PAGE = 3


@pytest.fixture
def crowd(village_a, township_a):
    """Eleven people: repeated names (ties on the name sort), two villages, and
    people without a birth date (NULLs in the birth-date sorts)."""
    from tests.factories import child_area

    other_village = child_area(township_a, "202", "北街村", "village")
    names = ["王芳", "李明", "王芳", "张伟", "李明", "王芳", "赵六", "钱七", "王芳", "孙八", "李明"]
    people = []
    for i, name in enumerate(names):
        area = village_a if i % 2 else other_village
        if i % 4 == 3:
            people.append(make_person(area, name=name, no_id_reason="尚未办理户口", gender="male"))
        else:
            birth = date(2010, 1 + i % 3, 1)  # ties on the birth date too
            people.append(make_person(area, name=name, id_number=make_id_number(birth)))
    return people


def _ids(rows) -> list[int]:
    return [row.pk for row in rows]


def _offset_pages(queryset) -> list[list[int]]:
    paginator = Paginator(queryset, PER_PAGE)
    return [_ids(paginator.page(n).object_list) for n in paginator.page_range]


def _walk(queryset, first_query: str, step: str) -> list[tuple[int, list[int]]]:
    pages, query = [], first_query
    while True:
        page = keyset_paginate(queryset, QueryDict(query), per_page=PER_PAGE)
        pages.append((page.number, _ids(page)))
        more = page.has_next() if step == "next_query" else page.has_previous()
        if not more:
            return pages
        query = getattr(page, step)


@pytest.mark.parametrize("sort", list(SORTS))
def test_it_walks_forward_through_the_same_pages_as_offset(crowd, sort):
    queryset = Person.objects.order_by(*SORTS[sort])
    offset = _offset_pages(queryset)
    walked = _walk(queryset, "", "next_query")
    assert [ids for _n, ids in walked] == offset
    assert [n for n, _ids in walked] == list(range(1, len(offset) + 1))


@pytest.mark.parametrize("sort", list(SORTS))
def test_it_walks_back_from_the_last_page_through_the_same_pages(crowd, sort):
    queryset = Person.objects.order_by(*SORTS[sort])
    offset = _offset_pages(queryset)
    walked = _walk(queryset, "page=last", "previous_query")
    assert [ids for _n, ids in walked] == offset[::-1]
    assert [n for n, _ids in walked] == list(range(len(offset), 0, -1))


def test_a_page_number_alone_is_the_offset_page(crowd):
    queryset = Person.objects.order_by(*SORTS["name"])
    page = keyset_paginate(queryset, QueryDict("page=3"), per_page=PER_PAGE)
    assert _ids(page) == _offset_pages(queryset)[2]
    assert page.number == 3


@pytest.mark.parametrize("sort", list(SORTS))
def test_a_deep_typed_page_number_is_still_the_offset_page(crowd, sort, monkeypatch):
    # Past DEEP_OFFSET rows the page is found over the sort keys, then read by key.
    monkeypatch.setattr(pagination, "DEEP_OFFSET", PER_PAGE)
    queryset = Person.objects.order_by(*SORTS[sort])
    offset = _offset_pages(queryset)
    for number, expected in enumerate(offset, start=1):
        page = keyset_paginate(queryset, QueryDict(f"page={number}"), per_page=PER_PAGE)
        assert (page.number, _ids(page)) == (number, expected)
        assert page.has_next() == (number < len(offset))


def test_a_cursor_outside_the_list_shows_the_first_page(crowd, village_b):
    # An id of another township (or a row deleted meanwhile) finds nothing in
    # the scoped queryset: the first page, not rows placed by the stranger's values.
    stranger = make_person(village_b, name="阿", id_number=make_id_number(date(2011, 1, 1)))
    queryset = Person.objects.exclude(pk=stranger.pk).order_by(*SORTS["name"])
    page = keyset_paginate(queryset, QueryDict(f"after={stranger.pk}&page=3"), per_page=PER_PAGE)
    assert page.number == 1
    assert _ids(page) == _offset_pages(queryset)[0]


def test_an_ordering_without_the_primary_key_is_refused(crowd):
    with pytest.raises(ValueError, match="primary key"):
        keyset_paginate(Person.objects.order_by("name_sort"), QueryDict(""), per_page=PER_PAGE)


# --- on the pages --------------------------------------------------------------


def _page_ids(response) -> list[int]:
    return _ids(response.context["page"].object_list)


def _get(client, url: str, query: str = ""):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"{url}?{query}")
    assert response.status_code == 200
    return response, len(ctx.captured_queries)


@pytest.mark.parametrize("sort", ["village", "-birth"])
def test_people_list_next_links_match_offset_pages_in_constant_queries(
    client_for, county_staff, crowd, monkeypatch, sort
):
    monkeypatch.setattr(people_views, "PAGE_SIZE", PER_PAGE)
    client = client_for(county_staff)
    expected = _offset_pages(selectors.people_for(user=county_staff).order_by(*SORTS[sort]))
    response, first_queries = _get(client, "/people/", f"sort={sort}")
    seen, counts = [_page_ids(response)], []
    while response.context["page"].has_next():
        query = f"sort={sort}&{response.context['page'].next_query}"
        assert query.split("&", 1)[1] in response.content.decode().replace("&amp;", "&")
        response, queries = _get(client, "/people/", query)
        seen.append(_page_ids(response))
        counts.append(queries)
    assert seen == expected
    # The cursor's lookup is the one query a deep page adds, however deep.
    assert set(counts) == {first_queries + 1}


def test_audit_log_next_links_match_offset_pages(client_for, admin, monkeypatch):
    from aidcases import views

    monkeypatch.setattr(views, "PAGE_SIZE", PER_PAGE)
    at = timezone.now()
    same_time = [
        AuditEvent(actor=admin, verb="auth.login", object_repr=f"事件{i}", at=at) for i in range(8)
    ]
    AuditEvent.objects.bulk_create(same_time)  # the id breaks the ties
    client = client_for(admin)
    expected = _offset_pages(AuditEvent.objects.order_by("-at", "-id"))
    response, first_queries = _get(client, "/audit/")
    seen, counts = [_page_ids(response)], []
    while response.context["page"].has_next():
        response, queries = _get(client, "/audit/", response.context["page"].next_query)
        seen.append(_page_ids(response))
        counts.append(queries)
    assert seen == expected
    assert set(counts) == {first_queries + 1}


# --- typed deep page numbers ----------------------------------------------------


@pytest.fixture
def wider_crowd(crowd, village_b):
    """The crowd and a village of the other township, with names the crowd has."""
    names = ["王芳", "李明", "周九", "吴十"]
    return crowd + [
        make_person(village_b, name=name, id_number=make_id_number(date(2011, 2, 1 + i)))
        for i, name in enumerate(names)
    ]


@pytest.mark.parametrize("few_groups", [200, 0])  # areas asked for by id, or read whole
@pytest.mark.parametrize("query", ["", "township={a}", "q=王芳", "gender=male", "sort=name"])
def test_people_list_typed_page_numbers_are_the_offset_pages_with_filters(
    client_for, county_staff, wider_crowd, township_a, monkeypatch, query, few_groups
):
    monkeypatch.setattr(people_views, "PAGE_SIZE", PER_PAGE)
    monkeypatch.setattr(pagination, "DEEP_OFFSET", PER_PAGE)  # every page past the first
    monkeypatch.setattr(pagination, "FEW_GROUPS", few_groups)
    client = client_for(county_staff)
    query = query.format(a=township_a.pk)
    filtered = client.get(f"/people/?{query}").context["filter"].qs
    offset = Paginator(filtered, PER_PAGE)  # plain OFFSET pages of the same rows
    assert offset.num_pages > 1 or query
    # Out of range: the last page, as Django's get_page.
    for number in [*offset.page_range, offset.num_pages + 1, 9999, "last"]:
        response, _queries = _get(client, "/people/", f"{query}&page={number}")
        expected = offset.get_page(offset.num_pages if number == "last" else number)
        assert (response.context["page"].number, _page_ids(response)) == (
            expected.number,
            _ids(expected.object_list),
        ), number


def test_a_typed_deep_page_skips_rows_within_one_village_only(
    county_staff, wider_crowd, monkeypatch
):
    # OFFSET over the whole list sorted by the area path read (and joined, and
    # sorted) every row before the page: 180 ms at page 2,000 of 200,000 people.
    # The row before the page is found from per-area counts, then within its area.
    monkeypatch.setattr(pagination, "DEEP_OFFSET", PER_PAGE)
    queryset = selectors.people_for(user=county_staff).order_by(*SORTS["village"])
    per_village = Counter(queryset.values_list("area_id", flat=True))
    with CaptureQueriesContext(connection) as ctx:
        page = keyset_paginate(queryset, QueryDict("page=4"), per_page=PER_PAGE)
    assert _ids(page) == _offset_pages(queryset)[3]
    skipped = [int(n) for q in ctx.captured_queries for n in re.findall(r"OFFSET (\d+)", q["sql"])]
    assert max(skipped, default=0) < max(per_village.values())


def test_ids_first_pages_hold_the_offset_pages_rows_in_order(crowd, village_a):
    """`paginate(..., ids_first=True)` asks for the page's ids without the display joins,
    then for those rows with them: the same rows, the same order, the filter kept."""
    in_village = Person.objects.filter(area=village_a).select_related("area__parent")
    for sort in ("name_sort", "-birth_date"):
        queryset = in_village.order_by(sort, "pk")
        offset = _offset_pages(queryset)
        lean = [
            _ids(pagination.paginate(queryset, n, per_page=PER_PAGE, ids_first=True))
            for n in range(1, len(offset) + 1)
        ]
        assert lean == offset
        assert {p.area_id for p in pagination.paginate(queryset, 1, ids_first=True)} == {
            village_a.pk
        }
