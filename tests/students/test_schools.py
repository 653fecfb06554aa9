"""Schools: the list (scoped, with aided-student counts), 一校一清册, create/edit."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from django.urls import reverse

from aidcases import pii, services
from aidcases.models import AidCase, AuditEvent
from students import services as student_services
from students.models import School
from students.selectors import grade_sort_key
from tests.factories import _system_user, make_id_number, make_person

STUDENT = AidCase.Category.STUDENT
LEFT_BEHIND = AidCase.Category.LEFT_BEHIND


def _school(township, name, stage=""):
    return student_services.school_get_or_create(
        acting_user=_system_user(), name=name, township=township, stage=stage
    )[0]


def _student(village, school, name, *, grade="", class_name="", **kwargs):
    person = make_person(village, name=name, category=STUDENT, **kwargs)
    case = person.cases.get(category=STUDENT)
    student_services.student_profile_save(
        acting_user=_system_user(), case=case, school=school, grade=grade, class_name=class_name
    )
    return person


def _child(village, school, name, *, grade="", **kwargs):
    person = make_person(village, name=name, category=LEFT_BEHIND, **kwargs)
    case = person.cases.get(category=LEFT_BEHIND)
    student_services.left_behind_profile_save(
        acting_user=_system_user(), case=case, school=school, grade=grade
    )
    return person


def _rows(response):
    return response.content.decode().count('data-testid="roster-row"')


# --- list -------------------------------------------------------------------


def test_officer_sees_only_schools_of_own_township(client_for, officer_a, township_a, township_b):
    _school(township_a, "城关小学")
    _school(township_b, "东冶中学")
    response = client_for(officer_a).get(reverse("school_list"))
    assert response.status_code == 200
    assert "城关小学" in response.content.decode()
    assert "东冶中学" not in response.content.decode()


def test_county_staff_sees_schools_of_every_township(
    client_for, county_staff, township_a, township_b
):
    _school(township_a, "城关小学")
    _school(township_b, "东冶中学")
    body = client_for(county_staff).get(reverse("school_list")).content.decode()
    assert "城关小学" in body and "东冶中学" in body


def test_school_list_counts_each_open_aided_child_once(
    client_for, county_staff, township_a, village_a
):
    school = _school(township_a, "城关小学")
    _school(township_a, "城关中学")
    _student(village_a, school, "甲学生")
    _child(village_a, school, "乙留守")
    both = _student(village_a, school, "丙两项")
    services.case_open(acting_user=_system_user(), person=both, category=LEFT_BEHIND)
    student_services.left_behind_profile_save(
        acting_user=_system_user(), case=both.cases.get(category=LEFT_BEHIND), school=school
    )
    closed = _student(village_a, school, "丁结案")
    services.case_close(
        acting_user=_system_user(),
        case=closed.cases.get(),
        closed_on=date.today(),
        reason="毕业",
    )
    gone = _student(village_a, school, "戊停用")
    services.person_set_active(acting_user=_system_user(), person=gone, active=False)

    response = client_for(county_staff).get(reverse("school_list"))
    schools = {s.name: s for s in response.context["page"]}
    assert schools["城关小学"].aided_count == 3
    assert schools["城关小学"].student_count == 2
    assert schools["城关小学"].left_behind_count == 2
    assert schools["城关中学"].aided_count == 0


def test_school_list_counts_only_children_in_the_officers_scope(
    client_for, officer_a, township_a, village_a, village_b
):
    school = _school(township_a, "青山县第一高级中学")
    _student(village_a, school, "本镇学生")
    _student(village_b, school, "外乡学生")
    response = client_for(officer_a).get(reverse("school_list"))
    assert [s.aided_count for s in response.context["page"]] == [1]


def test_school_list_searches_by_name_and_filters_by_stage_and_township(
    client_for, county_staff, township_a, township_b
):
    _school(township_a, "城关第一小学", "primary")
    _school(township_a, "城关中学", "junior")
    _school(township_b, "东冶小学", "primary")
    client = client_for(county_staff)

    def names(**params):
        response = client.get(reverse("school_list"), params)
        return sorted(s.name for s in response.context["page"])

    assert names(q="第一") == ["城关第一小学"]
    assert names(stage="primary") == ["东冶小学", "城关第一小学"]
    assert names(township=township_b.pk) == ["东冶小学"]
    assert names(township=township_a.pk, stage="junior") == ["城关中学"]


def test_school_list_query_count_does_not_grow_with_rows(
    client_for, county_staff, township_a, village_a, django_assert_max_num_queries
):
    client = client_for(county_staff)

    def add_schools(n, start):
        for i in range(start, start + n):
            school = _school(township_a, f"第{i}小学")
            _student(village_a, school, f"学生{i}")

    add_schools(3, 0)
    with django_assert_max_num_queries(50) as small:
        client.get(reverse("school_list"))
    add_schools(27, 3)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("school_list"))
    assert len(response.context["page"].object_list) == 30


# --- 一校一清册 ---------------------------------------------------------------


def test_roster_lists_students_and_left_behind_children_of_that_school_only(
    client_for, officer_a, township_a, village_a
):
    school = _school(township_a, "城关小学")
    other = _school(township_a, "城关中学")
    _student(village_a, school, "王小明", grade="三年级", class_name="2班")
    _child(village_a, school, "李留守", grade="一年级")
    _student(village_a, other, "张别校")
    _child(village_a, other, "赵别校")
    make_person(village_a, name="钱无校", category=STUDENT)

    response = client_for(officer_a).get(reverse("school_roster", args=[school.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "王小明" in body and "李留守" in body and "2班" in body
    assert "张别校" not in body and "赵别校" not in body and "钱无校" not in body
    assert _rows(response) == 2
    assert {tuple(r.categories) for r in response.context["rows"]} == {
        ("困难学生",),
        ("留守儿童",),
    }


def test_roster_masks_id_numbers_and_shows_no_id_reason(
    client_for, officer_a, township_a, village_a
):
    school = _school(township_a, "城关小学")
    number = make_id_number(date(2015, 3, 1))
    _student(village_a, school, "王小明", id_number=number)
    _student(village_a, school, "无证儿", no_id_reason="未办理身份证", gender="male")
    body = client_for(officer_a).get(reverse("school_roster", args=[school.pk])).content.decode()
    assert number not in body
    assert pii.mask_id_number(number) in body
    assert "未办理身份证" in body


def test_roster_groups_rows_by_grade_in_school_order(client_for, officer_a, township_a, village_a):
    school = _school(township_a, "城关学校")
    _student(village_a, school, "高年级", grade="初二")
    _student(village_a, school, "低年级", grade="二年级")
    _student(village_a, school, "中年级", grade="六年级")
    response = client_for(officer_a).get(reverse("school_roster", args=[school.pk]))
    assert [g.grade for g in response.context["groups"]] == ["二年级", "六年级", "初二"]
    assert [r.number for r in response.context["rows"]] == [1, 2, 3]
    assert "二年级（1人）" in response.content.decode()


def test_roster_sorts_by_name_on_request(client_for, officer_a, township_a, village_a):
    school = _school(township_a, "城关学校")
    _student(village_a, school, "乙", grade="一年级", gender="male", no_id_reason="无")
    _student(village_a, school, "甲", grade="三年级", gender="male", no_id_reason="无")
    response = client_for(officer_a).get(
        reverse("school_roster", args=[school.pk]), {"sort": "name"}
    )
    assert [r.person.name for r in response.context["rows"]] == sorted(["乙", "甲"])
    assert response.context["groups"] is None


def test_grade_labels_sort_like_a_school():
    grades = ["高一", "大一", "初三", "七年级", "一年级", "2024级", "", "十二年级", "六年级"]
    ordered = sorted(grades, key=grade_sort_key)
    assert ordered.index("一年级") < ordered.index("六年级") < ordered.index("初三")
    assert ordered.index("初三") < ordered.index("高一") < ordered.index("大一")
    assert ordered.index("七年级") < ordered.index("初三")
    assert ordered[-1] == ""


def test_roster_shows_a_page_on_screen_and_prints_whole(
    client_for, officer_a, township_a, village_a, monkeypatch
):
    from students import views as student_views

    monkeypatch.setattr(student_views, "ROSTER_PAGE_SIZE", 2)
    school = _school(township_a, "城关学校")
    for name, grade in [("甲", "一年级"), ("乙", "一年级"), ("丙", "一年级"), ("丁", "二年级")]:
        _student(village_a, school, name, grade=grade)
    client = client_for(officer_a)
    url = reverse("school_roster", args=[school.pk])
    first = client.get(url)
    assert _rows(first) == 2
    # A grade cut by the page still says how many children it has in all.
    assert "一年级（3人）" in first.content.decode()
    assert 'data-testid="roster-print-all"' in first.content.decode()
    second = client.get(url, {"page": 2})
    assert [r.number for g in second.context["groups"] for r in g.rows] == [3, 4]
    printed = client.get(url, {"print": 1})
    assert _rows(printed) == 4
    assert "data-autoprint" in printed.content.decode()
    assert "共 4 人" in printed.content.decode()


def test_officer_b_gets_404_for_township_a_school_roster(client_for, officer_b, township_a):
    school = _school(township_a, "城关小学")
    assert client_for(officer_b).get(reverse("school_roster", args=[school.pk])).status_code == 404


def test_roster_leaves_out_children_outside_the_officers_scope(
    client_for, officer_a, township_a, village_a, village_b
):
    school = _school(township_a, "青山县第一高级中学")
    _student(village_a, school, "本镇学生")
    _student(village_b, school, "外乡学生")
    body = client_for(officer_a).get(reverse("school_roster", args=[school.pk])).content.decode()
    assert "本镇学生" in body and "外乡学生" not in body


def test_roster_query_count_does_not_grow_with_rows(
    client_for, county_staff, township_a, village_a, django_assert_max_num_queries
):
    school = _school(township_a, "城关小学")
    client = client_for(county_staff)
    url = reverse("school_roster", args=[school.pk])

    def add(n, start):
        for i in range(start, start + n):
            (_student if i % 2 else _child)(village_a, school, f"儿童{i}", grade=f"{i % 6 + 1}年级")

    add(3, 0)
    with django_assert_max_num_queries(50) as small:
        client.get(url)
    add(27, 3)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert len(response.context["rows"]) == 30


# --- create / edit ------------------------------------------------------------


def test_officer_creates_a_school_in_own_township(client_for, officer_a, township_a):
    response = client_for(officer_a).post(
        reverse("school_create"), {"name": " 城关 第二小学 ", "township": township_a.pk}
    )
    assert response.status_code == 302
    school = School.objects.get(area=township_a)
    assert school.name == "城关第二小学"
    assert school.stage == School.Stage.PRIMARY  # guessed from the name
    assert AuditEvent.objects.filter(verb="school.create", object_id=str(school.pk)).exists()


def test_school_create_refuses_a_name_already_used_in_the_township(
    client_for, officer_a, township_a
):
    _school(township_a, "城关小学")
    response = client_for(officer_a).post(
        reverse("school_create"), {"name": "城关 小学", "township": township_a.pk}
    )
    assert response.status_code == 200
    assert "城关镇已有名为“城关小学”的学校。" in response.content.decode()
    assert School.objects.count() == 1


def test_same_school_name_is_fine_in_another_township(
    client_for, county_staff, township_a, township_b
):
    _school(township_a, "中心小学")
    response = client_for(county_staff).post(
        reverse("school_create"), {"name": "中心小学", "township": township_b.pk}
    )
    assert response.status_code == 302
    assert School.objects.filter(name="中心小学").count() == 2


def test_officer_cannot_create_a_school_in_another_township(client_for, officer_a, township_b):
    response = client_for(officer_a).post(
        reverse("school_create"), {"name": "东冶小学", "township": township_b.pk}
    )
    assert response.status_code == 200
    assert "township" in response.context["form"].errors
    assert not School.objects.exists()


@pytest.mark.parametrize("who", ["leader", "auditor", "approver"])
def test_roles_without_change_person_cannot_create_or_edit_schools(
    request, client_for, who, township_a
):
    school = _school(township_a, "城关小学")
    client = client_for(request.getfixturevalue(who))
    assert client.get(reverse("school_create")).status_code == 403
    assert client.get(reverse("school_edit", args=[school.pk])).status_code == 403


def test_officer_renames_a_school_and_it_is_audited(client_for, officer_a, township_a):
    school = _school(township_a, "城关小学")
    response = client_for(officer_a).post(
        reverse("school_edit", args=[school.pk]),
        {"name": "城关第一中学", "township": township_a.pk, "stage": "", "is_active": "on"},
    )
    assert response.status_code == 302
    school.refresh_from_db()
    assert school.name == "城关第一中学"
    assert school.stage == School.Stage.JUNIOR  # blank stage: guessed from the new name
    event = AuditEvent.objects.get(verb="school.update")
    assert event.details["fields"] == ["name", "stage"]
    assert event.details["before"]["name"] == "城关小学"


def test_school_edit_refuses_a_duplicate_name(client_for, officer_a, township_a):
    _school(township_a, "城关中学")
    school = _school(township_a, "城关小学")
    response = client_for(officer_a).post(
        reverse("school_edit", args=[school.pk]),
        {"name": "城关中学", "township": township_a.pk, "is_active": "on"},
    )
    assert response.status_code == 200
    assert "城关镇已有名为“城关中学”的学校。" in response.content.decode()
    school.refresh_from_db()
    assert school.name == "城关小学"


def test_school_update_service_refuses_duplicate_name(officer_a, township_a):
    from django.core.exceptions import ValidationError

    _school(township_a, "城关中学")
    school = _school(township_a, "城关小学")
    with pytest.raises(ValidationError) as exc:
        student_services.school_update(
            acting_user=officer_a, school=school, name="城关中学", township=township_a, stage=""
        )
    assert "城关中学" in exc.value.message_dict["name"][0]


def test_deactivated_school_leaves_the_list_but_keeps_its_roster(client_for, officer_a, township_a):
    school = _school(township_a, "城关小学")
    client = client_for(officer_a)
    client.post(
        reverse("school_edit", args=[school.pk]),
        {"name": "城关小学", "township": township_a.pk},  # is_active unticked
    )
    school.refresh_from_db()
    assert not school.is_active
    assert list(client.get(reverse("school_list")).context["page"]) == []
    assert client.get(reverse("school_roster", args=[school.pk])).status_code == 200


def test_officer_b_gets_404_editing_township_a_school(client_for, officer_b, township_a):
    school = _school(township_a, "城关小学")
    response = client_for(officer_b).post(
        reverse("school_edit", args=[school.pk]), {"name": "改名", "township": township_a.pk}
    )
    assert response.status_code == 404


def test_printed_roster_looks_labels_and_links_up_once_not_per_row(
    client_for, officer_a, township_a, village_a, monkeypatch
):
    # A 384-row printed roster spent a quarter of its time in get_FOO_display()
    # (which hashes every lazy label of the field on each call) and {% url %} on
    # each row: the work is done once per roster, whatever its size.
    import django.urls
    from django.utils import translation

    translation.gettext("")  # Trans resolves its gettext on first use
    calls = Counter()
    gettext, reverse_ = translation._trans.gettext, django.urls.reverse

    def counted_gettext(message):
        calls["gettext"] += 1
        return gettext(message)

    def counted_reverse(*args, **kwargs):
        calls["reverse"] += 1
        return reverse_(*args, **kwargs)

    monkeypatch.setattr(translation._trans, "gettext", counted_gettext)
    monkeypatch.setattr(django.urls, "reverse", counted_reverse)
    school = _school(township_a, "城关学校")
    client = client_for(officer_a)
    url = reverse("school_roster", args=[school.pk])
    counts = []
    for name in ["甲", "乙", "丙", "丁"]:
        _student(village_a, school, name, grade="一年级", gender="male", no_id_reason="无")
        calls.clear()
        printed = client.get(url, {"print": 1})
        counts.append(dict(calls))
    assert _rows(printed) == 4
    assert "/people/" in printed.content.decode() and ">男<" in printed.content.decode()
    assert counts[1] == counts[-1], counts


def test_roster_rows_escape_what_people_typed(client_for, officer_a, township_a, village_a):
    """The rows are built in Python (format_html), not by a template: still escaped."""
    school = _school(township_a, "城关学校")
    _student(village_a, school, "王<b>小明</b>", grade="<i>三年级</i>", class_name="2&班")
    body = client_for(officer_a).get(reverse("school_roster", args=[school.pk])).content.decode()
    assert "王&lt;b&gt;小明&lt;/b&gt;" in body and "<b>小明" not in body
    assert "&lt;i&gt;三年级" in body and "2&amp;班" in body
