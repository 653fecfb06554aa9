"""The shared import engine, on files built the way county and township staff keep them.

No database: the engine only reads files and normalises values.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import ric

from aidcases import importing
from aidcases.importing import (
    CellError,
    Column,
    Issue,
    PartialDate,
    Report,
    Spec,
    boolean,
    choice,
    decimal,
    find_duplicates,
    format_report_text,
    full_date,
    gender,
    integer,
    money,
    name,
    partial_date,
    read,
    text,
    write_error_report,
    write_template,
)

ID_1 = "110101201005010012"
ID_2 = "110101201103120020"
ID_3 = "11010120090720003X"
BAD_CHECK_DIGIT = "110101201005010013"


def id_number(raw: Any) -> str:
    """Stands in for aidcases.pii: a plain callable raising Django's ValidationError."""
    value = text(raw).upper()
    try:
        return ric.validate(value)
    except stdnum_exceptions.InvalidChecksum:
        raise ValidationError("校验位错误") from None
    except stdnum_exceptions.ValidationError:
        raise ValidationError("应为%(n)d位身份证号码", params={"n": 18}) from None


ROSTER = Spec(
    title="困难学生花名册",
    columns=(
        Column("name", "姓名", ("学生姓名",), required=True, parse=name, example="张三"),
        Column(
            "id_number",
            "身份证号码",
            ("身份证号", "公民身份号码", "身份证"),
            required=True,
            parse=id_number,
            example=ID_1,
            help="18位，最后一位可以是X",
        ),
        Column("gender", "性别", parse=gender, example="男"),
        Column("birth_date", "出生日期", ("出生年月",), parse=partial_date, example="2010-05-01"),
        Column("village", "所在村", ("村(社区)", "住址"), example="南街村"),
        Column("household_size", "家庭人口", parse=integer, example="4"),
        Column("amount", "资助金额", ("金额",), parse=money, example="1200"),
        Column("low_income", "是否低保", ("低保",), parse=boolean, example="是"),
    ),
)

HEADER = ["序号", "姓名", "身份证号码", "性别", "出生日期", "所在村", "家庭人口", "资助金额"]
HEADER += ["是否低保", "备注"]


def write_xlsx(
    path: Path,
    rows: list[list[Any]],
    *,
    merges: tuple[str, ...] = (),
    text_cells: tuple[str, ...] = (),
    sheets_before: tuple[tuple[str, list[list[Any]]], ...] = (),
) -> Path:
    book = openpyxl.Workbook()
    first = book.active
    for title, before_rows in sheets_before:
        ws = book.create_sheet(title, 0)
        for row in before_rows:
            ws.append(row)
    first.title = "花名册"
    for row in rows:
        first.append(row)
    for cell_range in merges:
        first.merge_cells(cell_range)
    for coordinate in text_cells:  # openpyxl would otherwise store "=1+1" as a formula
        first[coordinate].data_type = "s"
    book.save(path)
    return path


def read_file(path: Path, spec: Spec = ROSTER, **kwargs: Any) -> importing.Sheet:
    with path.open("rb") as handle:
        return read(handle, path.name, spec, **kwargs)


def messages(sheet: importing.Sheet) -> list[str]:
    return [str(issue) for issue in sheet.report.issues]


def roster_rows() -> list[list[Any]]:
    return [
        ["城关镇2026年困难学生花名册"],
        ["填报单位：城关镇人民政府", None, None, None, None, None, None, "填报日期：2026年3月"],
        HEADER,
        [1, "张 三", ID_1, "男", datetime(2010, 5, 1), "南街村", 4, 1200, "是", "父亲残疾"],
        [2, "李四", ID_2, "女", "2011.3", "北关村", "3人", "1,500.50元", "否", None],
    ]


# --- finding the header -----------------------------------------------------------------------


