"""物资: received and handed out, never more than was received — even at once."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from aidcases.models import AuditEvent
from disbursements import services
from disbursements.models import Fund, GoodsDistribution
from tests.factories import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(county_staff):
    source = services.funding_source_create(
        acting_user=county_staff, kind="enterprise", name="新华书店"
    )
    return services.goods_receive(
        acting_user=county_staff,
        data=services.GoodsData(
            source=source,
            item="课外图书",
            quantity=Decimal("100"),
            unit="册",
            unit_value=Decimal("25.50"),
            received_on=date(2026, 9, 1),
        ),
    )


def test_goods_count_as_estimated_value_not_cash(books, county_staff, client_for):
    assert books.estimated_value == Decimal("2550.00")
    assert not Fund.objects.exists()
    assert AuditEvent.objects.filter(verb="goods.receive", object_id=str(books.pk)).exists()
    html = client_for(county_staff).get(reverse("fund_list")).content.decode()
    assert "¥2,550.00" in html  # in the goods card
    assert 'data-testid="total-balance">¥0.00' in html


def test_distribution_never_exceeds_what_was_received(books, county_staff, village_a):
    child = make_person(village_a, name="钱小红")
    services.goods_distribute(
        acting_user=county_staff,
        donation=books,
        quantity=Decimal("60"),
        given_on=date(2026, 9, 5),
        school_name="城关第一小学",
    )
    with pytest.raises(ValidationError, match="还剩 40册"):
        services.goods_distribute(
            acting_user=county_staff,
            donation=books,
            quantity=Decimal("41"),
            given_on=date(2026, 9, 5),
            person=child,
        )
    services.goods_distribute(
        acting_user=county_staff,
        donation=books,
        quantity=Decimal("40"),
        given_on=date(2026, 9, 5),
        person=child,
    )
    assert services.goods_left(books) == 0


def test_a_distribution_needs_one_recipient_and_a_permitted_user(
    books, county_staff, auditor, village_a
):
    child = make_person(village_a, name="钱小红")
    with pytest.raises(ValidationError, match="二选一"):
        services.goods_distribute(
            acting_user=county_staff,
            donation=books,
            quantity=Decimal("1"),
            given_on=date(2026, 9, 5),
            person=child,
            school_name="城关中学",
        )
    with pytest.raises(PermissionDenied):
        services.goods_distribute(
            acting_user=auditor,
            donation=books,
            quantity=Decimal("1"),
            given_on=date(2026, 9, 5),
            school_name="城关中学",
        )


@pytest.mark.django_db(transaction=True)
def test_twenty_at_once_never_hand_out_more_than_received(county, county_staff):
    source = services.funding_source_create(acting_user=county_staff, kind="union", name="县总工会")
    coal = services.goods_receive(
        acting_user=county_staff,
        data=services.GoodsData(
            source=source,
            item="取暖煤",
            quantity=Decimal("10"),
            unit="吨",
            unit_value=Decimal("900"),
            received_on=date(2026, 11, 1),
        ),
    )
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def give(i: int) -> None:
        try:
            barrier.wait()
            services.goods_distribute(
                acting_user=county_staff,
                donation=coal,
                quantity=Decimal("1"),
                given_on=date(2026, 11, 2),
                school_name=f"学校{i}",
            )
            outcomes.append("given")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=give, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("given") == 10 and outcomes.count("refused") == 10
    assert sum(d.quantity for d in GoodsDistribution.objects.filter(donation=coal)) == 10


def test_goods_pages_receive_and_distribute(books, county_staff, client_for, village_a):
    child = make_person(village_a, name="钱小红")
    client = client_for(county_staff)
    response = client.post(
        reverse("goods_create"),
        {
            "source": books.source_id,
            "item": "冬衣",
            "quantity": "30",
            "unit": "件",
            "unit_value": "80",
            "received_on": "2026-11-01",
        },
    )
    assert response.status_code == 302
    url = reverse("goods_distribute", args=[books.pk])
    too_many = client.post(
        url,
        {
            "recipient": "school",
            "school_name": "城关中学",
            "quantity": "101",
            "given_on": "2026-11-02",
        },
    )
    assert too_many.status_code == 200 and "还剩 100册" in too_many.content.decode()
    ok = client.post(
        url,
        {"recipient": "person", "person": child.pk, "quantity": "2", "given_on": "2026-11-02"},
    )
    assert ok.status_code == 302
    html = client.get(reverse("goods_detail", args=[books.pk])).content.decode()
    assert "钱小红" in html and "98册" in html
    assert GoodsDistribution.objects.get().person == child


@pytest.mark.parametrize("who", ["approver", "auditor"])
def test_read_only_roles_read_goods_but_never_hand_them_out(who, request, books, client_for):
    client = client_for(request.getfixturevalue(who))
    html = client.get(reverse("goods_detail", args=[books.pk])).content.decode()
    assert "登记发放" not in html
    response = client.post(
        reverse("goods_distribute", args=[books.pk]),
        {
            "recipient": "school",
            "school_name": "城关中学",
            "quantity": "1",
            "given_on": "2026-11-02",
        },
    )
    assert response.status_code == 403
    assert not GoodsDistribution.objects.exists()


def test_officers_are_refused_the_goods_pages(books, officer_a, client_for):
    client = client_for(officer_a)
    assert client.get(reverse("goods_list")).status_code == 403
    assert client.get(reverse("goods_detail", args=[books.pk])).status_code == 403
