"""Follow-ups: the mandatory-report path end to end, the follow-up actions, the lists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from aidcases.models import AuditEvent
from tests.volunteers import test_visits_world as world
from tests.volunteers.test_visits_world import TODAY, freeze, tekun_cares
from volunteers import services
from volunteers.models import FollowUp

pytestmark = pytest.mark.django_db
vw = world.vw


def mandatory_report(officer, vw):
    return services.visit_record(
        acting_user=officer,
        case=vw.child,
        team=None,
        date=TODAY - timedelta(days=2),
        left_behind={
            "left_behind_kind": "home",
            "actual_carer": "无人",
            "report_alone_or_missing": True,
        },
    )


def test_a_mandatory_report_is_on_every_county_home_page_and_the_officers_until_handled(
    vw, officer_a, officer_b, county_staff, approver, auditor, admin, client_for
):
    visit = mandatory_report(officer_a, vw)
    follow_up = visit.follow_ups.get()
    assert follow_up.is_mandatory_report and follow_up.urgency == FollowUp.Urgency.URGENT
    assert follow_up.due_on == TODAY  # the day it is entered, whatever the visit date
    assert follow_up.owner == officer_a

    for user in (county_staff, approver, auditor, admin, officer_a):
        html = client_for(user).get(reverse("home")).content.decode()
        assert "未处理的紧急事项" in html, user
        assert "刘小雨：强制报告：儿童独居或失踪" in html, user
    assert "刘小雨" not in client_for(officer_b).get(reverse("home")).content.decode()

    listed = client_for(county_staff).get(
        reverse("follow_up_list"), {"tab": "all", "state": "open", "urgency": "urgent"}
    )
    assert "强制报告" in listed.content.decode()

    services.follow_up_resolve(
        acting_user=officer_a, follow_up=follow_up, resolution="已联系儿童主任，由祖母接回照料"
    )
    for user in (county_staff, officer_a):
        html = client_for(user).get(reverse("home")).content.decode()
        assert "刘小雨" not in html, user


def test_resolving_needs_what_was_done(vw, officer_a):
    follow_up = mandatory_report(officer_a, vw).follow_ups.get()
    with pytest.raises(ValidationError) as exc:
        services.follow_up_resolve(acting_user=officer_a, follow_up=follow_up, resolution="  ")
    assert "resolution" in exc.value.error_dict
    follow_up.refresh_from_db()
    assert follow_up.state == FollowUp.State.OPEN


def test_start_refer_and_close(vw, officer_a):
    follow_up = mandatory_report(officer_a, vw).follow_ups.get()
    services.follow_up_start(acting_user=officer_a, follow_up=follow_up)
    follow_up = services.follow_up_refer(
        acting_user=officer_a, follow_up=follow_up, referred_to="police", note="已报110"
    )
    assert follow_up.state == FollowUp.State.IN_PROGRESS
    assert follow_up.referred_to == "police"
    with pytest.raises(ValidationError):
        services.follow_up_close(acting_user=officer_a, follow_up=follow_up, reason="")
    follow_up = services.follow_up_close(acting_user=officer_a, follow_up=follow_up, reason="重复")
    assert follow_up.state == FollowUp.State.CLOSED
    with pytest.raises(ValidationError):
        services.follow_up_start(acting_user=officer_a, follow_up=follow_up)
    verbs = list(
        AuditEvent.objects.filter(verb__startswith="follow_up.").values_list("verb", flat=True)
    )
    assert {"follow_up.open", "follow_up.start", "follow_up.refer", "follow_up.close"} <= set(verbs)


def test_reassign_only_to_someone_who_can_reach_it(vw, officer_a, officer_b, county_staff):
    follow_up = mandatory_report(officer_a, vw).follow_ups.get()
    with pytest.raises(ValidationError):
        services.follow_up_reassign(acting_user=officer_a, follow_up=follow_up, owner=officer_b)
    follow_up = services.follow_up_reassign(
        acting_user=officer_a, follow_up=follow_up, owner=county_staff
    )
    assert follow_up.owner == county_staff


def test_a_follow_up_by_hand_from_a_visit(vw, officer_a, leader):
    visit = services.visit_record(
        acting_user=leader, case=vw.tekun, team=vw.team, date=TODAY, cares=tekun_cares()
    )
    follow_up = services.follow_up_create(
        acting_user=officer_a,
        case=vw.tekun,
        visit=visit,
        need="联系卫生院上门体检",
        due_on=TODAY + timedelta(days=5),
    )
    assert follow_up.owner == officer_a and follow_up.visit == visit
    with pytest.raises(ValidationError):
        services.follow_up_create(
            acting_user=officer_a, case=vw.tekun, need="x", due_on=TODAY - timedelta(days=1)
        )


def test_the_lists_tabs_and_overdue_highlight(vw, officer_a, leader, client_for, monkeypatch):
    services.visit_record(
        acting_user=leader,
        case=vw.tekun,
        team=vw.team,
        date=TODAY,
        cares=tekun_cares(health=("腿疼", True), mind=("孤独", True)),
    )
    client = client_for(officer_a)
    mine = client.get(reverse("follow_up_list")).content.decode()
    assert mine.count('data-testid="follow-up-row"') == 2
    assert "逾期" not in mine.split("<tbody>")[1]
    assert (
        "本辖区没有逾期"
        in client.get(reverse("follow_up_list"), {"tab": "overdue"}).content.decode()
    )
    freeze(monkeypatch, TODAY + timedelta(days=15))
    client = client_for(officer_a)  # a fresh session: the old one expired meanwhile
    overdue = client.get(reverse("follow_up_list"), {"tab": "overdue"}).content.decode()
    assert overdue.count('data-testid="follow-up-row"') == 2
    assert "table-danger" in overdue
    # the leader's own list is empty (the officer owns them) but the team's are in 全部
    leader_all = client_for(leader).get(reverse("follow_up_list"), {"tab": "all"}).content.decode()
    assert leader_all.count('data-testid="follow-up-row"') == 2


def test_the_follow_up_list_does_not_grow_in_queries(
    vw, officer_a, leader, client_for, django_assert_max_num_queries
):
    from tests.volunteers.factories import make_visit

    def add(n, start):
        for i in range(n):
            visit = make_visit(vw.tekun, day=TODAY - timedelta(days=start + i), team=vw.team)
            FollowUp.objects.create(
                case=vw.tekun,
                visit=visit,
                need=f"事项{i}",
                owner=officer_a,
                due_on=TODAY,
                created_by=officer_a,
            )

    client = client_for(officer_a)
    add(2, 0)
    client.get(reverse("follow_up_list"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("follow_up_list"), {"tab": "all"})
    add(20, 10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("follow_up_list"), {"tab": "all"})
    assert response.content.decode().count('data-testid="follow-up-row"') == 22


def test_follow_up_page_actions(vw, officer_a, client_for):
    follow_up = mandatory_report(officer_a, vw).follow_ups.get()
    client = client_for(officer_a)
    url = reverse("follow_up_detail", args=[follow_up.pk])
    page = client.post(url, {"action": "resolve", "resolution": ""})
    assert page.status_code == 200 and "请填写处理结果" in page.content.decode()
    response = client.post(url, {"action": "resolve", "resolution": "已送回父母身边"})
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.state == FollowUp.State.RESOLVED


def test_an_auditor_reads_but_cannot_act(vw, officer_a, auditor, client_for):
    follow_up = mandatory_report(officer_a, vw).follow_ups.get()
    client = client_for(auditor)
    url = reverse("follow_up_detail", args=[follow_up.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "start"}).status_code == 403
