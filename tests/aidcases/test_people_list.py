"""The people list (/people/): search, filters, sorting, paging, scoping, roles,
query counts, and its Excel export job."""

from __future__ import annotations

from datetime import date

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from aidcases import pii, services
from aidcases.models import AidCase, AuditEvent, Job
from tests.factories import child_area, make_id_number, make_person

URL = "/people/"


def names(response) -> list[str]:
    return [p.name for p in response.context["page"].object_list]


@pytest.fixture
def zhao(village_a):
    return make_person(
        village_a,
        name="赵熙晨",
        id_number=make_id_number(date(2012, 5, 17)),
        phone="13812345678",
        category=AidCase.Category.STUDENT,
    )


@pytest.fixture
def qian_b(village_b):
    return make_person(village_b, name="钱东冶", phone="13987654321")


# --- search -------------------------------------------------------------------


@pytest.mark.parametrize("query", ["赵熙晨", "熙晨", "zhaoxichen", "zhaoxi", "zxc", "ZXC", "z x c"])
def test_search_finds_by_name_pinyin_and_initials(client_for, officer_a, zhao, village_a, query):
    make_person(village_a, name="李明")
    response = client_for(officer_a).get(URL, {"q": query})
    assert names(response) == ["赵熙晨"]


@pytest.mark.parametrize(
    ("name", "queries"),
    [
        ("曾凡", ["zengfan", "cengfan", "zf", "cf"]),
        ("单雪", ["shanxue", "danxue", "sx", "dx"]),
    ],
)
def test_search_finds_heteronym_surnames_by_every_reading(
    client_for, officer_a, village_a, name, queries
):
    make_person(village_a, name=name)
    make_person(village_a, name="王五")
    client = client_for(officer_a)
    for query in queries:
        assert names(client.get(URL, {"q": query})) == [name], query


def test_search_finds_by_id_tail_phone_tail_and_whole_id(client_for, officer_a, village_a):
    number = make_id_number(date(2010, 3, 4), female=True)
    make_person(village_a, name="孙丽", id_number=number, phone="13700001111")
    make_person(village_a, name="周强")
    client = client_for(officer_a)
    assert names(client.get(URL, {"q": number[-4:]})) == ["孙丽"]
    assert names(client.get(URL, {"q": number[-6:]})) == ["孙丽"]
    assert names(client.get(URL, {"q": "1111"})) == ["孙丽"]
    # A whole ID in a GET is moved out of the URL first (test_id_privacy.py).
    assert names(client.get(URL, {"q": number}, follow=True)) == ["孙丽"]
    # Lower-case x and spaces are what people type.
    assert names(client.get(URL, {"q": f" {number.lower()} "}, follow=True)) == ["孙丽"]


def test_search_with_no_match_says_so(client_for, officer_a, zhao):
    response = client_for(officer_a).get(URL, {"q": "不存在的人"})
    assert names(response) == []
    assert "没有符合条件的帮扶对象" in response.content.decode()


# --- columns and masking ------------------------------------------------------


def test_list_shows_masked_id_and_phone_never_the_clear_values(client_for, county_staff, zhao):
    number = pii.decrypt(zhao.id_number_encrypted)
    html = client_for(county_staff).get(URL).content.decode()
    assert pii.mask_id_number(number) in html
    assert "138****5678" in html
    assert number not in html
    assert "13812345678" not in html


def test_list_shows_village_township_open_category_badges_and_level(
    client_for, county_staff, village_a
):
    person = make_person(village_a, name="吴桐")
    services.case_open(
        acting_user=county_staff,
        person=person,
        category=AidCase.Category.LEFT_BEHIND,
        hardship_level=AidCase.Level.SPECIAL,
    )
    closed = services.case_open(
        acting_user=county_staff, person=person, category=AidCase.Category.STUDENT
    )
    services.case_close(
        acting_user=county_staff, case=closed, closed_on=date.today(), reason="已毕业"
    )
    html = client_for(county_staff).get(URL).content.decode()
    assert "南街村" in html and "城关镇" in html
    assert "留守儿童" in html and "特别困难" in html
    table = html.split('data-testid="people-table"')[1].split("</table>")[0]
    assert "困难学生" not in table  # a closed case is not a badge