def test_it_finds_the_header_under_merged_title_rows(tmp_path):
    path = write_xlsx(tmp_path / "名单.xlsx", roster_rows(), merges=("A1:J1",))

    sheet = read_file(path)

    assert messages(sheet) == []
    assert sheet.header_row == 3
    assert sheet.sheet_name == "花名册"
    assert sheet.columns == {
        "name": 1,
        "id_number": 2,
        "gender": 3,
        "birth_date": 4,
        "village": 5,
        "household_size": 6,
        "amount": 7,
        "low_income": 8,
    }
    assert sheet.letter("id_number") == "C"
    assert [row.line for row in sheet.rows] == [4, 5]
    first, second = sheet.rows
    assert first.values == {
        "name": "张三",
        "id_number": ID_1,
        "gender": "male",
        "birth_date": PartialDate(date(2010, 5, 1), "day"),
        "village": "南街村",
        "household_size": 4,
        "amount": Decimal("1200.00"),
        "low_income": True,
    }
    assert first.raw["name"] == "张 三"
    assert first.cells[-1] == "父亲残疾"  # the whole row is kept, 备注 included
    assert second.values["birth_date"] == PartialDate(date(2011, 3, 1), "month")
    assert second.values["household_size"] == 3
    assert second.values["amount"] == Decimal("1500.50")
    assert second.values["low_income"] is False


def test_undeclared_columns_are_ignored(tmp_path):
    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", roster_rows()))

    assert "序号" not in sheet.columns and "备注" not in sheet.columns
    assert set(sheet.rows[0].values) == {c.key for c in ROSTER.columns}
    assert sheet.headers[0] == "序号" and sheet.headers[9] == "备注"


def test_header_text_is_normalised_before_matching_synonyms(tmp_path):
    header = ["*学生姓名", "公民身份\n号码（必填）", "出生年月(选填)", "村（社区）", "金额(元)"]
    header += ["低保：", "家庭 人口*"]
    rows = [header, ["王五", ID_3, "2009年7月20日", "东街村", "800", "√", "５"]]

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows))

    assert messages(sheet) == []
    assert set(sheet.columns) == {
        "name",
        "id_number",
        "birth_date",
        "village",
        "amount",
        "low_income",
        "household_size",
    }
    assert sheet.rows[0].values["birth_date"] == PartialDate(date(2009, 7, 20), "day")
    assert sheet.rows[0].values["household_size"] == 5
    assert sheet.missing_optional == ["性别"]


def test_a_two_row_header_under_a_merged_group_cell(tmp_path):
    rows = [
        ["2026年困难学生花名册"],
        ["序号", "姓名", "身份证号码", "家庭情况", None, "备注"],
        [None, None, None, "家庭人口", "是否低保", None],
        [1, "张三", ID_1, 4, "是", None],
    ]
    merges = ("A1:F1", "A2:A3", "B2:B3", "C2:C3", "D2:E2", "F2:F3")

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows, merges=merges))

    assert messages(sheet) == []
    assert sheet.header_row == 3
    assert sheet.columns == {"name": 1, "id_number": 2, "household_size": 3, "low_income": 4}
    assert sheet.rows[0].line == 4
    assert sheet.rows[0].values["household_size"] == 4


def test_a_group_cell_names_the_sub_columns_below_it(tmp_path):
    spec = Spec(
        title="留守儿童名单",
        columns=(
            Column("name", "姓名", required=True, parse=name),
            Column("father_name", "父亲姓名", parse=name),
            Column("father_phone", "父亲电话"),
            Column("mother_name", "母亲姓名", parse=name),
        ),
    )
    rows = [
        ["姓名", "父亲", None, "母亲"],
        [None, "姓名", "电话", "姓名"],
        ["张小明", "张大山", "13800138000", "李花"],
    ]

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows, merges=("A1:A2", "B1:C1")), spec)

    assert messages(sheet) == []
    assert sheet.columns == {"name": 0, "father_name": 1, "father_phone": 2, "mother_name": 3}
    assert sheet.headers[:3] == ("姓名", "父亲/姓名", "父亲/电话")
    assert sheet.rows[0].values["father_name"] == "张大山"
    assert sheet.rows[0].values["mother_name"] == "李花"


