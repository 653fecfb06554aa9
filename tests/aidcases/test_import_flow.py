"""The generic import flow, through a kind declared only in the tests (tests/importkinds.py):
it writes no view, URL, template, job or command code, and gets the template download, the
upload, the preview, the check workbook, the confirm, the cancel, the jobs with progress for a
big file, and the command base."""

from __future__ import annotations

import io
from urllib.parse import unquote

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from aidcases import importing
from aidcases.importing import uploads
from aidcases.models import AuditEvent, Job
from tests.fixtures.rosters import write_roster
from tests.importkinds import NOTE_VERB, NotesCommand, notes_on_file

HEADER = ["序号", "编号", "内容"]


def notes_file(tmp_path, rows, name="记录.xlsx"):
    return write_roster(tmp_path / name, HEADER, [[n, *row] for n, row in enumerate(rows, 1)])


def upload(client, path):
    with path.open("rb") as handle:
        file = SimpleUploadedFile(path.name, handle.read())
    return client.post(reverse("import_start", args=["notes"]), {"file": file})


def token_of(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"].rstrip("/").rsplit("/", 1)[-1]


def url(name, token):
    return reverse(name, args=["notes", token])


def staged(user, token) -> list[str]:
    return sorted(p.name for p in uploads.get(user, token).path.iterdir())


def test_the_upload_page_and_the_template_come_from_the_declaration(client_for, officer_a):
    client = client_for(officer_a)

    page = client.get(reverse("import_start", args=["notes"]))
    template = client.get(reverse("import_template", args=["notes"]))

    assert page.status_code == 200 and "测试记录导入" in page.content.decode()
    book = openpyxl.load_workbook(io.BytesIO(b"".join(template.streaming_content)))
    assert [c.value for c in book.active[2]] == ["编号*", "内容*"]
    assert unquote(template["Content-Disposition"]).endswith("测试记录_导入模板.xlsx")


def test_upload_preview_confirm_writes_the_rows_and_drops_the_staged_file(
    tmp_path, client_for, officer_a
):
    client = client_for(officer_a)
    token = token_of(upload(client, notes_file(tmp_path, [["A1", "好"], ["A2", "很好"]])))

    html = client.get(url("import_preview", token)).content.decode()

    assert 'data-testid="count-new">2<' in html
    assert '<th scope="col">编号</th>' in html and "很好" in html  # the declared columns
    assert notes_on_file() == {}  # the preview wrote nothing
    done = client.post(url("import_confirm", token), follow=True).content.decode()
    assert "已导入：新增 2，更新 0，未变 0" in done
    assert notes_on_file() == {"A1": "好", "A2": "很好"}
    # The upload and its check workbook held the file's data: gone once committed.
    assert staged(officer_a, token) == ["meta.json"]


def test_importing_the_same_file_again_changes_nothing(tmp_path, client_for, officer_a):
    client = client_for(officer_a)
    path = notes_file(tmp_path, [["A1", "好"]])
    client.post(url("import_confirm", token_of(upload(client, path))))

    token = token_of(upload(client, path))

    html = client.get(url("import_preview", token)).content.decode()
    assert 'data-testid="count-unchanged">1<' in html
    assert 'data-testid="confirm-form"' not in html and 'data-testid="import-nothing"' in html
    assert AuditEvent.objects.filter(verb=NOTE_VERB).count() == 1


def test_a_bad_row_stops_the_whole_file_and_the_check_workbook_says_why(
    tmp_path, client_for, officer_a
):
    client = client_for(officer_a)
    token = token_of(
        upload(client, notes_file(tmp_path, [["A1", "好"], ["A2", "坏"], ["A1", "x"]]))
    )

    html = client.get(url("import_preview", token)).content.decode()
    report = client.get(url("import_report", token))

    assert "整个文件都不会导入" in html and "内容不能是“坏”" in html and "与第6行重复" in html
    book = openpyxl.load_workbook(io.BytesIO(b"".join(report.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    header = next(row for row in rows if row and "错误说明" in row)
    notes = {row[0]: row[header.index("错误说明")] for row in rows if isinstance(row[0], int)}
    assert "内容不能是“坏”" in notes[5] and "重复" in notes[4]
    assert AuditEvent.objects.filter(verb="import.check_download", actor=officer_a).exists()
    assert client.post(url("import_confirm", token), follow=True).status_code == 200
    assert notes_on_file() == {}


def test_cancel_deletes_the_staged_upload(tmp_path, client_for, officer_a):
    client = client_for(officer_a)
    token = token_of(upload(client, notes_file(tmp_path, [["A1", "好"]])))

    response = client.post(url("import_cancel", token))

    assert response.status_code == 302
    assert response["Location"] == reverse("import_start", args=["notes"])
    with pytest.raises(importing.UploadGone):
        uploads.get(officer_a, token)
    assert client.get(url("import_preview", token)).status_code == 404


def test_a_file_that_is_not_the_kind_is_refused_next_to_the_upload(client_for, officer_a):
    client = client_for(officer_a)
    file = SimpleUploadedFile("x.csv", "姓名,性别\n王老汉,男\n".encode())

    response = client.post(reverse("import_start", args=["notes"]), {"file": file})

    assert response.status_code == 200 and "找不到表头" in response.content.decode()


def test_a_big_file_is_checked_and_committed_by_jobs_with_a_result_workbook(
    tmp_path, client_for, officer_a, django_capture_on_commit_callbacks
):
    client = client_for(officer_a)
    rows = [[f"B{n}", f"第{n}条"] for n in range(10)]

    with django_capture_on_commit_callbacks(execute=True):
        token = token_of(upload(client, notes_file(tmp_path, rows)))
    check = Job.objects.get(kind="notes_import_validate")
    assert check.state == Job.State.SUCCEEDED and check.result_name == "测试记录_导入检查.xlsx"
    assert (
        'data-testid="count-new">10<' in client.get(url("import_preview", token)).content.decode()
    )

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("import_confirm", token))

    commit = Job.objects.get(kind="notes_import_commit")
    assert commit.state == Job.State.SUCCEEDED, commit.error
    assert len(notes_on_file()) == 10
    book = openpyxl.load_workbook(commit.result_file.path)
    rows = list(book.active.iter_rows(values_only=True))
    header = next(row for row in rows if row and "处理结果" in row)
    assert header[:3] == ("原行号", "编号", "内容")
    assert sum(1 for row in rows if row and row[header.index("处理结果")] == "新增") == 10
    done = client.get(url("import_preview", token)).content.decode()
    assert "已导入：新增 10，更新 0，未变 0" in done


def test_the_preview_polls_while_the_job_is_pending(tmp_path, client_for, officer_a):
    client = client_for(officer_a)
    rows = [[f"B{n}", "好"] for n in range(6)]
    token = token_of(upload(client, notes_file(tmp_path, rows)))  # on_commit never runs

    html = client.get(url("import_preview", token)).content.decode()
    poll = client.get(url("import_preview", token), HTTP_HX_REQUEST="true")

    assert 'data-testid="job-status"' in html and "hx-trigger" in html
    assert "HX-Refresh" not in poll


def test_another_users_upload_and_an_unknown_kind_are_not_found(
    tmp_path, client_for, officer_a, officer_b
):
    token = token_of(upload(client_for(officer_a), notes_file(tmp_path, [["A1", "好"]])))

    other = client_for(officer_b)
    for name in ("import_preview", "import_report"):
        assert other.get(url(name, token)).status_code == 404
    for name in ("import_confirm", "import_cancel"):
        assert other.post(url(name, token)).status_code == 404
    assert other.get(reverse("import_start", args=["nosuchkind"])).status_code == 404
    # A token of one kind does not open as another.
    assert other.get(reverse("import_preview", args=["people", token])).status_code == 404
    assert notes_on_file() == {}


def test_a_role_without_the_permission_gets_403(client_for, leader):
    assert client_for(leader).get(reverse("import_start", args=["notes"])).status_code == 403


def test_the_command_base_checks_then_imports(tmp_path, admin):
    good = notes_file(tmp_path, [["A1", "好"]])
    bad = notes_file(tmp_path, [["A1", "坏"]], name="坏.xlsx")
    out = io.StringIO()

    with pytest.raises(CommandError) as failed:
        call_command(NotesCommand(), str(bad))
    call_command(NotesCommand(), str(good), dry_run=True, stdout=out)
    dry = out.getvalue()
    call_command(NotesCommand(), str(good), stdout=out)

    assert "第4行 [内容] 内容不能是“坏”" in str(failed.value) and "未导入任何内容" in str(
        failed.value
    )
    assert "检查通过（试运行，未写入）：新增 1，更新 0，未变 0" in dry
    assert out.getvalue().endswith("新增 1，更新 0，未变 0\n")
    assert notes_on_file() == {"A1": "好"}


def test_the_workbooks_wrap_long_explanations_inside_their_column(tmp_path, client_for, officer_a):
    # A long 错误说明 or 变更内容 running over the empty cells to its right widens the
    # printed page until the print is unreadably small: those columns wrap instead.
    client = client_for(officer_a)
    token = token_of(upload(client, notes_file(tmp_path, [["A1", "坏"]])))
    report = client.get(url("import_report", token))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(report.streaming_content))).active
    explained = next(
        c for row in sheet.iter_rows() for c in row if c.value and "不能是" in str(c.value)
    )
    assert explained.alignment.wrap_text

    from aidcases.importing import flow
    from tests.importkinds import NoteRow

    long_code = "C" * 30
    result = importing.Result(
        counts={"new": 0, "updated": 1, "unchanged": 0},
        rows=[
            NoteRow(
                line=4, action=importing.UPDATED, changes=["内容"] * 20, code=long_code, text="好"
            )
        ],
    )
    buffer = io.BytesIO()
    flow.write_result(buffer, importing.get("notes"), result, {})
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    header = [c.value for c in sheet[2]]
    changes = sheet.cell(row=3, column=header.index("变更内容") + 1)
    assert changes.value.startswith("内容、内容") and changes.alignment.wrap_text
    # A column is as wide as what it holds (an 18-character ID number must not be cut off).
    assert sheet.column_dimensions["B"].width >= len(long_code)
