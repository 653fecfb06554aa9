"""The 一人一档 page in a phone-sized browser: reveal, upload, print layout, no CSP errors."""

from __future__ import annotations

import io
from datetime import date

import pytest
from playwright.sync_api import expect

from aidcases.models import AuditEvent
from tests.e2e.conftest import screenshot
from tests.e2e.test_smoke import login
from tests.factories import make_id_number, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_officer_reveals_a_phone_uploads_a_photo_and_prints(page, officer_a, village_a, tmp_path):
    from PIL import Image

    id_number = make_id_number(date(2012, 6, 1))
    person = make_person(
        village_a,
        name="赵熙晨",
        id_number=id_number,
        phone="13912345678",
        guardian_name="赵大山",
        guardian_phone="13700001111",
        category="tekun",
    )
    photo = tmp_path / "me.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (60, 80), "orange").save(buf, "JPEG")
    photo.write_bytes(buf.getvalue())

    login(page, "officer_a")
    page.goto(page.base_url + f"/people/{person.pk}/")
    expect(page.get_by_role("heading", name="赵熙晨")).to_be_visible()
    expect(page.get_by_test_id("masked-phone")).to_have_text("139****5678")
    assert id_number not in page.content()

    page.get_by_test_id("reveal-phone").click()
    expect(page.get_by_test_id("revealed-phone")).to_have_text("13912345678")
    page.get_by_test_id("reveal-id_number").click()
    expect(page.get_by_test_id("revealed-id_number")).to_have_text(id_number)

    upload = page.get_by_test_id("attachment-upload")
    upload.get_by_label("类型").select_option("photo")
    upload.get_by_label("说明").fill("近照")
    upload.get_by_label("设为本人照片").check()
    upload.locator("input[type=file]").set_input_files(str(photo))
    upload.get_by_role("button", name="上传").click()
    expect(page.get_by_text("已上传“近照”")).to_be_visible()
    expect(page.get_by_role("img", name="赵熙晨的照片")).to_be_visible()
    screenshot(page, "archive-officer-phone")

    page.emulate_media(media="print")
    expect(page.get_by_test_id("print-header")).to_be_visible()
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    expect(page.get_by_test_id("attachment-upload")).to_be_hidden()
    screenshot(page, "archive-print")
    page.emulate_media(media="screen")

    assert not page.console_errors, page.console_errors  # CSP violations show up here
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"person.view", "person.reveal", "attachment.add", "person.photo"} <= verbs