def test_a_missing_required_column_is_reported_with_its_other_names(tmp_path):
    rows = [["姓名", "性别"], ["张三", "男"]]

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows))

    assert not sheet.report.ok
    assert sheet.missing_required == ["身份证号码"]
    assert messages(sheet) == ["缺少必填列：身份证号码（也可写作：身份证号、公民身份号码、身份证）"]
    # The rows are still read, so every other problem shows in the same report.
    assert sheet.rows[0].values["name"] == "张三"


def test_when_two_header_cells_name_one_column_the_first_wins_with_a_warning(tmp_path):
    rows = [["姓名", "身份证号", "所在村", "住址"], ["张三", ID_1, "南街村", "城关镇南街12号"]]

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows))

    assert sheet.report.ok
    assert sheet.rows[0].values["village"] == "南街村"
    assert messages(sheet) == [
        "提示：第1行 [所在村] 第C列和第D列都是“所在村”，已使用第C列，忽略第D列"
    ]


def test_a_sheet_without_the_declared_headers_is_refused(tmp_path):
    rows = [["单位", "项目"], ["城关镇", "助学"]]

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows))

    assert sheet.rows == [] and sheet.header_row is None
    assert messages(sheet)[0].startswith("找不到表头")


def test_the_roster_on_a_later_sheet_is_found(tmp_path):
    notes = [["填表说明"], ["1. 身份证号码请设为文本格式"]]
    rows = [["姓名", "身份证号码"], ["张三", ID_1]]

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows, sheets_before=(("说明", notes),)))

    assert sheet.sheet_name == "花名册"
    assert sheet.rows[0].values["id_number"] == ID_1


# --- rows -------------------------------------------------------------------------------------


def test_blank_rows_totals_and_sign_off_lines_are_skipped_and_lines_are_excel_rows(tmp_path):
    rows = [
        ["困难学生花名册"],
        HEADER,
        [1, "张三", ID_1, "男", None, None, None, 1200],
        [],
        [2, "李四", ID_2, "女", None, None, None, 800],
        [3],  # numbered in advance, never filled
        [None, None, "　 ", None],  # full-width spaces only
        [None, "合 计", None, None, None, None, None, 2000],
        ["填表人：王五", None, "审核人：赵六", None, None, "填表日期：2026.3.1"],
        [None, None, None, None, None, "2026年  月  日"],
        [None, "单位（盖章）"],
        ["注：本表一式两份"],  # only in 序号, an undeclared column: a blank row
    ]

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows, merges=("A1:J1",)))

    assert messages(sheet) == []
    assert [row.line for row in sheet.rows] == [3, 5]
    assert sheet.skipped == {8: "合计行", 9: "签字行", 10: "签字行", 11: "签字行"}


def test_a_sign_off_word_in_a_real_row_does_not_hide_it(tmp_path):
    rows = [HEADER, [1, "张三", ID_1, None, None, None, None, None, None, "填表人：王五"]]

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows))

    assert [row.line for row in sheet.rows] == [2]


def test_dates_are_read_from_date_cells_serials_and_text(tmp_path):
    rows = [
        ["姓名", "身份证号码", "出生日期"],
        ["甲", ID_1, datetime(2010, 5, 1)],
        ["乙", ID_2, date(2011, 3, 12)],
        ["丙", ID_3, 44927],
        ["丁", ID_1, "２００９年７月２０日"],
        ["戊", ID_2, "201503"],
        ["己", ID_3, "2015-02-30"],
    ]

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows))

    assert [row.values["birth_date"] for row in sheet.rows[:5]] == [
        PartialDate(date(2010, 5, 1), "day"),
        PartialDate(date(2011, 3, 12), "day"),
        PartialDate(date(2023, 1, 1), "day"),
        PartialDate(date(2009, 7, 20), "day"),
        PartialDate(date(2015, 3, 1), "month"),
    ]
    assert messages(sheet) == ["第7行 [出生日期] 日期不存在：2015年2月30日"]


def test_full_width_digits_and_spaces_are_normalised(tmp_path):
    rows = [
        ["姓名", "身份证号码", "资助金额", "所在村"],
        ["欧阳　小明", "１１０１０１２０１００５０１００１２", "１，２００元", "  南街村\n二组 "],
    ]

    values = read_file(write_xlsx(tmp_path / "a.xlsx", rows)).rows[0].values

    assert values["name"] == "欧阳小明"
    assert values["id_number"] == ID_1
    assert values["amount"] == Decimal("1200.00")
    assert values["village"] == "南街村 二组"


