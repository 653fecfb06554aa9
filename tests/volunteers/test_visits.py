"""visit_record: who may record what, what a visit opens, and what makes it the same visit."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from aidcases.models import AidCase, Attachment, AuditEvent
from tests.factories import make_person
from tests.volunteers import test_visits_world as world
from tests.volunteers.test_visits_world import TODAY, photo, tekun_cares
from volunteers import services
from volunteers.models import FollowUp, Visit

pytestmark = pytest.mark.django_db
vw = world.vw


def record(user, case, team, **kw):
    kw.setdefault("date", TODAY - timedelta(days=1))
    kw.setdefault("cares", tekun_cares() if case.category == "tekun" else None)
    return services.visit_record(acting_user=user, case=case, team=team, **kw)


def test_a_flagged_care_opens_a_follow_up_owned_by_the_township_officer(vw, leader, officer_a):
    visit = record(
        leader,
        vw.tekun,
        vw.team,
        visitors=[vw.alice],
        cares=tekun_cares(health=("腿脚不便，需要轮椅", True)),
        photos=[photo()],
    )
    follow_up = FollowUp.objects.get(visit=visit)
    assert follow_up.source_key == "health"
    assert follow_up.owner == officer_a
    assert follow_up.urgency == FollowUp.Urgency.NORMAL
    assert follow_up.due_on == visit.date + timedelta(days=14)
    assert "腿脚不便" in follow_up.need
    assert list(visit.visitors.all()) == [vw.alice]
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"visit.record", "follow_up.open", "attachment.add"} <= verbs


def test_photos_are_stored_as_the_persons_photo_attachments(vw, leader):
    visit = record(leader, vw.tekun, vw.team, photos=[photo(), photo("b.jpg", "red")])
    photos = list(visit.photos.all())
    assert len(photos) == 2
    assert all(p.person_id == vw.tekun.person_id for p in photos)
    assert all(p.kind == Attachment.Kind.PHOTO for p in photos)
    assert all(p.case_id == vw.tekun.pk for p in photos)


def test_the_same_picture_twice_is_linked_not_refused(vw, leader):
    first = record(leader, vw.tekun, vw.team, photos=[photo()])
    second = record(leader, vw.tekun, vw.team, date=TODAY, photos=[photo()])
    assert list(second.photos.all()) == list(first.photos.all())


def test_a_non_empty_urgent_need_opens_an_urgent_follow_up(vw, officer_a):
    visit = record(officer_a, vw.tekun, None, cares=tekun_cares(urgent=("屋顶漏雨", False)))
    follow_up = visit.follow_ups.get()
    assert follow_up.urgency == FollowUp.Urgency.URGENT
    assert follow_up.due_on == visit.date + timedelta(days=3)


def test_a_visit_with_nothing_to_follow_opens_nothing(vw, leader):
    visit = record(leader, vw.tekun, vw.team)
    assert not visit.follow_ups.exists()


def test_the_same_client_token_gives_back_the_same_visit(vw, leader):
    token = uuid.uuid4()
    cares = tekun_cares(mind=("孤独", True))
    first = record(leader, vw.tekun, vw.team, client_token=token, cares=cares)
    again = record(leader, vw.tekun, vw.team, client_token=token, cares=cares)
    assert again.pk == first.pk
    assert Visit.objects.count() == 1 and FollowUp.objects.count() == 1


def test_someone_elses_client_token_is_refused(vw, leader, officer_a):
    token = uuid.uuid4()
    record(leader, vw.tekun, vw.team, client_token=token)
    with pytest.raises(PermissionDenied):
        record(officer_a, vw.tekun, None, client_token=token)


def test_the_same_case_date_and_team_is_the_same_visit_with_a_clear_message(vw, leader):
    record(leader, vw.tekun, vw.team)
    with pytest.raises(ValidationError) as exc:
        record(leader, vw.tekun, vw.team)
    assert "已有" in exc.value.messages[0] and "不能重复登记" in exc.value.messages[0]
    assert Visit.objects.count() == 1


def test_a_future_date_is_refused(vw, leader):
    with pytest.raises(ValidationError) as exc:
        record(leader, vw.tekun, vw.team, date=TODAY + timedelta(days=1))
    assert "date" in exc.value.error_dict


def test_visitors_must_be_members_of_the_team(vw, leader):
    with pytest.raises(ValidationError) as exc:
        record(leader, vw.tekun, vw.team, visitors=[vw.alice, vw.outsider])
    assert "赵外" in str(exc.value.error_dict["visitors"])


def test_not_seen_needs_a_reason(vw, leader):
    with pytest.raises(ValidationError) as exc:
        record(leader, vw.tekun, vw.team, seen_in_person=False)
    assert "not_seen_reason" in exc.value.error_dict
    visit = record(leader, vw.tekun, vw.team, seen_in_person=False, not_seen_reason="外出就医")
    assert visit.seen_in_person is False


def test_a_tekun_visit_fills_the_cares_and_a_left_behind_visit_its_own_block(vw, officer_a):
    with pytest.raises(ValidationError):
        record(officer_a, vw.tekun, None, cares={})
    with pytest.raises(ValidationError):
        record(officer_a, vw.child, None, cares=tekun_cares())
    with pytest.raises(ValidationError) as exc:
        record(officer_a, vw.child, None, left_behind={"schooling": "良好"})
    assert "left_behind_kind" in exc.value.error_dict
    visit = record(
        officer_a, vw.child, None, left_behind={"left_behind_kind": "home", "schooling": "良好"}
    )
    assert visit.schooling == "良好" and not visit.follow_ups.exists()


def test_a_student_case_is_not_visited_here(vw, officer_a, village_a):
    case = make_person(village_a, name="陈学", category=AidCase.Category.STUDENT).cases.get()
    with pytest.raises(ValidationError):
        record(officer_a, case, None, cares=tekun_cares())


def test_a_leader_records_only_for_cases_their_team_is_paired_with(vw, leader, village_a):
    unpaired = make_person(village_a, name="周未结", category=AidCase.Category.TEKUN).cases.get()
    with pytest.raises(ValidationError) as exc:
        record(leader, unpaired, vw.team)
    assert "没有结对" in str(exc.value)
    with pytest.raises(ValidationError):
        record(leader, vw.tekun, None)


def test_a_leader_cannot_use_another_team(vw, leader, township_a):
    from tests.volunteers.factories import make_team

    other = make_team(township_a, name="城关镇第二服务队")
    with pytest.raises(PermissionDenied):
        record(leader, vw.tekun, other)


def test_nobody_records_a_visit_out_of_their_scope(vw, officer_a, officer_b, leader):
    with pytest.raises(PermissionDenied):
        record(officer_a, vw.tekun_b, None)
    with pytest.raises(PermissionDenied):
        record(leader, vw.tekun_b, vw.team_b)
    with pytest.raises(PermissionDenied):
        record(officer_b, vw.tekun, None)
    assert not Visit.objects.exists()


def test_a_closed_case_in_scope_may_still_get_its_visit(vw, officer_a):
    from aidcases import services as hub

    hub.case_close(acting_user=officer_a, case=vw.tekun, closed_on=TODAY, reason="已入住敬老院")
    vw.tekun.refresh_from_db()
    visit = record(officer_a, vw.tekun, None, date=date(2026, 11, 1))
    assert visit.case == vw.tekun


def test_an_auditor_records_nothing(vw, auditor):
    with pytest.raises(PermissionDenied):
        record(auditor, vw.tekun, None)


def test_a_failing_visit_leaves_nothing_behind(vw, leader):
    with pytest.raises(ValidationError):
        record(leader, vw.tekun, vw.team, visitors=[vw.outsider], photos=[photo()])
    assert not Visit.objects.exists() and not Attachment.objects.exists()
