"""The pairing pages: the worklists (待结对对象, 超期未确认, 全部结对), the proposal page,
the pairing page with its steps, and the 一人一档 section."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from aidcases import services as hub_services
from aidcases.models import AidCase
from tests.factories import make_person
from tests.volunteers.factories import make_pairing, make_team, make_volunteer
from volunteers import services
from volunteers.models import Pairing

pytestmark = pytest.mark.django_db

TODAY = date(2026, 9, 15)


@pytest.fixture(autouse=True)
def _frozen_today(monkeypatch):
    now = timezone.make_aware(timezone.datetime(2026, 9, 15, 10, 0))
    monkeypatch.setattr(timezone, "now", lambda: now)


@pytest.fixture
def team(township_a, leader):
    return make_team(township_a, leader=leader)


@pytest.fixture
def vols(team, village_a):
    return [
        make_volunteer(village_a, name="李青", team=team),
        make_volunteer(village_a, name="王芳", team=team),
    ]


def tekun(area, name):
    return make_person(area, name=name, category=AidCase.Category.TEKUN).cases.get()


def rows(response, testid: str) -> list[str]:
    html = response.content.decode()
    return [part.split("</tr>")[0] for part in html.split(f'data-testid="{testid}"')[1:]]


# --- worklists --------------------------------------------------------------------------


def test_unpaired_lists_open_tekun_and_left_behind_cases_without_an_active_pairing(
    client_for, officer_a, village_a, village_b, team, vols
):
    waiting = tekun(village_a, "赵等待")
    make_person(village_a, name="钱留守", category=AidCase.Category.LEFT_BEHIND)
    make_person(village_a, name="孙学生", category=AidCase.Category.STUDENT)
    paired = tekun(village_a, "李已结对")
    make_pairing(paired, team, vols)
    proposed = tekun(village_a, "周提出中")
    make_pairing(proposed, team, vols, state="proposed")
    closed = tekun(village_a, "吴结案")
    hub_services.case_close(acting_user=officer_a, case=closed, closed_on=TODAY, reason="迁出")
    tekun(village_b, "郑东冶")

    response = client_for(officer_a).get(reverse("pairing_list"))
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("赵等待", "钱留守", "周提出中"):
        assert name in html
    for name in ("孙学生", "李已结对", "吴结案", "郑东冶"):
        assert name not in html
    assert "结对确认中" in html  # 周 has a proposal under way
    assert waiting.person.name in html

    only_left_behind = client_for(officer_a).get(
        reverse("pairing_list"), {"category": "left_behind"}
    )
    assert "钱留守" in only_left_behind.content.decode()
    assert "赵等待" not in only_left_behind.content.decode()


def test_unpaired_filters_by_township_for_county_staff(
    client_for, county_staff, village_a, village_b, township_b
):
    tekun(village_a, "赵城关")
    tekun(village_b, "钱东冶")
    html = (
        client_for(county_staff)
        .get(reverse("pairing_list"), {"township": township_b.pk})
        .content.decode()
    )
    assert "钱东冶" in html and "赵城关" not in html


@pytest.mark.parametrize(
    "days_ago,listed", [(13, False), (14, True), (30, True)], ids=["13d", "14d", "30d"]
)
def test_unconfirmed_lists_proposals_from_fourteen_days_ago_on(
    client_for, officer_a, village_a, team, vols, days_ago, listed
):
    pairing = make_pairing(
        tekun(village_a, "赵待确认"), team, vols, state="proposed",
        started_on=TODAY - timedelta(days=days_ago),
    )  # fmt: skip
    assert pairing.proposed_on == TODAY - timedelta(days=days_ago)
    html = client_for(officer_a).get(reverse("pairing_list"), {"tab": "unconfirmed"})
    assert ("赵待确认" in html.content.decode()) is listed


def test_unconfirmed_counts_volunteer_confirmed_but_not_active_or_cancelled(
    client_for, officer_a, village_a, team, vols
):
    old = TODAY - timedelta(days=20)
    make_pairing(tekun(village_a, "赵半确认"), team, vols, state="vol_confirmed", started_on=old)
    make_pairing(tekun(village_a, "钱已结对"), team, vols, state="active", started_on=old)
    cancelled = make_pairing(tekun(village_a, "孙撤销"), team, vols, state="proposed",
                             started_on=old)  # fmt: skip
    services.pairing_cancel(acting_user=officer_a, pairing=cancelled, reason="不同意")
    response = client_for(officer_a).get(reverse("pairing_list"), {"tab": "unconfirmed"})
    html = response.content.decode()
    assert "赵半确认" in html and "钱已结对" not in html and "孙撤销" not in html


def test_unconfirmed_days_follow_the_setting(
    client_for, officer_a, village_a, team, vols, settings
):
    settings.PAIRING_CONFIRM_DAYS = 7
    make_pairing(tekun(village_a, "赵七天"), team, vols, state="proposed",
                 started_on=TODAY - timedelta(days=7))  # fmt: skip
    html = client_for(officer_a).get(reverse("pairing_list"), {"tab": "unconfirmed"})
    assert "赵七天" in html.content.decode()


def test_all_pairings_filter_by_state_and_team(
    client_for, officer_a, village_a, township_a, team, vols
):
    other = make_team(township_a, name="城关镇第二服务队")
    helper = make_volunteer(village_a, name="陈", team=other)
    make_pairing(tekun(village_a, "赵结对中"), team, vols)
    make_pairing(tekun(village_a, "钱提出"), other, [helper], state="proposed")
    client = client_for(officer_a)
    html = client.get(reverse("pairing_list"), {"tab": "all"}).content.decode()
    assert "赵结对中" in html and "钱提出" in html
    html = client.get(reverse("pairing_list"), {"tab": "all", "state": "active"}).content.decode()
    assert "赵结对中" in html and "钱提出" not in html
    html = client.get(reverse("pairing_list"), {"tab": "all", "team": other.pk}).content.decode()
    assert "钱提出" in html and "赵结对中" not in html


def test_a_leader_sees_only_their_own_teams_pairings(
    client_for, leader, village_a, township_a, team, vols
):
    other = make_team(township_a, name="城关镇第二服务队")
    helper = make_volunteer(village_a, name="陈", team=other)
    make_pairing(tekun(village_a, "赵本队"), team, vols)
    make_pairing(tekun(village_a, "钱别队"), other, [helper])
    html = client_for(leader).get(reverse("pairing_list"), {"tab": "all"}).content.decode()
    assert "赵本队" in html and "钱别队" not in html


@pytest.mark.parametrize("tab", ["unpaired", "unconfirmed", "all"])
def test_worklist_query_count_does_not_grow_with_rows(
    client_for, officer_a, village_a, team, vols, tab, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    old = TODAY - timedelta(days=20)

    def add(n, start):
        for i in range(n):
            case = tekun(village_a, f"对象{start + i}")
            if tab != "unpaired":
                make_pairing(case, team, vols, state="proposed", started_on=old)

    client = client_for(officer_a)
    add(2, 0)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("pairing_list"), {"tab": tab}).status_code == 200
    add(8, 100)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("pairing_list"), {"tab": tab})
    assert len(rows(response, "unpaired-row" if tab == "unpaired" else "pairing-row")) == 10
    assert len(many) == len(few)


# --- proposal page ------------------------------------------------------------------------


def test_an_officer_proposes_a_pairing_from_the_page(client_for, officer_a, village_a, team, vols):
    case = tekun(village_a, "赵熙晨")
    client = client_for(officer_a)
    found = client.get(reverse("pairing_create"), {"q": "zxc"}).content.decode()
    assert "赵熙晨" in found and f"?case={case.pk}" in found
    page = client.get(reverse("pairing_create"), {"case": case.pk}).content.decode()
    assert team.name in page  # the township's teams are offered
    form = client.get(reverse("pairing_create"), {"case": case.pk, "team": team.pk})
    assert "李青" in form.content.decode() and "王芳" in form.content.decode()
    response = client.post(
        reverse("pairing_create"),
        {"case": case.pk, "team": team.pk, "volunteers": [v.pk for v in vols],
         "lead": vols[1].pk, "proposed_on": "2026-09-15"},
    )  # fmt: skip
    pairing = Pairing.objects.get()
    assert response.status_code == 302 and response["Location"] == pairing.get_absolute_url()
    assert pairing.members.get(is_lead=True).volunteer == vols[1]


def test_a_bad_proposal_is_shown_again_with_a_clear_message_and_the_ticks_kept(
    client_for, officer_a, village_a, team, vols
):
    case = tekun(village_a, "赵熙晨")
    response = client_for(officer_a).post(
        reverse("pairing_create"),
        {"case": case.pk, "team": team.pk, "volunteers": [vols[0].pk], "lead": vols[1].pk,
         "proposed_on": "2026-09-15"},
    )  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 200
    assert "主责志愿者须是所选的结对志愿者之一" in html
    assert f'value="{vols[0].pk}" checked' in html and f'value="{vols[1].pk}" checked' in html
    assert not Pairing.objects.exists()


def test_a_duplicate_proposal_answers_in_chinese(client_for, officer_a, village_a, team, vols):
    case = tekun(village_a, "赵熙晨")
    make_pairing(case, team, vols, state="proposed")
    html = client_for(officer_a).post(
        reverse("pairing_create"),
        {"case": case.pk, "team": team.pk, "volunteers": [vols[0].pk], "lead": vols[0].pk,
         "proposed_on": "2026-09-15"},
    ).content.decode()  # fmt: skip
    assert "已有一条未结束的结对" in html
    assert Pairing.objects.count() == 1


def test_a_closed_case_is_not_offered_and_is_a_404(client_for, officer_a, village_a, team):
    case = tekun(village_a, "赵结案")
    hub_services.case_close(acting_user=officer_a, case=case, closed_on=TODAY, reason="迁出")
    client = client_for(officer_a)
    assert "赵结案" not in client.get(reverse("pairing_create"), {"q": "赵"}).content.decode()
    assert client.get(reverse("pairing_create"), {"case": case.pk}).status_code == 404


def test_a_leader_of_another_team_gets_404_for_the_team_and_its_pairing(
    client_for, leader, village_a, township_a
):
    other = make_team(township_a, name="城关镇第二服务队")
    helper = make_volunteer(village_a, name="陈", team=other)
    pairing = make_pairing(tekun(village_a, "赵别队"), other, [helper], state="proposed")
    client = client_for(leader)
    assert client.get(reverse("pairing_create"), {"team": other.pk}).status_code == 404
    assert client.get(reverse("pairing_detail", args=[pairing.pk])).status_code == 404
    response = client.post(reverse("pairing_confirm_volunteers", args=[pairing.pk]),
                           {"confirmed_on": "2026-09-15"})  # fmt: skip
    assert response.status_code == 404
    pairing.refresh_from_db()
    assert pairing.state == "proposed"


# --- the pairing page -----------------------------------------------------------------------


def test_the_page_offers_only_the_next_step(client_for, officer_a, village_a, team, vols):
    pairing = make_pairing(tekun(village_a, "赵熙晨"), team, vols, state="proposed")
    client = client_for(officer_a)
    html = client.get(reverse("pairing_detail", args=[pairing.pk])).content.decode()
    assert 'data-testid="step-confirm_volunteers"' in html
    assert 'data-testid="step-cancel"' in html
    assert 'data-testid="step-confirm_person"' not in html and 'data-testid="step-end"' not in html

    client.post(reverse("pairing_confirm_volunteers", args=[pairing.pk]),
                {"confirmed_on": "2026-09-15"})  # fmt: skip
    html = client.get(reverse("pairing_detail", args=[pairing.pk])).content.decode()
    assert 'data-testid="step-confirm_person"' in html
    assert 'data-testid="step-confirm_volunteers"' not in html
    response = client.post(
        reverse("pairing_confirm_person", args=[pairing.pk]),
        {"who": "监护人", "name": "赵小花", "how": "电话", "confirmed_on": "2026-09-15"},
    )
    assert response.status_code == 302
    pairing.refresh_from_db()
    assert pairing.state == "active" and pairing.person_confirmed_how == "电话"
    html = client.get(reverse("pairing_detail", args=[pairing.pk])).content.decode()
    assert 'data-testid="step-end"' in html and 'data-testid="step-cancel"' not in html
    assert "登记对象确认（结对开始）" in html  # the history names the steps
    assert "监护人：赵小花" in html


def test_a_step_posted_in_the_wrong_state_changes_nothing_and_says_why(
    client_for, officer_a, village_a, team, vols
):
    pairing = make_pairing(tekun(village_a, "赵熙晨"), team, vols, state="proposed")
    response = client_for(officer_a).post(
        reverse("pairing_end", args=[pairing.pk]), {"ended_on": "2026-09-15", "reason": "x"},
        follow=True,
    )  # fmt: skip
    assert "这一步现在不能办理" in response.content.decode()
    pairing.refresh_from_db()
    assert pairing.state == "proposed"


def test_a_step_with_missing_input_is_shown_again_with_the_message(
    client_for, officer_a, village_a, team, vols
):
    pairing = make_pairing(tekun(village_a, "赵熙晨"), team, vols)
    response = client_for(officer_a).post(
        reverse("pairing_end", args=[pairing.pk]), {"ended_on": "2026-09-15", "reason": ""}
    )
    assert response.status_code == 200 and "请填写结束原因" in response.content.decode()
    pairing.refresh_from_db()
    assert pairing.state == "active"


def test_a_leader_is_refused_the_persons_confirmation_but_sees_who_does_it(
    client_for, leader, village_a, team, vols
):
    pairing = make_pairing(tekun(village_a, "赵熙晨"), team, vols, state="vol_confirmed")
    client = client_for(leader)
    html = client.get(reverse("pairing_detail", args=[pairing.pk])).content.decode()
    assert 'data-testid="step-confirm_person"' not in html
    assert "请乡镇专干登记" in html
    response = client.post(
        reverse("pairing_confirm_person", args=[pairing.pk]),
        {"who": "本人", "name": "赵", "how": "当面", "confirmed_on": "2026-09-15"},
    )
    assert response.status_code == 403
    pairing.refresh_from_db()
    assert pairing.state == "vol_confirmed"


def test_a_leader_adjusts_the_volunteers_and_lead(client_for, leader, village_a, team, vols):
    pairing = make_pairing(tekun(village_a, "赵熙晨"), team, vols, state="proposed")
    response = client_for(leader).post(
        reverse("pairing_set_volunteers", args=[pairing.pk]),
        {"volunteers": [vols[1].pk], "lead": vols[1].pk},
    )
    assert response.status_code == 302
    assert [(m.volunteer, m.is_lead) for m in pairing.members.all()] == [(vols[1], True)]


def test_the_pairing_page_query_count_does_not_grow_with_volunteers(
    client_for, officer_a, village_a, team, vols
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pairing = make_pairing(tekun(village_a, "赵熙晨"), team, vols, state="proposed")
    client = client_for(officer_a)
    url = reverse("pairing_detail", args=[pairing.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    more = [make_volunteer(village_a, name=f"队员{i}", team=team) for i in range(6)]
    services.pairing_set_volunteers(
        acting_user=officer_a, pairing=pairing, volunteers=[*vols, *more], lead=vols[0]
    )
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert "队员5" in html
    assert len(many) == len(few)


# --- the 一人一档 section ----------------------------------------------------------------------


def test_the_archive_shows_the_persons_pairings_with_lead_and_dates(
    client_for, officer_a, village_a, team, vols
):
    case = tekun(village_a, "赵熙晨")
    make_pairing(case, team, vols, started_on=date(2026, 3, 2))
    html = client_for(officer_a).get(reverse("person_detail", args=[case.person_id])).content
    html = html.decode()
    section = html.split('data-testid="section-volunteers-pairings"')[1]
    assert "结对帮扶" in html
    assert team.name in section and "结对中" in section
    assert "李青" in section and "主责" in section and "王芳" in section
    assert "2026-03-02开始" in section


def test_the_archive_offers_a_pairing_for_an_unpaired_case(client_for, officer_a, village_a):
    case = tekun(village_a, "赵熙晨")
    html = client_for(officer_a).get(reverse("person_detail", args=[case.person_id])).content
    section = html.decode().split('data-testid="section-volunteers-pairings"')[1]
    assert "尚无结对中的帮扶" in section
    assert f"{reverse('pairing_create')}?case={case.pk}" in section


def test_the_archive_has_no_pairing_section_for_a_student(client_for, officer_a, village_a):
    person = make_person(village_a, name="孙学生", category=AidCase.Category.STUDENT)
    html = client_for(officer_a).get(reverse("person_detail", args=[person.pk])).content
    assert 'data-testid="section-volunteers-pairings"' not in html.decode()


def test_the_home_page_counts_people_waiting_for_a_pairing(
    client_for, officer_a, village_a, village_b, team, vols
):
    tekun(village_a, "赵等待")
    make_pairing(tekun(village_a, "钱已结对"), team, vols)
    tekun(village_b, "孙东冶")
    cards = client_for(officer_a).get(reverse("home")).context["cards"]
    card = next(c for c in cards if c["title"] == "待结对对象")
    assert card["value"] == 1
