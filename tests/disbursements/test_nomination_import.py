"""Adding lines to a batch from an Excel sheet, through the hub's generic upload flow (the
"nominations" kind) and its command: persons found by ID number in the user's scope, the
rules of line_add row by row, all or nothing, and a second import of the same file changes
nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from aidcases import importing, pii
from aidcases import services as hub
from aidcases.models import AidCase, AuditEvent
from disbursements import services
from disbursements.models import AidLine
from tests.factories import make_id_number, make_person
from tests.fixtures.rosters import write_roster

pytestmark = pytest.mark.django_db

# The header as county sheets spell it: 公民身份号码, 资助金额, 备注.
HEADER = ["序号", "姓名", "公民身份号码", "所在村", "资助金额", "备注"]


def number(case: AidCase) -> str:
    return pii.decrypt(case.person.id_number_encrypted)


def row(n: int, case: AidCase, amount="", note="家庭困难") -> list:
    return [n, case.person.name, number(case), case.person.area.name, amount, note]


@pytest.fixture
def batch(county_staff, funded):
    programme, fund = funded
    return services.batch_create(
        acting_user=county_staff,
        programme=programme,
        name="2026年秋季学期困难学生助学金",
        school_year=2026,
        term="autumn",
        fund=fund,
    )


def run(path, batch, user, *, commit=True):
    kind = importing.get("nominations")
    context = kind.context(user, {"batch": batch.pk})
    with path.open("rb") as handle:
        sheet = kind.read(handle, path.name, {"batch": batch.pk})
    plan = kind.validate(sheet, acting_user=user, context=context, file_name=path.name)
    if commit and plan.ok:
        kind.commit(plan, acting_user=user)
    return plan


def errors(plan) -> list[str]:
    return [str(issue) for issue in plan.errors]


def test_a_county_sheet_nominates_everyone_at_its_amounts_or_the_standard(
    tmp_path, officer_a, batch, students
):
    a, b, c = students
    path = write_roster(
        tmp_path / "名单.xlsx", HEADER, [row(1, a, "1,200"), row(2, b), row(3, c, "¥600.00")]
    )
    plan = run(path, batch, officer_a)
    assert plan.ok, errors(plan)
    assert plan.counts == {"new": 3, "updated": 0, "unchanged": 0}
    amounts = dict(batch.lines.values_list("person__name", "amount"))
    assert amounts == {
        a.person.name: Decimal("1200.00"),
        b.person.name: Decimal("500.00"),  # no level: the programme's standard
        c.person.name: Decimal("600.00"),
    }
    line = batch.lines.get(person=a.person)
    assert line.reason == "家庭困难" and line.nominated_by == officer_a and line.case == a
    assert AuditEvent.objects.filter(verb="aid_line.add").count() == 3
    event = AuditEvent.objects.get(verb="batch.import_nominations")
    assert event.details["lines"] == 3 and event.details["total"] == "2300.00"


def test_importing_the_same_file_again_changes_nothing(tmp_path, officer_a, batch, students):
    path = write_roster(tmp_path / "名单.xlsx", HEADER, [row(i, c) for i, c in enumerate(students)])
    assert run(path, batch, officer_a).ok
    events = AuditEvent.objects.count()
    again = run(path, batch, officer_a)
    assert again.ok and again.counts == {"new": 0, "updated": 0, "unchanged": 3}
    assert batch.lines.count() == 3 and AuditEvent.objects.count() == events


def test_one_bad_row_and_nothing_is_nominated(
    tmp_path, officer_a, county_staff, batch, students, village_a
):
    stranger = make_id_number(date(2012, 3, 4))
    closed = make_person(village_a, name="周小雨", category=AidCase.Category.STUDENT).cases.get()
    hub.case_close(acting_user=county_staff, case=closed, closed_on=closed.opened_on, reason="毕业")
    tekun = make_person(village_a, name="吴老汉", category=AidCase.Category.TEKUN).cases.get()
    a, b, _c = students
    rows = [
        row(1, a),
        [2, "陌生人", stranger, "", "", ""],
        [3, "钱小明", number(b), "", "", ""],  # the name does not match the number
        row(4, closed),
        row(5, tekun),
        [6, a.person.name, number(a), "", "0", ""],
        [7, "孙某", "140822199001011230", "", "", ""],  # wrong check digit
    ]
    # the title and the unit line come first: data rows start on line 4
    plan = run(write_roster(tmp_path / "名单.xlsx", HEADER, rows), batch, officer_a)
    assert not plan.ok
    found = errors(plan)
    assert any("第5行" in e and "没有登记此人" in e for e in found), found
    assert any("第6行" in e and "姓名与系统中" in e and b.person.name in e for e in found), found
    assert any("第7行" in e and "没有符合" in e for e in found), found
    assert any("第8行" in e and "没有符合" in e for e in found), found
    assert any("第9行" in e and "[金额]" in e for e in found), found
    assert any("第10行" in e and "[身份证号码]" in e for e in found), found
    assert not AidLine.objects.exists()


def test_a_person_of_another_township_is_not_found(
    tmp_path, officer_a, officer_b, batch, village_b
):
    other = make_person(village_b, name="郑东冶", category=AidCase.Category.STUDENT).cases.get()
    path = write_roster(tmp_path / "名单.xlsx", HEADER, [row(1, other)])
    plan = run(path, batch, officer_a, commit=False)
    assert [e for e in errors(plan) if "没有登记此人" in e]
    assert run(path, batch, officer_b).ok  # B's own officer may


def test_the_same_person_twice_in_a_file_is_an_error(tmp_path, officer_a, batch, students):
    path = write_roster(tmp_path / "名单.xlsx", HEADER, [row(1, students[0]), row(2, students[0])])
    plan = run(path, batch, officer_a)
    assert not plan.ok and any("[身份证号码] 与第" in e and "重复" in e for e in errors(plan))
    assert not AidLine.objects.exists()


def test_a_person_already_in_the_batch_at_another_amount_is_an_error(
    tmp_path, officer_a, batch, students
):
    services.line_add(acting_user=officer_a, batch=batch, case=students[0])
    path = write_roster(tmp_path / "名单.xlsx", HEADER, [row(1, students[0], "900")])
    plan = run(path, batch, officer_a)
    assert any("已在本批次名单中，金额为 ¥500.00" in e for e in errors(plan))
    assert batch.lines.get().amount == Decimal("500.00")


def test_someone_holding_this_periods_payment_is_refused(
    tmp_path, walk, officer_a, county_staff, funded, students
):
    programme, fund = funded
    walk("locked")
    second = services.batch_create(
        acting_user=county_staff,
        programme=programme,
        name="补充批次",
        school_year=2026,
        term="autumn",
        fund=fund,
    )
    plan = run(
        write_roster(tmp_path / "名单.xlsx", HEADER, [row(1, students[0])]), second, officer_a
    )
    assert any("本期已在该项目的其他批次" in e for e in errors(plan))


def test_over_the_yearly_cap_is_a_warning_that_does_not_stop_the_import(
    tmp_path, officer_a, batch, students
):
    path = write_roster(tmp_path / "名单.xlsx", HEADER, [row(1, students[0], "2500")])
    plan = run(path, batch, officer_a)
    assert plan.ok
    warnings = [str(w) for w in plan.report.warnings]
    assert any("超过本项目每人每年上限" in w for w in warnings), warnings
    assert batch.lines.get().amount == Decimal("2500.00")


def test_a_batch_past_verification_takes_no_import(tmp_path, walk, officer_a, students):
    batch = walk("locked")
    plan = run(
        write_roster(tmp_path / "名单.xlsx", HEADER, [row(1, students[0])]), batch, officer_a
    )
    assert any("不能再添加名单" in e for e in errors(plan))


# --- the pages --------------------------------------------------------------------------------


def test_officer_uploads_previews_and_confirms_from_the_batch_page(
    tmp_path, client_for, officer_a, batch, students
):
    client = client_for(officer_a)
    detail = client.get(batch.get_absolute_url()).content.decode()
    link = reverse("import_start", args=["nominations"]) + f"?batch={batch.pk}"
    assert link in detail
    page = client.get(link).content.decode()
    assert f'<option value="{batch.pk}" selected>' in page
    path = write_roster(tmp_path / "名单.xlsx", HEADER, [row(1, students[0], "800")])
    with path.open("rb") as handle:
        file = SimpleUploadedFile(path.name, handle.read())
    response = client.post(
        reverse("import_start", args=["nominations"]), {"batch": batch.pk, "file": file}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    token = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    html = client.get(reverse("import_preview", args=["nominations", token])).content.decode()
    assert 'data-testid="count-new">1<' in html
    whole = number(students[0])
    assert pii.mask_id_number(whole) in html and whole not in html
    assert not AidLine.objects.exists()
    done = client.post(reverse("import_confirm", args=["nominations", token]), follow=True)
    assert "新增 1，更新 0，未变 0" in done.content.decode()
    assert batch.lines.get().amount == Decimal("800.00")


def test_the_upload_for_a_locked_batch_is_refused(tmp_path, client_for, county_staff, walk):
    batch = walk("locked")
    file = SimpleUploadedFile("a.csv", "姓名,身份证号码\n甲,1".encode())
    response = client_for(county_staff).post(
        reverse("import_start", args=["nominations"]), {"batch": batch.pk, "file": file}
    )
    assert (
        response.status_code == 200 and "请选择仍可添加名单的资助批次" in response.content.decode()
    )


def test_roles_that_do_not_nominate_cannot_open_the_import(client_for, approver, leader):
    assert (
        client_for(approver).get(reverse("import_start", args=["nominations"])).status_code == 403
    )
    assert client_for(leader).get(reverse("import_start", args=["nominations"])).status_code == 403


# --- the command ------------------------------------------------------------------------------


def test_command_checks_then_imports_with_a_summary_line(
    tmp_path, officer_a, batch, students, capsys
):
    path = write_roster(tmp_path / "名单.xlsx", HEADER, [row(i, c) for i, c in enumerate(students)])
    call_command("import_nominations", str(path), "--batch", str(batch.pk), "--dry-run",
                 "--user", "officer_a")  # fmt: skip
    assert "检查通过（试运行，未写入）：新增 3" in capsys.readouterr().out
    assert not AidLine.objects.exists()
    call_command("import_nominations", str(path), "--batch", str(batch.pk), "--user", "officer_a")
    out = capsys.readouterr().out
    assert "新增 3，更新 0，未变 0" in out and "已提名 3 人，合计 ¥1,500.00" in out
    call_command("import_nominations", str(path), "--batch", str(batch.pk), "--user", "officer_a")
    assert "新增 0，更新 0，未变 3" in capsys.readouterr().out
    assert batch.lines.count() == 3


def test_command_exits_1_with_one_line_per_problem_and_writes_nothing(
    tmp_path, officer_a, batch, students
):
    rows = [
        row(1, students[0]),
        [2, "陌生人", make_id_number(), "", "", ""],
        [3, "某", "123", "", "", ""],
    ]
    path = write_roster(tmp_path / "名单.xlsx", HEADER, rows)
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_nominations", str(path), "--batch", str(batch.pk), "--user", "officer_a"
        )
    lines = str(caught.value).splitlines()
    assert any(line.startswith("第") and "没有登记此人" in line for line in lines), lines
    assert lines[-1] == "共 2 处问题，未导入任何内容。"
    assert not AidLine.objects.exists()


def test_command_refuses_a_user_who_may_not_nominate_and_an_unknown_batch(
    tmp_path, approver, batch, students
):
    path = write_roster(tmp_path / "名单.xlsx", HEADER, [row(1, students[0])])
    with pytest.raises(CommandError, match="无权"):
        call_command(
            "import_nominations", str(path), "--batch", str(batch.pk), "--user", "approver"
        )
    with pytest.raises(CommandError, match="找不到资助批次"):
        call_command("import_nominations", str(path), "--batch", "999999", "--user", "approver")
