"""The 一人一档 page's 资助记录 section."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from disbursements import services

pytestmark = pytest.mark.django_db


def test_the_archive_shows_each_line_with_fund_amount_state_and_voucher(
    walk, client_for, county_staff, officer_a
):
    batch = walk("released")
    line = batch.lines.order_by("id").first()
    services.line_mark_paid(
        acting_user=county_staff,
        line=line,
        paid_on=date(2026, 10, 19),
        method="bank",
        voucher="YH-0001",
    )
    html = (
        client_for(officer_a).get(reverse("person_detail", args=[line.person_id])).content.decode()
    )
    assert "资助记录" in html
    section = html.split('data-testid="section-disbursements-aid"')[1]
    for text in (
        batch.name,
        "困难学生助学金",
        "爱心助学基金",
        "500.00",
        "已发放",
        "2026-10-19",
        "YH-0001",
    ):
        assert text in section


def test_no_section_for_a_person_without_aid(client_for, county_staff, village_a):
    from tests.factories import make_person

    person = make_person(village_a, name="无资助")
    html = client_for(county_staff).get(reverse("person_detail", args=[person.pk])).content.decode()
    assert 'data-testid="section-disbursements-aid"' not in html


def test_another_township_cannot_open_the_person(walk, client_for, officer_b):
    batch = walk("locked")
    line = batch.lines.first()
    assert (
        client_for(officer_b).get(reverse("person_detail", args=[line.person_id])).status_code
        == 404
    )
