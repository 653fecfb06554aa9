"""The team roster import (服务队名册): quirks, matching, idempotence, errors, the command."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from aidcases import importing
from aidcases.models import AuditEvent
from tests.volunteers.factories import make_team, make_volunteer
from volunteers.models import Membership, Volunteer

TODAY = date(2026, 5, 20)

ROSTER = "\n".join(
    [
        "城关镇关爱特困人员青年志愿服务队队员名册,,,,,,,,,",
        "姓名,性别,出生年月,手机号,类别,就读高校,专业,职务,入队日期,特长",
        "李 青,女,2003.05,138 1234 5678,返乡大学生,山西大学,汉语言文学,队长,2026年1月10日,书法",
        "王强,男,1990-02-03,13912345678,干部,,,队员,2026/1/10,",
        ",,,,,,,,,",
        "赵敏,女,1995年3月1日,,教师,,,联络员,,",
        "填表人：张三,,,,,,,,,",
    ]
).encode()


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)


@pytest.fixture
def team(township_a, leader):
    return make_team(township_a, leader=leader)


def run(content: bytes, user, team, *, commit=True):
    kind = importing.get("team_roster")
    context = kind.context(user, {"team": team.pk})
    sheet = kind.read(content, "名册.csv", {"team": team.pk})
    plan = kind.validate(sheet, acting_user=user, context=context, file_name="名册.csv")
    if commit and plan.ok:
        kind.commit(plan, acting_user=user)
    return plan


def test_roster_registers_volunteers_and_memberships(officer_a, team):
    plan = run(ROSTER, officer_a, team)
    assert plan.ok, [str(e) for e in plan.errors]
    assert plan.counts == {"new": 3, "updated": 0, "unchanged": 0}
    li = Volunteer.objects.get(name="李青")
    assert li.phone == "13812345678" and li.birth_date == date(2003, 5, 1)
    assert li.kind == Volunteer.Kind.RETURNING_STUDENT and li.university == "山西大学"
    assert li.area == team.area
    roles = dict(Membership.objects.values_list("volunteer__name", "role"))
    assert roles == {"李青": "captain", "王强": "member", "赵敏": "liaison"}
    assert Membership.objects.get(volunteer__name="赵敏").started_on == TODAY
    assert AuditEvent.objects.filter(verb="volunteer.create").count() == 3
    assert AuditEvent.objects.filter(verb="membership.add").count() == 3


def test_reimporting_the_same_file_changes_nothing(officer_a, team):
    run(ROSTER, officer_a, team)
    events = AuditEvent.objects.count()
    plan = run(ROSTER, officer_a, team)
    assert plan.counts == {"new": 0, "updated": 0, "unchanged": 3}
    assert AuditEvent.objects.count() == events
    assert Volunteer.objects.count() == 3 and Membership.objects.count() == 3


def test_existing_volunteer_is_matched_by_name_and_phone(officer_a, team, village_a):
    known = make_volunteer(village_a, name="王强", phone="13912345678", major="")
    plan = run(ROSTER, officer_a, team)
    assert plan.ok
    assert Volunteer.objects.filter(name="王强").count() == 1
    assert Membership.objects.get(volunteer=known).team == team


def test_existing_volunteer_is_matched_by_name_and_birth_date(officer_a, team, village_a):
    known = make_volunteer(village_a, name="赵敏", birth_date=date(1995, 3, 1))
    run(ROSTER, officer_a, team)
    assert Volunteer.objects.filter(name="赵敏").count() == 1
    assert Membership.objects.filter(volunteer=known, team=team).exists()


def test_a_volunteer_out_of_scope_is_not_matched(officer_a, team, village_b):
    make_volunteer(village_b, name="王强", phone="13912345678")
    run(ROSTER, officer_a, team)
    assert Volunteer.objects.filter(name="王强").count() == 2


def test_changed_cells_update_and_role_changes(officer_a, team):
    run(ROSTER, officer_a, team)
    changed = ROSTER.replace("汉语言文学,队长".encode(), "历史学,队员".encode())
    plan = run(changed, officer_a, team)
    assert plan.counts == {"new": 0, "updated": 1, "unchanged": 2}
    li = Volunteer.objects.get(name="李青")
    assert li.major == "历史学"
    assert Membership.objects.get(volunteer=li).role == "member"


def test_minor_without_consent_is_a_row_error_and_nothing_is_written(officer_a, team):
    content = ROSTER + "\n小明,男,2012-01-01,13712345678,其他,,,队员,,".encode()
    plan = run(content, officer_a, team)
    assert not plan.ok
    assert any("未满18周岁" in str(e) and e.line == 8 for e in plan.errors)
    assert not Volunteer.objects.exists()


def test_bad_cells_and_duplicates_are_reported_by_row(officer_a, team):
    content = "\n".join(
        [
            "姓名,手机号,职务,入队日期",
            "甲,12345,队员,2026-01-01",
            "乙,13812345678,组长,2026-01-01",
            "丙,13812345679,队员,2026-06-01",
            "丁,13812345670,队员,2026-01-01",
            "丁,13812345670,队员,2026-01-01",
        ]
    ).encode()
    plan = run(content, officer_a, team)
    lines = {(e.line, e.column) for e in plan.errors}
    assert (2, "联系电话") in lines
    assert (3, "队内职务") in lines
    assert (4, "加入日期") in lines
    assert {(5, "姓名"), (6, "姓名")} <= lines
    assert not Volunteer.objects.exists()


def test_missing_name_column_is_a_file_error(officer_a, team):
    plan = run("性别,手机号\n男,13812345678".encode(), officer_a, team)
    assert not plan.ok and any(e.line is None for e in plan.errors)


def test_upload_for_a_team_out_of_scope_is_gone(officer_b, team):
    with pytest.raises(importing.UploadGone):
        importing.get("team_roster").context(officer_b, {"team": team.pk})


def test_leader_imports_into_own_team(leader, team):
    assert run(ROSTER, leader, team).ok
    assert Membership.objects.filter(team=team).count() == 3


def test_command_imports_and_reports(officer_a, team, tmp_path, capsys):
    path = tmp_path / "名册.csv"
    path.write_bytes(ROSTER)
    call_command(
        "import_team_roster", str(path), "--team", team.name, "--dry-run", "--user", "officer_a"
    )
    assert not Volunteer.objects.exists()
    call_command("import_team_roster", str(path), "--team", str(team.pk), "--user", "officer_a")
    out = capsys.readouterr().out
    assert "新增 3" in out and Volunteer.objects.count() == 3


def test_command_exits_1_with_one_line_per_problem(officer_a, team, tmp_path):
    path = tmp_path / "名册.csv"
    path.write_bytes("姓名,手机号\n甲,12345\n乙,999".encode())
    with pytest.raises(CommandError) as exc:
        call_command("import_team_roster", str(path), "--team", str(team.pk), "--user", "officer_a")
    message = str(exc.value)
    assert "第2行" in message and "第3行" in message and "未导入任何内容" in message
    assert not Volunteer.objects.exists()


def test_command_refuses_a_team_out_of_scope(officer_b, team, tmp_path):
    path = tmp_path / "名册.csv"
    path.write_bytes(ROSTER)
    with pytest.raises(CommandError, match="无权"):
        call_command("import_team_roster", str(path), "--team", str(team.pk), "--user", "officer_b")


def test_command_names_an_unknown_team(officer_a, tmp_path):
    path = tmp_path / "名册.csv"
    path.write_bytes(ROSTER)
    with pytest.raises(CommandError, match="找不到服务队"):
        call_command("import_team_roster", str(path), "--team", "没有这个队", "--user", "officer_a")