def test_a_validation_error_from_a_column_parser_becomes_a_cell_issue(tmp_path):
    rows = [HEADER, [1, "张三", BAD_CHECK_DIGIT], [2, "李四", "12345"]]

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows))

    assert messages(sheet) == [
        "第2行 [身份证号码] 校验位错误",
        "第3行 [身份证号码] 应为18位身份证号码",
    ]
    assert sheet.rows[0].errors == [Issue(2, "身份证号码", "校验位错误")]
    assert sheet.rows[0].values["id_number"] is None


def test_required_cells_must_have_a_value_and_placeholders_count_as_blank(tmp_path):
    rows = [HEADER, [1, "张三", "/", "—", None, "-"]]

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows))

    assert messages(sheet) == ["第2行 [身份证号码] 不能为空"]
    assert sheet.rows[0].values["gender"] is None
    assert sheet.rows[0].values["village"] is None


def test_every_bad_cell_of_a_row_is_reported(tmp_path):
    rows = [HEADER, [1, None, ID_1, "未知", "2015-13-01", None, "3.5", "12.345", "可能"]]

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows))

    assert messages(sheet) == [
        "第2行 [姓名] 不能为空",
        "第2行 [性别] 性别应填“男”或“女”，而不是“未知”",
        "第2行 [出生日期] 月份不对：“2015-13-01”",
        "第2行 [家庭人口] “3.5”不是整数",
        "第2行 [资助金额] 金额最多保留两位小数：12.345",
        "第2行 [是否低保] 应填“是”或“否”，而不是“可能”",
    ]


def test_a_long_number_stored_as_a_number_is_reported(tmp_path):
    spec = Spec(title="银行卡", columns=(Column("card", "银行卡号", required=True),))
    rows = [["银行卡号"], [6222020200112233445.0], [6222020200112]]

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows), spec)

    assert [issue.line for issue in sheet.report.issues] == [2]
    assert "超过15位" in sheet.report.issues[0].message
    assert sheet.rows[1].values["card"] == "6222020200112"


def test_an_excel_error_value_is_reported(tmp_path):
    rows = [["姓名", "身份证号码", "所在村"], ["张三", ID_1, "#N/A"]]

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows))

    assert messages(sheet) == ["第2行 [所在村] 单元格是公式错误值 #N/A，请改成实际内容"]


def test_a_cell_merged_down_over_rows_applies_to_each_row(tmp_path):
    rows = [
        ["姓名", "身份证号码", "所在村"],
        ["张三", ID_1, "南街村"],
        ["张四", ID_2, None],
        ["王五", ID_3, "北关村"],
    ]

    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows, merges=("C2:C3",)))

    assert [row.values["village"] for row in sheet.rows] == ["南街村", "南街村", "北关村"]


# --- formats and limits -----------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_csv_files_are_read_in_utf8_with_bom_and_in_gbk(tmp_path, encoding):
    content = (
        "城关镇困难学生花名册\r\n"
        "序号,姓名,身份证号码,出生日期,资助金额\r\n"
        f'1,张三,{ID_1},2010/5/1,"1,200"\r\n'
        "\r\n"
        f"2,李四,{ID_2},2011年3月,800\r\n"
        "填表人：王五,,,,\r\n"
    )
    path = tmp_path / "名单.csv"
    path.write_bytes(content.encode(encoding))

    sheet = read_file(path)

    assert messages(sheet) == []
    assert sheet.header_row == 2
    assert [row.line for row in sheet.rows] == [3, 5]
    assert sheet.rows[0].values["id_number"] == ID_1
    assert sheet.rows[0].values["amount"] == Decimal("1200.00")
    assert sheet.rows[1].values["birth_date"] == PartialDate(date(2011, 3, 1), "month")


