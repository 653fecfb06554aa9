"""LibreOffice's headless Calc for the tests: the workbooks we write must open and print
(as in WPS and Excel). `make test` installs `libreoffice-calc-nogui` with apt when missing;
without it a test that needs it fails (a skip would pass a workbook nobody opened)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        # a failure, not a skip: a workbook that was never opened proves nothing
        pytest.fail("LibreOffice (soffice) not found: make test installs libreoffice-calc-nogui")
    return found


def convert(files: list[Path], to: str, out: Path) -> None:
    """One LibreOffice run for all files (each start costs seconds), with its own profile
    directory so that parallel runs and a user's LibreOffice do not meet."""
    profile = out / "profile"
    subprocess.run(
        [
            soffice(),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            to,
            "--outdir",
            str(out),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )


def pdf_pages(path: Path) -> int:
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    return len(re.findall(rb"/Type\s*/Page(?!s)", data))


def pdf_of(xlsx_bytes: bytes, tmp_path: Path, name: str = "book") -> Path:
    """Print one workbook to PDF; the PDF's path (it has at least one page)."""
    book = tmp_path / f"{name}.xlsx"
    book.write_bytes(xlsx_bytes)
    convert([book], "pdf", tmp_path)
    pdf = book.with_suffix(".pdf")
    assert pdf_pages(pdf) >= 1
    return pdf
