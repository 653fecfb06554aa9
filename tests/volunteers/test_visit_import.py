"""The Excel upload of visit records: sheets as teams keep them, matching persons, teams and
visitors within the township, follow-ups, all or nothing, re-imports, the command and the
upload pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from aidcases import importing, pii
from aidcases.models import AidCase, AuditEvent
from tests.factories import make_id_number, make_person
from tests.fixtures.rosters import write_roster
from tests.volunteers.factories import make_team, make_visit, make_volunteer
from volunteers import visit_import
from volunteers.models import FollowUp, Membership, Team, Visit, Volunteer

TEAM = "城关镇关爱特困人员青年志愿服务队"
HEADER = ["序号", "走访日期", "被帮扶人", "身份证号码", "服务队", "走访人员"]
HEADER += ["居家安全", "心理状态", "生活环境", "身体健康", "急难愁盼", "自选行动", "备注"]
TITLE = "城关镇关爱特困人员青年志愿服务队2025年第三季度走访记录"


def day(days_ago: int) -> date:
    return timezone.localdate() - timedelta(days=days_ago)


@pytest.fixture
def wang(village_a):
    return make_person(village_a, name="王老汉", id_number=make_id_number(date(1950, 5, 17)),
                       category=AidCase.Category.TEKUN)  # fmt: skip


@pytest.fixture
def team_a(township_a):
    team = make_team(township_a, name=TEAM)
    make_volunteer(township_a, name="张青", team=team)
    return team


CARES = ("安全", "良好", "整洁", "血压偏高", "")


def row(person, when, *, n=1, team=TEAM, visitors="张青", cares=CARES, action="打扫卫生",
        notes=""):  # fmt: skip
    return [n, when, person.name, pii.decrypt(person.id_number_encrypted) if person else "",
            team, visitors, *cares, action, notes]  # fmt: skip


def check(path, township, user):
    with path.open("rb") as handle:
        sheet = importing.read(handle, path.name, visit_import.SPEC)
    return visit_import.validate(sheet, township, user, file_name=path.name)


def run(path, township, user):
    plan = check(path, township, user)
    assert plan.ok, [str(i) for i in plan.errors]
    return visit_import.commit(plan, user)


def errors(plan) -> list[str]:
    return [str(issue) for issue in plan.errors]


# --- sheets as they are kept ----------------------------------------------------------------


def test_a_hand_kept_sheet_with_title_sign_off_and_blank_lines_is_imported(
    tmp_path, officer_a, township_a, wang, team_a
):
    header = ["序号", "日期", "特困人员姓名", "公民身份号码", "志愿服务队", "参与人员"]
    header += ["居家安全", "心理状态", "生活环境", "身体健康", "急难愁盼", "自选行动", "备注"]
    path = write_roster(
        tmp_path / "走访.xlsx", header, [row(wang, day(40).strftime("%Y年%-m月%-d日"))],
        title=TITLE, blank_rows_between=True,
        footer=("填表人：王五　　审核人：李四", "填表日期：2025年10月5日"),
    )  # fmt: skip

    result = run(path, township_a, officer_a)

    assert result.counts == {"new": 1, "updated": 0, "unchanged": 0}
    visit = Visit.objects.get()
    assert visit.date == day(40) and visit.team == team_a and visit.case == wang.cases.get()
    assert visit.source == Visit.Source.IMPORT and visit.entered_by == officer_a
    assert [v.name for v in visit.visitors.all()] == ["张青"]
    assert visit.health_note == "血压偏高" and not visit.health_concern
    assert visit.own_action == "打扫卫生" and visit.seen_in_person


@pytest.mark.parametrize(
    "cell",
    [
        "{d:%Y-%m-%d}",
        "{d.year}.{d.month}.{d.day}",
        "{d.year}年{d.month}月{d.day}日",
        "{d.year}/{d.month}/{d.day}",
        "excel",
        "serial",
    ],
)
def test_every_common_date_form_is_read(tmp_path, officer_a, township_a, wang, team_a, cell):
    when = day(20)
    if cell == "excel":
        value = datetime(when.year, when.month, when.day)
    elif cell == "serial":
        value = (when - date(1899, 12, 30)).days
    else:
        value = cell.format(d=when)
    path = write_roster(tmp_path / "a.xlsx", HEADER, [row(wang, value)])

    run(path, township_a, officer_a)

    assert Visit.objects.get().date == when


def test_header_synonyms_and_a_file_without_id_column_match_by_unique_name(
    tmp_path, officer_a, township_a, wang, team_a
):
    header = [
        "服务时间",
        "姓名",
        "服务队",
        "志愿者",
        "急难愁盼",
        "走访方式",
        "是否见到本人",
        "备注",
    ]
    rows = [[day(3).isoformat(), "王老汉", TEAM, "张青，李新", "", "电话", "否", "外出就医"]]
    path = write_roster(tmp_path / "a.xlsx", header, rows)

    run(path, township_a, officer_a)

    visit = Visit.objects.get()
    assert visit.case.person == wang
    assert visit.mode == Visit.Mode.REMOTE
    assert not visit.seen_in_person and visit.not_seen_reason == "外出就医"


# --- matching ---------------------------------------------------------------------------------


def test_a_name_shared_by_two_persons_of_the_township_is_a_row_error(
    tmp_path, officer_a, township_a, village_a, wang, team_a
):
    make_person(village_a, name="王老汉", id_number=make_id_number(date(1952, 1, 1)),
                category=AidCase.Category.TEKUN)  # fmt: skip
    path = write_roster(tmp_path / "a.xlsx", ["日期", "姓名", "服务队"], [[day(3), "王老汉", TEAM]])

    plan = check(path, township_a, officer_a)

    assert not plan.ok
    assert any("有 2 名叫“王老汉”" in e and "请填写身份证号码" in e for e in errors(plan))


def test_unknown_and_other_township_persons_are_row_errors_that_do_not_say_where(
    tmp_path, officer_a, township_a, village_b, wang, team_a
):
    elsewhere = make_person(village_b, name="吴东冶", id_number=make_id_number(date(1949, 3, 3)),
                            category=AidCase.Category.TEKUN)  # fmt: skip
    stranger = [2, day(5), "李某", make_id_number(date(1951, 2, 2)), TEAM, "张青"]
    path = write_roster(
        tmp_path / "a.xlsx", HEADER, [row(wang, day(5)), stranger, row(elsewhere, day(5), n=3)]
    )

    plan = check(path, township_a, officer_a)

    found = errors(plan)
    assert [e.split(" ")[0] for e in found] == ["第5行", "第6行"]
    assert all("本乡(镇)没有登记此人" in e for e in found)
    assert not any("东冶" in e for e in found)
    assert not plan.ok  # one bad row: nothing of the file


def test_a_person_without_a_case_is_a_row_error(tmp_path, officer_a, township_a, village_a, team_a):
    person = make_person(village_a, name="赵无档", id_number=make_id_number(date(1950, 1, 9)))
    path = write_roster(tmp_path / "a.xlsx", HEADER, [row(person, day(5))])

    assert any("还没有帮扶档案" in e for e in errors(check(path, township_a, officer_a)))


def test_the_visit_goes_to_the_open_tekun_case_before_a_left_behind_one(
    tmp_path, officer_a, township_a, village_a, team_a
):
    from aidcases import services

    person = make_person(village_a, name="钱两档", id_number=make_id_number(date(2012, 1, 9)),
                         category=AidCase.Category.LEFT_BEHIND)  # fmt: skip
    tekun = services.case_open(acting_user=officer_a, person=person, category="tekun")
    path = write_roster(tmp_path / "a.xlsx", HEADER, [row(person, day(5))])

    run(path, township_a, officer_a)

    assert Visit.objects.get().case == tekun


def test_future_date_and_repeated_row_are_row_errors_and_nothing_is_written(
    tmp_path, officer_a, township_a, wang, team_a
):
    tomorrow = timezone.localdate() + timedelta(days=1)
    rows = [row(wang, day(10)), row(wang, day(10), n=2), row(wang, tomorrow, n=3)]
    path = write_roster(tmp_path / "a.xlsx", HEADER, rows)

    plan = check(path, township_a, officer_a)

    found = errors(plan)
    assert any(e.startswith("第4行") and "与第5行重复" in e for e in found)
    assert any(e.startswith("第6行") and "还没到" in e for e in found)
    assert not plan.ok
    with pytest.raises(Exception):  # noqa: B017 - the plan refuses to be written
        visit_import.commit(plan, officer_a)
    assert Visit.objects.count() == 0


def test_a_visit_dated_before_the_case_was_opened_is_accepted(
    tmp_path, officer_a, township_a, wang, team_a
):
    case = wang.cases.get()
    assert case.opened_on == timezone.localdate()
    path = write_roster(tmp_path / "a.xlsx", HEADER, [row(wang, day(200))])

    run(path, township_a, officer_a)

    assert Visit.objects.get().date < case.opened_on


def test_unknown_team_and_visitors_are_created_and_listed(
    tmp_path, officer_a, township_a, wang, team_a
):
    rows = [
        row(wang, day(30), visitors="张青、李新 王芳"),
        row(wang, day(20), n=2, team="城关镇家燕护苗服务队", visitors="赵敏"),
    ]
    path = write_roster(tmp_path / "a.xlsx", HEADER, rows)

    plan = check(path, township_a, officer_a)
    assert "将新建服务队：城关镇家燕护苗服务队" in plan.notes
    assert any("李新（" in note and "赵敏（" in note for note in plan.notes)
    result = visit_import.commit(plan, officer_a)

    assert "新建服务队：城关镇家燕护苗服务队" in result.summary_line()
    new_team = Team.objects.get(name="城关镇家燕护苗服务队")
    assert new_team.area == township_a and new_team.kind == Team.Kind.TEKUN_CARE
    li = Volunteer.objects.get(name="李新")
    assert li.kind == Volunteer.Kind.OTHER and li.area == township_a
    assert Membership.objects.get(volunteer=li).team == team_a
    assert Volunteer.objects.filter(name="张青").count() == 1  # a known member is matched
    first = Visit.objects.get(date=day(30))
    assert sorted(v.name for v in first.visitors.all()) == ["张青", "李新", "王芳"]
    assert [v.name for v in Visit.objects.get(team=new_team).visitors.all()] == ["赵敏"]


def test_a_flagged_care_and_urgent_needs_open_follow_ups(
    tmp_path, officer_a, township_a, wang, team_a
):
    cares = ("★电线老化", "！情绪低落", "需关注：屋内潮湿", "良好", "冬季取暖煤不够")
    path = write_roster(tmp_path / "a.xlsx", HEADER, [row(wang, day(5), cares=cares)])

    result = run(path, township_a, officer_a)

    visit = Visit.objects.get()
    assert visit.home_safety_note == "电线老化" and visit.home_safety_concern
    assert visit.mind_note == "情绪低落" and visit.mind_concern
    assert visit.living_note == "屋内潮湿" and visit.living_concern
    assert not visit.health_concern
    follow_ups = {f.source_key: f for f in FollowUp.objects.all()}
    assert set(follow_ups) == {"home_safety", "mind", "living", "urgent"}
    urgent = follow_ups["urgent"]
    assert urgent.urgency == FollowUp.Urgency.URGENT and "取暖煤" in urgent.need
    assert urgent.owner == officer_a and urgent.visit == visit
    assert "新建跟进事项 4 项" in result.summary_line()
    assert AuditEvent.objects.filter(verb="follow_up.create").count() == 4


# --- all or nothing, again --------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing(
    tmp_path, officer_a, township_a, wang, team_a
):
    rows = [row(wang, day(30), visitors="张青、李新", cares=("", "", "", "", "缺棉被"))]
    path = write_roster(tmp_path / "a.xlsx", HEADER, rows)
    run(path, township_a, officer_a)
    before = (Visit.objects.count(), Volunteer.objects.count(), FollowUp.objects.count(),
              Team.objects.count(), AuditEvent.objects.count())  # fmt: skip

    plan = check(path, township_a, officer_a)
    result = visit_import.commit(plan, officer_a)

    assert result.counts == {"new": 0, "updated": 0, "unchanged": 1} and not result.written
    assert plan.notes == []
    after = (Visit.objects.count(), Volunteer.objects.count(), FollowUp.objects.count(),
             Team.objects.count(), AuditEvent.objects.count())  # fmt: skip
    assert after == before


def test_a_visit_recorded_on_the_phone_form_is_unchanged(
    tmp_path, officer_a, township_a, wang, team_a
):
    make_visit(wang.cases.get(), day=day(8), team=team_a)
    path = write_roster(tmp_path / "a.xlsx", HEADER, [row(wang, day(8)), row(wang, day(9), n=2)])

    result = run(path, township_a, officer_a)

    assert result.counts == {"new": 1, "updated": 0, "unchanged": 1}


def test_the_import_is_audited_per_visit_and_as_a_whole(
    tmp_path, officer_a, township_a, wang, team_a
):
    path = write_roster(tmp_path / "走访.xlsx", HEADER, [row(wang, day(8)), row(wang, day(9), n=2)])

    run(path, township_a, officer_a)

    assert AuditEvent.objects.filter(verb="visit.create", actor=officer_a).count() == 2
    summary = AuditEvent.objects.get(verb="visit.import")
    assert summary.details["file"] == "走访.xlsx" and summary.details["visits"] == 2
    assert summary.area == township_a


# --- the command ------------------------------------------------------------------------------


def test_command_imports_and_prints_a_summary(tmp_path, officer_a, township_a, wang, team_a):
    path = write_roster(tmp_path / "a.xlsx", HEADER, [row(wang, day(8))])
    out = StringIO()

    call_command("import_visits", str(path), township="城关镇", user="officer_a", stdout=out)

    assert out.getvalue().strip() == "新增 1，更新 0，未变 0"
    assert Visit.objects.count() == 1


def test_command_dry_run_writes_nothing(tmp_path, officer_a, township_a, wang, team_a):
    path = write_roster(tmp_path / "a.xlsx", HEADER, [row(wang, day(8))])
    out = StringIO()

    call_command("import_visits", str(path), township=township_a.code, user="officer_a",
                 dry_run=True, stdout=out)  # fmt: skip

    assert "检查通过（试运行，未写入）：新增 1" in out.getvalue()
    assert Visit.objects.count() == 0


def test_command_fails_with_one_line_per_problem_and_writes_nothing(
    tmp_path, officer_a, township_a, wang, team_a
):
    tomorrow = timezone.localdate() + timedelta(days=1)
    path = write_roster(tmp_path / "a.xlsx", HEADER, [row(wang, day(8)), row(wang, tomorrow, n=2)])

    with pytest.raises(CommandError) as raised:
        call_command("import_visits", str(path), township="城关镇", user="officer_a")

    lines = str(raised.value).splitlines()
    assert lines[0].startswith("第5行 [走访日期]")
    assert lines[-1] == "共 1 处问题，未导入任何内容。"
    assert Visit.objects.count() == 0


def test_command_refuses_another_townships_officer(tmp_path, officer_b, township_a, wang, team_a):
    path = write_roster(tmp_path / "a.xlsx", HEADER, [row(wang, day(8))])

    with pytest.raises(CommandError, match="无权进行这项导入"):
        call_command("import_visits", str(path), township="城关镇", user="officer_b")


def test_command_exit_status_is_1_on_problems(tmp_path, officer_a, township_a, wang, team_a):
    path = write_roster(tmp_path / "a.xlsx", HEADER, [row(wang, day(8)), row(wang, day(8), n=2)])
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(
            ["manage.py", "import_visits", str(path), "--township", "城关镇", "--user", "officer_a"]
        ).execute()

    assert exited.value.code == 1


# --- the pages --------------------------------------------------------------------------------


def upload(client, path, township):
    with path.open("rb") as handle:
        file = SimpleUploadedFile(path.name, handle.read())
    return client.post(
        reverse("import_start", args=["visits"]), {"township": township.pk, "file": file}
    )


def test_officer_uploads_previews_and_confirms(tmp_path, client_for, officer_a, township_a, wang,
                                               team_a):  # fmt: skip
    client = client_for(officer_a)
    page = client.get(reverse("import_start", args=["visits"]))
    html = page.content.decode()
    assert page.status_code == 200 and "城关镇" in html and "东冶乡" not in html
    assert "★" in html  # the rule for cares that need attention is on the page
    rows = [row(wang, day(8), cares=("", "", "", "", "缺棉被"))]
    response = upload(client, write_roster(tmp_path / "走访.xlsx", HEADER, rows), township_a)
    assert response.status_code == 302, response.content.decode()[:3000]
    token = response["Location"].rstrip("/").rsplit("/", 1)[-1]

    preview = client.get(reverse("import_preview", args=["visits", token]))

    html = preview.content.decode()
    assert 'data-testid="count-new">1<' in html
    number = pii.decrypt(wang.id_number_encrypted)
    assert pii.mask_id_number(number) in html and number not in html
    assert "缺棉被" in html
    assert Visit.objects.count() == 0
    done = client.post(reverse("import_confirm", args=["visits", token]), follow=True)
    assert "新增 1，更新 0，未变 0" in done.content.decode()
    assert Visit.objects.count() == 1 and FollowUp.objects.count() == 1


def test_officer_a_cannot_import_into_township_b(
    tmp_path, client_for, officer_a, township_a, township_b, wang, team_a
):
    path = write_roster(tmp_path / "a.xlsx", HEADER, [row(wang, day(8))])

    response = upload(client_for(officer_a), path, township_b)

    assert response.status_code == 404
    assert Visit.objects.count() == 0


def test_county_staff_picks_a_township(client_for, county_staff, township_a, township_b):
    html = client_for(county_staff).get(reverse("import_start", args=["visits"])).content.decode()

    assert (
        "城关镇" in html and "东冶乡" in html and "disabled" not in html.split("township")[1][:200]
    )


def test_team_leader_may_not_import_visits(client_for, leader):
    assert client_for(leader).get(reverse("import_start", args=["visits"])).status_code == 403


def test_template_download_has_the_columns(client_for, officer_a):
    import io

    import openpyxl

    response = client_for(officer_a).get(reverse("import_template", args=["visits"]))

    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    header = [c.value for c in book.active[2]]
    assert "走访日期*" in header and "被帮扶人*" in header and "急难愁盼" in header


def test_a_malformed_id_number_says_what_is_wrong_with_it(
    tmp_path, officer_a, township_a, wang, team_a
):
    bad = [1, day(5), "王老汉", "14990119500517001", TEAM, "张青"]
    path = write_roster(tmp_path / "a.xlsx", HEADER, [bad])

    found = errors(check(path, township_a, officer_a))

    assert len(found) == 1 and found[0].startswith("第4行 [身份证号码]")
    assert "本乡(镇)没有登记此人" not in found[0]