def test_tab_separated_unicode_text_from_excel_is_read(tmp_path):
    path = tmp_path / "名单.csv"
    path.write_bytes(f"姓名\t身份证号码\r\n张三\t{ID_1}\r\n".encode("utf-16"))

    sheet = read_file(path)

    assert sheet.rows[0].values["name"] == "张三"
    assert sheet.rows[0].values["id_number"] == ID_1


def test_bytes_and_paths_are_accepted(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", roster_rows())

    from_path = read(path, "a.xlsx", ROSTER)
    from_bytes = read(path.read_bytes(), "a.xlsx", ROSTER)

    assert from_path.rows[0].values == from_bytes.rows[0].values


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        ("名单.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧版 Excel（.xls）"),
        ("名单.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "设置了打开密码"),
        ("名单.xlsx", b"%PDF-1.4 this is not a spreadsheet", "无法读取这个文件"),
        ("名单.xlsx", b"", "文件是空的"),
        ("名单.docx", b"PK\x03\x04", "不支持“.docx”文件"),
        ("名单", b"abc", "不支持“名单”文件"),
    ],
)
def test_files_that_are_not_readable_spreadsheets_get_a_clear_message(filename, content, expected):
    sheet = read(io.BytesIO(content), filename, ROSTER)

    assert not sheet.report.ok
    assert sheet.rows == []
    [issue] = sheet.report.issues
    assert issue.line is None
    assert expected in issue.message


def test_a_zip_that_is_not_a_workbook_gets_a_clear_message():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")

    sheet = read(io.BytesIO(buffer.getvalue()), "名单.xlsx", ROSTER)

    assert "无法读取这个文件" in messages(sheet)[0]


def test_a_truncated_workbook_gets_a_clear_message(tmp_path):
    data = write_xlsx(tmp_path / "a.xlsx", roster_rows()).read_bytes()

    sheet = read(io.BytesIO(data[: len(data) // 2]), "名单.xlsx", ROSTER)

    assert "无法读取这个文件" in messages(sheet)[0]


@pytest.mark.parametrize("data_rows", [6, 300])
def test_a_file_over_the_row_cap_is_refused(tmp_path, data_rows):
    rows = [["花名册"], ["姓名", "身份证号码"]] + [["张三", ID_1]] * data_rows
    rows.append(["填表人：王五"])
    path = write_xlsx(tmp_path / "a.xlsx", rows)

    assert read_file(path, max_rows=data_rows).report.ok
    sheet = read_file(path, max_rows=data_rows - 1)

    assert sheet.rows == []
    assert messages(sheet) == [f"数据超过 {data_rows - 1} 行，请拆分成几个文件分批导入。"]


def test_a_file_over_the_size_cap_is_refused(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", roster_rows())
    size = path.stat().st_size

    assert read_file(path, max_bytes=size).report.ok
    assert "文件太大" in messages(read_file(path, max_bytes=size - 1))[0]
    assert "文件太大" in messages(read(path, "a.xlsx", ROSTER, max_bytes=size - 1))[0]


# --- normalisers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (datetime(2015, 3, 1, 0, 0), PartialDate(date(2015, 3, 1), "day")),
        (date(2015, 3, 1), PartialDate(date(2015, 3, 1), "day")),
        (44927, PartialDate(date(2023, 1, 1), "day")),
        (44927.75, PartialDate(date(2023, 1, 1), "day")),
        ("44927", PartialDate(date(2023, 1, 1), "day")),
        ("2015-03-01", PartialDate(date(2015, 3, 1), "day")),
        ("2015/3/1", PartialDate(date(2015, 3, 1), "day")),
        ("2015.3.1", PartialDate(date(2015, 3, 1), "day")),
        ("2015年3月1日", PartialDate(date(2015, 3, 1), "day")),
        ("2015 年 3 月 1 号", PartialDate(date(2015, 3, 1), "day")),
        ("２０１５－０３－０１", PartialDate(date(2015, 3, 1), "day")),
        ("20150301", PartialDate(date(2015, 3, 1), "day")),
        (20150301, PartialDate(date(2015, 3, 1), "day")),
        ("2015-03-01 00:00:00", PartialDate(date(2015, 3, 1), "day")),
        ("2015.03", PartialDate(date(2015, 3, 1), "month")),
        ("2015-3", PartialDate(date(2015, 3, 1), "month")),
        ("2015年3月", PartialDate(date(2015, 3, 1), "month")),
        ("201503", PartialDate(date(2015, 3, 1), "month")),
        (201503, PartialDate(date(2015, 3, 1), "month")),
        (2015.3, PartialDate(date(2015, 3, 1), "month")),
        (2015.12, PartialDate(date(2015, 12, 1), "month")),
        ("2015.1", PartialDate(date(2015, 1, 1), "month")),
    ],
)
def test_partial_date_reads_every_common_form(raw, expected):
    assert partial_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2015-02-30", "日期不存在：2015年2月30日"),
        ("2015-13-01", "月份不对"),
        ("1850-01-01", "年份不对"),
        ("2015", "只有年份"),
        (2015, "只有年份"),
        (123, "无法识别的日期"),
        (99999, "无法识别的日期"),
        ("3/1/2015", "无法识别的日期"),
        ("去年春天", "无法识别的日期"),
        (2015.1, "也可能是2015年10月"),
        (True, "无法识别的日期"),
    ],
)
def test_partial_date_explains_what_it_cannot_read(raw, message):
    with pytest.raises(CellError) as caught:
        partial_date(raw)

    assert message in caught.value.message