def test_person_without_id_number_is_listed_with_a_dash_for_the_id(
    client_for, officer_a, village_a
):
    make_person(village_a, name="无证者", no_id_reason="尚未办理户口", gender="male")
    response = client_for(officer_a).get(URL)
    assert names(response) == ["无证者"]
    assert "无身份证号码" in response.content.decode()


# --- filters --------------------------------------------------------------------


@pytest.fixture
def two_villages_a(township_a, village_a):
    return village_a, child_area(township_a, "202", "北关村", "village")


def test_filter_by_township_for_county_staff(client_for, county_staff, zhao, qian_b, township_b):
    response = client_for(county_staff).get(URL, {"township": township_b.pk})
    assert names(response) == ["钱东冶"]


def test_filter_by_village(client_for, officer_a, two_villages_a):
    south, north = two_villages_a
    make_person(south, name="南一")
    make_person(north, name="北一")
    assert names(client_for(officer_a).get(URL, {"village": north.pk})) == ["北一"]


def test_village_choices_narrow_to_the_chosen_township(
    client_for, county_staff, township_a, village_a, village_b
):
    response = client_for(county_staff).get(URL, {"township": township_a.pk})
    choices = [
        str(label) for _value, label in response.context["filter"].form.fields["village"].choices
    ]
    assert any("南街村" in c for c in choices)
    assert not any("东冶村" in c for c in choices)


def test_village_options_endpoint_returns_the_townships_villages(
    client_for, county_staff, township_a, village_a, village_b
):
    html = (
        client_for(county_staff)
        .get(reverse("person_village_options"), {"township": township_a.pk})
        .content.decode()
    )
    assert "南街村" in html and "东冶村" not in html


def test_village_options_endpoint_stays_in_scope(client_for, officer_a, township_b, village_b):
    html = (
        client_for(officer_a)
        .get(reverse("person_village_options"), {"township": township_b.pk})
        .content.decode()
    )
    assert "东冶村" not in html


def test_filter_by_category_counts_only_open_cases(client_for, officer_a, county_staff, village_a):
    open_one = make_person(village_a, name="在册生", category=AidCase.Category.STUDENT)
    closed_one = make_person(village_a, name="结案生", category=AidCase.Category.STUDENT)
    services.case_close(
        acting_user=county_staff,
        case=closed_one.cases.get(),
        closed_on=date.today(),
        reason="已毕业",
    )
    make_person(village_a, name="特困者", category=AidCase.Category.TEKUN)
    response = client_for(officer_a).get(URL, {"category": "student"})
    assert names(response) == [open_one.name]


def test_filter_by_level_and_category_means_the_same_case(
    client_for, officer_a, county_staff, village_a
):
    both = make_person(village_a, name="甲")
    services.case_open(
        acting_user=county_staff, person=both, category="student", hardship_level="special"
    )
    split = make_person(village_a, name="乙")
    services.case_open(
        acting_user=county_staff, person=split, category="student", hardship_level="general"
    )
    services.case_open(
        acting_user=county_staff, person=split, category="tekun", hardship_level="special"
    )
    client = client_for(officer_a)
    assert sorted(names(client.get(URL, {"level": "special"}))) == sorted(["乙", "甲"])
    assert names(client.get(URL, {"level": "special", "category": "student"})) == ["甲"]


def test_filter_by_flags_matches_any_of_them(client_for, officer_a, county_staff, village_a):
    for name, flags in [("低保户", ["dibao"]), ("孤儿甲", ["orphan", "disability"]), ("无标", [])]:
        person = make_person(village_a, name=name)
        services.case_open(acting_user=county_staff, person=person, category="student", flags=flags)
    response = client_for(officer_a).get(URL + "?flags=dibao&flags=orphan")
    assert sorted(names(response)) == sorted(["孤儿甲", "低保户"])
    assert names(client_for(officer_a).get(URL, {"flags": "disability"})) == ["孤儿甲"]


