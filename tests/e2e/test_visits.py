"""Browser test of the phone visit form on a 390 × 844 screen."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from PIL import Image
from playwright.sync_api import expect

from aidcases.models import AidCase
from tests.e2e.conftest import screenshot
from tests.e2e.test_smoke import login
from tests.factories import make_person
from tests.volunteers.factories import make_pairing, make_team, make_volunteer
from volunteers.models import FollowUp, Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_leader_records_a_visit_with_a_photo_and_the_officer_gets_the_follow_up(
    page, leader, officer_a, township_a, village_a, tmp_path
):
    team = make_team(township_a, leader=leader)
    alice = make_volunteer(village_a, name="李青", team=team)
    make_volunteer(village_a, name="王红", team=team)
    case = make_person(village_a, name="张大山", category=AidCase.Category.TEKUN).cases.get()
    make_pairing(case, team, [alice], started_on=date(2026, 1, 5))
    picture = tmp_path / "visit.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(buf, "JPEG")
    picture.write_bytes(buf.getvalue())

    login(page, "leader")
    page.goto(page.base_url + "/visits/new/")
    expect(page.locator("#pick-hint")).to_be_visible()
    page.get_by_label("查找走访对象").fill("zds")
    choices = page.get_by_test_id("case-choices")
    expect(choices.get_by_text("张大山")).to_be_visible()
    choices.get_by_text("张大山").click()
    expect(page.locator("#block-tekun")).to_be_visible()
    expect(page.locator("#block-left-behind")).to_be_hidden()
    page.get_by_label("李青").check()
    page.locator("#id_home_safety_note").fill("门窗完好")
    page.locator("#id_health_note").fill("腿脚不便，需要轮椅")
    page.locator("#id_health_concern").check()
    page.locator("#id_photos").set_input_files(str(picture))
    screenshot(page, "visit-form-phone")
    page.get_by_test_id("save-visit").click()

    visit = Visit.objects.get()
    expect(page).to_have_url(re.compile(rf"/visits/{visit.pk}/$"))
    expect(page.get_by_test_id("care-flagged")).to_contain_text("身体健康")
    expect(page.get_by_test_id("visit-photos").locator("img")).to_have_count(1)
    page.wait_for_function(  # served through the hub's scoped download, and it loads
        "() => { const i = document.querySelector('[data-testid=visit-photos] img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    assert visit.photos.count() == 1 and list(visit.visitors.all()) == [alice]
    screenshot(page, "visit-detail-phone")
    assert not page.console_errors, page.console_errors

    page.context.clear_cookies()
    login(page, "officer_a")
    page.goto(page.base_url + "/follow-ups/")
    row = page.get_by_test_id("follow-up-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("身体健康：腿脚不便，需要轮椅")
    expect(row).to_contain_text("张大山")
    assert FollowUp.objects.get().owner == officer_a
    screenshot(page, "follow-up-list-phone")