def test_a_month_only_date_knows_its_first_and_last_day():
    value = partial_date("2016年2月")

    assert (value.first_day, value.last_day) == (date(2016, 2, 1), date(2016, 2, 29))
    assert str(value) == "2016-02"
    assert str(partial_date("2016-2-3")) == "2016-02-03"


def test_full_date_wants_the_day():
    assert full_date("2015.3.1") == date(2015, 3, 1)
    with pytest.raises(CellError, match="只有年月"):
        full_date("2015.3")


@pytest.mark.parametrize(
    ("parse", "raw", "expected"),
    [
        (text, "  南街村 \n 二组\u200b ", "南街村 二组"),
        (text, 13800138000, "13800138000"),
        (text, 1200.0, "1200"),
        (name, "张　三", "张三"),
        (name, " 欧 阳 明 ", "欧阳明"),
        (name, "买买提•艾力", "买买提·艾力"),
        (name, "买买提.艾力", "买买提·艾力"),
        (name, "John  Smith", "John Smith"),
        (integer, "1,200", 1200),
        (integer, 4.0, 4),
        (integer, "4人", 4),
        (integer, "12周岁", 12),
        (integer, "３", 3),
        (decimal, "1,200.50", Decimal("1200.50")),
        (decimal, "¥1200", Decimal("1200")),
        (decimal, "￥1,200元", Decimal("1200")),
        (decimal, "1200元整", Decimal("1200")),
        (decimal, "1.2万元", Decimal("12000.0")),
        (decimal, "-50", Decimal("-50")),
        (decimal, 1200.3000000000002, Decimal("1200.3")),
        (money, 1200, Decimal("1200.00")),
        (money, "1200.5", Decimal("1200.50")),
        (money, "1200.500", Decimal("1200.50")),
        (boolean, "是", True),
        (boolean, "有", True),
        (boolean, "√", True),
        (boolean, "Y", True),
        (boolean, 1, True),
        (boolean, True, True),
        (boolean, "否", False),
        (boolean, "无", False),
        (boolean, "×", False),
        (boolean, "n", False),
        (boolean, 0, False),
        (gender, "男", "male"),
        (gender, "女性", "female"),
        (gender, "M", "male"),
        (gender, "f", "female"),
    ],
)
def test_normalisers_clean_what_people_type(parse, raw, expected):
    assert parse(raw) == expected


