"""Birth dates that Excel shows as months: a date cell formatted to show only year and month
(yyyy"年"m"月", yyyy-mm, mmm-yy, or the Chinese built-in format 57), or a date on the 1st
under a header that names a month (出生年月), means that month — so it does not contradict
an ID number born later in that month."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from aidcases import importing
from aidcases.people import imports as people_import
from tests.factories import make_id_number

SPEC = importing.Spec(
    title="测试",
    columns=(
        importing.Column("name", "姓名", required=True),
        importing.Column("born", "出生日期", ("出生年月",), parse=importing.partial_date),
    ),
)


def workbook(header: str, value, number_format: str | None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", header])
    sheet.append(["王小明", value])
    if number_format is not None:
        sheet["B2"].number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def born(data: bytes) -> importing.PartialDate:
    sheet = importing.read(data, "名单.xlsx", SPEC)
    assert sheet.report.ok, [str(i) for i in sheet.report.issues]
    return sheet.rows[0].values["born"]


@pytest.mark.parametrize(
    "number_format", ['yyyy"年"m"月"', "yyyy-mm", "mmm-yy", "[$-804]yyyy年m月;@"]
)
def test_a_date_shown_as_a_month_reads_as_that_month(number_format):
    value = born(workbook("出生日期", datetime(2012, 3, 1), number_format))

    assert value.precision == "month" and str(value) == "2012-03"


@pytest.mark.parametrize("number_format", ["yyyy-mm-dd", 'yyyy"年"m"月"d"日"', "m/d/yyyy"])
def test_a_date_shown_to_the_day_stays_a_day(number_format):
    value = born(workbook("出生日期", datetime(2012, 3, 1), number_format))

    assert value.precision == "day" and value.value == date(2012, 3, 1)


def with_builtin_format(data: bytes, number_format_id: int) -> bytes:
    """The same workbook with its custom date format swapped for a built-in id that only
    Chinese Excel/WPS know (openpyxl then hands over the bare serial number)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/styles.xml":
                content = content.replace(
                    b'numFmtId="164"', f'numFmtId="{number_format_id}"'.encode()
                )
            target.writestr(info, content)
    return out.getvalue()


def test_the_chinese_built_in_month_format_reads_as_a_month():
    data = with_builtin_format(workbook("出生日期", datetime(2012, 3, 1), "yyyy/mm"), 57)

    value = born(data)

    assert value.precision == "month" and str(value) == "2012-03"


def test_the_chinese_built_in_day_format_reads_as_the_date_not_a_serial():
    data = with_builtin_format(workbook("出生日期", datetime(2012, 3, 15), "yyyy/mm/dd"), 31)

    value = born(data)

    assert value.precision == "day" and value.value == date(2012, 3, 15)


def test_the_first_of_a_month_under_a_header_naming_a_month_is_that_month():
    assert str(born(workbook("出生年月", datetime(2012, 3, 1), "yyyy-mm-dd"))) == "2012-03"
    # Another day is a real date, whatever the header says.
    assert born(workbook("出生年月", datetime(2012, 3, 9), "yyyy-mm-dd")).precision == "day"
    # And the 1st under 出生日期 is the 1st.
    assert born(workbook("出生日期", datetime(2012, 3, 1), "yyyy-mm-dd")).precision == "day"


@pytest.mark.parametrize(
    ("header", "number_format"), [("出生日期", 'yyyy"年"m"月"'), ("出生年月", "yyyy-mm-dd")]
)
def test_a_roster_month_does_not_contradict_an_id_born_later_that_month(
    tmp_path, officer_a, township_a, village_a, header, number_format
):
    number = make_id_number(date(2012, 3, 15))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "性别", "身份证号码", header, "所在村", "供养方式"])
    sheet.append(["王小明", "男", number, datetime(2012, 3, 1), village_a.name, "分散供养"])
    sheet["D2"].number_format = number_format
    path = tmp_path / "花名册.xlsx"
    book.save(path)

    with path.open("rb") as handle:
        roster = people_import.read(handle, path.name, "tekun")
    plan = people_import.validate(roster, "tekun", township_a, officer_a)

    assert plan.ok, [str(issue) for issue in plan.errors]
