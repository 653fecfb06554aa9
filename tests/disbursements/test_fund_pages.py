"""The money-in screens: who sees which page, posting and cancelling through the views,
and query counts that do not grow with the rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aidcases.models import AuditEvent
from disbursements import services
from disbursements.models import Fund, FundEntry, FundingSource, FundMovement
from disbursements.services import FundEntryData

pytestmark = pytest.mark.django_db

READERS = ["county_staff", "approver", "auditor", "admin"]
WRITERS = ["county_staff", "admin"]
DENIED = ["officer_a", "leader"]


@pytest.fixture
def source(county_staff):
    return services.funding_source_create(
        acting_user=county_staff,
        kind="enterprise",
        name="青山县爱心企业联合会",
        contact_name="王经理",
        contact_phone="13812345678",
    )


@pytest.fixture
def fund(county_staff):
    return services.fund_create(acting_user=county_staff, name="爱心助学基金", purpose="助学")


def _entry(user, source, fund, amount="1000", post=False) -> FundEntry:
    entry = services.fund_entry_create(
        acting_user=user,
        data=FundEntryData(
            source=source,
            fund=fund,
            amount=Decimal(amount),
            received_on=date(2026, 9, 1),
            document_number="收-001",
        ),
    )
    if post:
        entry = services.fund_entry_post(acting_user=user, entry=entry)
    return entry


@pytest.fixture
def pages(source, fund, county_staff):
    entry = _entry(county_staff, source, fund, post=True)
    return {
        "fund_list": {},
        "fund_detail": {"pk": fund.pk},
        "source_list": {},
        "entry_list": {},
        "entry_detail": {"pk": entry.pk},
        "goods_list": {},
        "programme_list": {},
    }


@pytest.mark.parametrize("who", READERS)
def test_money_readers_open_every_reading_page(who, request, client_for, pages):
    client = client_for(request.getfixturevalue(who))
    for name, kwargs in pages.items():
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 200, name


@pytest.mark.parametrize("who", DENIED)
def test_township_users_are_refused_every_money_page(who, request, client_for, pages):
    client = client_for(request.getfixturevalue(who))
    for name, kwargs in pages.items():
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 403, name
    for name in ("fund_create", "source_create", "entry_create", "goods_create"):
        assert client.get(reverse(name)).status_code == 403, name


def test_the_nav_entry_shows_for_money_readers_only(client_for, auditor, officer_a):
    assert reverse("fund_list") in client_for(auditor).get(reverse("home")).content.decode()
    assert reverse("fund_list") not in client_for(officer_a).get(reverse("home")).content.decode()


@pytest.mark.parametrize("who", ["approver", "auditor"])
def test_read_only_roles_see_no_write_buttons_and_are_refused_writes(
    who, request, client_for, pages, source, fund, county_staff
):
    client = client_for(request.getfixturevalue(who))
    html = client.get(reverse("fund_list")).content.decode()
    assert reverse("entry_create") not in html and reverse("fund_create") not in html
    draft = _entry(county_staff, source, fund)
    html = client.get(reverse("entry_detail", args=[draft.pk])).content.decode()
    assert reverse("entry_post", args=[draft.pk]) not in html
    assert client.post(reverse("entry_post", args=[draft.pk])).status_code == 403
    assert (
        client.post(reverse("source_create"), {"kind": "charity", "name": "x"}).status_code == 403
    )
    draft.refresh_from_db()
    assert draft.state == FundEntry.State.DRAFT


def test_the_source_list_masks_the_donors_phone(client_for, auditor, county_staff, source):
    html = client_for(auditor).get(reverse("source_list")).content.decode()
    assert "138****5678" in html and "13812345678" not in html
    # the edit page, for those who may edit, holds the number itself
    html = client_for(county_staff).get(reverse("source_edit", args=[source.pk])).content.decode()
    assert "13812345678" in html


def test_a_source_is_created_and_edited_through_the_pages(client_for, county_staff):
    client = client_for(county_staff)
    response = client.post(
        reverse("source_create"),
        {"kind": "individual", "name": "李先生", "contact_phone": "138 1234 5678"},
    )
    assert response.status_code == 302
    source = FundingSource.objects.get(name="李先生")
    assert source.contact_phone == "13812345678"
    response = client.post(
        reverse("source_edit", args=[source.pk]),
        {"kind": "individual", "name": "李先生", "contact_phone": "12345", "is_active": "on"},
    )
    assert response.status_code == 200 and "电话" in response.content.decode()
    response = client.post(
        reverse("source_edit", args=[source.pk]),
        {"kind": "individual", "name": "李先生", "publish_name": "on", "is_active": "on"},
    )
    source.refresh_from_db()
    assert source.publish_name and source.contact_phone == ""
    assert AuditEvent.objects.filter(verb="funding_source.update").exists()


def test_an_entry_is_drafted_posted_once_and_cannot_be_edited_after(
    client_for, county_staff, source, fund
):
    client = client_for(county_staff)
    response = client.post(
        reverse("entry_create"),
        {
            "source": source.pk,
            "fund": fund.pk,
            "amount": "2500.50",
            "received_on": "2026-09-10",
            "document_number": "收-9",
            "receipt_state": "issued",
        },
    )
    entry = FundEntry.objects.get()
    assert response["Location"] == reverse("entry_detail", args=[entry.pk])
    html = client.get(response["Location"]).content.decode()
    assert reverse("entry_edit", args=[entry.pk]) in html
    fund.refresh_from_db()
    assert fund.balance == 0  # a draft counts for nothing

    first = client.post(reverse("entry_post", args=[entry.pk]), follow=True)
    second = client.post(reverse("entry_post", args=[entry.pk]), follow=True)
    assert "已确认入账" in first.content.decode()
    assert second.status_code == 200 and "未重复入账" in second.content.decode()
    fund.refresh_from_db()
    assert fund.income == Decimal("2500.50")
    assert FundMovement.objects.filter(fund=fund).count() == 1

    html = client.get(reverse("entry_detail", args=[entry.pk])).content.decode()
    assert reverse("entry_edit", args=[entry.pk]) not in html
    response = client.post(
        reverse("entry_edit", args=[entry.pk]),
        {"source": source.pk, "fund": fund.pk, "amount": "1", "received_on": "2026-09-10"},
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.amount == Decimal("2500.50")


def test_bad_entry_input_keeps_what_was_typed(client_for, county_staff, source, fund):
    response = client_for(county_staff).post(
        reverse("entry_create"),
        {
            "source": source.pk,
            "fund": fund.pk,
            "amount": "-5",
            "received_on": "2099-01-01",
            "receipt_state": "issued",
            "document_number": "收-77",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "金额必须大于0" in html and "收-77" in html
    assert not FundEntry.objects.exists()


def test_a_draft_is_edited_through_its_page(client_for, county_staff, source, fund):
    draft = _entry(county_staff, source, fund)
    response = client_for(county_staff).post(
        reverse("entry_edit", args=[draft.pk]),
        {
            "source": source.pk,
            "fund": fund.pk,
            "amount": "1200",
            "received_on": "2026-09-02",
            "document_number": "收-002",
            "receipt_state": "issued",
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.amount == Decimal("1200") and draft.state == "draft"


def test_cancelling_through_the_page_writes_a_cancelling_entry_once(
    client_for, county_staff, source, fund
):
    entry = _entry(county_staff, source, fund, amount="800", post=True)
    client = client_for(county_staff)
    missing_reason = client.post(reverse("entry_cancel", args=[entry.pk]), {"reason": ""})
    assert "请说明冲销原因" in missing_reason.content.decode()
    client.post(reverse("entry_cancel", args=[entry.pk]), {"reason": "重复录入"})
    again = client.post(
        reverse("entry_cancel", args=[entry.pk]), {"reason": "重复录入"}, follow=True
    )
    assert "未重复冲销" in again.content.decode()
    entry.refresh_from_db()
    fund.refresh_from_db()
    assert entry.state == FundEntry.State.CANCELLED and fund.balance == 0
    assert FundEntry.objects.filter(cancels=entry).count() == 1


def test_a_cancel_that_would_overdraw_says_why(client_for, county_staff, source, fund):
    entry = _entry(county_staff, source, fund, amount="800", post=True)
    services.fund_move(acting_user=county_staff, fund=fund, kind="commit", amount=Decimal("500"))
    response = client_for(county_staff).post(
        reverse("entry_cancel", args=[entry.pk]), {"reason": "金额有误"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "不能冲销" in html and "余额不足" in html and "¥300.00" in html
    entry.refresh_from_db()
    assert entry.state == FundEntry.State.POSTED


def test_a_fund_is_created_with_each_restriction(client_for, county_staff, village_a, funded):
    from tests.factories import make_person

    programme, _fund = funded
    person = make_person(village_a, name="周小燕")
    client = client_for(county_staff)
    cases = [
        ({"restriction": "none"}, {}),
        ({"restriction": "programme", "restricted_programme": programme.pk}, {}),
        ({"restriction": "school", "restricted_school_name": "城关中学"}, {}),
        ({"restriction": "person", "restricted_person": person.pk}, {}),
    ]
    for i, (fields, _extra) in enumerate(cases):
        response = client.post(reverse("fund_create"), {"name": f"专项{i}", **fields})
        assert response.status_code == 302, response.content.decode()[:2000]
    assert Fund.objects.get(name="专项3").restricted_person == person
    assert Fund.objects.get(name="专项1").restricted_programme == programme
    # a restriction without its target is refused with a message, nothing saved
    response = client.post(reverse("fund_create"), {"name": "专项9", "restriction": "school"})
    assert "请填写限定的学校名称" in response.content.decode()
    assert not Fund.objects.filter(name="专项9").exists()


def test_the_person_search_finds_by_name_in_scope_and_never_by_digits(
    client_for, county_staff, village_a
):
    from tests.factories import make_person

    make_person(village_a, name="周小燕", phone="13900001111")
    client = client_for(county_staff)
    html = client.get(reverse("money_person_pick"), {"q": "周小燕", "field": "person"}).content
    assert "周小燕" in html.decode()
    assert "周小燕" not in client.get(reverse("money_person_pick"), {"q": "1111"}).content.decode()


def test_the_ledger_links_each_movement_and_pages_newest_first(
    client_for, county_staff, source, fund
):
    entries = [_entry(county_staff, source, fund, amount=str(100 + i), post=True) for i in range(3)]
    html = client_for(county_staff).get(reverse("fund_detail", args=[fund.pk])).content.decode()
    for entry in entries:
        assert reverse("entry_detail", args=[entry.pk]) in html
    assert html.index("¥102.00") < html.index("¥101.00")  # newest first
    assert "¥303.00" in html  # the balance after the last movement


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_query_counts_do_not_grow_with_rows(client_for, county_staff, source, fund):
    client = client_for(county_staff)
    urls = [
        reverse("fund_detail", args=[fund.pk]),
        reverse("fund_list"),
        reverse("entry_list"),
        reverse("source_list"),
        reverse("goods_list"),
        reverse("programme_list"),
    ]

    def add_rows(i: int) -> None:
        extra_source = services.funding_source_create(
            acting_user=county_staff, kind="individual", name=f"爱心人士{i}"
        )
        extra_fund = services.fund_create(acting_user=county_staff, name=f"基金{i}")
        _entry(county_staff, extra_source, fund, amount="10", post=True)
        _entry(county_staff, extra_source, extra_fund, amount="10", post=True)
        services.goods_receive(
            acting_user=county_staff,
            data=services.GoodsData(
                source=extra_source,
                item=f"图书{i}",
                quantity=Decimal("10"),
                unit="册",
                unit_value=Decimal("20"),
                received_on=date(2026, 9, 1),
            ),
        )
        services.programme_save(
            acting_user=county_staff,
            data=services.ProgrammeData(
                name=f"项目{i}",
                kind="student",
                mode="one_off",
                standard_amounts={"": Decimal("500")},
                funds=[fund, extra_fund],
                bands=[(Decimal("10000"), 2)],
            ),
        )

    add_rows(0)  # one row of each: the first page's queries all run
    before = {url: _queries(client, url) for url in urls}
    for i in range(1, 5):
        add_rows(i)
    after = {url: _queries(client, url) for url in urls}
    assert after == before


def test_home_card_shows_balance_and_money_in_this_year(
    client_for, county_staff, officer_a, source, fund, today
):
    today(date(2026, 11, 1))
    _entry(county_staff, source, fund, amount="1234.5", post=True)
    html = client_for(county_staff).get(reverse("home")).content.decode()
    assert "资金余额" in html and "¥1,234.50" in html and "2026年到账" in html
    assert "资金余额" not in client_for(officer_a).get(reverse("home")).content.decode()
