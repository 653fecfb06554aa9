from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, username: str, password: str = PASSWORD) -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_township_officer_logs_in_is_refused_another_township_and_logs_out(
    page, officer_a, township_b
):
    page.goto(page.base_url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    screenshot(page, "login")

    login(page, "officer_a")
    expect(page.get_by_role("heading", name=re.compile("您好"))).to_be_visible()
    expect(page.get_by_test_id("dashboard-cards")).to_be_visible()
    expect(page.get_by_role("link", name="城关镇", exact=True)).to_be_visible()
    screenshot(page, "dashboard-officer-phone")

    assert not page.console_errors, page.console_errors  # CSP violations show up here

    response = page.goto(page.base_url + f"/areas/{township_b.code}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    page.console_errors.clear()  # the 404 itself is logged as a console error

    page.goto(page.base_url + "/")
    page.get_by_role("button", name="菜单").click()
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto(page.base_url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert not page.console_errors, page.console_errors


def test_wrong_password_shows_a_chinese_error(page, officer_a):
    login(page, "officer_a", "not-the-password")
    expect(page.get_by_text(re.compile("请输入一个正确的"))).to_be_visible()


def test_admin_exports_the_audit_log_with_a_progress_page(page, admin, officer_a, settings):
    login(page, "alice_admin")
    page.goto(page.base_url + "/audit/")
    expect(page.get_by_role("cell", name="登录").first).to_be_visible()
    page.get_by_role("button", name=re.compile("导出当前筛选结果")).click()
    expect(page.get_by_test_id("job-status")).to_have_attribute("data-state", "succeeded")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("下载")).click()
    assert download.value.suggested_filename.startswith("审计日志_")
    screenshot(page, "audit-export-done")
