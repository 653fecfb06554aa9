"""The registry journey of the issue, as a township officer does it on a phone:
upload a roster kept the way townships keep them, check the preview, commit,
find a child by pinyin initials, open the 一人一档 page."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from aidcases.models import Person
from tests.e2e.conftest import screenshot
from tests.e2e.test_smoke import login
from tests.factories import make_id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _roster(path, village_name: str) -> list[str]:
    """A real-shaped sheet: a merged title row, a header with synonyms and
    extra columns, ID numbers with spaces/lowercase x, a real date cell, a
    month-only date, a blank row and sign-off lines."""
    ids = [make_id_number(date(2012, 5, 17)), make_id_number(date(2014, 3, 2), female=True)]
    wb = Workbook()
    ws = wb.active
    ws.append(["城关镇2026年留守儿童花名册"])
    ws.merge_cells("A1:H1")
    ws.append(["序号", "姓名", "身份证号", "出生年月", "村(社区)", "监护人姓名", "关系", "备注"])
    ws.append(
        [1, "赵 熙晨", f"{ids[0][:6]} {ids[0][6:]}".lower(), datetime(2012, 5, 17),
         f"城关镇{village_name}三组", "赵大山", "祖父", ""]
    )  # fmt: skip
    ws.append([2, "钱 多多", ids[1], "2014.03", village_name, "钱二", "祖母", "父母在外"])
    ws.append([])
    ws.append(["填表人：", "", "审核人：", "", "填表日期："])
    wb.save(path)
    return ids


def test_officer_uploads_a_roster_finds_a_child_and_opens_the_archive(
    page, officer_a, township_a, village_a, tmp_path
):
    roster = tmp_path / "城关镇留守儿童花名册.xlsx"
    _roster(roster, village_a.name)

    login(page, "officer_a")
    page.goto(page.base_url + "/people/import/")
    page.get_by_label("花名册类别").select_option(label="留守儿童")
    page.get_by_label("花名册文件").set_input_files(str(roster))
    page.get_by_role("button", name="上传并检查").click()

    expect(page.get_by_test_id("count-new")).to_have_text("2")
    expect(page.get_by_test_id("import-errors")).to_have_count(0)
    screenshot(page, "journey-import-preview")
    assert Person.objects.count() == 0  # nothing is written before the confirmation

    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_test_id("import-done")).to_be_visible()
    assert Person.objects.count() == 2

    page.goto(page.base_url + "/people/")
    page.get_by_label("搜索").fill("zxc")
    page.get_by_role("button", name="查询").click()
    cards = page.get_by_test_id("people-cards")
    expect(cards.get_by_text("赵熙晨")).to_be_visible()
    expect(cards.get_by_text("钱多多")).to_have_count(0)
    cards.get_by_role("link", name="赵熙晨").first.click()

    expect(page).to_have_url(re.compile(r"/people/\d+/$"))
    expect(page.get_by_role("heading", name=re.compile("赵熙晨"))).to_be_visible()
    expect(page.get_by_text("留守儿童").first).to_be_visible()
    expect(page.get_by_text("赵大山").first).to_be_visible()
    screenshot(page, "journey-archive")
    assert not page.console_errors, page.console_errors
