"""A batch's whole path in a phone-sized browser: an officer nominates, county staff
verify and lock, the approver approves, the 公示 is printed, county staff release and pay,
and the person's 一人一档 page shows the aid.

The calendar is set, not slept through: "today" is Monday 2026-10-12 while the list is
made and published, and Monday 2026-10-19 (the five working days over) to release."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from aidcases.models import AidCase
from tests.e2e.conftest import screenshot
from tests.e2e.test_smoke import login
from tests.factories import make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _as(page, username: str) -> None:
    page.context.clear_cookies()
    login(page, username)


def test_a_batch_from_nomination_to_payment(
    page, monkeypatch, county_staff, officer_a, approver, village_a
):
    from disbursements import services
    from disbursements.models import AidBatch, AidProgramme
    from disbursements.services import FundEntryData

    day = {"today": date(2026, 10, 12)}
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: day["today"])
    source = services.funding_source_create(
        acting_user=county_staff, kind="charity", name="青山县慈善总会"
    )
    fund = services.fund_create(acting_user=county_staff, name="爱心助学基金")
    entry = services.fund_entry_create(
        acting_user=county_staff,
        data=FundEntryData(
            source=source, fund=fund, amount=Decimal("10000"), received_on=date(2026, 9, 1)
        ),
    )
    services.fund_entry_post(acting_user=county_staff, entry=entry)
    programme = AidProgramme.objects.create(
        name="困难学生助学金",
        kind="student",
        mode="per_term",
        standard_amounts={"": "800"},
        categories=["student"],
    )
    programme.funds.add(fund)
    batch = services.batch_create(
        acting_user=county_staff,
        programme=programme,
        name="2026年秋季学期困难学生助学金",
        school_year=2026,
        term="autumn",
        fund=fund,
    )
    person = make_person(village_a, name="赵小明", category=AidCase.Category.STUDENT)
    page.on("dialog", lambda dialog: dialog.accept())
    batch_url = page.base_url + batch.get_absolute_url()

    # the officer nominates from the people list
    _as(page, "officer_a")
    page.goto(batch_url)
    page.get_by_test_id("act-nominate").click()
    page.get_by_test_id("nominate-q").fill("zhaoxiaoming")
    page.get_by_role("button", name="查找").click()
    page.get_by_label("选择 赵小明").check()
    page.get_by_test_id("nominate-submit").click()
    expect(page.get_by_text(re.compile("已提名 1 人"))).to_be_visible()
    expect(page.get_by_test_id("line-row")).to_contain_text("¥800.00")

    # county staff verify and lock, and submit for approval
    _as(page, "county_staff")
    page.goto(batch_url)
    page.get_by_test_id("act-start_verification").click()
    expect(page.get_by_test_id("batch-state")).to_have_text("审验核查中")
    page.get_by_label("选择 赵小明").check()
    page.get_by_test_id("bulk-form").get_by_label("核查方式").select_option("home")
    page.get_by_test_id("bulk-verify").click()
    expect(page.get_by_text("已处理 1 人。")).to_be_visible()
    page.get_by_test_id("act-lock").click()
    expect(page.get_by_test_id("batch-state")).to_have_text("名单已锁定")
    page.get_by_test_id("act-submit").click()
    expect(page.get_by_test_id("batch-state")).to_have_text("审批中")

    # the approver approves
    _as(page, "approver")
    page.goto(batch_url)
    page.get_by_test_id("act-approve").click()
    expect(page.get_by_text("已审批同意。")).to_be_visible()

    # county staff start the 公示; its end is shown before they start it
    _as(page, "county_staff")
    page.goto(batch_url)
    form = page.get_by_test_id("publicity-form")
    expect(form.locator("[data-publicity-end]")).to_have_text("2026-10-16")
    form.get_by_label("异议受理电话").fill("0350-1234567")
    form.get_by_label("公示单位").fill("共青团青山县委")
    page.get_by_test_id("act-publicity").click()
    expect(page.get_by_test_id("batch-state")).to_have_text("公示中")
    screenshot(page, "money-batch-in-publicity")

    # the 公示, as printed
    page.get_by_test_id("publicity-page").click()
    sheet = page.get_by_test_id("publicity-sheet")
    expect(sheet).to_contain_text("赵小明")
    expect(page.get_by_test_id("publicity-notes")).to_contain_text("0350-1234567")
    page.emulate_media(media="print")
    expect(sheet).to_be_visible()
    expect(page.get_by_test_id("publicity-print")).to_be_hidden()
    screenshot(page, "money-publicity-print")
    page.emulate_media(media="screen")

    # a week later the window is over: release and pay
    day["today"] = date(2026, 10, 19)
    page.goto(batch_url)
    page.get_by_test_id("act-release").click()
    expect(page.get_by_test_id("batch-state")).to_have_text("已下达发放")
    page.get_by_test_id("line-pay").click()
    page.get_by_label("凭证号/银行流水号").fill("YH20261019001")
    page.get_by_test_id("pay-submit").click()
    expect(page.get_by_test_id("batch-state")).to_have_text("已发放")
    assert AidBatch.objects.get(pk=batch.pk).state == "paid"

    # the person's 一人一档 shows the aid
    page.goto(page.base_url + f"/people/{person.pk}/")
    section = page.get_by_test_id("section-disbursements-aid")
    expect(section).to_contain_text("2026年秋季学期困难学生助学金")
    expect(section).to_contain_text("YH20261019001")
    expect(section).to_contain_text("已发放")
    screenshot(page, "money-archive-aid")
    assert page.console_errors == []
