"""The 困难学生 and 留守儿童 rosters (registered by the students app with the hub's import)."""

from __future__ import annotations

import inspect
from datetime import date, datetime

import pytest

from aidcases.models import AidCase, AuditEvent, Person
from aidcases.people import imports as people_import
from students import services as student_services
from students.models import LeftBehindProfile, School, StudentProfile
from tests.factories import _system_user, make_id_number, make_person
from tests.fixtures.rosters import write_roster

STUDENT = AidCase.Category.STUDENT
LEFT_BEHIND = AidCase.Category.LEFT_BEHIND
BOY = make_id_number(date(2012, 5, 17))
GIRL = make_id_number(date(2013, 9, 1), female=True)

STUDENT_HEADER = [
    "序号",
    "学生姓名",
    "性别",
    "身份证号",
    "出生年月",
    "家庭住址",
    "就读学校",
    "年级",
]
STUDENT_HEADER += ["班级", "入学年份", "学籍号", "监护人", "与学生关系", "家长电话", "认定等级"]


def student_rows():
    return [
        [1, "王小明", "男", BOY, "2012.05", "南街村", "城关 小学", "五年级", "2班", 2018,
         "G149901201205170011", "王大山", "父子", "138 1234 5678", "比较困难"],
        [2, "李小花", "女", GIRL, "2013年9月", "南街村二组", "城关二中", "初一", "1班",
         "2024年", None, "李奶奶", "祖孙", "0359-1234567", "特别困难"],
    ]  # fmt: skip


def check(path, user, township, category=STUDENT):
    with path.open("rb") as handle:
        sheet = people_import.read(handle, path.name, category)
    return people_import.validate(sheet, category, township, user, file_name=path.name)


def run(path, user, township, category=STUDENT):
    plan = check(path, user, township, category)
    assert plan.ok, [str(i) for i in plan.errors]
    return plan, people_import.commit(plan, user)


@pytest.fixture
def school(township_a):
    return student_services.school_get_or_create(
        acting_user=_system_user(), name="城关小学", township=township_a
    )[0]


def test_the_hub_import_does_not_import_the_students_app():
    source = inspect.getsource(people_import)
    assert "from students" not in source and "import students" not in source


def test_student_roster_matches_known_schools_and_creates_unknown_ones(
    tmp_path, officer_a, township_a, village_a, school
):
    path = write_roster(tmp_path / "学生.xlsx", STUDENT_HEADER, student_rows(), title="困难学生")

    plan = check(path, officer_a, township_a)
    assert plan.notes == ["将新建学校：城关二中"]
    assert plan.summary_line() == "新增 2，更新 0，未变 0；将新建学校：城关二中"
    result = people_import.commit(plan, officer_a)

    assert result.summary_line() == "新增 2，更新 0，未变 0；新建学校：城关二中"
    boy = Person.objects.get(name="王小明")
    profile = StudentProfile.objects.get(case__person=boy)
    assert profile.school == school  # "城关 小学" is 城关小学
    assert (profile.grade, profile.class_name, profile.enrolment_year) == ("五年级", "2班", 2018)
    assert profile.student_number == "G149901201205170011"
    assert boy.guardian_name == "王大山" and boy.guardian_phone == "13812345678"
    girl_profile = StudentProfile.objects.get(case__person__name="李小花")
    new_school = School.objects.get(name="城关二中")
    assert girl_profile.school == new_school and new_school.area == township_a
    assert girl_profile.enrolment_year == 2024
    assert Person.objects.get(name="李小花").address == "南街村二组"
    assert AuditEvent.objects.filter(verb="school.create", actor=officer_a).count() == 1
    assert AuditEvent.objects.get(verb="person.import").details["schools"] == ["城关二中"]


def test_reimporting_a_student_roster_changes_nothing(tmp_path, officer_a, township_a, village_a):
    path = write_roster(tmp_path / "学生.xlsx", STUDENT_HEADER, student_rows())
    run(path, officer_a, township_a)
    audits, schools = AuditEvent.objects.count(), School.objects.count()

    plan, result = run(path, officer_a, township_a)

    assert plan.counts == {"new": 0, "updated": 0, "unchanged": 2} and plan.notes == []
    assert not result.written
    assert (AuditEvent.objects.count(), School.objects.count()) == (audits, schools)


def test_a_changed_grade_and_school_update_the_profile_through_the_service(
    tmp_path, officer_a, township_a, village_a, school
):
    run(write_roster(tmp_path / "a.xlsx", STUDENT_HEADER, student_rows()), officer_a, township_a)
    rows = student_rows()
    rows[0][6] = "城关二中"
    rows[0][7] = "初一"

    plan, _result = run(
        write_roster(tmp_path / "b.xlsx", STUDENT_HEADER, rows), officer_a, township_a
    )

    [updated] = [r for r in plan.rows if r.action == "updated"]
    assert updated.changes == ["就读学校", "年级"]
    profile = StudentProfile.objects.get(case__person__name="王小明")
    assert profile.school.name == "城关二中" and profile.grade == "初一"
    event = AuditEvent.objects.filter(verb="case.profile").latest("id")
    assert event.details == {"fields": ["school", "grade"]}
    assert Person.objects.count() == 2


