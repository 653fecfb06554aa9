"""The money pages at any size: the batch page reads its lines by key (下一页 carries
after=<id>), the batch list counts the lines of its page's batches only, in the reader's
scope; the number of queries does not grow with lines, batches or depth."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aidcases.models import AidCase
from disbursements import services
from tests.factories import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr("disbursements.views.batches.PAGE_SIZE", 2)


def _names(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'<tr data-testid="line-row".*?<a href="/people/\d+/">(.*?)</a>', html, re.S)


def test_the_batch_page_pages_by_key_and_a_typed_page_finds_the_same_rows(
    walk, client_for, county_staff, small_pages
):
    batch = walk("locked")
    ids = list(batch.lines.order_by("pk").values_list("pk", flat=True))
    client = client_for(county_staff)
    url = reverse("batch_detail", args=[batch.pk])
    first = client.get(url)
    assert _names(first) == ["赵小明", "钱小红"]
    assert f"after={ids[1]}&amp;page=2" in first.content.decode()
    following = client.get(url, {"after": ids[1], "page": 2})
    assert _names(following) == ["孙小刚"]
    assert _names(client.get(url, {"page": 2})) == ["孙小刚"]
    assert "第 2 / 2 页，共 3 条" in following.content.decode()


def test_a_cursor_outside_the_readers_scope_shows_the_first_page(
    walk, client_for, officer_a, officer_b, village_b, small_pages
):
    batch = walk("verifying")
    other = make_person(village_b, name="钱东冶", category=AidCase.Category.STUDENT).cases.get()
    line = services.line_add(acting_user=officer_b, batch=batch, case=other)
    response = client_for(officer_a).get(
        reverse("batch_detail", args=[batch.pk]), {"after": line.pk, "page": 2}
    )
    assert _names(response) == ["赵小明", "钱小红"]
    assert "钱东冶" not in response.content.decode()


def test_deep_batch_pages_cost_the_queries_of_the_second(
    walk, client_for, county_staff, village_a, small_pages
):
    batch = walk("verifying")
    for i in range(6):
        case = make_person(village_a, name=f"测试{i}号", category=AidCase.Category.STUDENT)
        services.line_add(acting_user=county_staff, batch=batch, case=case.cases.get())
    ids = list(batch.lines.order_by("pk").values_list("pk", flat=True))
    client = client_for(county_staff)
    url = reverse("batch_detail", args=[batch.pk])
    client.get(url)
    counts = []
    for after, page in ((ids[1], 2), (ids[5], 4)):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"after": after, "page": page}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_batch_list_counts_each_batchs_lines_in_the_readers_scope(
    walk, client_for, county_staff, officer_a, officer_b, village_b
):
    batch = walk("verifying")
    other = make_person(village_b, name="钱东冶", category=AidCase.Category.STUDENT).cases.get()
    services.line_add(acting_user=officer_b, batch=batch, case=other)
    excluded = batch.lines.order_by("pk").first()
    services.line_exclude(acting_user=county_staff, line=excluded, reason="已迁出")

    def row(user) -> str:
        html = client_for(user).get(reverse("batch_list")).content.decode()
        return re.search(r'<tr data-testid="batch-row">(.*?)</tr>', html, re.S).group(1)

    county = row(county_staff)  # 2 of officer A's students (one excluded) and officer B's
    assert '<td class="text-end">3</td>' in county and "¥" in county
    township = row(officer_a)
    assert '<td class="text-end">2</td>' in township