def test_filter_by_school_and_grade_through_student_and_left_behind_profiles(
    client_for, officer_a, township_a, village_a
):
    school_model = apps.get_model("students", "School")
    student_profile = apps.get_model("students", "StudentProfile")
    left_behind_profile = apps.get_model("students", "LeftBehindProfile")
    school = school_model.objects.create(name="城关中学", area=township_a)
    other = school_model.objects.create(name="城关小学", area=township_a)
    student = make_person(village_a, name="学生甲", category="student")
    student_profile.objects.create(case=student.cases.get(), school=school, grade="初二")
    child = make_person(village_a, name="留守乙", category="left_behind")
    left_behind_profile.objects.create(case=child.cases.get(), school=school, grade="初一")
    elsewhere = make_person(village_a, name="学生丙", category="student")
    student_profile.objects.create(case=elsewhere.cases.get(), school=other, grade="初二")
    client = client_for(officer_a)
    assert sorted(names(client.get(URL, {"school": school.pk}))) == sorted(["学生甲", "留守乙"])
    assert names(client.get(URL, {"school": school.pk, "grade": "初二"})) == ["学生甲"]
    assert sorted(names(client.get(URL, {"grade": "初二"}))) == sorted(["学生丙", "学生甲"])


def test_school_choices_hide_another_townships_schools(
    client_for, officer_a, county, township_a, township_b
):
    school_model = apps.get_model("students", "School")
    school_model.objects.create(name="城关中学", area=township_a)
    school_model.objects.create(name="县第一中学", area=county)
    b_school = school_model.objects.create(name="东冶中学", area=township_b)
    client = client_for(officer_a)
    html = client.get(URL).content.decode()
    assert "城关中学" in html and "县第一中学" in html
    assert "东冶中学" not in html
    response = client.get(URL, {"school": b_school.pk})
    assert response.context["filter"].form.errors


def test_filter_by_case_status(client_for, officer_a, county_staff, village_a):
    make_person(village_a, name="在册", category="tekun")
    closed = make_person(village_a, name="结案", category="tekun")
    services.case_close(
        acting_user=county_staff, case=closed.cases.get(), closed_on=date.today(), reason="死亡"
    )
    make_person(village_a, name="未建档")
    client = client_for(officer_a)
    assert names(client.get(URL, {"status": "open"})) == ["在册"]
    assert names(client.get(URL, {"status": "closed"})) == ["结案"]
    assert names(client.get(URL, {"status": "none"})) == ["未建档"]


def test_filter_by_gender(client_for, officer_a, village_a):
    make_person(village_a, name="男孩", female=False)
    make_person(village_a, name="女孩", female=True)
    assert names(client_for(officer_a).get(URL, {"gender": "female"})) == ["女孩"]


def test_filters_across_several_cases_do_not_duplicate_rows(
    client_for, county_staff, officer_a, village_a
):
    person = make_person(village_a, name="多档案")
    for category in ("student", "left_behind"):
        services.case_open(
            acting_user=county_staff, person=person, category=category, flags=["dibao"]
        )
    for params in ({"flags": "dibao"}, {"status": "open"}, {"level": ""}):
        response = client_for(officer_a).get(URL, params)
        assert names(response) == ["多档案"], params


# --- sorting and paging ---------------------------------------------------------


def test_sorting_by_name_birth_date_and_newest(client_for, officer_a, village_a):
    make_person(village_a, name="丙", birth=date(2011, 1, 1))
    make_person(village_a, name="甲", birth=date(2013, 1, 1))
    make_person(village_a, name="乙", birth=date(2009, 1, 1))
    client = client_for(officer_a)
    # Pinyin order (bing, jia, yi), not code points: what a Chinese list is expected in.
    assert names(client.get(URL, {"sort": "name"})) == ["丙", "甲", "乙"]
    assert names(client.get(URL, {"sort": "-name"})) == ["乙", "甲", "丙"]
    assert names(client.get(URL, {"sort": "birth"})) == ["乙", "丙", "甲"]
    assert names(client.get(URL, {"sort": "-birth"})) == ["甲", "丙", "乙"]
    assert names(client.get(URL, {"sort": "newest"})) == ["乙", "甲", "丙"]


