"""Student / left-behind profile forms and their 一人一档 archive sections."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from aidcases import archive
from aidcases.models import AidCase, AuditEvent
from students import services as student_services
from students.models import LeftBehindProfile, School, StudentProfile
from tests.factories import _system_user, make_person

STUDENT = AidCase.Category.STUDENT
LEFT_BEHIND = AidCase.Category.LEFT_BEHIND


def _school(township, name):
    return student_services.school_get_or_create(
        acting_user=_system_user(), name=name, township=township
    )[0]


@pytest.fixture
def student_case(village_a):
    return make_person(village_a, name="王小明", category=STUDENT).cases.get()


@pytest.fixture
def child_case(village_a):
    person = make_person(
        village_a,
        name="李小花",
        female=True,
        category=LEFT_BEHIND,
        guardian_name="李奶奶",
        guardian_relationship="祖母",
        guardian_phone="13812345678",
    )
    return person.cases.get()


def _student_url(case):
    return reverse("student_profile_edit", args=[case.pk])


def _child_url(case):
    return reverse("left_behind_profile_edit", args=[case.pk])


# --- student form -------------------------------------------------------------


def test_officer_fills_in_student_profile(client_for, officer_a, township_a, student_case):
    school = _school(township_a, "城关小学")
    client = client_for(officer_a)
    page = client.get(_student_url(student_case))
    assert page.status_code == 200
    assert "城关小学" in page.content.decode()
    response = client.post(
        _student_url(student_case),
        {
            "school": school.pk,
            "grade": "三年级",
            "class_name": "2班",
            "enrolment_year": "2023",
            "student_number": " g1408 2220 ",
        },
    )
    assert response.status_code == 302
    profile = StudentProfile.objects.get(case=student_case)
    assert (profile.school, profile.grade, profile.class_name) == (school, "三年级", "2班")
    assert profile.enrolment_year == 2023
    assert profile.student_number == "G14082220"
    event = AuditEvent.objects.get(verb="case.profile", object_id=str(student_case.pk))
    assert event.actor == officer_a


def test_new_school_name_creates_the_school_in_the_persons_township(
    client_for, officer_a, township_a, student_case
):
    response = client_for(officer_a).post(
        _student_url(student_case), {"new_school_name": "城关 第三小学", "grade": "一年级"}
    )
    assert response.status_code == 302
    school = School.objects.get(name="城关第三小学")
    assert school.area == township_a
    assert StudentProfile.objects.get(case=student_case).school == school
    assert AuditEvent.objects.filter(verb="school.create", object_id=str(school.pk)).exists()


def test_new_school_name_of_a_known_school_reuses_it(
    client_for, officer_a, township_a, student_case
):
    school = _school(township_a, "城关小学")
    client_for(officer_a).post(_student_url(student_case), {"new_school_name": "城关小学"})
    assert School.objects.count() == 1
    assert StudentProfile.objects.get(case=student_case).school == school


def test_choosing_a_school_and_naming_a_new_one_is_refused(
    client_for, officer_a, township_a, student_case
):
    school = _school(township_a, "城关小学")
    response = client_for(officer_a).post(
        _student_url(student_case), {"school": school.pk, "new_school_name": "另一所学校"}
    )
    assert response.status_code == 200
    assert "两项只填一项" in response.content.decode()
    assert not StudentProfile.objects.exists()
    assert not School.objects.filter(name="另一所学校").exists()


def test_enrolment_year_out_of_range_is_refused_in_chinese(client_for, officer_a, student_case):
    response = client_for(officer_a).post(_student_url(student_case), {"enrolment_year": "1900"})
    assert response.status_code == 200
    assert "入学年份应在1950年到" in response.content.decode()
    assert not StudentProfile.objects.exists()


def test_school_of_another_township_cannot_be_chosen(
    client_for, officer_a, township_b, student_case
):
    other = _school(township_b, "东冶中学")
    client = client_for(officer_a)
    assert "东冶中学" not in client.get(_student_url(student_case)).content.decode()
    response = client.post(_student_url(student_case), {"school": other.pk})
    assert response.status_code == 200
    assert "school" in response.context["form"].errors
    assert not StudentProfile.objects.exists()


def test_school_set_earlier_elsewhere_stays_selected(
    client_for, officer_a, township_b, student_case
):
    other = _school(township_b, "青山县职业中学")
    student_services.student_profile_save(
        acting_user=_system_user(), case=student_case, school=other
    )
    response = client_for(officer_a).post(
        _student_url(student_case), {"school": other.pk, "grade": "高一"}
    )
    assert response.status_code == 302
    profile = StudentProfile.objects.get(case=student_case)
    assert (profile.school, profile.grade) == (other, "高一")


def test_student_form_on_a_left_behind_case_is_404(client_for, officer_a, child_case):
    assert client_for(officer_a).get(_student_url(child_case)).status_code == 404


def test_left_behind_form_on_a_student_case_is_404(client_for, officer_a, student_case):
    assert client_for(officer_a).get(_child_url(student_case)).status_code == 404


def test_officer_b_gets_404_for_township_a_case(client_for, officer_b, student_case, child_case):
    client = client_for(officer_b)
    assert client.get(_student_url(student_case)).status_code == 404
    assert client.post(_student_url(student_case), {"grade": "一年级"}).status_code == 404
    assert client.post(_child_url(child_case), {"grade": "一年级"}).status_code == 404
    assert not StudentProfile.objects.exists() and not LeftBehindProfile.objects.exists()


@pytest.mark.parametrize("who", ["leader", "auditor", "approver"])
def test_roles_without_change_person_get_403(request, client_for, who, student_case, child_case):
    client = client_for(request.getfixturevalue(who))
    assert client.get(_student_url(student_case)).status_code == 403
    assert client.post(_child_url(child_case), {"grade": "一年级"}).status_code == 403


def test_missing_case_is_404(client_for, officer_a):
    assert (
        client_for(officer_a).get(reverse("student_profile_edit", args=[999999])).status_code == 404
    )


# --- left-behind form ---------------------------------------------------------


def _child_post(**overrides):
    data = {
        "grade": "四年级",
        "father_work_place": "江苏省苏州市",
        "mother_work_place": "广东省东莞市",
        "parent_contact_frequency": "每周",
        "guardian_name": "李奶奶",
        "guardian_relationship": "祖母",
        "guardian_phone": "138****5678",  # the masked value the form showed
        "guardian_age": "68",
        "guardian_health": "高血压",
        "teacher_name": "张老师",
        "teacher_phone": "139 0359 1234",
        "knows_person": "性格内向，爱画画",
        "knows_family": "父母在外务工，与奶奶同住",
        "knows_study": "数学较弱",
    }
    data.update(overrides)
    return data


def test_officer_fills_in_left_behind_profile(client_for, officer_a, township_a, child_case):
    school = _school(township_a, "城关小学")
    client = client_for(officer_a)
    page = client.get(_child_url(child_case)).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    response = client.post(_child_url(child_case), _child_post(school=school.pk))
    assert response.status_code == 302
    profile = LeftBehindProfile.objects.get(case=child_case)
    assert profile.school == school
    assert profile.teacher_phone == "13903591234"
    assert (profile.guardian_age, profile.guardian_health) == (68, "高血压")
    assert profile.knows_family == "父母在外务工，与奶奶同住"
    child_case.person.refresh_from_db()
    assert child_case.person.guardian_phone == "13812345678"  # masked value kept the number
    assert not AuditEvent.objects.filter(verb="person.update").exists()


def test_left_behind_form_updates_the_guardian_through_the_person_service(
    client_for, officer_a, child_case
):
    response = client_for(officer_a).post(
        _child_url(child_case),
        _child_post(
            guardian_name="李爷爷", guardian_relationship="祖父", guardian_phone="0359-1234567"
        ),
    )
    assert response.status_code == 302
    person = child_case.person
    person.refresh_from_db()
    assert (person.guardian_name, person.guardian_relationship) == ("李爷爷", "祖父")
    assert person.guardian_phone == "0359-1234567"
    event = AuditEvent.objects.get(verb="person.update", object_id=str(person.pk))
    assert set(event.details["fields"]) == {
        "guardian_name",
        "guardian_relationship",
        "guardian_phone",
    }


def test_emptying_a_masked_phone_clears_it(client_for, officer_a, child_case):
    client_for(officer_a).post(_child_url(child_case), _child_post(guardian_phone=""))
    child_case.person.refresh_from_db()
    assert child_case.person.guardian_phone == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("teacher_phone", "1381234567", "手机号码应为11位，当前为10位"),
        ("guardian_phone", "打电话给奶奶", "无法识别的电话号码"),
        ("teacher_phone", "13812345678/13912345678", "一次只能填写一个电话号码"),
    ],
)
def test_bad_phones_are_refused_with_chinese_messages(
    client_for, officer_a, child_case, field, value, message
):
    response = client_for(officer_a).post(_child_url(child_case), _child_post(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LeftBehindProfile.objects.exists()


def test_guardian_age_out_of_range_is_refused(client_for, officer_a, child_case):
    response = client_for(officer_a).post(_child_url(child_case), _child_post(guardian_age="150"))
    assert "监护人年龄应在10到120岁之间" in response.content.decode()
    assert not LeftBehindProfile.objects.exists()


def test_failed_guardian_update_rolls_back_the_new_school(client_for, officer_a, child_case):
    # A new school is created inside the same transaction as the profile: a
    # refusal later in the save must not leave an orphan school behind.
    person = child_case.person
    person.area = person.area.parent  # a township, which person_clean refuses
    person.save(update_fields=["area"])
    response = client_for(officer_a).post(
        _child_url(child_case), _child_post(new_school_name="新学校", guardian_name="王奶奶")
    )
    assert response.status_code == 200
    assert not School.objects.filter(name="新学校").exists()
    assert not LeftBehindProfile.objects.exists()


# --- archive sections ---------------------------------------------------------


def _sections(person, user):
    return {section.key: (section, data) for section, data in archive.render_data(person, user)}


def _render(section, data, person, user):
    return render_to_string(
        section.template, {"person": person, "section": section, "data": data, "user": user}
    )


def test_student_section_shows_school_grade_and_edit_button(officer_a, township_a, student_case):
    school = _school(township_a, "城关小学")
    student_services.student_profile_save(
        acting_user=_system_user(),
        case=student_case,
        school=school,
        grade="三年级",
        class_name="2班",
        enrolment_year=2023,
        student_number="G123",
    )
    person = student_case.person
    sections = _sections(person, officer_a)
    assert "students.left_behind" not in sections
    section, data = sections["students.student"]
    assert section.title == "学生信息"
    html = _render(section, data, person, officer_a)
    assert "城关小学" in html and "三年级" in html and "2班" in html and "2023" in html
    assert "G123" in html
    assert reverse("school_roster", args=[school.pk]) in html
    assert reverse("student_profile_edit", args=[student_case.pk]) in html


def test_student_section_without_profile_invites_filling_in(officer_a, student_case):
    section, data = _sections(student_case.person, officer_a)["students.student"]
    html = _render(section, data, student_case.person, officer_a)
    assert "尚未填写" in html and "填写学生信息" in html


def test_student_section_has_no_edit_button_for_read_only_roles(auditor, student_case):
    section, data = _sections(student_case.person, auditor)["students.student"]
    html = _render(section, data, student_case.person, auditor)
    assert reverse("student_profile_edit", args=[student_case.pk]) not in html


def test_student_section_links_the_roster_only_when_the_user_may_open_it(
    officer_b, township_a, village_b
):
    school = _school(township_a, "青山县第一高级中学")
    person = make_person(village_b, name="外乡学生", category=STUDENT)
    student_services.student_profile_save(
        acting_user=_system_user(), case=person.cases.get(), school=school
    )
    section, data = _sections(person, officer_b)["students.student"]
    html = _render(section, data, person, officer_b)
    assert "青山县第一高级中学" in html
    assert reverse("school_roster", args=[school.pk]) not in html


def test_left_behind_section_shows_parents_guardian_teacher_and_three_knows(
    officer_a, township_a, child_case
):
    school = _school(township_a, "城关小学")
    student_services.left_behind_profile_save(
        acting_user=_system_user(),
        case=child_case,
        school=school,
        grade="四年级",
        father_work_place="江苏省苏州市",
        mother_work_place="广东省东莞市",
        guardian_age=68,
        guardian_health="高血压",
        teacher_name="张老师",
        teacher_phone="13903591234",
        parent_contact_frequency="每周",
        knows_person="性格内向",
        knows_family="与奶奶同住",
        knows_study="数学较弱",
    )
    person = child_case.person
    sections = _sections(person, officer_a)
    assert "students.student" not in sections
    section, data = sections["students.left_behind"]
    assert section.title == "留守儿童信息"
    html = _render(section, data, person, officer_a)
    for text in ("江苏省苏州市", "广东省东莞市", "68岁", "高血压", "张老师", "每周", "李奶奶"):
        assert text in html
    assert "性格内向" in html and "与奶奶同住" in html and "数学较弱" in html
    assert "139****1234" in html and "13903591234" not in html
    assert reverse("left_behind_profile_edit", args=[child_case.pk]) in html


def test_person_without_student_or_left_behind_case_gets_no_section(officer_a, village_a):
    person = make_person(village_a, name="特困老人", category=AidCase.Category.TEKUN)
    sections = _sections(person, officer_a)
    assert "students.student" not in sections and "students.left_behind" not in sections


def test_closed_case_is_shown_without_edit_button(officer_a, student_case):
    from datetime import date

    from aidcases import services

    services.case_close(
        acting_user=_system_user(), case=student_case, closed_on=date.today(), reason="毕业"
    )
    section, data = _sections(student_case.person, officer_a)["students.student"]
    html = _render(section, data, student_case.person, officer_a)
    assert "已结案" in html
    assert reverse("student_profile_edit", args=[student_case.pk]) not in html
