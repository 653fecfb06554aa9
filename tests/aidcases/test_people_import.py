"""The people import on rosters built the way township staff keep them (特困人员 here; the
student and left-behind rosters are tested in tests/students/test_student_import.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import StringIO

import pghistory.models
import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from aidcases import pii, search
from aidcases.models import AidCase, AuditEvent, Person, TekunProfile
from aidcases.people import imports as people_import
from tests.factories import child_area, make_id_number, make_person
from tests.fixtures.rosters import write_roster

TEKUN = AidCase.Category.TEKUN
HEADER = ["序号", "姓名", "性别", "身份证号码", "出生日期", "所在村", "联系电话", "认定等级"]
HEADER += ["困难类型", "供养方式", "是否独居", "备注"]

MAN = make_id_number(date(1950, 5, 17))
WOMAN = make_id_number(date(1948, 11, 2), female=True)
OLD_MAN = make_id_number(date(1939, 1, 9))


@pytest.fixture
def village_north(township_a):
    return child_area(township_a, "202", "北关村", "village")


def events() -> int:
    """Rows in every pghistory event table (the field-level history)."""
    models = [
        m
        for m in apps.get_models()
        if issubclass(m, pghistory.models.Event) and not m._meta.abstract
    ]
    return sum(model.objects.count() for model in models)


def tekun_rows():
    return [
        [1, "王老汉", "男", MAN, "1950-05-17", "南街村", "13812345678", "特别困难", "低保、残疾",
         "分散供养", "是", "独子在外"],
        [2, "李婆婆", "女", WOMAN, datetime(1948, 11, 2), "北关村", "0359-1234567", "比较困难",
         "低保", "集中", "否", None],
    ]  # fmt: skip


def plan_for(path, user, township, category=TEKUN):
    with path.open("rb") as handle:
        sheet = people_import.read(handle, path.name, category)
    return people_import.validate(sheet, category, township, user, file_name=path.name)


def run_import(path, user, township, category=TEKUN):
    plan = plan_for(path, user, township, category)
    assert plan.ok, [str(i) for i in plan.errors]
    return plan, people_import.commit(plan, user)


def issues(plan) -> list[tuple]:
    return [(i.line, i.column, i.message) for i in plan.report.errors]


# --- reading the sheets people keep -----------------------------------------------------------


def test_it_imports_a_roster_with_title_rows_synonyms_extra_columns_and_signoff(
    tmp_path, officer_a, township_a, village_a, village_north
):
    header = ["序号", "姓 名", "性别", "公民身份号码", "出生年月", "村(社区)", "手机", "困难等级"]
    header += ["困难类别", "供养形式", "独居", "备注", "家庭人口"]
    rows = [[*row[:11], row[11], 1] for row in tekun_rows()]
    path = write_roster(tmp_path / "特困.xlsx", header, rows, blank_rows_between=True)

    plan, result = run_import(path, officer_a, township_a)

    assert plan.sheet.header_row == 3
    assert result.counts == {"new": 2, "updated": 0, "unchanged": 0}
    man = Person.objects.get(id_number_hash=pii.id_hash(MAN))
    assert man.name == "王老汉" and man.area == village_a and man.phone == "13812345678"
    case = man.cases.get(category=TEKUN)
    assert case.hardship_level == "special" and case.flags == ["dibao", "disability"]
    assert case.notes == "独子在外"  # 备注 is imported, not ignored
    assert case.tekun_profile.support_mode == "dispersed" and case.tekun_profile.lives_alone
    woman = Person.objects.get(id_number_hash=pii.id_hash(WOMAN))
    assert woman.area == village_north and woman.phone == "0359-1234567"
    assert woman.cases.get().tekun_profile.support_mode == "centralised"


def test_it_normalises_ids_dates_phones_and_names_as_people_type_them(
    tmp_path, officer_a, township_a, village_a
):
    fullwidth = MAN.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    x_id = "11010120090720003x"  # a real number whose check digit is X, typed lower-case
    ids = [
        f"{MAN[:6]} {MAN[6:14]} {MAN[14:]}",
        fullwidth.replace(MAN[:1], MAN[:1]),
        x_id,
        make_id_number(date(2015, 3, 1)),
    ]
    ids[1] = make_id_number(date(1948, 11, 2), female=True).translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    # 1950.05 typed into a General cell arrives as a number.
    births = [1950.05, "1948-11-02", "2009年7月", datetime(2015, 3, 1)]
    phones = ["138-1234-5678", "139 1234 5678", "0359 1234567", "(0359)7654321"]
    names = [" 王　老汉 ", "李 婆婆", "赵三", "孙 小 四"]
    genders = ["男", "女", "男", "男"]
    rows = [
        [n + 1, names[n], genders[n], ids[n], births[n], "南街村", phones[n], None, None, None,
         None, None]
        for n in range(4)
    ]  # fmt: skip
    path = write_roster(tmp_path / "a.xlsx", HEADER, rows)

    plan, result = run_import(path, officer_a, township_a)

    assert result.counts["new"] == 4
    stored = {p.name: p for p in Person.objects.all()}
    assert set(stored) == {"王老汉", "李婆婆", "赵三", "孙小四"}
    assert stored["王老汉"].id_number_hash == pii.id_hash(MAN)
    assert pii.decrypt(stored["赵三"].id_number_encrypted) == "11010120090720003X"
    assert stored["赵三"].birth_date == date(2009, 7, 20)  # from the ID, the sheet said 2009年7月
    assert stored["孙小四"].birth_date == date(2015, 3, 1)
    assert [stored[n].phone for n in ("王老汉", "李婆婆", "赵三", "孙小四")] == [
        "13812345678",
        "13912345678",
        "0359-1234567",
        "0359-7654321",
    ]


def test_a_header_missing_a_required_column_is_reported_and_nothing_written(
    tmp_path, officer_a, township_a, village_a
):
    path = write_roster(tmp_path / "a.xlsx", ["姓名", "性别"], [["王老汉", "男"]])

    plan = plan_for(path, officer_a, township_a)

    assert not plan.ok
    assert any("缺少必填列：所在村" in i.message for i in plan.errors)
    assert any("缺少必填列：身份证号码" in i.message for i in plan.errors)
    with pytest.raises(ValidationError):
        people_import.commit(plan, officer_a)
    assert Person.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("名单.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 Excel"),
        ("名单.xlsx", b"", "文件是空的"),
        ("名单.pdf", b"%PDF-1.4", "不支持"),
        ("名单.xlsx", b"PK\x03\x04garbage", "无法读取这个文件"),
    ],
)
def test_bad_files_get_a_clear_chinese_message(officer_a, township_a, name, content, expected):
    sheet = people_import.read(content, name, TEKUN)

    plan = people_import.validate(sheet, TEKUN, township_a, officer_a)

    assert not plan.ok
    assert expected in plan.errors[0].message


# --- row checks -------------------------------------------------------------------------------


def test_one_bad_row_writes_nothing_and_the_report_names_row_column_and_problem(
    tmp_path, officer_a, township_a, village_a
):
    bad_checksum = MAN[:-1] + ("0" if MAN[-1] != "0" else "1")
    rows = [
        [1, "王老汉", "男", MAN, None, "南街村", None, None, None, None, None, None],
        [2, "赵大", "男", bad_checksum, None, "南街村", None, None, None, None, None, None],
        [3, "王老汉", "男", MAN, None, "南街村", None, None, None, None, None, None],
        [4, "李婆婆", "男", WOMAN, None, "南街村", None, None, None, None, None, None],
        [5, "钱五", "男", OLD_MAN, None, "西河村", None, None, None, None, None, None],
        [6, "孙六", "男", make_id_number(date(1950, 1, 1)), "1950.02", "南街村", None, None, None,
         None, None, None],
        [7, "周七", "男", make_id_number(date(1951, 1, 1)), None, "南街村", "12345", None,
         "低保、没钱", None, None, None],
    ]  # fmt: skip
    path = write_roster(tmp_path / "a.xlsx", HEADER, rows)
    audits = AuditEvent.objects.count()

    plan = plan_for(path, officer_a, township_a)

    found = issues(plan)
    assert (5, "身份证号码", "身份证号码校验位错误，请逐位核对（最后一位由前17位算出）") in found
    assert (4, "身份证号码", "与第6行重复") in found and (6, "身份证号码", "与第4行重复") in found
    assert (7, "性别", "性别与身份证号码不符（号码显示为女）。") in found
    assert any(
        line == 8 and column == "所在村" and "城关镇没有名为“西河村”的村(社区)" in message
        for line, column, message in found
    )
    assert any(
        line == 9 and column == "出生日期" and "出生日期与身份证号码不符" in message
        for line, column, message in found
    )
    assert {(line, column) for line, column, _m in found} >= {(10, "联系电话"), (10, "困难类型")}
    assert not plan.ok
    with pytest.raises(ValidationError):
        people_import.commit(plan, officer_a)
    assert Person.objects.count() == 0 and AuditEvent.objects.count() == audits


def test_a_month_only_birth_date_is_compared_with_the_id_to_the_month(
    tmp_path, officer_a, township_a, village_a
):
    rows = [[1, "王老汉", "男", MAN, "1950.05", "南街村", None, None, None, None, None, None]]
    plan = plan_for(write_roster(tmp_path / "a.xlsx", HEADER, rows), officer_a, township_a)

    assert plan.ok
    assert plan.rows[0].person_values["birth_date"] == date(1950, 5, 17)


def test_person_registered_in_another_township_is_refused_without_saying_who_or_where(
    tmp_path, officer_a, township_a, village_a, village_b
):
    make_person(village_b, name="孙东冶", id_number=MAN)
    rows = [[1, "王老汉", "男", MAN, None, "南街村", None, None, None, None, None, None]]

    plan = plan_for(write_roster(tmp_path / "a.xlsx", HEADER, rows), officer_a, township_a)

    [issue] = plan.report.errors
    assert (issue.line, issue.column) == (4, "身份证号码")
    assert "其他乡镇" in issue.message
    assert "孙东冶" not in issue.message and "东冶" not in issue.message


def test_officer_cannot_validate_or_commit_into_another_township(
    tmp_path, officer_a, township_b, village_b
):
    rows = [[1, "王老汉", "男", MAN, None, "东冶村", None, None, None, None, None, None]]
    path = write_roster(tmp_path / "a.xlsx", HEADER, rows)

    with pytest.raises(PermissionDenied):
        plan_for(path, officer_a, township_b)


def test_a_plan_is_committed_only_by_the_user_it_was_checked_for(
    tmp_path, officer_a, county_staff, township_a, village_a
):
    rows = [[1, "王老汉", "男", MAN, None, "南街村", None, None, None, None, None, None]]
    plan = plan_for(write_roster(tmp_path / "a.xlsx", HEADER, rows), officer_a, township_a)

    with pytest.raises(PermissionDenied):
        people_import.commit(plan, county_staff)
    assert Person.objects.count() == 0


def test_leader_may_not_import(tmp_path, leader, township_a, village_a):
    rows = [[1, "王老汉", "男", MAN, None, "南街村", None, None, None, None, None, None]]

    with pytest.raises(PermissionDenied):
        plan_for(write_roster(tmp_path / "a.xlsx", HEADER, rows), leader, township_a)


# --- villages ---------------------------------------------------------------------------------


def test_village_is_found_inside_a_longer_address_and_the_address_is_kept(
    tmp_path, officer_a, township_a, village_a, village_north
):
    rows = [
        [1, "王老汉", "男", MAN, None, "城关镇南街村三组", None, None, None, None, None, None],
        [2, "李婆婆", "女", WOMAN, None, "北关", None, None, None, None, None, None],
    ]

    plan, _result = run_import(
        write_roster(tmp_path / "a.xlsx", HEADER, rows), officer_a, township_a
    )

    man = Person.objects.get(name="王老汉")
    assert man.area == village_a and man.address == "城关镇南街村三组"
    woman = Person.objects.get(name="李婆婆")
    assert woman.area == village_north and woman.address == "北关"


def test_an_address_naming_two_villages_is_an_error_naming_both(
    tmp_path, officer_a, township_a, village_a, village_north
):
    rows = [[1, "王老汉", "男", MAN, None, "南街村北关村", None, None, None, None, None, None]]

    plan = plan_for(write_roster(tmp_path / "a.xlsx", HEADER, rows), officer_a, township_a)

    [issue] = plan.report.errors
    assert issue.column == "所在村" and "南街村" in issue.message and "北关村" in issue.message


def test_the_longest_contained_village_name_wins(tmp_path, officer_a, township_a, village_a):
    child_area(township_a, "203", "南街新村", "village")
    rows = [
        [1, "王老汉", "男", MAN, None, "城关镇南街新村二组", None, None, None, None, None, None]
    ]

    plan, _result = run_import(
        write_roster(tmp_path / "a.xlsx", HEADER, rows), officer_a, township_a
    )

    assert Person.objects.get().area.name == "南街新村"


def test_a_village_of_another_township_is_unknown(
    tmp_path, county_staff, township_a, village_a, village_b
):
    rows = [[1, "王老汉", "男", MAN, None, "东冶村", None, None, None, None, None, None]]

    plan = plan_for(write_roster(tmp_path / "a.xlsx", HEADER, rows), county_staff, township_a)

    [issue] = plan.report.errors
    assert "城关镇没有名为“东冶村”的村(社区)" in issue.message


# --- importing again ----------------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing_the_second_time(
    tmp_path, officer_a, township_a, village_a, village_north
):
    path = write_roster(tmp_path / "a.xlsx", HEADER, tekun_rows())
    run_import(path, officer_a, township_a)
    audits, history = AuditEvent.objects.count(), events()
    assert history >= 6  # persons, cases and profiles were recorded the first time
    persons, cases = Person.objects.count(), AidCase.objects.count()

    plan, result = run_import(path, officer_a, township_a)

    assert plan.counts == {"new": 0, "updated": 0, "unchanged": 2}
    assert result.summary_line() == "新增 0，更新 0，未变 2"
    assert not result.written
    assert AuditEvent.objects.count() == audits
    assert events() == history
    assert (Person.objects.count(), AidCase.objects.count()) == (persons, cases)


def test_a_changed_row_updates_the_person_instead_of_registering_them_again(
    tmp_path, officer_a, township_a, village_a, village_north
):
    run_import(write_roster(tmp_path / "a.xlsx", HEADER, tekun_rows()), officer_a, township_a)
    rows = tekun_rows()
    rows[0][6] = "13900001111"  # new phone
    rows[0][7] = "一般困难"  # reassessed
    rows[0][10] = "否"  # no longer alone
    # The same ID typed differently is the same person.
    rows[0][3] = MAN[:6] + " " + MAN[6:]

    plan, result = run_import(
        write_roster(tmp_path / "b.xlsx", HEADER, rows), officer_a, township_a
    )

    assert plan.counts == {"new": 0, "updated": 1, "unchanged": 1}
    [updated] = [r for r in plan.rows if r.action == "updated"]
    assert updated.changes == ["联系电话", "认定等级", "是否独居"]
    assert Person.objects.filter(name="王老汉").count() == 1
    man = Person.objects.get(name="王老汉")
    assert man.phone == "13900001111"
    case = man.cases.get()
    assert case.hardship_level == "general" and not case.tekun_profile.lives_alone
    verbs = list(
        AuditEvent.objects.filter(verb__in=["person.update", "case.update", "case.profile"])
        .order_by("id")
        .values_list("verb", flat=True)
    )
    assert verbs[-3:] == ["person.update", "case.update", "case.profile"]
    last = AuditEvent.objects.filter(verb="person.import").order_by("-id").first()
    assert last.details["updated"] == 1 and last.details["unchanged"] == 1


def test_blank_cells_keep_what_is_on_file(tmp_path, officer_a, township_a, village_a):
    rows = [[1, "王老汉", "男", MAN, None, "南街村", "13812345678", "特别困难", "低保", "分散",
             "是", "独子在外"]]  # fmt: skip
    run_import(write_roster(tmp_path / "a.xlsx", HEADER, rows), officer_a, township_a)
    sparse = [[1, "王老汉", None, MAN, None, "南街村", None, None, None, None, None, None]]

    plan, _result = run_import(
        write_roster(tmp_path / "b.xlsx", HEADER, sparse), officer_a, township_a
    )

    assert plan.counts["unchanged"] == 1
    man = Person.objects.get()
    assert man.phone == "13812345678"
    case = man.cases.get()
    assert (case.hardship_level, case.flags, case.notes) == ("special", ["dibao"], "独子在外")


def test_an_existing_person_without_this_category_gets_a_case_opened(
    tmp_path, officer_a, township_a, village_a
):
    person = make_person(village_a, name="王老汉", id_number=MAN, category="student")
    rows = [[1, "王老汉", "男", MAN, None, "南街村", None, "比较困难", None, "集中", None, None]]

    plan, _result = run_import(
        write_roster(tmp_path / "a.xlsx", HEADER, rows), officer_a, township_a
    )

    assert plan.counts == {"new": 0, "updated": 1, "unchanged": 0}
    assert plan.rows[0].changes == ["新建特困人员档案"]
    case = person.cases.get(category=TEKUN)
    assert case.hardship_level == "hard" and case.tekun_profile.support_mode == "centralised"
    assert Person.objects.count() == 1


def test_a_person_without_an_id_number_is_imported_with_a_reason_and_found_again(
    tmp_path, officer_a, township_a, village_a
):
    header = [*HEADER, "无身份证原因"]
    rows = [[1, "王老汉", "男", None, "1950-05-17", "南街村", None, None, None, None, None, None,
             "户口未恢复"]]  # fmt: skip
    path = write_roster(tmp_path / "a.xlsx", header, rows)
    run_import(path, officer_a, township_a)

    plan, _result = run_import(path, officer_a, township_a)

    assert plan.counts == {"new": 0, "updated": 0, "unchanged": 1}
    person = Person.objects.get()
    assert not person.has_id_number and person.no_id_reason == "户口未恢复"


def test_a_row_without_id_number_or_reason_is_an_error(tmp_path, officer_a, township_a, village_a):
    rows = [[1, "王老汉", "男", None, None, "南街村", None, None, None, None, None, None]]

    plan = plan_for(write_roster(tmp_path / "a.xlsx", HEADER, rows), officer_a, township_a)

    [issue] = plan.report.errors
    assert issue.column == "身份证号码" and "无身份证号码的原因" in issue.message


# --- what the batch path writes -----------------------------------------------------------------


def test_batch_registered_person_is_stored_as_the_registration_service_stores_one(
    tmp_path, officer_a, township_a, village_a
):
    rows = [[1, "曾小单", "男", MAN, None, "南街村", "13812345678", "特别困难", "低保", "分散",
             "是", None]]  # fmt: skip
    run_import(write_roster(tmp_path / "a.xlsx", HEADER, rows), officer_a, township_a)

    person = Person.objects.get()
    assert pii.decrypt(person.id_number_encrypted) == MAN
    assert person.created_by == officer_a
    assert person.search_tokens == search.person_tokens(
        name="曾小单", id_number=MAN, phone="13812345678"
    )
    case = person.cases.get()
    assert case.created_by == officer_a and case.opened_on == timezone.localdate()
    verbs = set(AuditEvent.objects.filter(actor=officer_a).values_list("verb", flat=True))
    assert verbs == {"person.create", "case.open", "person.import"}
    created = AuditEvent.objects.get(verb="person.create")
    assert (created.object_id, created.area) == (str(person.pk), village_a)
    imported = AuditEvent.objects.get(verb="person.import")
    assert imported.details == {
        "file": "a.xlsx",
        "category": "tekun",
        "township": township_a.code,
        "new": 1,
        "updated": 0,
        "unchanged": 0,
    }
    # History rows come from the triggers, with the importing user as context.
    history = pghistory.models.Events.objects.filter(pgh_obj_model="aidcases.Person")
    assert history.count() == 1
    assert history.get().pgh_context["user"] == officer_a.pk
    assert TekunProfile.objects.get().case == case


def test_commit_reports_progress(tmp_path, officer_a, township_a, village_a, village_north):
    plan = plan_for(write_roster(tmp_path / "a.xlsx", HEADER, tekun_rows()), officer_a, township_a)
    calls = []

    people_import.commit(
        plan, officer_a, progress=lambda done, total, msg: calls.append((done, total))
    )

    assert calls[-1] == (2, 2)


def test_a_service_rejection_at_commit_rolls_everything_back(
    tmp_path, officer_a, township_a, village_a
):
    existing = make_person(village_a, name="王老汉", id_number=MAN, category=TEKUN)
    rows = [
        [1, "王老汉", "男", MAN, None, "南街村", "13812345678", None, None, None, None, None],
        [2, "李婆婆", "女", WOMAN, None, "南街村", None, None, None, None, None, None],
    ]
    plan = plan_for(write_roster(tmp_path / "a.xlsx", HEADER, rows), officer_a, township_a)
    # The service checks again at commit; a value it now refuses stops the whole import.
    plan.rows[0].person_data.phone = "12"

    with pytest.raises(ValidationError) as exc:
        people_import.commit(plan, officer_a)

    assert "第4行" in exc.value.messages[0]
    assert not Person.objects.filter(name="李婆婆").exists()
    assert Person.objects.get(pk=existing.pk).phone == ""


# --- command line ---------------------------------------------------------------------------------


def test_command_imports_and_prints_the_summary(
    tmp_path, admin, township_a, village_a, village_north
):
    path = write_roster(tmp_path / "a.xlsx", HEADER, tekun_rows())
    out = StringIO()

    call_command("import_people", str(path), category="tekun", township=township_a.code, stdout=out)

    assert "新增 2，更新 0，未变 0" in out.getvalue()
    assert Person.objects.count() == 2
    assert AuditEvent.objects.get(verb="person.import").actor == admin


def test_command_dry_run_writes_nothing(
    tmp_path, admin, officer_a, township_a, village_a, village_north
):
    path = write_roster(tmp_path / "a.xlsx", HEADER, tekun_rows())
    out = StringIO()

    call_command(
        "import_people",
        str(path),
        "--dry-run",
        category="tekun",
        township="城关镇",
        user="officer_a",
        stdout=out,
    )

    assert "新增 2，更新 0，未变 0" in out.getvalue() and "未写入" in out.getvalue()
    assert Person.objects.count() == 0 and not AuditEvent.objects.filter(verb="person.import")


def test_command_prints_the_report_and_fails_on_a_bad_file(tmp_path, admin, township_a, village_a):
    rows = [[1, "王老汉", "男", MAN, None, "西河村", None, None, None, None, None, None]]
    path = write_roster(tmp_path / "a.xlsx", HEADER, rows)

    with pytest.raises(CommandError) as exc:
        call_command("import_people", str(path), category="tekun", township=township_a.code)

    assert "第4行 [所在村] 城关镇没有名为“西河村”的村(社区)" in str(exc.value)
    assert Person.objects.count() == 0


def test_command_exit_codes_from_the_shell(
    tmp_path, monkeypatch, admin, township_a, village_a, village_north
):
    from django.core.management import ManagementUtility
    from django.db import connections

    # run_from_argv closes every connection when done: not the test's.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    good = write_roster(tmp_path / "good.xlsx", HEADER, tekun_rows())
    bad = write_roster(
        tmp_path / "bad.xlsx",
        HEADER,
        [[1, "王老汉", "男", MAN[:-1] + "0" if MAN[-1] != "0" else MAN[:-1] + "1", None, "南街村"]],
    )

    def run(path) -> int:
        utility = ManagementUtility(
            ["manage.py", "import_people", str(path), "--category", "tekun", "--township", "城关镇"]
        )
        try:
            utility.execute()
        except SystemExit as exc:
            return exc.code
        return 0

    assert run(good) == 0
    assert run(bad) == 1
    assert Person.objects.count() == 2


def test_command_refuses_a_township_outside_the_users_scope(
    tmp_path, officer_a, township_b, village_b
):
    path = write_roster(tmp_path / "a.xlsx", HEADER, tekun_rows())

    with pytest.raises(CommandError) as exc:
        call_command(
            "import_people", str(path), category="tekun", township="东冶乡", user="officer_a"
        )

    assert "无权" in str(exc.value)


def test_county_staff_moving_a_person_to_another_township_is_warned_and_applied(
    tmp_path, county_staff, township_a, village_a, village_b
):
    person = make_person(village_b, name="王老汉", id_number=MAN, category=TEKUN)
    rows = [[1, "王老汉", "男", MAN, None, "南街村", None, None, None, None, None, None]]

    plan, _result = run_import(
        write_roster(tmp_path / "a.xlsx", HEADER, rows), county_staff, township_a
    )

    [warning] = plan.report.warnings
    assert warning.column == "所在村" and "东冶乡东冶村" in warning.message
    assert plan.rows[0].changes == ["所在村"]
    person.refresh_from_db()
    assert person.area == village_a


def test_none_in_the_hardship_column_clears_the_flags(tmp_path, officer_a, township_a, village_a):
    rows = [[1, "王老汉", "男", MAN, None, "南街村", None, None, "低保", None, None, None]]
    run_import(write_roster(tmp_path / "a.xlsx", HEADER, rows), officer_a, township_a)
    rows[0][8] = "无"

    plan, _result = run_import(
        write_roster(tmp_path / "b.xlsx", HEADER, rows), officer_a, township_a
    )

    assert plan.rows[0].changes == ["困难类型"]
    assert AidCase.objects.get().flags == []


def test_a_different_name_for_a_registered_id_number_is_a_warning(
    tmp_path, officer_a, township_a, village_a
):
    make_person(village_a, name="王老汉", id_number=MAN, category=TEKUN)
    rows = [[1, "王老翰", "男", MAN, None, "南街村", None, None, None, None, None, None]]

    plan = plan_for(write_roster(tmp_path / "a.xlsx", HEADER, rows), officer_a, township_a)

    assert plan.ok
    [warning] = plan.report.warnings
    assert warning.message == "系统中该身份证号码登记的姓名是“王老汉”，导入后将改为“王老翰”"
    assert plan.rows[0].changes == ["姓名"]


def test_a_number_registered_elsewhere_is_an_audited_lookup(
    tmp_path, officer_a, township_a, village_a, village_b
):
    other = make_person(village_b, name="孙东冶", id_number=MAN)
    rows = [[1, "王老汉", "男", MAN, None, "南街村", None, None, None, None, None, None]]
    plan_for(write_roster(tmp_path / "a.xlsx", HEADER, rows), officer_a, township_a)
    event = AuditEvent.objects.get(verb="person.id_registered_elsewhere")
    assert event.actor == officer_a and event.object_id == str(other.pk)
    assert event.details["source"] == "import"


def test_a_roster_past_the_hourly_lookup_limit_is_refused_as_a_whole(
    tmp_path, officer_a, township_a, village_a, village_b
):
    numbers = [make_id_number(date(1950, 1, 1) + timedelta(days=n)) for n in range(21)]
    for number in numbers:
        make_person(village_b, name="孙东冶", id_number=number)
    rows = [
        [n, "王老汉", "男", number, None, "南街村", None, None, None, None, None, None]
        for n, number in enumerate(numbers, 1)
    ]
    plan = plan_for(write_roster(tmp_path / "a.xlsx", HEADER, rows), officer_a, township_a)
    # One file-level message; no row says which numbers hit.
    assert [(i.line, "次数过多" in i.message) for i in plan.report.errors] == [(None, True)]
    assert AuditEvent.objects.filter(verb="person.id_registered_elsewhere").count() == 21
    # And for the rest of the hour even a file of new numbers is refused.
    fresh = [[1, "王老汉", "男", make_id_number(date(1951, 1, 1)), None, "南街村"] + [None] * 6]
    plan = plan_for(write_roster(tmp_path / "b.xlsx", HEADER, fresh), officer_a, township_a)
    assert not plan.ok and "次数过多" in plan.report.errors[0].message
