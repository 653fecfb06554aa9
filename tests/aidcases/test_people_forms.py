"""Registering and editing people, opening/editing/closing cases, through the screens."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from aidcases import pii, services
from aidcases.models import AidCase, AuditEvent, Person, TekunProfile
from tests.factories import make_id_number, make_person

CREATE = "/people/new/"


def person_post(area, **overrides) -> dict:
    data = {
        "name": "赵熙晨",
        "id_number": make_id_number(date(2012, 5, 17)),
        "no_id_reason": "",
        "gender": "",
        "birth_date": "",
        "phone": "13812345678",
        "area": area.pk,
        "address": "南街12号",
        "guardian_name": "赵大山",
        "guardian_relationship": "父亲",
        "guardian_phone": "",
        "notes": "",
        "case_category": "",
        "case_level": "",
    }
    data.update(overrides)
    return data


def errors(response) -> dict:
    return {k: list(v) for k, v in response.context["form"].errors.items()}


# --- create -----------------------------------------------------------------------


def test_officer_registers_a_person_and_lands_on_the_archive_page(client_for, officer_a, village_a):
    number = make_id_number(date(2012, 5, 17), female=True)
    response = client_for(officer_a).post(CREATE, person_post(village_a, id_number=number))
    person = Person.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/people/{person.pk}/"
    assert person.name == "赵熙晨" and person.area == village_a
    assert person.gender == "female" and person.birth_date == date(2012, 5, 17)
    assert pii.decrypt(person.id_number_encrypted) == number
    assert person.phone == "13812345678" and person.guardian_name == "赵大山"
    assert person.created_by == officer_a
    assert AuditEvent.objects.filter(verb="person.create", actor=officer_a).count() == 1


def test_create_with_a_first_case_opens_it_in_the_same_submit(client_for, officer_a, village_a):
    data = person_post(
        village_a, case_category="student", case_level="special", case_flags=["dibao", "orphan"]
    )
    client_for(officer_a).post(CREATE, data)
    case = AidCase.objects.get()
    assert case.person.name == "赵熙晨"
    assert (case.category, case.status, case.hardship_level) == ("student", "open", "special")
    assert case.flags == ["dibao", "orphan"]
    assert AuditEvent.objects.filter(verb="case.open").count() == 1


def test_level_without_a_category_is_explained(client_for, officer_a, village_a):
    response = client_for(officer_a).post(CREATE, person_post(village_a, case_level="hard"))
    assert "请同时选择帮扶类别" in str(errors(response)["case_category"])
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"id_number": "140822201205170010"}, "id_number", "校验位错误"),
        ({"id_number": "14082220120517"}, "id_number", "应为18位"),
        ({"gender": "female"}, "gender", "性别与身份证号码不符（号码显示为男）"),
        (
            {"birth_date": "2012-05-18"},
            "birth_date",
            "出生日期与身份证号码不符（号码显示为2012-05-17）",
        ),
        ({"id_number": ""}, "id_number", "无身份证号码的原因"),
        ({"phone": "12345"}, "phone", "联系电话："),
        ({"guardian_phone": "138001380"}, "guardian_phone", "监护人电话："),
        ({"name": "  "}, "name", "姓名不能为空"),
    ],
)
def test_each_validation_message_is_shown_on_its_field(
    client_for, officer_a, village_a, overrides, field, message
):
    response = client_for(officer_a).post(CREATE, person_post(village_a, **overrides))
    assert response.status_code == 200
    assert message in " ".join(errors(response).get(field, [])), errors(response)
    assert message in response.content.decode()
    assert not Person.objects.exists()


def test_no_id_number_with_a_reason_is_accepted_but_needs_a_gender(
    client_for, officer_a, village_a
):
    client = client_for(officer_a)
    data = person_post(village_a, id_number="", no_id_reason="尚未办理户口")
    response = client.post(CREATE, data)
    assert "请选择性别" in " ".join(errors(response)["gender"])
    data["gender"] = "male"
    data["birth_date"] = "2020-01-02"
    response = client.post(CREATE, data)
    person = Person.objects.get()
    assert response.status_code == 302
    assert not person.has_id_number and person.no_id_reason == "尚未办理户口"
    assert person.birth_date == date(2020, 1, 2)


def test_a_landline_with_area_code_is_accepted(client_for, officer_a, village_a):
    client_for(officer_a).post(CREATE, person_post(village_a, phone="0359 1234567"))
    assert Person.objects.get().phone == "0359-1234567"


def test_duplicate_id_from_another_township_is_refused_without_naming_the_person(
    client_for, officer_a, village_a, village_b
):
    number = make_id_number(date(2012, 5, 17))
    make_person(village_b, name="钱东冶", id_number=number)
    response = client_for(officer_a).post(
        CREATE, person_post(village_a, name="赵熙晨", id_number=number)
    )
    message = " ".join(errors(response)["id_number"])
    # Neither who nor where: only whom to ask (issue 7, item 3).
    assert "已经登记" in message and "县团委" in message and "东冶" not in message
    assert "钱东冶" not in response.content.decode()
    assert Person.objects.count() == 1


def test_officer_cannot_register_into_another_townships_village(
    client_for, officer_a, village_a, village_b
):
    response = client_for(officer_a).post(CREATE, person_post(village_b))
    assert "请选择有效的村(社区)" in " ".join(errors(response)["area"])
    assert not Person.objects.exists()
    html = client_for(officer_a).get(CREATE).content.decode()
    assert "南街村" in html and "东冶村" not in html


# --- edit ---------------------------------------------------------------------------


@pytest.fixture
def zhao(village_a):
    return make_person(
        village_a,
        name="赵熙晨",
        id_number=make_id_number(date(2012, 5, 17)),
        phone="13812345678",
    )


def edit_url(person) -> str:
    return reverse("person_edit", args=[person.pk])


def edit_post(person, **overrides) -> dict:
    data = {
        "name": person.name,
        "id_number": "",
        "phone": person.phone,
        "area": person.area_id,
        "address": person.address,
        "guardian_name": person.guardian_name,
        "guardian_relationship": person.guardian_relationship,
        "guardian_phone": person.guardian_phone,
        "notes": person.notes,
    }
    data.update(overrides)
    return data


def test_edit_page_never_contains_the_clear_id_number(client_for, officer_a, zhao):
    number = pii.decrypt(zhao.id_number_encrypted)
    html = client_for(officer_a).get(edit_url(zhao)).content.decode()
    # Beside the birth date field: no tail at all (pii.id_candidates).
    assert f"留空表示不修改（当前：{pii.mask_id_number(number, tail=0)}）" in html
    assert number not in html
    assert number[6:14] not in html.replace("2012-05-17", "")  # only the derived date field
    assert 'name="id_number"' in html and 'value="' + number not in html


def test_edit_keeps_the_id_when_left_empty_and_saves_other_fields(client_for, officer_a, zhao):
    digest = zhao.id_number_hash
    response = client_for(officer_a).post(
        edit_url(zhao), edit_post(zhao, phone="13900001111", address="北街1号")
    )
    assert response.status_code == 302 and response["Location"] == f"/people/{zhao.pk}/"
    zhao.refresh_from_db()
    assert zhao.id_number_hash == digest
    assert zhao.phone == "13900001111" and zhao.address == "北街1号"
    assert zhao.gender == "male" and zhao.birth_date == date(2012, 5, 17)
    event = AuditEvent.objects.get(verb="person.update")
    assert set(event.details["fields"]) == {"phone", "address"}


def test_edit_with_a_new_id_number_derives_gender_and_birth_date_again(client_for, officer_a, zhao):
    number = make_id_number(date(2011, 1, 9), female=True)
    client_for(officer_a).post(edit_url(zhao), edit_post(zhao, id_number=number))
    zhao.refresh_from_db()
    assert pii.decrypt(zhao.id_number_encrypted) == number
    assert (zhao.gender, zhao.birth_date) == ("female", date(2011, 1, 9))


def test_edit_with_a_bad_new_id_number_shows_the_message(client_for, officer_a, zhao):
    response = client_for(officer_a).post(
        edit_url(zhao), edit_post(zhao, id_number="140822201205170010")
    )
    assert "校验位错误" in " ".join(errors(response)["id_number"])


def test_gender_and_birth_date_are_locked_to_the_stored_id_number(client_for, officer_a, zhao):
    # A forged POST for the disabled fields changes nothing.
    client_for(officer_a).post(
        edit_url(zhao), edit_post(zhao, gender="female", birth_date="2000-01-01")
    )
    zhao.refresh_from_db()
    assert (zhao.gender, zhao.birth_date) == ("male", date(2012, 5, 17))


def test_edit_without_changes_says_so(client_for, officer_a, zhao):
    response = client_for(officer_a).post(edit_url(zhao), edit_post(zhao), follow=True)
    assert "没有需要保存的修改" in response.content.decode()
    assert not AuditEvent.objects.filter(verb="person.update").exists()


def test_edit_person_without_id_can_add_one(client_for, officer_a, village_a):
    person = make_person(village_a, name="无证者", no_id_reason="尚未办理户口", gender="male")
    html = client_for(officer_a).get(edit_url(person)).content.decode()
    assert "当前未登记身份证号码" in html
    number = make_id_number(date(2019, 6, 1))
    client_for(officer_a).post(edit_url(person), edit_post(person, id_number=number, gender="male"))
    person.refresh_from_db()
    assert person.has_id_number and person.no_id_reason == ""


def test_duplicate_id_on_edit_is_refused(client_for, officer_a, zhao, village_b):
    number = make_id_number(date(2012, 5, 17))
    make_person(village_b, name="钱东冶", id_number=number)
    response = client_for(officer_a).post(edit_url(zhao), edit_post(zhao, id_number=number))
    assert "已经登记" in " ".join(errors(response)["id_number"])
    assert "钱东冶" not in response.content.decode()


def test_officer_gets_404_for_another_townships_person(client_for, officer_a, village_b):
    other = make_person(village_b, name="钱东冶")
    client = client_for(officer_a)
    assert client.get(edit_url(other)).status_code == 404
    assert client.post(edit_url(other), edit_post(other, name="改名")).status_code == 404
    other.refresh_from_db()
    assert other.name == "钱东冶"


@pytest.mark.parametrize("role", ["approver", "auditor", "leader"])
def test_read_only_roles_get_403_on_create_and_edit(request, client_for, role, zhao, village_a):
    client = client_for(request.getfixturevalue(role))
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, person_post(village_a, name="新人")).status_code == 403
    assert client.get(edit_url(zhao)).status_code == 403
    assert client.post(edit_url(zhao), edit_post(zhao, name="改名")).status_code == 403
    zhao.refresh_from_db()
    assert zhao.name == "赵熙晨" and Person.objects.count() == 1


# --- cases ------------------------------------------------------------------------


def test_open_a_case(client_for, officer_a, zhao):
    url = reverse("case_create", args=[zhao.pk])
    response = client_for(officer_a).post(
        url,
        {
            "category": "student",
            "hardship_level": "hard",
            "flags": ["dibao"],
            "opened_on": "2026-03-01",
            "notes": "学校推荐",
        },
    )
    case = AidCase.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/people/{zhao.pk}/"
    assert (case.category, case.hardship_level, case.flags) == ("student", "hard", ["dibao"])
    assert case.opened_on == date(2026, 3, 1) and case.notes == "学校推荐"
    assert case.created_by == officer_a


def test_opening_a_second_open_case_of_the_same_category_is_refused(
    client_for, officer_a, village_a
):
    person = make_person(village_a, name="赵熙晨", category="student")
    url = reverse("case_create", args=[person.pk])
    client = client_for(officer_a)
    assert "困难学生（已在册）" in client.get(url).content.decode()
    response = client.post(url, {"category": "student", "opened_on": "2026-03-01"})
    assert "赵熙晨已有在册的“困难学生”档案" in " ".join(errors(response)["category"])
    assert AidCase.objects.count() == 1


def test_case_open_date_cannot_be_in_the_future(client_for, officer_a, zhao):
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    response = client_for(officer_a).post(
        reverse("case_create", args=[zhao.pk]), {"category": "tekun", "opened_on": tomorrow}
    )
    assert "不能晚于今天" in " ".join(errors(response)["opened_on"])


def test_opening_a_tekun_case_leads_to_its_profile_form(client_for, officer_a, zhao):
    response = client_for(officer_a).post(
        reverse("case_create", args=[zhao.pk]),
        {"category": "tekun", "opened_on": date.today().isoformat()},
    )
    case = AidCase.objects.get()
    assert response["Location"] == reverse("case_edit", args=[case.pk])


def test_edit_a_case_level_flags_and_notes(client_for, officer_a, village_a):
    person = make_person(village_a, category="student")
    case = person.cases.get()
    response = client_for(officer_a).post(
        reverse("case_edit", args=[case.pk]),
        {"hardship_level": "special", "flags": ["disability", "dibao"], "notes": "复核"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.hardship_level, case.flags, case.notes) == (
        "special",
        ["dibao", "disability"],
        "复核",
    )
    assert AuditEvent.objects.get(verb="case.update").details["fields"]


def test_edit_a_tekun_case_saves_its_profile(client_for, officer_a, village_a):
    person = make_person(village_a, name="老李", birth=date(1950, 1, 1), category="tekun")
    case = person.cases.get()
    url = reverse("case_edit", args=[case.pk])
    client = client_for(officer_a)
    html = client.get(url).content.decode()
    assert "特困人员信息" in html and "供养方式" in html
    response = client.post(
        url,
        {
            "hardship_level": "special",
            "tekun-support_mode": "dispersed",
            "tekun-health": "高血压",
            "tekun-lives_alone": "on",
            "tekun-responsible_cadre": "王村长",
            "tekun-responsible_cadre_phone": "139 0000 1111",
        },
    )
    assert response.status_code == 302
    profile = TekunProfile.objects.get(case=case)
    assert profile.support_mode == "dispersed" and profile.health == "高血压"
    assert profile.lives_alone is True
    assert profile.responsible_cadre_phone == "13900001111"
    assert AuditEvent.objects.filter(verb="case.profile").count() == 1


def test_tekun_profile_bad_cadre_phone_is_explained(client_for, officer_a, village_a):
    case = make_person(village_a, category="tekun").cases.get()
    response = client_for(officer_a).post(
        reverse("case_edit", args=[case.pk]), {"tekun-responsible_cadre_phone": "12"}
    )
    assert response.status_code == 200
    assert response.context["tekun_form"].errors["responsible_cadre_phone"]
    assert not TekunProfile.objects.exists()


def test_student_case_edit_has_no_tekun_fields(client_for, officer_a, village_a):
    case = make_person(village_a, category="student").cases.get()
    html = client_for(officer_a).get(reverse("case_edit", args=[case.pk])).content.decode()
    assert "供养方式" not in html


def test_close_a_case(client_for, officer_a, village_a):
    person = make_person(village_a, category="student")
    case = person.cases.get()
    response = client_for(officer_a).post(
        reverse("case_close", args=[case.pk]),
        {"closed_on": date.today().isoformat(), "closed_reason": "已毕业"},
    )
    assert response.status_code == 302 and response["Location"] == f"/people/{person.pk}/"
    case.refresh_from_db()
    assert case.status == "closed" and case.closed_reason == "已毕业"
    assert AuditEvent.objects.filter(verb="case.close").count() == 1


def test_close_needs_a_reason_and_a_date_not_before_opening(client_for, officer_a, village_a):
    case = make_person(village_a, category="student").cases.get()
    url = reverse("case_close", args=[case.pk])
    client = client_for(officer_a)
    response = client.post(url, {"closed_on": date.today().isoformat(), "closed_reason": " "})
    assert "请填写结案原因" in " ".join(errors(response)["closed_reason"])
    before = (case.opened_on - timedelta(days=1)).isoformat()
    response = client.post(url, {"closed_on": before, "closed_reason": "已毕业"})
    assert "结案日期不能早于建档日期" in " ".join(errors(response)["closed_on"])
    case.refresh_from_db()
    assert case.status == "open"


def test_closing_a_closed_case_is_refused(client_for, officer_a, county_staff, village_a):
    case = make_person(village_a, category="student").cases.get()
    services.case_close(
        acting_user=county_staff, case=case, closed_on=date.today(), reason="已毕业"
    )
    url = reverse("case_close", args=[case.pk])
    client = client_for(officer_a)
    assert "该档案已于" in client.get(url).content.decode()
    response = client.post(url, {"closed_on": date.today().isoformat(), "closed_reason": "重复"})
    assert "该档案已结案" in response.content.decode()


def test_a_closed_category_can_be_opened_again(client_for, officer_a, county_staff, village_a):
    person = make_person(village_a, category="student")
    services.case_close(
        acting_user=county_staff, case=person.cases.get(), closed_on=date.today(), reason="休学"
    )
    client_for(officer_a).post(
        reverse("case_create", args=[person.pk]),
        {"category": "student", "opened_on": date.today().isoformat()},
    )
    assert person.cases.filter(status="open").count() == 1


@pytest.mark.parametrize("role", ["approver", "auditor", "leader"])
def test_read_only_roles_get_403_on_case_pages(request, client_for, role, village_a):
    person = make_person(village_a, category="student")
    case = person.cases.get()
    client = client_for(request.getfixturevalue(role))
    today = date.today().isoformat()
    for url, data in [
        (reverse("case_create", args=[person.pk]), {"category": "tekun", "opened_on": today}),
        (reverse("case_edit", args=[case.pk]), {"hardship_level": "special"}),
        (reverse("case_close", args=[case.pk]), {"closed_on": today, "closed_reason": "x"}),
    ]:
        assert client.get(url).status_code == 403, url
        assert client.post(url, data).status_code == 403, url
    case.refresh_from_db()
    assert case.status == "open" and case.hardship_level == ""
    assert person.cases.count() == 1


def test_officer_gets_404_for_another_townships_case(client_for, officer_a, village_b):
    case = make_person(village_b, category="student").cases.get()
    client = client_for(officer_a)
    today = date.today().isoformat()
    assert client.post(reverse("case_edit", args=[case.pk]), {}).status_code == 404
    assert (
        client.post(
            reverse("case_close", args=[case.pk]), {"closed_on": today, "closed_reason": "x"}
        ).status_code
        == 404
    )
    case.refresh_from_db()
    assert case.status == "open"


def test_a_bad_id_number_is_one_error_not_also_a_missing_gender(village_a):
    from django.core.exceptions import ValidationError

    from aidcases import services

    data = services.PersonData(name="张三", area=village_a, id_number="140822199001011234")
    with pytest.raises(ValidationError) as caught:
        services.person_clean(data)
    assert set(caught.value.error_dict) == {"id_number"}


# --- phones on the edit form (issue 7, item 4) ------------------------------------------------


def test_opening_the_edit_form_with_clear_phones_is_audited_as_a_reveal(
    client_for, officer_a, village_a
):
    person = make_person(
        village_a, name="王小明", phone="13812345678", guardian_phone="13987654321"
    )
    html = client_for(officer_a).get(edit_url(person)).content.decode()
    assert "13812345678" in html and "13987654321" in html
    events = AuditEvent.objects.filter(verb="person.reveal", object_id=str(person.pk))
    assert sorted(e.details["field"] for e in events) == ["guardian_phone", "phone"]
    assert all(e.actor == officer_a and e.details.get("via") == "edit_form" for e in events)


def test_a_role_that_may_not_reveal_phones_edits_with_them_masked(
    client_for, officer_a, village_a, monkeypatch
):
    person = make_person(village_a, name="王小明", phone="13812345678", guardian_phone="")
    real_has_perm = type(officer_a).has_perm
    monkeypatch.setattr(
        type(officer_a),
        "has_perm",
        lambda self, perm, obj=None: (
            perm != "aidcases.reveal_phone" and real_has_perm(self, perm, obj)
        ),
    )
    client = client_for(officer_a)
    html = client.get(edit_url(person)).content.decode()
    assert "13812345678" not in html and "138****5678" in html
    assert not AuditEvent.objects.filter(verb="person.reveal").exists()
    # Saving with the masked value sent back keeps the stored number.
    response = client.post(edit_url(person), edit_post(person, phone="138****5678", address="北街"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.phone == "13812345678" and person.address == "北街"
