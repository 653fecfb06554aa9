"""The workbooks we write open and print in LibreOffice (headless Calc), as they must in WPS
and Excel: the shared writer's ledger shape (title, frozen header, A4 setup, ¥ and dates,
long wrapped Chinese text, formula-like text) and every import kind's template (notes,
drop-downs, text-formatted columns). `make test` installs `libreoffice-calc-nogui` with apt
when missing; without it these tests fail."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pytest

from aidcases import xlsx
from aidcases.importing import kinds
from aidcases.importing.workbooks import write_template
from tests.libreoffice import convert, pdf_pages

pytestmark = pytest.mark.django_db

ROWS = [
    {
        "n": i,
        "name": name,
        "id": f"14990120100101{i:03d}X",
        "amount": Decimal("5000.50") + i,
        "day": date(2026, 9, 1),
        "note": "家庭因病致贫，父亲长期住院，母亲务农，弟弟在读小学。" * 2,
        "formula": "=1+1",
    }
    for i, name in enumerate(["张三", "李四", "王芳芳", "欧阳小明"], start=1)
]
COLUMNS = [
    xlsx.Column("序号", "n", kind="int"),
    xlsx.Column("姓名", "name"),
    xlsx.Column("身份证号码", "id"),
    xlsx.Column("金额", "amount", kind="money"),
    xlsx.Column("发放日期", "day", kind="date"),
    xlsx.Column("情况说明", "note", wrap=True, width=30),
    xlsx.Column("备注", "formula"),
]


def test_a_ledger_written_by_the_shared_writer_opens_and_prints(tmp_path):
    book = tmp_path / "台账.xlsx"
    xlsx.export_rows(
        book, sheet_name="发放台账", columns=COLUMNS, rows=ROWS, title="2026年秋季学期发放台账"
    )

    convert([book], "pdf", tmp_path)
    convert([book], "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path)

    assert pdf_pages(tmp_path / "台账.pdf") >= 1
    with (tmp_path / "台账.csv").open(encoding="utf-8") as handle:
        read = list(csv.reader(handle))
    assert read[0][0] == "2026年秋季学期发放台账"
    assert read[1] == [c.header for c in COLUMNS]
    assert read[2][:3] == ["1", "张三", "14990120100101001X"]  # the ID stays text, exact
    assert read[2][6] == "=1+1"  # written as text, never evaluated
    assert len(read) == 2 + len(ROWS)


def test_every_import_template_opens_and_prints(tmp_path, admin):
    files = []
    for kind in kinds.all_kinds():
        for number, (_label, options) in enumerate(kind.templates(admin)):
            spec = kind.template_spec(kind.template_options(options) or {})
            path = tmp_path / f"{kind.name}_{number}.xlsx"
            with path.open("wb") as handle:
                write_template(handle, spec)
            files.append(path)
    assert len(files) >= 4  # people, areas, visits, team rosters at least

    convert(files, "pdf", tmp_path)

    for path in files:
        assert pdf_pages(path.with_suffix(".pdf")) >= 1, path.name
