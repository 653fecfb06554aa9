"""Uploads cannot exhaust the web process: a capped request body, zip bombs and macro
workbooks refused with a Chinese message, anything but a small file read by the worker, and
staged files gone after commit, cancel, or 24 hours."""

from __future__ import annotations

import io
import os
import time
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aidcases import importing
from aidcases.importing import uploads
from aidcases.models import Job
from tests.fixtures.rosters import write_roster
from tests.importkinds import SPEC, notes_on_file


def small_workbook() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["编号", "内容"])
    book.active.append(["A1", "好"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_part(data: bytes, name: str, chunks) -> bytes:
    """The workbook with one part replaced (or added), compressed chunk by chunk."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info.filename, source.read(info))
        with target.open(name, "w", force_zip64=True) as part:
            for chunk in chunks:
                part.write(chunk)
    return out.getvalue()


def bomb(megabytes: int) -> bytes:
    """A real workbook whose shared strings unpack to ``megabytes`` MB."""
    header = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><si><t>'
    )
    filler = (b"A" * (1 << 20) for _ in range(megabytes))
    return with_part(
        small_workbook(), "xl/sharedStrings.xml", [header, *filler, b"</t></si></sst>"]
    )


def first_message(data: bytes, name: str = "名单.xlsx") -> str:
    sheet = importing.read(data, name, SPEC)
    assert not sheet.report.ok
    return sheet.report.errors[0].message


def test_shared_strings_that_unpack_to_hundreds_of_mb_are_refused_quickly():
    data = bomb(300)
    assert len(data) < 2 * 1024 * 1024  # small on the wire

    started = time.monotonic()
    message = first_message(data)

    assert time.monotonic() - started < 2  # refused from the zip's directory, not unpacked
    assert "解压后的内容异常庞大" in message


def test_a_part_compressed_far_beyond_any_real_sheet_is_refused_under_the_size_cap():
    # 60 MB: under the absolute cap, but a single letter repeated compresses ~1000 times.
    assert "解压后的内容异常庞大" in first_message(bomb(60))


def test_an_honest_workbook_is_still_read():
    sheet = importing.read(small_workbook(), "名单.xlsx", SPEC)

    assert sheet.report.ok and [r.values["code"] for r in sheet.rows] == ["A1"]


def test_a_macro_workbook_is_refused_by_name_and_by_content():
    with_macros = with_part(small_workbook(), "xl/vbaProject.bin", [b"\0" * 100])

    assert "启用宏的工作簿" in first_message(small_workbook(), "名单.xlsm")
    assert "启用宏的工作簿" in first_message(with_macros, "名单.xlsx")


def test_the_upload_form_refuses_a_macro_workbook(client_for, officer_a):
    file = SimpleUploadedFile("名单.xlsm", small_workbook())

    response = client_for(officer_a).post(reverse("import_start", args=["notes"]), {"file": file})

    assert response.status_code == 200 and "启用宏的工作簿" in response.content.decode()


def test_a_request_body_over_the_cap_is_refused_before_it_is_read(client_for, officer_a, settings):
    settings.MAX_REQUEST_BYTES = 64 * 1024
    file = SimpleUploadedFile("名单.xlsx", b"PK\x03\x04" + b"\0" * (100 * 1024))

    response = client_for(officer_a).post(reverse("import_start", args=["notes"]), {"file": file})

    assert response.status_code == 413
    assert "上传的内容太大" in response.content.decode()
    assert not (settings.MEDIA_ROOT / "imports").exists()


def test_a_bomb_uploaded_through_the_page_is_not_opened_by_the_web_process(
    client_for, officer_a, monkeypatch, django_capture_on_commit_callbacks
):
    opened = []
    monkeypatch.setattr(
        "aidcases.importing.flow.check", lambda *a, **k: opened.append(1) or pytest.fail()
    )
    file = SimpleUploadedFile("名单.xlsx", bomb(300))

    response = client_for(officer_a).post(reverse("import_start", args=["notes"]), {"file": file})

    assert response.status_code == 302 and not opened  # straight to a worker job
    assert Job.objects.get(kind="notes_import_validate").state == Job.State.PENDING


def test_a_file_over_the_inline_size_goes_to_the_worker_whatever_its_rows(
    tmp_path, client_for, officer_a, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(uploads, "INLINE_MAX_BYTES", 1024)
    path = write_roster(tmp_path / "记录.xlsx", ["编号", "内容"], [["A1", "好"]])

    with django_capture_on_commit_callbacks(execute=True):
        with path.open("rb") as handle:
            client_for(officer_a).post(
                reverse("import_start", args=["notes"]),
                {"file": SimpleUploadedFile(path.name, handle.read())},
            )

    job = Job.objects.get(kind="notes_import_validate")
    assert job.state == Job.State.SUCCEEDED, job.error
    assert notes_on_file() == {}


def test_staged_uploads_older_than_a_day_are_removed_by_the_beat_task(
    tmp_path, client_for, officer_a
):
    from aidcases.tasks import purge_expired_uploads

    client = client_for(officer_a)

    def staged(name: str):
        path = write_roster(tmp_path / name, ["编号", "内容"], [["A1", "好"]])
        with path.open("rb") as handle:
            response = client.post(
                reverse("import_start", args=["notes"]),
                {"file": SimpleUploadedFile(path.name, handle.read())},
            )
        return uploads.get(officer_a, response["Location"].rstrip("/").rsplit("/", 1)[-1]).path

    day_old, recent = staged("a.xlsx"), staged("b.xlsx")
    for folder, hours in ((day_old, 25), (recent, 23)):
        then = time.time() - hours * 3600
        os.utime(folder, (then, then))

    assert purge_expired_uploads() == 1
    assert not day_old.exists() and recent.exists()