@pytest.mark.parametrize(
    ("parse", "raw", "message"),
    [
        (integer, "3.5", "不是整数"),
        (integer, 3.5, "不能有小数"),
        (integer, "3万", "不是整数"),
        (integer, "abc", "不是整数"),
        (decimal, "一千", "不是有效的数字"),
        (decimal, "1.2.3", "不是有效的数字"),
        (decimal, float("nan"), "应填写数字"),
        (money, "12.345", "最多保留两位小数"),
        (boolean, "可能", "应填“是”或“否”"),
        (gender, "未知", "应填“男”或“女”"),
        (text, 6.222020200112233e18, "超过15位"),
    ],
)
def test_normalisers_explain_bad_values(parse, raw, message):
    with pytest.raises(CellError) as caught:
        parse(raw)

    assert message in caught.value.message


def test_choice_matches_labels_loosely_and_lists_the_options():
    level = choice(
        {"特别困难": "special", "特困": "special", "比较困难": "hard", "一般困难": "general"}
    )

    assert level(" 特别 困难 ") == "special"
    assert level("特困") == "special"
    assert level.choices == ("特别困难", "比较困难", "一般困难")
    with pytest.raises(CellError, match="应为：特别困难、比较困难、一般困难"):
        level("很困难")
    assert choice(["A类", "B类"])("a类") == "A类"


def test_a_spec_refuses_one_header_name_for_two_columns():
    with pytest.raises(ValueError, match="declared by both"):
        Spec(title="x", columns=(Column("a", "姓名"), Column("b", "名字", ("姓名*",))))
    with pytest.raises(ValueError, match="declared twice"):
        Spec(title="x", columns=(Column("a", "姓名"), Column("a", "名字")))
    with pytest.raises(TypeError):
        Column("a", "姓名", synonyms="名字")  # type: ignore[arg-type]


# --- report and duplicates --------------------------------------------------------------------


def test_find_duplicates_names_both_rows(tmp_path):
    rows = [HEADER, [1, "张三", ID_1], [2, "李四", ID_2], [3, "张三", ID_1], [4, "王五", None]]
    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows))

    issues = find_duplicates(sheet.rows, "id_number", label="身份证号码")

    assert [str(issue) for issue in issues] == [
        "第2行 [身份证号码] 与第4行重复",
        "第4行 [身份证号码] 与第2行重复",
    ]
    by_name = find_duplicates(sheet.rows, lambda row: row.values["name"], label="姓名")
    assert [issue.line for issue in by_name] == [2, 4]


def test_report_lists_file_issues_first_then_rows_in_order():
    report = Report()
    report.add(12, "身份证号码", "校验位错误")
    report.add(3, "", "与第5行重复")
    report.add(None, "", "缺少必填列：身份证号码")
    report.add(3, "所在村", "没有这个村", warning=True)

    assert format_report_text(report) == "\n".join(
        [
            "缺少必填列：身份证号码",
            "第3行 与第5行重复",
            "提示：第3行 [所在村] 没有这个村",
            "第12行 [身份证号码] 校验位错误",
        ]
    )
    assert not report.ok
    assert len(report.errors) == 3 and len(report.warnings) == 1
    assert Report([Issue(1, "", "x", warning=True)]).ok


# --- template ---------------------------------------------------------------------------------


def test_the_template_reads_back_with_its_example_row_valid():
    buffer = io.BytesIO()
    write_template(buffer, ROSTER)

    sheet = read(io.BytesIO(buffer.getvalue()), "template.xlsx", ROSTER)

    assert sheet.report.issues == []
    assert sheet.header_row == 2
    assert [row.line for row in sheet.rows] == [3]
    assert sheet.rows[0].values == {
        "name": "张三",
        "id_number": ID_1,
        "gender": "male",
        "birth_date": PartialDate(date(2010, 5, 1), "day"),
        "village": "南街村",
        "household_size": 4,
        "amount": Decimal("1200.00"),
        "low_income": True,
    }


