"""A fund's edit and its deactivation: audited; a fund still holding money, owing money
to a released batch, feeding an open batch or waiting on a draft entry stays on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from aidcases.models import AuditEvent
from disbursements import services
from disbursements.models import Fund, FundingSource, FundMovement
from disbursements.services import FundEntryData

pytestmark = pytest.mark.django_db


@pytest.fixture
def empty_fund(county_staff):
    return services.fund_create(acting_user=county_staff, name="冬季送温暖专项")


def _spend_all(fund: Fund, county_staff) -> None:
    """Move the whole balance out (a cancelling entry of the income), leaving zero."""
    entry = fund.entries.get(state="posted", cancels__isnull=True)
    services.fund_entry_cancel(acting_user=county_staff, entry=entry, reason="测试清零")


def test_it_edits_name_purpose_and_restriction_and_audits_the_fields(county_staff, empty_fund):
    changed = services.fund_update(
        acting_user=county_staff,
        fund=empty_fund,
        name=" 冬季送温暖基金 ",
        purpose="特困人员冬季取暖",
        restriction="school",
        restricted_school_name=" 城关中学 ",
    )
    empty_fund.refresh_from_db()
    assert (empty_fund.name, empty_fund.restricted_school_name) == ("冬季送温暖基金", "城关中学")
    assert set(changed) == {"name", "purpose", "restriction", "restricted_school_name"}
    event = AuditEvent.objects.get(verb="fund.update")
    assert set(event.details["changed"]) == set(changed)
    # back to no restriction: the school is cleared, so the fund names no target
    services.fund_update(acting_user=county_staff, fund=empty_fund, restriction="none")
    empty_fund.refresh_from_db()
    assert empty_fund.restricted_school_name == ""
    assert (
        services.fund_update(acting_user=county_staff, fund=empty_fund, purpose="特困人员冬季取暖")
        == []
    )
    assert AuditEvent.objects.filter(verb="fund.update").count() == 2


def test_a_restriction_without_its_target_is_refused(county_staff, empty_fund):
    with pytest.raises(ValidationError):
        services.fund_update(acting_user=county_staff, fund=empty_fund, restriction="programme")
    empty_fund.refresh_from_db()
    assert empty_fund.restriction == "none"


def test_a_fund_with_a_balance_cannot_be_deactivated(county_staff, funded):
    _programme, fund = funded
    with pytest.raises(ValidationError, match="余额 ¥10,000.00 未用完"):
        services.fund_deactivate(acting_user=county_staff, fund=fund, reason="项目结束")
    fund.refresh_from_db()
    assert fund.is_active
    assert not AuditEvent.objects.filter(verb="fund.deactivate").exists()


def test_a_fund_with_open_commitments_cannot_be_deactivated(walk, county_staff, funded):
    _programme, fund = funded
    batch = walk("released")
    fund.refresh_from_db()
    assert fund.committed == Decimal("1500.00")
    with pytest.raises(ValidationError) as caught:
        services.fund_deactivate(acting_user=county_staff, fund=fund, reason="项目结束")
    message = " ".join(caught.value.messages)
    assert "已下达未发放 ¥1,500.00" in message and batch.name in message


def test_a_fund_an_open_batch_draws_on_cannot_be_deactivated(county_staff, funded, draft_batch):
    _programme, fund = funded
    _spend_all(fund, county_staff)
    fund.refresh_from_db()
    assert fund.balance == 0
    with pytest.raises(ValidationError, match="尚有未完成的资助批次：" + draft_batch.name):
        services.fund_deactivate(acting_user=county_staff, fund=fund, reason="项目结束")


def test_a_fund_waiting_on_a_draft_entry_cannot_be_deactivated(county_staff, empty_fund):
    source = FundingSource.objects.create(kind="charity", name="慈善总会")
    services.fund_entry_create(
        acting_user=county_staff,
        data=FundEntryData(
            source=source, fund=empty_fund, amount=Decimal("50"), received_on=date(2026, 9, 1)
        ),
    )
    with pytest.raises(ValidationError, match="尚有未确认的入账草稿"):
        services.fund_deactivate(acting_user=county_staff, fund=empty_fund, reason="不用了")


def test_an_empty_fund_is_deactivated_audited_and_takes_nothing_new(county_staff, empty_fund):
    source = FundingSource.objects.create(kind="charity", name="慈善总会")
    services.fund_deactivate(acting_user=county_staff, fund=empty_fund, reason="专项已结束")
    empty_fund.refresh_from_db()
    assert not empty_fund.is_active
    event = AuditEvent.objects.get(verb="fund.deactivate")
    assert event.details == {"reason": "专项已结束"}
    with pytest.raises(ValidationError, match="这项资金已停用"):
        services.fund_entry_create(
            acting_user=county_staff,
            data=FundEntryData(
                source=source, fund=empty_fund, amount=Decimal("50"), received_on=date(2026, 9, 1)
            ),
        )
    # a second click changes nothing
    services.fund_deactivate(acting_user=county_staff, fund=empty_fund, reason="再点一次")
    assert AuditEvent.objects.filter(verb="fund.deactivate").count() == 1
    services.fund_reactivate(acting_user=county_staff, fund=empty_fund)
    empty_fund.refresh_from_db()
    assert empty_fund.is_active
    assert AuditEvent.objects.filter(verb="fund.reactivate").count() == 1


def test_no_batch_is_opened_on_a_deactivated_fund(county_staff, funded):
    programme, fund = funded
    _spend_all(fund, county_staff)
    services.fund_deactivate(acting_user=county_staff, fund=fund, reason="资金已用完")
    with pytest.raises(ValidationError, match="这项资金已停用"):
        services.batch_create(
            acting_user=county_staff,
            programme=programme,
            name="新批次",
            school_year=2026,
            fund=fund,
        )


def test_deactivating_needs_a_reason_and_the_right_role(county_staff, approver, empty_fund):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(ValidationError, match="请说明停用原因"):
        services.fund_deactivate(acting_user=county_staff, fund=empty_fund, reason=" ")
    with pytest.raises(PermissionDenied):
        services.fund_deactivate(acting_user=approver, fund=empty_fund, reason="不用了")
    with pytest.raises(PermissionDenied):
        services.fund_update(acting_user=approver, fund=empty_fund, name="改名")


# --- the pages ------------------------------------------------------------------------


def test_the_edit_page_saves_and_the_detail_page_offers_it(client_for, county_staff, empty_fund):
    client = client_for(county_staff)
    detail = client.get(reverse("fund_detail", args=[empty_fund.pk])).content.decode()
    assert reverse("fund_edit", args=[empty_fund.pk]) in detail
    assert reverse("fund_deactivate", args=[empty_fund.pk]) in detail
    page = client.get(reverse("fund_edit", args=[empty_fund.pk]))
    assert page.status_code == 200 and "修改专项资金" in page.content.decode()
    response = client.post(
        reverse("fund_edit", args=[empty_fund.pk]),
        {"name": "冬季送温暖基金", "purpose": "取暖", "restriction": "none"},
    )
    assert response.status_code == 302
    empty_fund.refresh_from_db()
    assert (empty_fund.name, empty_fund.purpose) == ("冬季送温暖基金", "取暖")


def test_the_deactivate_button_says_why_it_was_refused(client_for, county_staff, funded):
    _programme, fund = funded
    client = client_for(county_staff)
    response = client.post(
        reverse("fund_deactivate", args=[fund.pk]), {"reason": "项目结束"}, follow=True
    )
    assert "不能停用“爱心助学基金”：余额 ¥10,000.00 未用完" in response.content.decode()
    fund.refresh_from_db()
    assert fund.is_active and FundMovement.objects.filter(fund=fund).count() == 1


def test_the_deactivate_and_reactivate_buttons_work(client_for, county_staff, empty_fund):
    client = client_for(county_staff)
    client.post(reverse("fund_deactivate", args=[empty_fund.pk]), {"reason": "专项已结束"})
    empty_fund.refresh_from_db()
    assert not empty_fund.is_active
    page = client.get(reverse("fund_detail", args=[empty_fund.pk])).content.decode()
    assert "已停用" in page and reverse("fund_reactivate", args=[empty_fund.pk]) in page
    client.post(reverse("fund_reactivate", args=[empty_fund.pk]))
    empty_fund.refresh_from_db()
    assert empty_fund.is_active


def test_readers_who_may_not_manage_money_cannot_edit_or_deactivate(
    client_for, auditor, empty_fund
):
    client = client_for(auditor)
    assert client.get(reverse("fund_edit", args=[empty_fund.pk])).status_code == 403
    assert (
        client.post(reverse("fund_deactivate", args=[empty_fund.pk]), {"reason": "x"}).status_code
        == 403
    )
    empty_fund.refresh_from_db()
    assert empty_fund.is_active
