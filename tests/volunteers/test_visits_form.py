"""The phone form: a plain POST that works without JS, one visit per double submit,
errors that keep everything typed, the person picker's search."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from tests.volunteers import test_visits_world as world
from tests.volunteers.test_visits_world import TODAY, photo
from volunteers.models import FollowUp, Visit

pytestmark = pytest.mark.django_db
vw = world.vw


def tekun_post(vw, **extra):
    data = {
        "client_token": str(uuid.uuid4()),
        "case": vw.tekun.pk,
        "team": vw.team.pk,
        "visitors": [vw.alice.pk],
        "date": TODAY.isoformat(),
        "mode": "in_person",
        "home_safety_note": "门窗完好",
        "health_note": "腿脚不便",
        "health_concern": "on",
        "own_action": "帮忙打扫卫生",
        "action": "save",
    }
    data.update(extra)
    return data


def test_the_form_carries_a_fresh_token_and_the_leaders_team(vw, leader, client_for):
    client = client_for(leader)
    first = client.get(reverse("visit_create")).content.decode()
    second = client.get(reverse("visit_create")).content.decode()
    token = first.split('name="client_token" value="')[1][:36]
    assert uuid.UUID(token) and token not in second
    assert f'<option value="{vw.team.pk}" selected>' in first
    assert 'capture="environment"' in first and 'accept="image/*"' in first
    assert "张大山" in first and "刘小雨" in first and "孙东冶" not in first


def test_saving_records_the_visit_and_a_double_submit_makes_one(vw, leader, client_for):
    client = client_for(leader)
    data = tekun_post(vw)
    data["photos"] = photo()
    response = client.post(reverse("visit_create"), data)
    visit = Visit.objects.get()
    assert response.status_code == 302 and response.url == reverse("visit_detail", args=[visit.pk])
    data["photos"] = photo()
    again = client.post(reverse("visit_create"), data)
    assert again.status_code == 302 and again.url == response.url
    assert Visit.objects.count() == 1 and FollowUp.objects.count() == 1
    assert visit.photos.count() == 1
    page = client.get(response.url).content.decode()
    assert 'data-clear-draft="visit-draft:' in page  # the saved draft is forgotten
    assert 'data-testid="care-flagged"' in page and "腿脚不便" in page


def test_errors_keep_everything_typed_and_ask_for_the_photos_again(vw, leader, client_for):
    client = client_for(leader)
    data = tekun_post(vw, date="2099-01-01", not_seen="on", not_seen_reason="外出就医")
    data["photos"] = photo()
    page = client.post(reverse("visit_create"), data)
    html = page.content.decode()
    assert page.status_code == 200 and not Visit.objects.exists()
    assert "走访日期不能晚于今天" in html
    assert "请重新选择照片" in html
    for typed in ("门窗完好", "腿脚不便", "帮忙打扫卫生", "外出就医", data["client_token"]):
        assert typed in html
    assert f'value="{vw.tekun.pk}" data-category="tekun" checked' in html
    assert 'name="health_concern" id="id_health_concern" checked' in html


def test_a_missing_person_is_a_clear_message(vw, leader, client_for):
    html = client_for(leader).post(reverse("visit_create"), tekun_post(vw, case="")).content
    assert "请选择走访对象" in html.decode()


def test_a_case_out_of_reach_is_answered_like_a_missing_one(vw, leader, client_for):
    client = client_for(leader)
    theirs = client.post(reverse("visit_create"), tekun_post(vw, case=vw.tekun_b.pk))
    missing = client.post(reverse("visit_create"), tekun_post(vw, case=987654321))
    assert theirs.status_code == missing.status_code == 200
    assert "孙东冶" not in theirs.content.decode()
    assert not Visit.objects.exists()


def test_the_same_day_again_says_so_without_a_500(vw, leader, client_for):
    client = client_for(leader)
    client.post(reverse("visit_create"), tekun_post(vw))
    page = client.post(reverse("visit_create"), tekun_post(vw))
    assert page.status_code == 200 and "不能重复登记" in page.content.decode()


def test_search_without_js_keeps_the_typed_fields(vw, officer_a, client_for):
    data = tekun_post(vw, action="search", q="lxy", case="")
    page = client_for(officer_a).post(reverse("visit_create"), data).content.decode()
    choices = page.split('data-testid="case-choices"')[1].split("</fieldset>")[0]
    assert "刘小雨" in choices and "张大山" not in choices
    assert "帮忙打扫卫生" in page and "没有保存" not in page
    assert not Visit.objects.exists()


def test_the_live_search_finds_by_initials_and_name_in_scope_only(vw, officer_a, client_for):
    client = client_for(officer_a)
    url = reverse("visit_case_search")
    assert "张大山" in client.post(url, {"q": "zds"}).content.decode()
    assert "张大山" in client.post(url, {"q": "大山"}).content.decode()
    assert "孙东冶" not in client.post(url, {"q": "sdy"}).content.decode()
    assert client.get(url).status_code == 405  # names stay out of URLs


def test_a_left_behind_visit_with_a_mandatory_report(vw, officer_a, client_for):
    data = {
        "client_token": str(uuid.uuid4()),
        "case": vw.child.pk,
        "date": TODAY.isoformat(),
        "mode": "in_person",
        "left_behind_kind": "home",
        "actual_carer": "邻居",
        "carer_matches_guardian": "no",
        "report_guardian_unable": "on",
        "action": "save",
    }
    response = client_for(officer_a).post(reverse("visit_create"), data)
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.carer_matches_guardian is False and visit.report_guardian_unable
    assert visit.follow_ups.get().is_mandatory_report


def test_the_visit_list_filters_and_stays_constant_in_queries(
    vw, officer_a, client_for, django_assert_max_num_queries
):
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.volunteers.factories import make_visit

    make_visit(vw.tekun, day=TODAY, team=vw.team)
    client = client_for(officer_a)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("visit_list"))
    for i in range(1, 15):
        seen = i % 2 == 0
        make_visit(
            vw.tekun,
            day=TODAY - timedelta(days=i),
            team=vw.team,
            seen_in_person=seen,
            not_seen_reason="" if seen else "外出",
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("visit_list")).content.decode()
    assert html.count('data-testid="visit-row"') == 15
    html = client.get(reverse("visit_list"), {"not_seen": "on"}).content.decode()
    assert html.count('data-testid="visit-row"') == 7


def test_with_many_teams_the_form_lists_only_the_chosen_teams_members(
    county_staff, township_a, village_a, client_for
):
    from tests.volunteers.factories import make_team, make_volunteer
    from volunteers.views.visits import MEMBER_LIST_TEAMS

    teams = [make_team(township_a, name=f"城关镇第{i}服务队") for i in range(MEMBER_LIST_TEAMS + 1)]
    for i, team in enumerate(teams):
        make_volunteer(village_a, name=f"队员{i:02d}号", team=team)
    client = client_for(county_staff)
    page = client.get(reverse("visit_create")).content.decode()
    assert "队员00号" not in page and "选择服务队后显示该队队员" in page
    chosen = client.post(
        reverse("visit_create"), {"action": "search", "team": teams[5].pk, "notes": "已写的备注"}
    ).content.decode()
    assert "队员05号" in chosen and "队员06号" not in chosen and "已写的备注" in chosen


def test_with_too_many_teams_the_list_filter_asks_for_a_township_first(
    county_staff, township_a, township_b, client_for, monkeypatch
):
    """A county's 3,000 teams in one <select> made a 200 KB page: the filter offers the
    teams of the chosen township, and none (choose a township first) when there are too many."""
    from tests.volunteers.factories import make_team
    from volunteers.views import visits as visit_views

    monkeypatch.setattr(visit_views, "TEAM_OPTIONS_MAX", 3)
    ours = [make_team(township_a, name=f"甲镇第{i}服务队") for i in range(3)]
    theirs = [make_team(township_b, name=f"乙镇第{i}服务队") for i in range(2)]
    client = client_for(county_staff)

    everyone = client.get(reverse("visit_list")).content.decode()
    in_a = client.get(reverse("visit_list"), {"township": township_a.pk}).content.decode()
    chosen = client.get(reverse("visit_list"), {"team": theirs[1].pk}).content.decode()

    assert "甲镇第0服务队" not in everyone and "先选乡镇" in everyone
    assert all(t.name in in_a for t in ours) and "乙镇第0服务队" not in in_a
    assert f'value="{theirs[1].pk}" selected' in chosen and "乙镇第0服务队" not in chosen


def test_with_hundreds_of_teams_the_form_offers_the_persons_townships_teams(
    vw, county_staff, client_for, monkeypatch
):
    """A county's 3,000 teams in the phone form's <select> made it 200 KB: once the person
    is chosen, the teams of their township are offered (and the chosen team)."""
    from volunteers.views import visits as visit_views

    monkeypatch.setattr(visit_views, "TEAM_OPTIONS_MAX", 1)
    client = client_for(county_staff)

    empty = client.get(reverse("visit_create")).content.decode()
    chosen = client.post(
        reverse("visit_create"), {"action": "search", "case": vw.tekun.pk}
    ).content.decode()

    assert 'data-testid="teams-cut"' in empty and vw.team.name not in empty
    assert vw.team.name in chosen and vw.team_b.name not in chosen