def test_sorting_by_village_groups_people_by_village(client_for, officer_a, two_villages_a):
    south, north = two_villages_a
    make_person(north, name="北一")
    make_person(south, name="南一")
    make_person(north, name="北二")
    result = names(client_for(officer_a).get(URL, {"sort": "village"}))
    assert result.index("南一") < result.index("北一")  # 201 before 202
    assert abs(result.index("北一") - result.index("北二")) == 1


def test_an_unknown_sort_key_falls_back_to_the_default_order(client_for, officer_a, zhao):
    response = client_for(officer_a).get(URL, {"sort": "id_number_hash"})
    assert names(response) == ["赵熙晨"]
    assert not response.context["filter"].form.errors


def test_pagination_is_fifty_per_page_and_keeps_the_filters(client_for, officer_a, village_a):
    for i in range(51):
        make_person(village_a, name=f"学生{i:02d}", category="student")
    make_person(village_a, name="不是学生")
    client = client_for(officer_a)
    first = client.get(URL, {"category": "student", "sort": "name"})
    assert len(names(first)) == 50
    html = first.content.decode()
    assert "第 1 / 2 页" in html
    assert "category=student" in html and "page=2" in html
    second = client.get(URL, {"category": "student", "sort": "name", "page": 2})
    assert names(second) == ["学生50"]


# --- scoping and roles ----------------------------------------------------------


def test_officer_never_sees_another_townships_people(
    client_for, officer_a, zhao, qian_b, township_b, village_b
):
    client = client_for(officer_a)
    assert names(client.get(URL)) == ["赵熙晨"]
    for params in ({"township": township_b.pk}, {"village": village_b.pk}, {"q": "qdy"}):
        response = client.get(URL, params)
        assert "钱东冶" not in names(response), params
        assert "钱东冶" not in response.content.decode(), params
    response = client.get(URL, {"township": township_b.pk})
    assert names(response) == []  # an out-of-scope filter shows nothing, with the error
    assert 'data-testid="filter-errors"' in response.content.decode()
    assert "东冶村" not in response.content.decode()


def test_whole_id_of_another_townships_person_finds_nothing(client_for, officer_a, village_b):
    number = make_id_number(date(2001, 1, 1))
    make_person(village_b, name="钱二", id_number=number)
    assert names(client_for(officer_a).get(URL, {"q": number}, follow=True)) == []


def test_team_leader_sees_only_own_township(client_for, leader, zhao, qian_b):
    assert names(client_for(leader).get(URL)) == ["赵熙晨"]


@pytest.mark.parametrize("role", ["approver", "auditor", "leader"])
def test_read_only_roles_can_list_without_create_or_edit_buttons(request, client_for, role, zhao):
    user = request.getfixturevalue(role)
    response = client_for(user).get(URL)
    assert response.status_code == 200
    assert names(response) == ["赵熙晨"]
    html = response.content.decode()
    assert reverse("person_create") not in html
    assert reverse("person_edit", args=[zhao.pk]) not in html
    assert reverse("case_create", args=[zhao.pk]) not in html
    assert reverse("person_export") not in html


def test_editors_see_create_edit_and_export_buttons(client_for, officer_a, zhao):
    html = client_for(officer_a).get(URL).content.decode()
    assert reverse("person_create") in html
    assert reverse("person_edit", args=[zhao.pk]) in html
    assert reverse("person_export") in html
    assert 'name="full"' in html  # officers may reveal ID numbers


def test_anonymous_user_is_sent_to_login(client, zhao):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_names_link_to_the_one_person_one_file_page(client_for, officer_a, zhao):
    html = client_for(officer_a).get(URL).content.decode()
    assert f'href="/people/{zhao.pk}/"' in html


# --- query count ----------------------------------------------------------------