def test_the_template_marks_required_columns_keeps_text_and_explains_each_column():
    buffer = io.BytesIO()
    write_template(buffer, ROSTER)

    ws = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["困难学生花名册"]

    assert ws["A1"].value.startswith("困难学生花名册")
    assert "A1:H1" in {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[2]] == [
        "姓名*",
        "身份证号码*",
        "性别",
        "出生日期",
        "所在村",
        "家庭人口",
        "资助金额",
        "是否低保",
    ]
    assert ws["B2"].font.color.rgb.endswith("FF0000")
    assert ws["B3"].value == ID_1 and ws["B3"].data_type == "s"
    assert ws["B3"].number_format == "@"
    assert "18位" in ws["B2"].comment.text and "必填" in ws["B2"].comment.text
    assert "身份证号" in ws["B2"].comment.text
    lists = {str(v.sqref): v.formula1 for v in ws.data_validations.dataValidation}
    assert lists["C3:C1002"] == '"男,女"'
    assert lists["H3:H1002"] == '"是,否"'
    assert ws.freeze_panes == "A3"


# --- error report -----------------------------------------------------------------------------


def test_the_error_report_keeps_every_row_as_it_was_with_its_problems(tmp_path):
    rows = [
        ["城关镇困难学生花名册"],
        HEADER,
        [1, "张三", ID_1, "男", datetime(2010, 5, 1), "南街村", 4, 1200.5, "是", "=1+1"],
        [2, "李四", BAD_CHECK_DIGIT, "女", "2011.3", None, None, None, None, None],
        [3, "王五", ID_3, "男", "2015-02-30", None, None, None, None, "0012"],
    ]
    path = write_xlsx(tmp_path / "a.xlsx", rows, merges=("A1:J1",), text_cells=("J3",))
    sheet = read_file(path)
    sheet.report.add(5, "所在村", "没有这个村")  # an import's own rule

    buffer = io.BytesIO()
    write_error_report(buffer, sheet)
    ws = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active

    assert ws["A1"].value == "困难学生花名册 导入检查：2 行有问题，共 3 处"
    assert [c.value for c in ws[2]] == ["原行号", *HEADER, "错误说明"]
    assert [ws.cell(r, 1).value for r in (3, 4, 5)] == [3, 4, 5]
    first = [c.value for c in ws[3]]
    assert first[1:4] == ["1", "张三", ID_1]  # numbers come back as the text they showed
    assert ws["D3"].data_type == "s"  # the ID number stays text
    assert ws["F3"].value == datetime(2010, 5, 1)
    assert ws["I3"].value == "1200.5"
    assert ws["K3"].value == "=1+1" and ws["K3"].data_type == "s"
    assert ws["L3"].value is None
    assert ws["D4"].value == BAD_CHECK_DIGIT
    assert ws["L4"].value == "身份证号码：校验位错误"
    assert ws["K5"].value == "0012"
    assert ws["L5"].value == "出生日期：日期不存在：2015年2月30日；所在村：没有这个村"


def test_the_error_report_reads_back_as_the_same_rows(tmp_path):
    rows = [HEADER, [1, "张三", ID_1, "男", datetime(2010, 5, 1), "南街村", 4, 1200, "是"]]
    rows.append([2, "李四", ID_2, "女", "2011.3", "北关村", "3人", "800", "否"])
    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows))

    buffer = io.BytesIO()
    write_error_report(buffer, sheet)
    again = read(io.BytesIO(buffer.getvalue()), "导入检查.xlsx", ROSTER)

    assert again.report.issues == []
    assert [row.values for row in again.rows] == [row.values for row in sheet.rows]


def test_the_error_report_puts_file_problems_first(tmp_path):
    rows = [["姓名", "性别"], ["张三", "男"]]
    sheet = read_file(write_xlsx(tmp_path / "a.xlsx", rows))

    buffer = io.BytesIO()
    write_error_report(buffer, sheet)
    ws = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active

    assert [c.value for c in ws[2]] == ["原行号", "姓名", "性别", "错误说明"]
    assert [c.value for c in ws[3]] == [None, None, None, sheet.report.issues[0].message]
    assert [c.value for c in ws[4]] == [2, "张三", "男", None]


def test_an_unreadable_file_still_gets_an_error_report():
    sheet = read(io.BytesIO(b"not a workbook"), "a.xlsx", ROSTER)

    buffer = io.BytesIO()
    write_error_report(buffer, sheet)
    ws = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active

    assert [c.value for c in ws[2]] == ["原行号", "错误说明"]
    assert "无法读取" in ws["B3"].value
