"""Team and volunteer screens: scoping both ways, read-only auditors, masked phones, constant
query counts, the compliance badge and strip, the home-page card."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aidcases.models import AuditEvent
from tests.volunteers.factories import make_team, make_volunteer
from volunteers.models import Activity, Membership, Team, Volunteer

TODAY = date(2026, 5, 20)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)


def activity(team, day, user):
    return Activity.objects.create(
        team=team, date=day, kind=Activity.Kind.OTHER, content="活动", entered_by=user
    )


def add_teams(area, n, start=0):
    for i in range(start, start + n):
        team = make_team(area, name=f"服务队{i}", leader=None)
        for j in range(3):
            make_volunteer(area, name=f"队员{i}-{j}", team=team, phone="13812345678")


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", ["team_list", "volunteer_list"])
def test_list_query_count_does_not_grow_with_rows(client_for, county_staff, township_a, name):
    client = client_for(county_staff)
    add_teams(township_a, 2)
    few = count_queries(client, reverse(name))
    add_teams(township_a, 8, start=2)
    assert count_queries(client, reverse(name)) == few


def test_team_page_query_count_does_not_grow_with_members(client_for, officer_a, township_a):
    team = make_team(township_a)
    make_volunteer(township_a, name="甲", team=team)
    activity(team, TODAY, officer_a)
    client = client_for(officer_a)
    few = count_queries(client, reverse("team_detail", args=[team.pk]))
    for i in range(6):
        make_volunteer(township_a, name=f"乙{i}", team=team)
        activity(team, TODAY - timedelta(days=i), officer_a)
    assert count_queries(client, reverse("team_detail", args=[team.pk])) == few


def test_leader_sees_only_own_teams(client_for, leader, township_a):
    make_team(township_a, name="我带的队", leader=leader)
    make_team(township_a, name="别人的队")
    html = client_for(leader).get(reverse("team_list")).content.decode()
    assert "我带的队" in html and "别人的队" not in html


def test_officer_sees_own_township_teams_and_county_sees_all(
    client_for, officer_a, county_staff, township_a, township_b
):
    make_team(township_a, name="城关队")
    make_team(township_b, name="东冶队")
    html = client_for(officer_a).get(reverse("team_list")).content.decode()
    assert "城关队" in html and "东冶队" not in html
    html = client_for(county_staff).get(reverse("team_list")).content.decode()
    assert "城关队" in html and "东冶队" in html


def test_list_filters_by_township_and_kind(client_for, county_staff, township_a, township_b):
    make_team(township_a, name="城关队", kind=Team.Kind.SWALLOW)
    make_team(township_b, name="东冶队")
    client = client_for(county_staff)
    html = client.get(reverse("team_list"), {"township": township_a.pk}).content.decode()
    assert "城关队" in html and "东冶队" not in html
    html = client.get(reverse("team_list"), {"kind": Team.Kind.TEKUN_CARE}).content.decode()
    assert "城关队" not in html and "东冶队" in html


def test_compliance_badge_and_strip(client_for, officer_a, township_a):
    done = make_team(township_a, name="活跃队")
    make_team(township_a, name="沉寂队")
    activity(done, date(2026, 4, 2), officer_a)  # this quarter (2026Q2)
    activity(done, date(2025, 8, 1), officer_a)  # 2025Q3
    client = client_for(officer_a)
    html = client.get(reverse("team_list")).content.decode()
    assert html.count('data-testid="compliance-ok"') == 2  # table + phone card
    assert html.count('data-testid="compliance-missing"') == 2
    page = client.get(reverse("team_detail", args=[done.pk])).content.decode()
    for quarter in ("2025Q3", "2025Q4", "2026Q1", "2026Q2"):
        assert f'data-testid="quarter-{quarter}"' in page
    assert "每季度至少开展一次" in page and "已开展 1 次" in page


def test_home_card_counts_quiet_teams_in_scope(client_for, officer_a, township_a, township_b):
    done = make_team(township_a, name="活跃队")
    make_team(township_a, name="沉寂队")
    make_team(township_b, name="东冶队")
    activity(done, date(2026, 4, 2), officer_a)
    from volunteers.selectors.teams import teams_without_activity_count

    assert teams_without_activity_count(user=officer_a) == 1
    html = client_for(officer_a).get(reverse("home")).content.decode()
    assert "本季度未开展活动的服务队" in html


def test_auditor_reads_but_cannot_write(client_for, auditor, township_a):
    team = make_team(township_a)
    volunteer = make_volunteer(township_a, team=team)
    client = client_for(auditor)
    assert client.get(reverse("team_detail", args=[team.pk])).status_code == 200
    assert client.get(reverse("volunteer_detail", args=[volunteer.pk])).status_code == 200
    for url in (
        reverse("team_create"),
        reverse("team_edit", args=[team.pk]),
        reverse("volunteer_create"),
        reverse("volunteer_edit", args=[volunteer.pk]),
        reverse("team_member_add", args=[team.pk]),
        reverse("activity_create", args=[team.pk]),
    ):
        assert client.get(url).status_code == 403, url


def test_team_page_shows_pairings_without_links(client_for, officer_a, township_a, village_a):
    from aidcases.models import AidCase
    from tests.factories import make_person
    from tests.volunteers.factories import make_pairing

    team = make_team(township_a)
    lead = make_volunteer(village_a, name="主责人", team=team)
    person = make_person(village_a, name="赵老汉", category=AidCase.Category.TEKUN)
    make_pairing(person.cases.get(), team, [lead])
    html = client_for(officer_a).get(reverse("team_detail", args=[team.pk])).content.decode()
    assert "赵老汉" in html and "主责人" in html and "结对中" in html


def test_phones_are_masked_and_reveal_is_audited(client_for, officer_a, township_a):
    volunteer = make_volunteer(township_a, phone="13812345678")
    client = client_for(officer_a)
    html = client.get(reverse("volunteer_list")).content.decode()
    assert "138****5678" in html and "13812345678" not in html
    page = client.get(reverse("volunteer_detail", args=[volunteer.pk])).content.decode()
    assert "13812345678" not in page
    response = client.post(reverse("volunteer_reveal", args=[volunteer.pk]))
    assert "13812345678" in response.content.decode()
    assert AuditEvent.objects.filter(verb="volunteer.reveal", actor=officer_a).count() == 1


def test_volunteer_search_by_name_and_pinyin_initials(client_for, officer_a, township_a):
    make_volunteer(township_a, name="赵熙晨")
    make_volunteer(township_a, name="李青")
    client = client_for(officer_a)
    for query in ("熙晨", "zxc", "zhaoxi"):
        html = client.get(reverse("volunteer_list"), {"q": query}).content.decode()
        assert "赵熙晨" in html and "李青" not in html, query


def test_volunteer_page_shows_service_hours_and_teams(client_for, officer_a, township_a):
    from datetime import time

    team = make_team(township_a, name="城关队")
    volunteer = make_volunteer(township_a, team=team)
    Membership.objects.update(started_on=date(2026, 1, 1))
    act = Activity.objects.create(
        team=team,
        date=TODAY,
        kind=Activity.Kind.OTHER,
        content="活动",
        entered_by=officer_a,
        starts_at=time(8),
        ends_at=time(11),
    )
    act.participants.add(volunteer)
    html = client_for(officer_a).get(reverse("volunteer_detail", args=[volunteer.pk])).content
    html = html.decode()
    assert "3.0 小时" in html and "城关队" in html


def test_leader_registers_a_new_member_from_the_team_page(client_for, leader, township_a):
    team = make_team(township_a, leader=leader)
    client = client_for(leader)
    url = reverse("volunteer_create") + f"?team={team.pk}"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "name": "新队员",
            "kind": Volunteer.Kind.TEACHER,
            "area": township_a.pk,
            "team": team.pk,
            "role": "member",
            "started_on": "2026-05-01",
            "phone": "13812345678",
        },
    )
    assert response.status_code == 302
    assert Membership.objects.get(volunteer__name="新队员").team == team


def test_minor_without_consent_gets_a_clear_message_on_the_form(client_for, officer_a, township_a):
    team = make_team(township_a)
    response = client_for(officer_a).post(
        reverse("volunteer_create"),
        {
            "name": "小志愿者",
            "kind": Volunteer.Kind.OTHER,
            "area": township_a.pk,
            "birth_date": "2012-01-01",
            "team": team.pk,
            "role": "member",
            "started_on": "2026-05-01",
        },
    )
    assert response.status_code == 200
    assert "监护人同意" in response.content.decode()
    assert not Volunteer.objects.exists()


def test_membership_add_and_end_pages(client_for, officer_a, township_a):
    team = make_team(township_a)
    volunteer = make_volunteer(township_a)
    client = client_for(officer_a)
    response = client.post(
        reverse("team_member_add", args=[team.pk]),
        {"volunteer": volunteer.pk, "role": "liaison", "started_on": "2026-05-01"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get()
    response = client.post(
        reverse("team_member_end", args=[membership.pk]), {"ended_on": "2026-05-10"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.ended_on == date(2026, 5, 10)


def test_team_create_page(client_for, officer_a, township_a, leader):
    response = client_for(officer_a).post(
        reverse("team_create"),
        {"name": "城关镇家燕护苗服务队", "kind": Team.Kind.SWALLOW, "area": township_a.pk,
         "leader": leader.pk},
    )  # fmt: skip
    team = Team.objects.get()
    assert response.status_code == 302 and team.leader == leader


def test_add_member_lists_the_townships_volunteers_and_finds_others_by_name(
    client_for, county_staff, township_a, township_b
):
    """A county's 30,000 volunteers made this page 1.4 MB: it lists the team's township's
    volunteers, a search finds anyone the user may add, and any of them can be posted."""
    team = make_team(township_a)
    ours = make_volunteer(township_a, name="李青")
    theirs = make_volunteer(township_b, name="赵熙晨")
    client = client_for(county_staff)
    url = reverse("team_member_add", args=[team.pk])

    listed = client.get(url).content.decode()
    found = client.get(url, {"q": "zxc"}).content.decode()
    added = client.post(
        url + "?q=zxc", {"volunteer": theirs.pk, "role": "member", "started_on": "2026-05-01"}
    )

    assert f'value="{ours.pk}"' in listed and f'value="{theirs.pk}"' not in listed
    assert f'value="{theirs.pk}"' in found and f'value="{ours.pk}"' not in found
    assert 'data-testid="member-none"' in client.get(url, {"q": "不存在的名字"}).content.decode()
    assert added.status_code == 302
    assert Membership.objects.filter(team=team, volunteer=theirs).exists()


def test_a_form_with_errors_keeps_the_chosen_volunteer_listed(
    client_for, county_staff, township_a, township_b
):
    team = make_team(township_a)
    theirs = make_volunteer(township_b, name="赵熙晨")

    page = client_for(county_staff).post(
        reverse("team_member_add", args=[team.pk]),
        {"volunteer": theirs.pk, "role": "member", "started_on": "not a date"},
    )

    assert page.status_code == 200
    assert f'value="{theirs.pk}" selected' in page.content.decode()


def test_with_many_teams_the_volunteer_form_lists_only_the_linked_team(
    client_for, county_staff, township_a, monkeypatch
):
    from volunteers.views import teams as team_views

    monkeypatch.setattr(team_views, "TEAM_CHOICES_MAX", 1)
    first, second = make_team(township_a, name="甲队"), make_team(township_a, name="乙队")
    client = client_for(county_staff)

    plain = client.get(reverse("volunteer_create")).content.decode()
    linked = client.get(reverse("volunteer_create"), {"team": second.pk}).content.decode()

    assert "甲队" not in plain and "乙队" not in plain and "teams-not-listed" in plain
    assert f'value="{second.pk}" selected' in linked and "甲队" not in linked
    assert first.pk != second.pk


def test_team_form_offers_the_area_picker_and_the_teams_own_villages(
    client_for, county_staff, township_a, township_b, village_a, village_b, monkeypatch
):
    """Not a <select> of every area and village of the county (a 300 KB form)."""
    from volunteers.views import teams as team_views

    team = make_team(township_a)
    client = client_for(county_staff)
    edit = client.get(reverse("team_edit", args=[team.pk])).content.decode()
    monkeypatch.setattr(team_views, "COVERED_CHOICES_MAX", 1)
    create = client.get(reverse("team_create")).content.decode()

    assert 'name="area_parent"' in edit  # the picker's township <select>
    assert village_a.name in edit and village_b.name not in edit
    assert village_a.name not in create and village_b.name not in create
    assert "保存后，在服务队的“编辑”页" in create
