"""Teams, volunteers and memberships: the service rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from aidcases import pii
from aidcases.models import AuditEvent, User
from tests.factories import UserFactory, make_id_number
from tests.volunteers.factories import make_team, make_volunteer
from volunteers import services
from volunteers.models import Membership, Team, Volunteer


def data(area, **fields) -> services.VolunteerData:
    fields.setdefault("name", "王 小 青")
    fields.setdefault("kind", Volunteer.Kind.CADRE)
    return services.VolunteerData(area=area, **fields)


# --- teams -----------------------------------------------------------------------------------


def test_officer_creates_a_team_in_their_township_with_an_audit_row(officer_a, township_a, leader):
    team = services.team_create(
        acting_user=officer_a,
        name="城关镇 关爱特困人员青年志愿服务队",
        kind=Team.Kind.TEKUN_CARE,
        area=township_a,
        leader=leader,
    )
    assert team.name == "城关镇关爱特困人员青年志愿服务队"
    event = AuditEvent.objects.get(verb="team.create")
    assert event.actor == officer_a and event.area == township_a


def test_officer_cannot_create_a_team_in_another_township(officer_a, township_b):
    with pytest.raises(PermissionDenied):
        services.team_create(
            acting_user=officer_a, name="队", kind=Team.Kind.OTHER, area=township_b
        )


def test_team_leader_cannot_found_a_team(leader, township_a):
    with pytest.raises(PermissionDenied):
        services.team_create(acting_user=leader, name="队", kind=Team.Kind.OTHER, area=township_a)


def test_auditor_cannot_create_a_team(auditor, township_a):
    with pytest.raises(PermissionDenied):
        services.team_create(acting_user=auditor, name="队", kind=Team.Kind.OTHER, area=township_a)


def test_leader_must_have_the_team_leader_role(officer_a, township_a):
    with pytest.raises(ValidationError) as exc:
        services.team_create(
            acting_user=officer_a,
            name="队",
            kind=Team.Kind.OTHER,
            area=township_a,
            leader=officer_a,
        )
    assert "服务队队长" in str(exc.value.message_dict["leader"])


def test_leader_must_be_active(officer_a, township_a, leader):
    leader.is_active = False
    leader.save()
    with pytest.raises(ValidationError):
        services.team_create(
            acting_user=officer_a, name="队", kind=Team.Kind.OTHER, area=township_a, leader=leader
        )


def test_leader_of_another_township_is_refused(county_staff, township_b, leader):
    with pytest.raises(ValidationError) as exc:
        services.team_create(
            acting_user=county_staff,
            name="队",
            kind=Team.Kind.OTHER,
            area=township_b,
            leader=leader,
        )
    assert "之内" in str(exc.value.message_dict["leader"])


def test_team_names_are_unique_within_an_area(officer_a, township_a):
    services.team_create(acting_user=officer_a, name="一队", kind=Team.Kind.OTHER, area=township_a)
    with pytest.raises(ValidationError) as exc:
        services.team_create(
            acting_user=officer_a, name="一队", kind=Team.Kind.OTHER, area=township_a
        )
    assert "已有" in str(exc.value.message_dict["name"])


def test_areas_covered_must_lie_in_the_team_area(officer_a, county_staff, township_a, village_b):
    with pytest.raises(ValidationError):
        services.team_create(
            acting_user=county_staff,
            name="队",
            kind=Team.Kind.OTHER,
            area=township_a,
            areas_covered=[village_b],
        )


def test_team_update_reports_changed_fields(officer_a, township_a, village_a):
    team = make_team(township_a)
    changed = services.team_update(
        acting_user=officer_a,
        team=team,
        name="新名字",
        kind=team.kind,
        area=township_a,
        leader=None,
        areas_covered=[village_a],
    )
    assert changed == ["name", "areas_covered"]
    assert (
        services.team_update(
            acting_user=officer_a,
            team=team,
            name="新名字",
            kind=team.kind,
            area=township_a,
            leader=None,
            areas_covered=[village_a],
        )
        == []
    )
    assert AuditEvent.objects.filter(verb="team.update").count() == 1


def test_leader_may_edit_own_team_but_not_hand_it_over(leader, township_a):
    team = make_team(township_a, leader=leader)
    services.team_update(
        acting_user=leader, team=team, name="改名", kind=team.kind, area=township_a, leader=leader
    )
    with pytest.raises(ValidationError):
        services.team_update(
            acting_user=leader, team=team, name="改名", kind=team.kind, area=township_a, leader=None
        )


def test_leader_cannot_edit_a_team_they_do_not_lead(leader, township_a):
    team = make_team(township_a)
    with pytest.raises(PermissionDenied):
        services.team_update(
            acting_user=leader, team=team, name="改名", kind=team.kind, area=township_a, leader=None
        )


# --- volunteers ------------------------------------------------------------------------------


def test_register_normalises_phone_name_and_sort_key(officer_a, village_a):
    volunteer = services.volunteer_register(
        acting_user=officer_a, data=data(village_a, phone="138 1234 5678")
    )
    assert volunteer.phone == "13812345678"
    assert volunteer.name == "王小青"
    assert volunteer.name_sort.startswith("wang xiao qing")
    assert AuditEvent.objects.get(verb="volunteer.create").details == {"with_id_number": False}


def test_bad_phone_is_a_chinese_field_error(officer_a, village_a):
    with pytest.raises(ValidationError) as exc:
        services.volunteer_register(acting_user=officer_a, data=data(village_a, phone="12345"))
    assert "联系电话" in exc.value.message_dict["phone"][0]


def test_id_number_is_stored_encrypted_and_hashed_like_a_persons(officer_a, village_a):
    number = make_id_number(date(2000, 5, 6))
    volunteer = services.volunteer_register(
        acting_user=officer_a, data=data(village_a, id_number=number)
    )
    volunteer.refresh_from_db()
    assert number not in volunteer.id_number_encrypted
    assert pii.decrypt(volunteer.id_number_encrypted) == number
    assert volunteer.id_number_hash == pii.id_hash(number)
    assert volunteer.birth_date == date(2000, 5, 6)
    assert number not in str(AuditEvent.objects.get(verb="volunteer.create").details)


def test_the_same_id_number_cannot_be_registered_twice(officer_a, village_a):
    number = make_id_number(date(2000, 5, 6))
    services.volunteer_register(acting_user=officer_a, data=data(village_a, id_number=number))
    with pytest.raises(ValidationError) as exc:
        services.volunteer_register(
            acting_user=officer_a, data=data(village_a, name="别人", id_number=number)
        )
    assert "id_number" in exc.value.message_dict


def test_officer_cannot_register_a_volunteer_living_elsewhere_without_a_team(officer_a, village_b):
    with pytest.raises(PermissionDenied):
        services.volunteer_register(acting_user=officer_a, data=data(village_b))


def test_leader_registers_only_into_their_own_team(leader, township_a, village_a):
    own = make_team(township_a, leader=leader)
    other = make_team(township_a, name="别的队")
    with pytest.raises(PermissionDenied):
        services.volunteer_register(acting_user=leader, data=data(village_a))
    with pytest.raises(PermissionDenied):
        services.volunteer_register(acting_user=leader, data=data(village_a), team=other)
    assert services.volunteer_register(acting_user=leader, data=data(village_a), team=own).pk


def test_volunteer_update_lists_field_names_only(officer_a, village_a):
    volunteer = make_volunteer(village_a)
    number = make_id_number(date(1999, 1, 2))
    changed = services.volunteer_update(
        acting_user=officer_a,
        volunteer=volunteer,
        data=data(village_a, name="李青", major="数学", id_number=number),
    )
    assert set(changed) == {"major", "id_number", "birth_date", "gender"}
    event = AuditEvent.objects.get(verb="volunteer.update")
    assert number not in str(event.details)


def test_officer_cannot_update_a_volunteer_of_another_township(officer_a, village_b):
    volunteer = make_volunteer(village_b)
    with pytest.raises(PermissionDenied):
        services.volunteer_update(
            acting_user=officer_a, volunteer=volunteer, data=data(village_b, name="李青")
        )


# --- memberships -----------------------------------------------------------------------------


def test_minor_cannot_join_without_guardian_consent(officer_a, township_a, village_a):
    team = make_team(township_a)
    today = timezone.localdate()
    minor = make_volunteer(village_a, birth_date=today.replace(year=today.year - 16))
    with pytest.raises(ValidationError) as exc:
        services.membership_add(acting_user=officer_a, team=team, volunteer=minor)
    assert "监护人同意" in exc.value.message_dict["volunteer"][0]
    minor.guardian_name = "李父"
    minor.guardian_consent_on = today
    minor.save()
    assert services.membership_add(acting_user=officer_a, team=team, volunteer=minor).pk


def test_age_is_taken_on_the_join_date(officer_a, township_a, village_a):
    team = make_team(township_a)
    volunteer = make_volunteer(village_a, birth_date=date(2000, 6, 1))
    with pytest.raises(ValidationError):
        services.membership_add(
            acting_user=officer_a, team=team, volunteer=volunteer, started_on=date(2018, 5, 31)
        )
    assert services.membership_add(
        acting_user=officer_a, team=team, volunteer=volunteer, started_on=date(2018, 6, 1)
    )


def test_one_current_membership_per_team_and_volunteer(officer_a, township_a, village_a):
    team = make_team(township_a)
    volunteer = make_volunteer(village_a, team=team)
    with pytest.raises(ValidationError) as exc:
        services.membership_add(acting_user=officer_a, team=team, volunteer=volunteer)
    assert "已是本队" in exc.value.message_dict["volunteer"][0]


def test_an_ended_member_may_rejoin(officer_a, township_a, village_a):
    team = make_team(township_a)
    volunteer = make_volunteer(village_a, team=team)
    membership = Membership.objects.get()
    services.membership_end(
        acting_user=officer_a, membership=membership, ended_on=membership.started_on
    )
    services.membership_add(acting_user=officer_a, team=team, volunteer=volunteer)
    assert Membership.objects.filter(ended_on__isnull=True).count() == 1
    verbs = list(AuditEvent.objects.values_list("verb", flat=True).order_by("pk"))
    assert verbs == ["membership.end", "membership.add"]


def test_membership_cannot_end_before_it_started_or_twice(officer_a, township_a, village_a):
    team = make_team(township_a)
    make_volunteer(village_a, team=team)
    membership = Membership.objects.get()
    with pytest.raises(ValidationError):
        services.membership_end(
            acting_user=officer_a,
            membership=membership,
            ended_on=membership.started_on - timedelta(days=1),
        )
    services.membership_end(
        acting_user=officer_a, membership=membership, ended_on=membership.started_on
    )
    with pytest.raises(ValidationError):
        services.membership_end(
            acting_user=officer_a, membership=membership, ended_on=membership.started_on
        )


def test_leader_manages_members_of_own_team_only(leader, township_a, village_a):
    own = make_team(township_a, leader=leader)
    other = make_team(township_a, name="别的队")
    volunteer = make_volunteer(village_a, team=own)
    with pytest.raises(PermissionDenied):
        services.membership_add(acting_user=leader, team=other, volunteer=volunteer)


def test_auditor_cannot_add_members(auditor, township_a, village_a):
    team = make_team(township_a)
    volunteer = make_volunteer(village_a)
    with pytest.raises(PermissionDenied):
        services.membership_add(acting_user=auditor, team=team, volunteer=volunteer)


def test_inactive_leader_account_is_not_offered(officer_a, township_a):
    from volunteers.selectors import teams as selectors

    UserFactory(username="gone", role=User.Role.TEAM_LEADER, area=township_a, is_active=False)
    keep = UserFactory(username="keep", role=User.Role.TEAM_LEADER, area=township_a)
    assert list(selectors.leader_candidates(user=officer_a)) == [keep]
