"""The shared workbook writer, read back with openpyxl. No database: rows are plain objects."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from aidcases import xlsx
from aidcases.xlsx import Column, WorkbookWriter, export_rows, sanitize_sheet_name


@dataclass
class Area:
    name: str


@dataclass
class Person:
    name: str
    area: Area | None = None
    amount: Decimal | None = None
    birth_date: date | None = None


def read_back(buffer: io.BytesIO) -> openpyxl.Workbook:
    buffer.seek(0)
    return openpyxl.load_workbook(buffer)


def export_one_sheet(columns, rows, **kwargs) -> openpyxl.worksheet.worksheet.Worksheet:
    buffer = io.BytesIO()
    export_rows(buffer, sheet_name="名单", columns=columns, rows=rows, **kwargs)
    return read_back(buffer)["名单"]


NAME = Column("姓名", "name")


def test_it_writes_chinese_headers_and_rows():
    ws = export_one_sheet([NAME, Column("乡镇", "area.name")], [Person("张三", Area("城关镇"))])

    assert [c.value for c in ws[1]] == ["姓名", "乡镇"]
    assert [c.value for c in ws[2]] == ["张三", "城关镇"]
    assert ws.max_row == 2


def test_export_rows_returns_the_row_count():
    count = export_rows(
        io.BytesIO(), sheet_name="名单", columns=[NAME], rows=[Person("甲"), Person("乙")]
    )

    assert count == 2


def test_title_row_is_merged_bold_and_sits_above_the_header():
    ws = export_one_sheet(
        [NAME, Column("金额", "amount", kind="money")],
        [Person("张三", amount=Decimal(1))],
        title="2026年秋季助学金发放名单",
    )

    assert ws["A1"].value == "2026年秋季助学金发放名单"
    assert ws["A1"].font.bold
    assert "A1:B1" in {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[2]] == ["姓名", "金额"]
    assert ws["A3"].value == "张三"


def test_title_with_a_single_column_is_not_merged():
    ws = export_one_sheet([NAME], [Person("张三")], title="名单")

    assert ws["A1"].value == "名单"
    assert not ws.merged_cells.ranges


def test_header_row_is_frozen_and_filtered():
    ws = export_one_sheet([NAME, Column("乡镇", "area.name")], [Person("甲"), Person("乙")])

    assert ws["A1"].font.bold
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:B3"


def test_freeze_and_filter_move_down_under_a_title():
    ws = export_one_sheet([NAME], [Person("甲")], title="名单")

    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:A3"


def test_print_setup_is_a4_one_page_wide_with_repeated_header_and_page_numbers():
    ws = export_one_sheet([NAME], [Person("甲")], title="名单")

    assert ws.page_setup.paperSize == 9
    assert ws.page_setup.orientation == "portrait"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (1, None)  # 1 is the default, so it may be omitted
    assert ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$2:$2"
    assert ws.oddFooter.center.text == "第 &P 页 / 共 &N 页"


def test_landscape_option_turns_the_page():
    ws = export_one_sheet([NAME], [], landscape=True)

    assert ws.page_setup.orientation == "landscape"


def test_money_column_uses_yuan_format_and_stays_a_number():
    ws = export_one_sheet(
        [NAME, Column("金额", "amount", kind="money")], [Person("张三", amount=Decimal("1234.5"))]
    )

    cell = ws["B2"]
    assert cell.value == 1234.5
    assert cell.data_type == "n"
    assert "¥" in cell.number_format


def test_decimal_and_int_columns_are_numbers():
    ws = export_one_sheet(
        [
            Column("比例", lambda r: Decimal("0.25"), kind="decimal"),
            Column("人数", lambda r: 7, kind="int"),
        ],
        [object()],
    )

    assert ws["A2"].value == 0.25
    assert ws["A2"].number_format == "#,##0.00"
    assert ws["B2"].value == 7
    assert ws["B2"].data_type == "n"


def test_numbers_in_a_text_column_are_written_as_text():
    # ID and bank-card numbers must never become 1.40822E+17.
    ws = export_one_sheet([Column("卡号", lambda r: 6222020200112233445)], [object()])

    assert ws["A2"].value == "6222020200112233445"
    assert ws["A2"].data_type == "s"


def test_dates_are_real_dates_with_chinese_office_format():
    ws = export_one_sheet(
        [NAME, Column("出生日期", "birth_date", kind="date")],
        [Person("张三", birth_date=date(2010, 3, 9))],
    )

    cell = ws["B2"]
    assert cell.is_date
    assert cell.value == datetime(2010, 3, 9)
    assert cell.number_format == "yyyy-mm-dd"


def test_aware_datetime_is_written_as_shanghai_wall_clock_time():
    at = datetime(2026, 8, 5, 16, 30, tzinfo=UTC)  # 00:30 next day in Shanghai
    ws = export_one_sheet([Column("时间", lambda r: at, kind="datetime")], [object()])

    cell = ws["A2"]
    assert cell.value == datetime(2026, 8, 6, 0, 30)
    assert cell.number_format == "yyyy-mm-dd hh:mm"


def test_aware_datetime_in_a_date_column_takes_the_local_date():
    at = datetime(2026, 8, 5, 16, 30, tzinfo=UTC)
    ws = export_one_sheet([Column("日期", lambda r: at, kind="date")], [object()])

    assert ws["A2"].value == datetime(2026, 8, 6)
    assert ws["A2"].number_format == "yyyy-mm-dd"


def test_datetime_in_another_zone_is_converted_too():
    at = datetime(2026, 1, 1, 9, 0, tzinfo=ZoneInfo("Europe/London"))
    ws = export_one_sheet([Column("时间", lambda r: at, kind="datetime")], [object()])

    assert ws["A2"].value == datetime(2026, 1, 1, 17, 0)


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+86 138 0000 0000", "-5", "@SUM(A1)", '=HYPERLINK("http://x")', "\t=1"],
)
def test_formula_like_text_is_written_as_text(text):
    ws = export_one_sheet([NAME], [Person(text)])

    cell = ws["A2"]
    assert cell.data_type == "s"
    assert cell.value == text
    assert cell.quotePrefix  # stays text even if someone edits the cell in Excel


def test_text_starting_with_carriage_return_is_written_as_text():
    ws = export_one_sheet([NAME], [Person("\r=1")])

    cell = ws["A2"]
    assert cell.data_type == "s"
    assert cell.quotePrefix
    # xlsxwriter stores CR as Excel's _x000D_ escape, which Excel decodes and openpyxl does not.
    assert cell.value == "_x000D_=1"


def test_text_that_looks_like_a_number_or_link_stays_text():
    ws = export_one_sheet([NAME], [Person("0123"), Person("http://example.com")])

    assert (ws["A2"].value, ws["A2"].data_type) == ("0123", "s")
    assert ws["A3"].hyperlink is None
    assert not ws["A2"].quotePrefix


def test_formula_like_title_and_header_are_text():
    ws = export_one_sheet([Column("=危险表头", "name")], [], title="=1+1")

    assert (ws["A1"].value, ws["A1"].data_type) == ("=1+1", "s")
    assert (ws["A2"].value, ws["A2"].data_type) == ("=危险表头", "s")


def test_dotted_path_reads_attributes_and_mapping_keys():
    rows = [{"person": Person("张三", Area("城关镇"))}, {"person": {"name": "李四", "area": None}}]
    ws = export_one_sheet([Column("姓名", "person.name"), Column("乡镇", "person.area.name")], rows)

    assert [c.value for c in ws[2]] == ["张三", "城关镇"]
    assert [c.value for c in ws[3]] == ["李四", None]


def test_dotted_path_with_none_on_the_way_gives_an_empty_cell():
    ws = export_one_sheet([NAME, Column("乡镇", "area.name")], [Person("张三", area=None)])

    assert ws["B2"].value is None


def test_dotted_path_typo_fails_loudly():
    with pytest.raises(AttributeError):
        export_rows(
            io.BytesIO(), sheet_name="名单", columns=[Column("x", "nmae")], rows=[Person("甲")]
        )


def test_callable_column_gets_the_row():
    ws = export_one_sheet([Column("称呼", lambda p: f"{p.name}同学")], [Person("张三")])

    assert ws["A2"].value == "张三同学"


def test_column_that_yields_a_method_is_rejected():
    class WithDisplay:
        def get_gender_display(self):
            return "女"

    with pytest.raises(TypeError, match="callable"):
        export_rows(
            io.BytesIO(),
            sheet_name="名单",
            columns=[Column("性别", "get_gender_display")],
            rows=[WithDisplay()],
        )


def test_none_becomes_an_empty_cell_in_every_kind():
    kinds = ["text", "int", "decimal", "money", "date", "datetime", "bool"]
    ws = export_one_sheet(
        [Column(k, lambda r: None, kind=k) for k in kinds] + [NAME], [Person("甲")]
    )

    assert [c.value for c in ws[2]] == [None] * len(kinds) + ["甲"]


def test_bools_are_written_as_yes_and_no():
    ws = export_one_sheet(
        [Column("独居", lambda r: True, kind="bool"), Column("留守", lambda r: False)], [object()]
    )

    assert [c.value for c in ws[2]] == ["是", "否"]


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="kind"):
        Column("x", "name", kind="currency")  # type: ignore[arg-type]


def test_str_subclasses_and_other_objects_are_written_as_their_text():
    class Category(str):
        pass

    class Lazy:
        def __str__(self):
            return "特困人员"

    ws = export_one_sheet(
        [Column("类别", lambda r: Category("tekun")), Column("名称", lambda r: Lazy())], [object()]
    )

    assert [c.value for c in ws[2]] == ["tekun", "特困人员"]


def test_column_widths_can_be_set_and_default_to_fit_chinese_headers():
    ws = export_one_sheet(
        [
            Column("姓名", "name", width=8),
            Column("家庭住址及详细情况说明", "name"),
            Column("金额", "name", kind="money"),
        ],
        [],
    )

    assert ws.column_dimensions["A"].width == pytest.approx(8, abs=1)
    # 11 CJK characters are 22 character units wide.
    assert ws.column_dimensions["B"].width >= 22
    assert ws.column_dimensions["C"].width >= 14


def test_several_sheets_go_into_one_workbook():
    buffer = io.BytesIO()
    with WorkbookWriter(buffer) as book:
        people = book.sheet("人员", columns=[NAME])
        ledger = book.sheet(
            "台账", columns=[Column("金额", "amount", kind="money")], landscape=True
        )
        people.write(Person("张三"))
        ledger.write(Person("张三", amount=Decimal(500)))
        people.write(Person("李四"))

    wb = read_back(buffer)
    assert wb.sheetnames == ["人员", "台账"]
    assert [r[0].value for r in wb["人员"].iter_rows()] == ["姓名", "张三", "李四"]
    assert wb["台账"]["A2"].value == 500
    assert wb["台账"].page_setup.orientation == "landscape"
    assert wb["人员"].page_setup.orientation == "portrait"


def test_sheet_names_are_sanitised_and_made_unique():
    buffer = io.BytesIO()
    long_name = "城关镇" * 15
    with WorkbookWriter(buffer) as book:
        for name in [
            "a/b:c*d?[e]\\f",
            long_name,
            long_name,
            "名单",
            "名单",
            "'引号'",
            "",
            "History",
        ]:
            book.sheet(name, columns=[NAME])

    names = read_back(buffer).sheetnames
    assert names[0] == "a_b_c_d__e__f"
    assert names[1] == long_name[:31]
    assert len(names[2]) <= 31 and names[2].endswith("(2)")
    assert names[3:5] == ["名单", "名单(2)"]
    assert names[5] == "引号"
    assert names[6] == "Sheet"
    assert names[7] == "History(2)"


def test_sanitize_sheet_name_counts_utf16_units():
    # 𠀀 is outside the BMP: Excel counts it as two of its 31 characters.
    assert sanitize_sheet_name("𠀀" * 20) == "𠀀" * 15


def test_progress_is_reported_every_n_rows_and_at_the_end():
    seen: list[int] = []
    count = export_rows(
        io.BytesIO(),
        sheet_name="名单",
        columns=[NAME],
        rows=(Person(str(i)) for i in range(7)),
        progress=seen.append,
        every=3,
    )

    assert count == 7
    assert seen == [3, 6, 7]


def test_progress_is_not_repeated_when_the_count_ends_on_a_step():
    seen: list[int] = []
    buffer = io.BytesIO()
    with WorkbookWriter(buffer) as book:
        book.sheet("名单", columns=[NAME]).write_many(
            [Person("甲"), Person("乙")], progress=seen.append, every=2
        )

    assert seen == [2]


def test_empty_export_still_has_header_and_reports_zero():
    seen: list[int] = []
    ws = export_one_sheet([NAME], [], progress=seen.append)

    assert [c.value for c in ws[1]] == ["姓名"]
    assert ws.max_row == 1
    assert seen == [0]


def test_it_writes_to_a_path(tmp_path):
    path = tmp_path / "名单.xlsx"

    export_rows(path, sheet_name="名单", columns=[NAME], rows=[Person("张三")])

    assert openpyxl.load_workbook(path)["名单"]["A2"].value == "张三"


def test_failed_export_writes_no_file_and_leaves_no_temp_files(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    path = tmp_path / "out.xlsx"

    def rows():
        yield Person("张三")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        export_rows(path, sheet_name="名单", columns=[NAME], rows=rows())

    assert list(tmp_path.iterdir()) == []


def test_rows_stream_to_disk_instead_of_memory(tmp_path, monkeypatch):
    # constant_memory mode is what keeps a big archive export flat in memory; check it is on
    # by seeing the row data land in a temp file while the sheet is being written.
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with WorkbookWriter(io.BytesIO()) as book:
        sheet = book.sheet("名单", columns=[NAME])
        sheet.write_many(Person(f"人员{i}") for i in range(2000))
        row_files = [p for p in tmp_path.rglob("*") if p.is_file()]
        assert row_files and max(p.stat().st_size for p in row_files) > 10_000


def test_a_wrapped_column_wraps_and_its_row_grows_to_fit(tmp_path):
    path = tmp_path / "wrap.xlsx"
    note = "很长的说明" * 30
    xlsx.export_rows(
        path,
        sheet_name="说明",
        columns=[xlsx.Column("编号", "code"), xlsx.Column("说明", "note", width=20, wrap=True)],
        rows=[{"code": "A1", "note": note}, {"code": "A2", "note": "短"}],
    )

    sheet = openpyxl.load_workbook(path).active
    long_cell = sheet["B2"]
    assert long_cell.value == note and long_cell.alignment.wrap_text
    assert sheet.row_dimensions[2].height >= 15 * 10  # 300 columns of text in 19: 16 lines
    assert sheet.row_dimensions[3].height is None


def test_fit_width_holds_an_id_number_and_stops_at_the_cap():
    assert xlsx.fit_width("身份证号码", ["149901201203150013"]) >= 18
    assert xlsx.fit_width("备注", ["长" * 100]) == 40
