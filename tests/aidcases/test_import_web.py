"""The roster import screens: upload → preview → confirm, the check workbook, the template,
big files through the job path, and township scoping."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aidcases import importing, pii
from aidcases.importing import uploads
from aidcases.models import AidCase, AuditEvent, Job, Person
from tests.factories import make_id_number
from tests.fixtures.rosters import write_roster

HEADER = ["序号", "姓名", "性别", "身份证号码", "所在村", "联系电话", "供养方式"]
JOB_ROWS = importing.get("people").job_rows
MAN = make_id_number(date(1950, 5, 17))
WOMAN = make_id_number(date(1948, 11, 2), female=True)


def rows():
    return [
        [1, "王老汉", "男", MAN, "南街村", "13812345678", "分散"],
        [2, "李婆婆", "女", WOMAN, "南街村三组", "0359-1234567", "集中供养"],
    ]


TEMPLATE = "/imports/people/template/"


def upload(client, path, township, category="tekun", **extra):
    with path.open("rb") as handle:
        file = SimpleUploadedFile(path.name, handle.read())
    return client.post(
        reverse("people_import"),
        {"category": category, "township": township.pk, "file": file, **extra},
    )


def token_of(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"].rstrip("/").rsplit("/", 1)[-1]


# --- the form -------------------------------------------------------------------------------------


def test_officer_is_offered_only_their_own_township_preselected(
    client_for, officer_a, township_a, township_b
):
    page = client_for(officer_a).get(reverse("people_import"))

    html = page.content.decode()
    assert page.status_code == 200
    assert f'value="{township_a.pk}" selected' in html
    assert "东冶乡" not in html


def test_county_staff_may_choose_any_township(client_for, county_staff, township_a, township_b):
    html = client_for(county_staff).get(reverse("people_import")).content.decode()

    assert "城关镇" in html and "东冶乡" in html


def test_officer_cannot_import_into_another_township(
    tmp_path, client_for, officer_a, township_b, village_b
):
    path = write_roster(tmp_path / "a.xlsx", HEADER, rows())

    response = upload(client_for(officer_a), path, township_b)

    assert response.status_code == 404
    assert Person.objects.count() == 0


def test_team_leader_gets_403(client_for, leader):
    assert client_for(leader).get(reverse("people_import")).status_code == 403


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("名单.docx", b"PK\x03\x04whatever", "不支持“.docx”文件"),
        ("名单.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 60, "旧版 Excel（.xls）"),
        ("名单.xlsx", b"", "文件是空的"),
        ("名单.xlsx", b"PK\x03\x04broken", "无法读取这个文件"),
        ("名单.csv", "姓名,性别\n王老汉,男\n".encode(), "缺少必填列：所在村"),
    ],
)
def test_bad_files_are_refused_on_the_form_with_a_chinese_message(
    client_for, officer_a, township_a, name, content, message
):
    response = client_for(officer_a).post(
        reverse("people_import"),
        {"category": "tekun", "township": township_a.pk, "file": SimpleUploadedFile(name, content)},
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Person.objects.count() == 0


def test_a_file_too_big_is_refused_before_it_is_read(
    tmp_path, monkeypatch, client_for, officer_a, township_a, village_a
):
    monkeypatch.setattr("aidcases.importing.forms.MAX_BYTES", 1024)
    path = write_roster(tmp_path / "a.xlsx", HEADER, rows())

    response = upload(client_for(officer_a), path, township_a)

    assert response.status_code == 200
    assert "文件太大" in response.content.decode()


def test_a_validation_job_for_an_expired_upload_fails_with_a_reason(
    tmp_path, client_for, officer_a, township_a, village_a, django_capture_on_commit_callbacks
):
    from aidcases import services

    client = client_for(officer_a)
    token = token_of(upload(client, write_roster(tmp_path / "a.xlsx", HEADER, rows()), township_a))
    uploads.get(officer_a, token).delete()

    with pytest.raises(ValidationError), django_capture_on_commit_callbacks(execute=True):
        services.job_start(
            acting_user=officer_a, kind="people_import_validate", params={"token": token}
        )

    job = Job.objects.get(kind="people_import_validate")
    assert job.state == Job.State.FAILED and "请重新上传" in job.error


# --- preview and confirm ----------------------------------------------------------------------


def test_upload_preview_confirm(tmp_path, client_for, officer_a, township_a, village_a):
    client = client_for(officer_a)
    token = token_of(
        upload(client, write_roster(tmp_path / "特困.xlsx", HEADER, rows()), township_a)
    )

    preview = client.get(reverse("import_preview", args=["people", token]))

    html = preview.content.decode()
    assert preview.status_code == 200
    assert 'data-testid="count-new">2<' in html
    assert pii.mask_id_number(MAN) in html and MAN not in html  # IDs masked
    assert Person.objects.count() == 0  # a preview writes nothing
    done = client.post(reverse("import_confirm", args=["people", token]), follow=True)
    assert "已导入：新增 2，更新 0，未变 0" in done.content.decode()
    assert Person.objects.count() == 2
    assert AuditEvent.objects.get(verb="person.import").details["file"] == "特困.xlsx"
    # Confirming again (a double click, the back button) imports nothing twice.
    again = client.post(reverse("import_confirm", args=["people", token]), follow=True)
    assert "已经导入过了" in again.content.decode()
    assert AuditEvent.objects.filter(verb="person.import").count() == 1


def test_the_same_file_uploaded_again_has_nothing_to_import(
    tmp_path, client_for, officer_a, township_a, village_a
):
    client = client_for(officer_a)
    path = write_roster(tmp_path / "a.xlsx", HEADER, rows())
    client.post(
        reverse("import_confirm", args=["people", token_of(upload(client, path, township_a))])
    )

    token = token_of(upload(client, path, township_a))

    html = client.get(reverse("import_preview", args=["people", token])).content.decode()
    assert 'data-testid="count-unchanged">2<' in html
    assert 'data-testid="import-nothing"' in html and 'data-testid="confirm-form"' not in html


def test_confirm_checks_the_file_again_before_writing(
    tmp_path, client_for, officer_a, township_a, village_a, village_b
):
    from tests.factories import make_person

    client = client_for(officer_a)
    token = token_of(upload(client, write_roster(tmp_path / "a.xlsx", HEADER, rows()), township_a))
    # Between preview and confirm, someone registers one of them in another township.
    make_person(village_b, name="王老汉", id_number=MAN)

    response = client.post(reverse("import_confirm", args=["people", token]), follow=True)

    html = response.content.decode()
    assert "复核时发现 1 处问题，未导入任何内容" in html
    assert "此人已在其他乡镇登记" in html
    assert not Person.objects.filter(name="李婆婆").exists()


def test_preview_lists_every_error_and_offers_the_check_workbook(
    tmp_path, client_for, officer_a, township_a, village_a
):
    bad = rows() + [
        [3, "赵大", "男", MAN, "南街村", None, None],
        [4, "钱二", "女", make_id_number(date(1950, 1, 1)), "西河村", "123", None],
    ]
    client = client_for(officer_a)
    token = token_of(upload(client, write_roster(tmp_path / "a.xlsx", HEADER, bad), township_a))

    html = client.get(reverse("import_preview", args=["people", token])).content.decode()

    assert "整个文件都不会导入" in html
    assert "与第6行重复" in html and "与第4行重复" in html
    assert "性别与身份证号码不符" in html
    assert "城关镇没有名为“西河村”的村(社区)" in html
    assert "联系电话" in html
    assert 'data-testid="confirm-form"' not in html

    report = client.get(reverse("import_report", args=["people", token]))
    assert report.status_code == 200 and report["Cache-Control"] == "no-store"
    book = openpyxl.load_workbook(io.BytesIO(b"".join(report.streaming_content)))
    sheet = book.active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    header = next(row for row in values if row and "错误说明" in row)
    notes = {row[0]: row[header.index("错误说明")] for row in values if isinstance(row[0], int)}
    assert "与第6行重复" in notes[4]
    assert "所在村" in notes[7] and "西河村" in notes[7]
    assert notes[5] is None  # rows without problems are kept, to fix the file in place
    assert AuditEvent.objects.filter(verb="person.import_check", actor=officer_a).count() == 1
    # And nothing was imported.
    assert client.post(reverse("import_confirm", args=["people", token])).status_code == 302
    assert Person.objects.count() == 0


def test_someone_elses_upload_is_not_found(
    tmp_path, client_for, officer_a, county_staff, township_a, village_a
):
    client = client_for(officer_a)
    token = token_of(upload(client, write_roster(tmp_path / "a.xlsx", HEADER, rows()), township_a))

    other = client_for(county_staff)
    assert other.get(reverse("import_preview", args=["people", token])).status_code == 404
    assert other.get(reverse("import_report", args=["people", token])).status_code == 404
    assert other.post(reverse("import_confirm", args=["people", token])).status_code == 404
    assert other.get(reverse("import_preview", args=["people", "..%2F..%2Fetc"])).status_code == 404


# --- template -------------------------------------------------------------------------------


@pytest.mark.parametrize("category", ["tekun", "student", "left_behind"])
def test_template_downloads_for_each_category(client_for, officer_a, category):
    response = client_for(officer_a).get(
        reverse("import_template", args=["people"]), {"category": category}
    )

    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    header = [c.value for c in book.active[2]]
    assert "姓名*" in header and "身份证号码*" in header and "所在村*" in header
    assert ("就读学校*" in header) == (category == "student")


def test_template_round_trip_imports_cleanly(
    tmp_path, client_for, officer_a, township_a, village_a
):
    client = client_for(officer_a)
    response = client.get(reverse("import_template", args=["people"]), {"category": "tekun"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    header = [str(c.value).rstrip("*") for c in sheet[2]]
    filled = {
        "姓名": "王老汉",
        "性别": "男",
        "身份证号码": MAN,
        "出生日期": "1950-05-17",
        "所在村": "南街村",
        "联系电话": "13812345678",
        "认定等级": "特别困难",
        "困难类型": "低保、残疾",
        "供养方式": "分散供养",
        "是否独居": "是",
    }
    for column, name in enumerate(header, start=1):
        sheet.cell(row=3, column=column).value = filled.get(name)
    path = tmp_path / "模板.xlsx"
    book.save(path)

    token = token_of(upload(client, path, township_a))
    client.post(reverse("import_confirm", args=["people", token]))

    case = Person.objects.get(name="王老汉").cases.get()
    assert case.hardship_level == "special" and case.flags == ["dibao", "disability"]
    assert case.tekun_profile.lives_alone and case.tekun_profile.support_mode == "dispersed"


def test_the_templates_example_row_left_in_is_an_error(
    tmp_path, client_for, officer_a, township_a, village_a
):
    client = client_for(officer_a)
    response = client.get(reverse("import_template", args=["people"]), {"category": "tekun"})
    path = tmp_path / "模板.xlsx"
    path.write_bytes(b"".join(response.streaming_content))

    token = token_of(upload(client, path, township_a))

    html = client.get(reverse("import_preview", args=["people", token])).content.decode()
    assert "这是导入模板中的示例行" in html


def test_template_without_a_category_goes_back_to_the_form(client_for, officer_a):
    response = client_for(officer_a).get(reverse("import_template", args=["people"]))

    assert response.status_code == 302 and response["Location"] == reverse(
        "import_start", args=["people"]
    )


# --- big files: the job path ----------------------------------------------------------------


def big_roster(tmp_path, count: int):
    people = []
    for n in range(count):
        birth = date(1940, 1, 1).replace(year=1940 + n % 30, month=1 + n % 12, day=1 + n % 28)
        number = make_id_number(birth, area=f"1{n // 500 % 100:02d}101")
        people.append([n + 1, f"王{n}", "男", number, "南街村", None, "分散"])
    return write_roster(tmp_path / "大表.xlsx", HEADER, people)


def test_a_file_of_2000_rows_is_checked_and_imported_by_jobs(
    tmp_path, client_for, officer_a, township_a, village_a, django_capture_on_commit_callbacks
):
    client = client_for(officer_a)
    path = big_roster(tmp_path, JOB_ROWS)

    with django_capture_on_commit_callbacks(execute=True):
        token = token_of(upload(client, path, township_a))
    check = Job.objects.get(kind="people_import_validate")
    assert check.state == Job.State.SUCCEEDED and check.params == {"token": token}
    assert check.result_name == "特困人员花名册_导入检查.xlsx"

    poll = client.get(reverse("import_preview", args=["people", token]), HTTP_HX_REQUEST="true")
    assert poll["HX-Refresh"] == "true"
    html = client.get(reverse("import_preview", args=["people", token])).content.decode()
    assert f'data-testid="count-new">{JOB_ROWS}<' in html
    assert Person.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import_confirm", args=["people", token]))
    assert response.status_code == 302
    commit = Job.objects.get(kind="people_import_commit")
    assert commit.state == Job.State.SUCCEEDED, commit.error
    assert Person.objects.count() == JOB_ROWS
    assert AidCase.objects.filter(category="tekun").count() == JOB_ROWS
    done = client.get(reverse("import_preview", args=["people", token])).content.decode()
    assert f"已导入：新增 {JOB_ROWS}，更新 0，未变 0" in done
    assert reverse("job_detail", args=[commit.pk]) in done


def test_the_preview_shows_the_job_progress_while_the_worker_runs(
    tmp_path, client_for, officer_a, township_a, village_a
):
    client = client_for(officer_a)
    path = big_roster(tmp_path, JOB_ROWS)

    token = token_of(upload(client, path, township_a))  # on_commit never runs: job pending

    html = client.get(reverse("import_preview", args=["people", token])).content.decode()
    assert 'data-testid="job-status"' in html and "正在检查文件" in html
    poll = client.get(reverse("import_preview", args=["people", token]), HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in poll