def _count_queries(client, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_rows(
    client_for, county_staff, village_a, village_b, township_a
):
    school_model = apps.get_model("students", "School")
    school_model.objects.create(name="城关中学", area=township_a)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            person = make_person(
                village_a if i % 2 else village_b, name=f"人{i}", phone="13800001234"
            )
            services.case_open(
                acting_user=county_staff, person=person, category="student", flags=["dibao"]
            )
            services.case_open(acting_user=county_staff, person=person, category="left_behind")

    client = client_for(county_staff)
    add(3, 0)
    few = _count_queries(client)
    few_filtered = _count_queries(client, {"category": "student", "flags": "dibao", "q": "ren"})
    add(27, 3)
    assert _count_queries(client) == few
    assert _count_queries(client, {"category": "student", "flags": "dibao", "q": "ren"}) == (
        few_filtered
    )


# --- export -----------------------------------------------------------------------


@pytest.fixture
def export(client_for, django_capture_on_commit_callbacks):
    """POST the export button the way the page does; the eager job runs at commit."""

    def _export(user, params=None, full=False):
        data = dict(params or {})
        if full:
            data["full"] = "on"
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(user).post(reverse("person_export"), data)
        return response

    return _export


def _sheet_rows(job: Job) -> list[tuple]:
    with job.result_file.open("rb") as f:
        ws = load_workbook(f, read_only=True).active
        return list(ws.iter_rows(values_only=True))


def test_export_writes_the_filtered_list_masked_and_audits_it(export, officer_a, village_a, qian_b):
    number = make_id_number(date(2012, 5, 17))
    make_person(village_a, name="赵熙晨", id_number=number, phone="13812345678", category="student")
    make_person(village_a, name="钱多多", category="tekun")
    response = export(officer_a, {"category": "student"})
    job = Job.objects.get(kind="people_export")
    assert response.status_code == 302 and response["Location"] == reverse(
        "job_detail", args=[job.pk]
    )
    assert job.state == Job.State.SUCCEEDED, job.error
    rows = _sheet_rows(job)
    assert "帮扶对象名单" in rows[0][0]
    header = rows[1]
    # Masked: the birth year only (a full date beside the masked ID rebuilds it).
    assert header[:5] == ("序号", "姓名", "性别", "出生年份", "身份证号码")
    data = rows[2:]
    assert len(data) == 1
    row = dict(zip(header, data[0], strict=True))
    assert row["姓名"] == "赵熙晨" and row["性别"] == "男"
    assert row["身份证号码"] == pii.mask_id_number(number)
    assert row["联系电话"] == "138****5678"
    assert row["乡(镇)"] == "城关镇" and row["村(社区)"] == "南街村"
    assert row["帮扶类别"] == "困难学生"
    flat = " ".join(str(v) for r in rows for v in r if v is not None)
    assert number not in flat and "13812345678" not in flat and "钱东冶" not in flat
    event = AuditEvent.objects.get(verb="person.export")
    assert event.actor == officer_a
    assert event.details["rows"] == 1
    assert event.details["filters"] == {"category": ["student"]}
    assert event.details["full_id_and_phone"] is False


def test_export_row_count_equals_the_lists_count(export, client_for, officer_a, village_a):
    for i in range(7):
        make_person(village_a, name=f"对象{i}", female=bool(i % 2))
    params = {"gender": "female", "sort": "name"}
    listed = client_for(officer_a).get(URL, params).context["page"].paginator.count
    export(officer_a, params)
    job = Job.objects.get(kind="people_export")
    assert len(_sheet_rows(job)) - 2 == listed == 3
    assert AuditEvent.objects.get(verb="person.export").details["rows"] == 3


def test_export_with_full_identifiers_is_said_in_the_audit_event(export, county_staff, village_a):
    number = make_id_number(date(2011, 2, 3))
    person = make_person(village_a, name="赵熙晨", id_number=number, phone="13812345678")
    for category, level, flags in [
        ("student", "hard", ["orphan", "dibao"]),
        ("left_behind", "special", ["dibao", "disaster"]),
    ]:
        services.case_open(
            acting_user=county_staff,
            person=person,
            category=category,
            hardship_level=level,
            flags=flags,
        )
    export(county_staff, full=True)
    job = Job.objects.get(kind="people_export")
    rows = _sheet_rows(job)
    row = dict(zip(rows[1], rows[2], strict=True))
    assert row["身份证号码"] == number
    assert row["联系电话"] == "13812345678"
    assert row["帮扶类别"] == "困难学生、留守儿童"
    assert row["认定等级"] == "特别困难、比较困难"
    assert row["困难类型"] == "低保、孤儿、受灾"
    assert row["出生日期"].date() == date(2011, 2, 3)
    event = AuditEvent.objects.get(verb="person.export")
    assert event.details["full_id_and_phone"] is True


def _deny_reveal(monkeypatch):
    from aidcases.models import User

    real_has_perm = User.has_perm

    def has_perm(self, perm, obj=None):
        return perm != "aidcases.reveal_id_number" and real_has_perm(self, perm, obj)

    monkeypatch.setattr(User, "has_perm", has_perm)


def test_a_forged_full_export_checkbox_is_refused_without_reveal_permission(
    export, county_staff, village_a, monkeypatch
):
    _deny_reveal(monkeypatch)
    response = export(county_staff, full=True)
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_full_export_is_masked_when_the_permission_is_gone_at_run_time(
    client_for, county_staff, village_a, monkeypatch, django_capture_on_commit_callbacks
):
    number = make_id_number(date(2011, 2, 3))
    make_person(village_a, name="赵熙晨", id_number=number)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_for(county_staff).post(reverse("person_export"), {"full": "on"})
    _deny_reveal(monkeypatch)
    for callback in callbacks:
        callback()
    job = Job.objects.get(kind="people_export")
    assert _sheet_rows(job)[2][4] == pii.mask_id_number(number)
    assert AuditEvent.objects.get(verb="person.export").details["full_id_and_phone"] is False


@pytest.mark.parametrize("role", ["approver", "auditor", "leader"])
def test_roles_without_export_permission_get_403(request, export, role):
    response = export(request.getfixturevalue(role))
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_export_of_an_out_of_scope_filter_is_refused(export, officer_a, township_b):
    response = export(officer_a, {"township": township_b.pk})
    assert response.status_code == 302 and response["Location"] == URL
    assert not Job.objects.exists()


def test_export_scope_is_decided_when_the_job_runs(
    client_for, officer_a, township_b, zhao, qian_b, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_for(officer_a).post(reverse("person_export"), {})
    # Moved to township B before the worker picked the job up.
    officer_a.area = township_b
    officer_a.save(update_fields=["area"])
    for callback in callbacks:
        callback()
    job = Job.objects.get(kind="people_export")
    names_in_file = [r[1] for r in _sheet_rows(job)[2:]]
    assert names_in_file == ["钱东冶"]


def test_export_of_a_whole_id_search_keeps_the_id_out_of_params_and_audit(
    export, officer_a, village_a
):
    number = make_id_number(date(2012, 5, 17))
    make_person(village_a, name="赵熙晨", id_number=number)
    make_person(village_a, name="李明")
    export(officer_a, {"q": number})
    job = Job.objects.get(kind="people_export")
    assert number not in str(job.params)
    assert [r[1] for r in _sheet_rows(job)[2:]] == ["赵熙晨"]
    for event in AuditEvent.objects.filter(verb__in=["job.create", "person.export"]):
        assert number not in str(event.details)


def test_export_streams_rows_from_an_iterator(export, officer_a, village_a, monkeypatch):
    """Constant memory: the handler reads the queryset in chunks, never as a list."""
    from django.db.models import QuerySet

    chunk_sizes = []
    real_iterator = QuerySet.iterator

    def spy(self, chunk_size=None):
        chunk_sizes.append(chunk_size)
        return real_iterator(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    make_person(village_a, name="赵熙晨")
    export(officer_a)
    assert chunk_sizes == [2000]


@pytest.mark.parametrize(
    "phone", ["13812345678", "0359-1234567", "010-12345678", "", "19900001111"]
)
def test_export_fast_phone_mask_matches_the_pii_mask(phone):
    from aidcases.people.exports import _mask_phone

    assert _mask_phone(phone) == (pii.mask_phone(phone) if phone else "")


def test_export_fast_id_mask_matches_the_pii_mask():
    from aidcases.people.exports import _mask_id

    for number in (make_id_number(date(2001, 1, 1)), "14082219900101123X"):
        assert _mask_id(number) == pii.mask_id_number(number)
