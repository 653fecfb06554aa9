"""The pairing state machine: proposed → volunteers confirmed → (person or guardian,
recorded by an officer) active → ended; cancelled before active. Who may take which
step, and what each step refuses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from aidcases import services as hub_services
from aidcases.models import AidCase, AuditEvent
from tests.factories import make_person
from tests.volunteers.factories import make_team, make_volunteer
from volunteers import services
from volunteers.models import Membership, Pairing, PairingVolunteer

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


@pytest.fixture
def case(village_a):
    return make_person(village_a, name="赵老汉", category=AidCase.Category.TEKUN).cases.get()


def propose(user, case, team, vols, lead=None, **kw):
    return services.pairing_propose(
        acting_user=user, case=case, team=team, volunteers=vols, lead=lead or vols[0], **kw
    )


def to_active(officer, pairing):
    services.pairing_confirm_volunteers(acting_user=officer, pairing=pairing, confirmed_on=TODAY)
    return services.pairing_confirm_person(
        acting_user=officer,
        pairing=pairing,
        confirmed_on=TODAY,
        who="监护人",
        name="赵小花",
        how="当面",
    )


def verbs(pairing) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(pairing.pk), verb__startswith="pairing.")
        .order_by("id")
        .values_list("verb", flat=True)
    )


# --- the happy path ------------------------------------------------------------------


def test_it_walks_a_pairing_from_proposal_to_end_with_an_audit_row_per_step(
    officer_a, case, team, vols
):
    pairing = propose(officer_a, case, team, vols, lead=vols[1], proposed_on=TODAY)
    assert pairing.state == Pairing.State.PROPOSED
    assert PairingVolunteer.objects.get(pairing=pairing, is_lead=True).volunteer == vols[1]

    services.pairing_confirm_volunteers(acting_user=officer_a, pairing=pairing, confirmed_on=TODAY)
    pairing.refresh_from_db()
    assert pairing.state == Pairing.State.VOLUNTEER_CONFIRMED
    assert pairing.volunteers_confirmed_on == TODAY
    assert set(pairing.members.values_list("confirmed_on", flat=True)) == {TODAY}

    services.pairing_confirm_person(
        acting_user=officer_a,
        pairing=pairing,
        confirmed_on=TODAY,
        who="本人",
        name="赵老汉",
        how="电话",
    )
    pairing.refresh_from_db()
    assert pairing.state == Pairing.State.ACTIVE
    assert pairing.started_on == TODAY
    assert pairing.person_confirmed_by == "本人：赵老汉"
    assert pairing.person_confirmed_how == "电话"
    assert pairing.person_confirmation_recorded_by == officer_a

    services.pairing_end(
        acting_user=officer_a, pairing=pairing, ended_on=TODAY, reason="入住敬老院"
    )
    pairing.refresh_from_db()
    assert (pairing.state, pairing.ended_on, pairing.end_reason) == ("ended", TODAY, "入住敬老院")
    assert verbs(pairing) == [
        "pairing.propose",
        "pairing.confirm_volunteers",
        "pairing.confirm_person",
        "pairing.end",
    ]
    assert AuditEvent.objects.filter(verb="pairing.end").get().area == case.person.area


def test_a_left_behind_case_may_be_paired_too(officer_a, village_a, team, vols):
    child = make_person(village_a, name="小明", category=AidCase.Category.LEFT_BEHIND)
    assert propose(officer_a, child.cases.get(), team, vols).state == "proposed"


@pytest.mark.parametrize("state", ["proposed", "vol_confirmed"])
def test_a_pairing_not_yet_active_may_be_cancelled_with_a_reason(
    officer_a, case, team, vols, state
):
    pairing = propose(officer_a, case, team, vols)
    if state == "vol_confirmed":
        services.pairing_confirm_volunteers(acting_user=officer_a, pairing=pairing)
    with pytest.raises(ValidationError, match="撤销原因"):
        services.pairing_cancel(acting_user=officer_a, pairing=pairing, reason="  ")
    services.pairing_cancel(acting_user=officer_a, pairing=pairing, reason="监护人不同意")
    pairing.refresh_from_db()
    assert pairing.state == Pairing.State.CANCELLED and pairing.end_reason == "监护人不同意"
    # a cancelled pairing frees the case and team for a new proposal
    assert propose(officer_a, case, team, vols).state == "proposed"


# --- refused transitions ---------------------------------------------------------------


def test_the_person_cannot_confirm_before_the_volunteers(officer_a, case, team, vols):
    pairing = propose(officer_a, case, team, vols)
    with pytest.raises(ValidationError, match="志愿者确认之后"):
        services.pairing_confirm_person(
            acting_user=officer_a, pairing=pairing, confirmed_on=TODAY, who="本人", name="赵",
            how="当面",
        )  # fmt: skip
    pairing.refresh_from_db()
    assert pairing.state == "proposed" and pairing.person_confirmed_on is None


def test_an_active_pairing_without_both_confirmations_is_refused_by_the_database(
    officer_a, case, team, vols
):
    pairing = propose(officer_a, case, team, vols)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.filter(pk=pairing.pk).update(state="active", started_on=TODAY)


@pytest.mark.parametrize(
    "step,kwargs,from_states",
    [
        ("pairing_confirm_volunteers", {}, ["vol_confirmed", "active", "ended", "cancelled"]),
        ("pairing_end", {"ended_on": TODAY, "reason": "x"}, ["proposed", "vol_confirmed",
                                                            "ended", "cancelled"]),
        ("pairing_cancel", {"reason": "x"}, ["active", "ended", "cancelled"]),
        ("pairing_set_volunteers", {}, ["ended", "cancelled"]),
    ],
)  # fmt: skip
def test_each_step_refuses_the_states_it_does_not_start_from(
    officer_a, case, team, vols, step, kwargs, from_states
):
    for state in from_states:
        pairing = propose(officer_a, case, team, vols)
        if state in ("vol_confirmed", "active", "ended"):
            services.pairing_confirm_volunteers(acting_user=officer_a, pairing=pairing)
        if state in ("active", "ended"):
            services.pairing_confirm_person(
                acting_user=officer_a, pairing=pairing, confirmed_on=TODAY, who="本人",
                name="赵", how="当面",
            )  # fmt: skip
        if state == "ended":
            services.pairing_end(acting_user=officer_a, pairing=pairing, ended_on=TODAY, reason="x")
        if state == "cancelled":
            services.pairing_cancel(acting_user=officer_a, pairing=pairing, reason="x")
        if step == "pairing_set_volunteers":
            kwargs = {"volunteers": vols, "lead": vols[1]}
        with pytest.raises(ValidationError, match="当前状态"):
            getattr(services, step)(acting_user=officer_a, pairing=pairing, **kwargs)
        pairing.refresh_from_db()
        assert pairing.state == state
        if pairing.state in Pairing.OPEN_STATES:  # make room for the next round
            Pairing.objects.filter(pk=pairing.pk).update(
                state="cancelled", ended_on=TODAY, end_reason="test"
            )


def test_ending_needs_a_reason_and_a_date_not_before_the_start(officer_a, case, team, vols):
    pairing = to_active(officer_a, propose(officer_a, case, team, vols, proposed_on=TODAY))
    with pytest.raises(ValidationError, match="结束原因"):
        services.pairing_end(acting_user=officer_a, pairing=pairing, ended_on=TODAY, reason="")
    with pytest.raises(ValidationError, match="不能早于结对开始日期"):
        services.pairing_end(
            acting_user=officer_a, pairing=pairing, ended_on=TODAY - timedelta(days=1), reason="x"
        )
    pairing.refresh_from_db()
    assert pairing.state == "active"


def test_the_persons_confirmation_says_who_and_how_and_is_not_in_the_future(
    officer_a, case, team, vols
):
    pairing = propose(officer_a, case, team, vols)
    services.pairing_confirm_volunteers(acting_user=officer_a, pairing=pairing)
    base = {"acting_user": officer_a, "pairing": pairing, "confirmed_on": TODAY}
    with pytest.raises(ValidationError) as exc:
        services.pairing_confirm_person(**base, who="邻居", name="", how="")
    assert set(exc.value.error_dict) == {"who", "name", "how"}
    with pytest.raises(ValidationError, match="不能晚于今天"):
        services.pairing_confirm_person(
            **{**base, "confirmed_on": TODAY + timedelta(days=1)}, who="本人", name="赵", how="当面"
        )


def test_a_closed_case_cannot_be_paired(officer_a, case, team, vols):
    hub_services.case_close(acting_user=officer_a, case=case, closed_on=TODAY, reason="去世")
    with pytest.raises(ValidationError, match="已结案"):
        propose(officer_a, case, team, vols)
    assert not Pairing.objects.exists()


def test_a_student_case_cannot_be_paired(officer_a, village_a, team, vols):
    student = make_person(village_a, name="学生", category=AidCase.Category.STUDENT)
    with pytest.raises(ValidationError, match="只有特困人员和留守儿童"):
        propose(officer_a, student.cases.get(), team, vols)


def test_a_volunteer_who_is_not_a_current_member_is_refused(officer_a, case, team, vols, village_a):
    outsider = make_volunteer(village_a, name="外人")
    Membership.objects.filter(volunteer=vols[1]).update(ended_on=TODAY)  # left the team
    for chosen in ([vols[0], outsider], [vols[0], vols[1]]):
        with pytest.raises(ValidationError, match="不是.*在队队员"):
            propose(officer_a, case, team, chosen)
    assert not Pairing.objects.exists()


def test_exactly_one_lead_among_the_chosen_volunteers(officer_a, case, team, vols, village_a):
    with pytest.raises(ValidationError, match="主责志愿者"):
        services.pairing_propose(
            acting_user=officer_a, case=case, team=team, volunteers=vols, lead=None
        )
    other = make_volunteer(village_a, name="另一人", team=team)
    with pytest.raises(ValidationError, match="主责志愿者须是"):
        propose(officer_a, case, team, vols, lead=other)
    with pytest.raises(ValidationError, match="至少选择一名"):
        propose(officer_a, case, team, [], lead=other)


def test_one_open_pairing_per_case_and_team(officer_a, case, team, vols, township_a, village_a):
    propose(officer_a, case, team, vols)
    with pytest.raises(ValidationError, match="已有一条未结束的结对"):
        propose(officer_a, case, team, vols)
    # another team may be paired with the same person (several teams help one person)
    second = make_team(township_a, name="城关镇第二服务队")
    helper = make_volunteer(village_a, name="陈", team=second)
    assert propose(officer_a, case, second, [helper]).state == "proposed"


def test_a_concurrent_duplicate_caught_by_the_constraint_gets_the_clear_message(
    officer_a, case, team, vols, monkeypatch
):
    propose(officer_a, case, team, vols)
    # as if the other proposal committed between our check and our insert
    real_filter = Pairing.objects.filter

    def blind_filter(*args, **kwargs):
        if "state__in" in kwargs and "case" in kwargs:
            return real_filter(pk__in=[])
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Pairing.objects, "filter", blind_filter)
    with pytest.raises(ValidationError, match="已有一条未结束的结对"):
        propose(officer_a, case, team, vols)
    monkeypatch.undo()
    assert Pairing.objects.count() == 1


# --- who may -----------------------------------------------------------------------------


def test_a_leader_proposes_and_confirms_the_volunteers_of_their_own_team(
    leader, officer_a, case, team, vols
):
    pairing = propose(leader, case, team, vols)
    services.pairing_confirm_volunteers(acting_user=leader, pairing=pairing)
    pairing.refresh_from_db()
    assert pairing.state == "vol_confirmed"
    assert services.pairing_actions(user=leader, pairing=pairing) == ["set_volunteers"]


def test_a_leader_cannot_record_the_persons_confirmation_end_or_cancel(
    leader, officer_a, case, team, vols
):
    pairing = propose(leader, case, team, vols)
    services.pairing_confirm_volunteers(acting_user=leader, pairing=pairing)
    with pytest.raises(PermissionDenied):
        services.pairing_confirm_person(
            acting_user=leader, pairing=pairing, confirmed_on=TODAY, who="本人", name="赵",
            how="当面",
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.pairing_cancel(acting_user=leader, pairing=pairing, reason="x")
    to_active_pairing = services.pairing_confirm_person(
        acting_user=officer_a, pairing=pairing, confirmed_on=TODAY, who="本人", name="赵",
        how="当面",
    )  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.pairing_end(
            acting_user=leader, pairing=to_active_pairing, ended_on=TODAY, reason="x"
        )


def test_a_leader_cannot_propose_for_a_team_they_do_not_lead(leader, case, township_a, village_a):
    other = make_team(township_a, name="城关镇第二服务队")
    helper = make_volunteer(village_a, name="陈", team=other)
    with pytest.raises(PermissionDenied):
        propose(leader, case, other, [helper])


def test_an_officer_cannot_pair_a_case_or_team_of_another_township(
    officer_b, officer_a, case, team, vols, township_b, village_b
):
    with pytest.raises(PermissionDenied):
        propose(officer_b, case, team, vols)
    team_b = make_team(township_b, name="东冶乡服务队")
    helper = make_volunteer(village_b, name="孙", team=team_b)
    with pytest.raises(PermissionDenied):
        propose(officer_a, case, team_b, [helper])
    pairing = propose(officer_a, case, team, vols)
    with pytest.raises(PermissionDenied):
        services.pairing_confirm_volunteers(acting_user=officer_b, pairing=pairing)


@pytest.mark.parametrize("role", ["approver", "auditor"])
def test_read_only_roles_take_no_step(request, role, officer_a, case, team, vols):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        propose(user, case, team, vols)
    pairing = propose(officer_a, case, team, vols)
    assert services.pairing_actions(user=user, pairing=pairing) == []
    with pytest.raises(PermissionDenied):
        services.pairing_confirm_volunteers(acting_user=user, pairing=pairing)


def test_county_staff_may_take_every_step(county_staff, case, team, vols):
    pairing = to_active(county_staff, propose(county_staff, case, team, vols))
    assert pairing.state == "active"


# --- adjusting the volunteers --------------------------------------------------------------


def test_volunteers_and_lead_may_change_while_not_ended(officer_a, case, team, vols, village_a):
    pairing = to_active(officer_a, propose(officer_a, case, team, vols))
    newcomer = make_volunteer(village_a, name="新人", team=team)
    changed = services.pairing_set_volunteers(
        acting_user=officer_a, pairing=pairing, volunteers=[vols[1], newcomer], lead=newcomer
    )
    assert changed
    members = {m.volunteer.name: m for m in pairing.members.select_related("volunteer")}
    assert set(members) == {"王芳", "新人"}
    assert members["新人"].is_lead and not members["王芳"].is_lead
    # the newcomer joins an active pairing as confirmed (by whoever added them)
    assert members["新人"].confirmed_on == TODAY
    assert not services.pairing_set_volunteers(
        acting_user=officer_a, pairing=pairing, volunteers=[vols[1], newcomer], lead=newcomer
    )
    event = AuditEvent.objects.get(verb="pairing.set_volunteers")
    assert event.details["added"] == [newcomer.pk] and event.details["removed"] == [vols[0].pk]


def test_adjusting_refuses_a_non_member(officer_a, case, team, vols, village_a):
    pairing = propose(officer_a, case, team, vols)
    outsider = make_volunteer(village_a, name="外人")
    with pytest.raises(ValidationError, match="在队队员"):
        services.pairing_set_volunteers(
            acting_user=officer_a, pairing=pairing, volunteers=[outsider], lead=outsider
        )
    assert pairing.members.count() == 2