def test_a_registered_person_gets_a_student_case_and_profile(
    tmp_path, officer_a, township_a, village_a, school
):
    person = make_person(village_a, name="王小明", id_number=BOY, category="left_behind")

    plan, _result = run(
        write_roster(tmp_path / "a.xlsx", STUDENT_HEADER, student_rows()[:1]), officer_a, township_a
    )

    assert plan.rows[0].action == "updated"
    assert "新建困难学生档案" in plan.rows[0].changes
    case = person.cases.get(category=STUDENT)
    assert case.hardship_level == "hard" and case.student_profile.school == school
    assert person.cases.count() == 2


def test_the_school_is_required_on_a_student_roster(tmp_path, officer_a, township_a, village_a):
    header = [h for h in STUDENT_HEADER if h != "就读学校"]
    rows = [[c for i, c in enumerate(r) if i != 6] for r in student_rows()]

    plan = check(write_roster(tmp_path / "a.xlsx", header, rows), officer_a, township_a)

    assert any("缺少必填列：就读学校" in i.message for i in plan.errors)
    blank = student_rows()
    blank[1][6] = None
    plan = check(write_roster(tmp_path / "b.xlsx", STUDENT_HEADER, blank), officer_a, township_a)
    assert [(i.line, i.column, i.message) for i in plan.errors] == [(5, "就读学校", "不能为空")]


def test_enrolment_years_are_read_as_people_write_them(tmp_path, officer_a, township_a, village_a):
    rows = student_rows()
    for row, value in zip(rows, ["2018级", datetime(2024, 9, 1)], strict=True):
        row[9] = value

    plan, _result = run(
        write_roster(tmp_path / "a.xlsx", STUDENT_HEADER, rows), officer_a, township_a
    )

    years = sorted(StudentProfile.objects.values_list("enrolment_year", flat=True))
    assert years == [2018, 2024]
    bad = student_rows()
    bad[0][9] = "去年"
    plan = check(write_roster(tmp_path / "b.xlsx", STUDENT_HEADER, bad), officer_a, township_a)
    assert [(i.line, i.column) for i in plan.errors] == [(4, "入学年份")]


# --- 留守儿童 -------------------------------------------------------------------------------------


def test_left_behind_roster_with_a_two_row_header(tmp_path, officer_a, township_a, village_a):
    upper = ["序号", "姓名", "性别", "身份证号码", "所在村", "父亲", "母亲", "监护人", "监护人"]
    upper += ["监护人", "监护人", "班主任", "班主任", "学校", "父母联系频率"]
    lower = ["序号", "姓名", "性别", "身份证号码", "所在村", "务工地", "务工地", "姓名", "年龄"]
    lower += ["健康状况", "电话", "姓名", "电话", "学校", "父母联系频率"]
    rows = [
        [1, "李小花", "女", GIRL, "南街村", "山西太原", "浙江义乌", "李奶奶", "68岁", "良好",
         "13912345678", "张老师", "0359-7654321", "城关小学", "每周一次"],
    ]  # fmt: skip
    path = write_roster(tmp_path / "留守.xlsx", lower, rows, header_rows=[upper], title="留守儿童")

    plan, result = run(path, officer_a, township_a, LEFT_BEHIND)

    assert result.counts["new"] == 1 and result.notes == ["新建学校：城关小学"]
    girl = Person.objects.get()
    assert (girl.guardian_name, girl.guardian_phone) == ("李奶奶", "13912345678")
    profile = LeftBehindProfile.objects.get(case__person=girl)
    assert (profile.father_work_place, profile.mother_work_place) == ("山西太原", "浙江义乌")
    assert (profile.guardian_age, profile.guardian_health) == (68, "良好")
    assert (profile.teacher_name, profile.teacher_phone) == ("张老师", "0359-7654321")
    assert profile.parent_contact_frequency == "每周一次"
    assert profile.school.name == "城关小学"


def test_left_behind_school_is_optional_and_guardian_age_is_checked(
    tmp_path, officer_a, township_a, village_a
):
    header = ["姓名", "性别", "身份证号码", "所在村", "监护人", "监护人年龄", "父亲务工地"]
    rows = [
        ["李小花", "女", GIRL, "南街村", "李奶奶", 68, "太原"],
        ["王小明", "男", BOY, "南街村", "王爷爷", 200, "太原"],
    ]

    plan = check(
        write_roster(tmp_path / "a.xlsx", header, rows), officer_a, township_a, LEFT_BEHIND
    )

    assert [(i.line, i.column) for i in plan.errors] == [(5, "监护人年龄")]
    ok = check(
        write_roster(tmp_path / "b.xlsx", header, rows[:1]), officer_a, township_a, LEFT_BEHIND
    )
    assert ok.ok and ok.notes == []
    people_import.commit(ok, officer_a)
    assert LeftBehindProfile.objects.get().school is None


def test_left_behind_reimport_keeps_what_the_visits_added(
    tmp_path, officer_a, township_a, village_a
):
    header = ["姓名", "身份证号码", "所在村", "父亲务工地"]
    path = write_roster(tmp_path / "a.xlsx", header, [["李小花", GIRL, "南街村", "太原"]])
    run(path, officer_a, township_a, LEFT_BEHIND)
    case = AidCase.objects.get()
    student_services.left_behind_profile_save(
        acting_user=officer_a, case=case, knows_person="爱画画", school=None
    )

    plan, _result = run(path, officer_a, township_a, LEFT_BEHIND)

    assert plan.counts["unchanged"] == 1
    assert LeftBehindProfile.objects.get().knows_person == "爱画画"
