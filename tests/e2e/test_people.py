"""Browser tests of the people registry screens on a 390 px phone."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from aidcases.models import Person
from tests.e2e.conftest import screenshot
from tests.e2e.test_smoke import login
from tests.factories import make_id_number, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_officer_registers_a_person_on_a_phone_and_finds_them_by_initials(
    page, officer_a, village_a
):
    login(page, "officer_a")
    page.goto(page.base_url + "/people/new/")
    page.locator("#id_name").fill("赵熙晨")
    page.locator("#id_id_number").fill(make_id_number(date(2012, 5, 17)))
    page.locator("#id_area").select_option(label="南街村")
    page.locator("#id_phone").fill("13812345678")
    page.locator("#id_case_category").select_option(label="困难学生")
    screenshot(page, "people-create-phone")
    page.get_by_role("button", name="保存").click()
    person = Person.objects.get()
    expect(page).to_have_url(re.compile(rf"/people/{person.pk}/$"))

    page.goto(page.base_url + "/people/")
    page.get_by_label("搜索").fill("zxc")
    page.get_by_role("button", name="查询").click()
    cards = page.get_by_test_id("people-cards")
    expect(cards.get_by_text("赵熙晨")).to_be_visible()
    expect(cards.get_by_text("困难学生")).to_be_visible()
    expect(cards.get_by_text(re.compile(r"138\*\*\*\*5678"))).to_be_visible()
    expect(page.get_by_test_id("people-table")).to_be_hidden()  # cards, not a table, on a phone
    screenshot(page, "people-list-phone")
    assert not page.console_errors, page.console_errors  # CSP violations show up here


def test_county_staff_narrows_villages_by_township_and_exports(
    page, county_staff, village_a, village_b
):
    make_person(village_a, name="赵熙晨", category="student")
    make_person(village_b, name="钱东冶", category="tekun")
    login(page, "county_staff")
    page.goto(page.base_url + "/people/")
    page.get_by_role("button", name="筛选", exact=True).click()
    village = page.get_by_label("村(社区)")
    # A county lists its villages once a township is chosen (hundreds otherwise).
    expect(village.locator("option", has_text="东冶村")).to_have_count(0)
    page.get_by_label("乡(镇)").select_option(label="东冶乡")
    expect(village.locator("option", has_text="东冶村")).to_have_count(1)
    page.get_by_label("乡(镇)").select_option(label="城关镇")
    # htmx swaps the village options for the chosen township.
    expect(village.locator("option", has_text="东冶村")).to_have_count(0)
    expect(village.locator("option", has_text="南街村")).to_have_count(1)
    with page.expect_navigation():
        page.get_by_role("button", name="应用筛选").click()
    cards = page.get_by_test_id("people-cards")
    expect(cards.get_by_text("赵熙晨")).to_be_visible()
    expect(cards.get_by_text("钱东冶")).to_have_count(0)

    page.get_by_role("button", name=re.compile("导出当前筛选结果")).click()
    expect(page.get_by_test_id("job-status")).to_have_attribute("data-state", "succeeded")
    screenshot(page, "people-export-done")
    assert not page.console_errors, page.console_errors


def test_county_staff_registers_a_person_choosing_township_then_village_on_a_phone(
    page, county_staff, village_a, village_b
):
    from aidcases.models import Area
    from tests.factories import child_area

    group = child_area(village_a, "001", "南街一组", Area.Level.GROUP)
    login(page, "county_staff")
    page.goto(page.base_url + "/people/new/")
    page.locator("#id_name").fill("赵熙晨")
    page.locator("#id_no_id_reason").fill("尚未办理户口")
    page.locator("#id_gender").select_option(label="男")
    village = page.locator("#id_area")
    expect(village.locator("option")).to_have_count(1)  # none until a township is chosen
    page.get_by_label("乡(镇)").select_option(label="东冶乡")
    expect(village.locator("option", has_text="东冶村")).to_have_count(1)
    page.get_by_label("乡(镇)").select_option(label="城关镇")
    expect(village.locator("option", has_text="东冶村")).to_have_count(0)
    village.select_option(label="　南街一组")
    box = page.get_by_label("乡(镇)").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # stacked, not off screen
    screenshot(page, "people-create-area-picker-phone")
    page.get_by_role("button", name="保存").click()
    person = Person.objects.get()
    expect(page).to_have_url(re.compile(rf"/people/{person.pk}/$"))
    assert person.area == group
    assert not page.console_errors, page.console_errors
