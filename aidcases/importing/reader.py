"""Reading an .xlsx/.csv upload against a ``Spec``: finding the header under title rows,
merged cells, sign-off and total lines, size and row limits; never raises for a bad file."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import logging
import os
import re
import zipfile
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any, Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries

from aidcases.importing.cells import _WHITESPACE, CellError, _compact, _is_blank, _nfkc, cell_text
from aidcases.importing.spec import Issue, Report, Row, Sheet, Spec, normalize_header

logger = logging.getLogger(__name__)

Source = str | os.PathLike[str] | bytes | IO[bytes]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_ROWS = 50_000
# The header is looked for among the first rows that hold anything; title, unit and date
# lines above it rarely take more than three or four.
HEADER_SCAN_ROWS = 20
# Nothing we import has this many columns; a stray value in column XFD must not make every
# row 16,384 cells wide.
MAX_COLUMNS = 256
# An .xlsx is a zip, and openpyxl holds a workbook's shared strings in memory: refuse one that
# would unpack to far more than an honest roster (a "zip bomb" would otherwise fill the memory
# before the row cap is reached). 50,000 rows × 25 columns of XML stay well under 100 MB; an
# honest part compresses perhaps 5–30 times, a bomb hundreds or thousands of times.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_PART_RATIO = 200
_RATIO_FROM_BYTES = 1024 * 1024  # small parts (styles, empty sheets) may compress very well

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and password-protected .xlsx
_ZIP_MAGIC = b"PK\x03\x04"
_EXCEL_ERRORS = frozenset(
    ("#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")
)

# --- reading the file -------------------------------------------------------------------------


class _Unreadable(Exception):
    """The file as a whole cannot be read; the message is for the person who uploaded it."""


# (line, cells): one row that holds anything, cells as read, 0-based by column.
Table = list[tuple[int, list[Any]]]
# (min_col, min_row, max_col, max_row), 1-based, as openpyxl's range_boundaries gives them.
Merge = tuple[int, int, int, int]


def read(
    source: Source,
    filename: str,
    spec: Spec,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Sheet:
    """Read an .xlsx/.csv upload against ``spec``; never raises for a bad file (a macro
    workbook, .xlsm, is refused with a message like any other unreadable file).

    ``source`` is a path, the bytes, or a binary file object (read from where it stands);
    ``filename`` (the name as uploaded) decides the format. Every problem, from "this is not
    an Excel file" to one bad date, is in ``sheet.report``.
    """
    report = Report()
    try:
        data = _read_bytes(source, max_bytes)
        table, merges, sheet_name = _load_table(data, filename, spec, max_bytes, max_rows)
    except _Unreadable as exc:
        report.add(None, "", str(exc))
        return Sheet(spec=spec, report=report)
    sheet = Sheet(spec=spec, report=report, sheet_name=sheet_name)
    _fill_sheet(sheet, table, merges, max_rows)
    return sheet


def too_big_message(max_bytes: int) -> str:
    return _("文件太大：超过 %(mb)s MB。请删去无关的工作表、图片，或拆分成几个文件分批导入。") % {
        "mb": f"{max_bytes / 1024 / 1024:g}"
    }


def file_type_problem(filename: str) -> str | None:
    """Why a file of this name cannot be imported (old .xls, macros, not a spreadsheet), or
    None. The upload form asks first; ``read`` asks again (and sniffs the content)."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xls":
        return _old_excel_message()
    if suffix == ".xlsm":
        return macro_message()
    if suffix not in (".xlsx", ".csv"):
        return _("不支持“%(suffix)s”文件，请上传 Excel（.xlsx）或 CSV 文件。") % {
            "suffix": suffix or filename
        }
    return None


def _old_excel_message() -> str:
    return _(
        "这是旧版 Excel（.xls）文件，或设置了打开密码，无法直接导入。"
        "请用 Excel 或 WPS 打开，点“另存为”，保存类型选“Excel 工作簿（*.xlsx）”"
        "（不要设密码），再导入新文件。"
    )


def _too_big(max_bytes: int) -> _Unreadable:
    return _Unreadable(too_big_message(max_bytes))


def _read_bytes(source: Source, max_bytes: int) -> bytes:
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str | os.PathLike):
        if os.path.getsize(source) > max_bytes:
            raise _too_big(max_bytes)
        with open(source, "rb") as handle:
            data = handle.read(max_bytes + 1)
    else:
        data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_big(max_bytes)
    if not data:
        raise _Unreadable(_("文件是空的。"))
    return data


def _corrupt() -> _Unreadable:
    return _Unreadable(
        _(
            "无法读取这个文件：它已损坏，或并不是 Excel 文件。"
            "请用 Excel 或 WPS 打开，确认内容无误后“另存为”.xlsx 格式再导入。"
        )
    )


def _load_table(
    data: bytes, filename: str, spec: Spec, max_bytes: int, max_rows: int
) -> tuple[Table, list[Merge], str | None]:
    suffix = Path(filename).suffix.lower()
    if data.startswith(_OLE_MAGIC):
        raise _Unreadable(_old_excel_message())
    problem = file_type_problem(filename)
    if problem is not None:
        raise _Unreadable(problem)
    if suffix == ".xlsx" or data.startswith(_ZIP_MAGIC):
        return _xlsx_table(data, spec, max_bytes, max_rows)
    return _csv_table(data, max_rows), [], None


def unpacks_too_much(infos: Sequence[zipfile.ZipInfo]) -> bool:
    """A zip whose directory says it unpacks beyond MAX_UNPACKED_BYTES, or holds a part
    compressed far beyond any honest sheet: decided without unpacking anything."""
    if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
        return True
    return any(
        info.file_size > _RATIO_FROM_BYTES
        and info.file_size > MAX_PART_RATIO * max(info.compress_size, 1)
        for info in infos
    )


def is_macro_part(name: str) -> bool:
    """A part that only a macro-enabled workbook holds (VBA project, macro sheets)."""
    name = name.lower()
    return name.endswith("vbaproject.bin") or name.startswith("xl/macrosheets/")


def macro_message() -> str:
    return _(
        "这是启用宏的工作簿（.xlsm），为安全起见不能导入。"
        "请用 Excel 或 WPS 打开，点“另存为”，保存类型选“Excel 工作簿（*.xlsx）”，再导入新文件。"
    )


def _macro_workbook() -> _Unreadable:
    return _Unreadable(macro_message())


def _too_many_rows(max_rows: int) -> _Unreadable:
    return _Unreadable(_("数据超过 %(rows)d 行，请拆分成几个文件分批导入。") % {"rows": max_rows})


def _collect(rows: Iterable[tuple[int, list[Any]]], max_rows: int) -> Table:
    # A bound on memory only: title and sign-off lines count here, so the exact data-row
    # count is checked once the header is known.
    limit = max_rows + HEADER_SCAN_ROWS + 100
    table: Table = []
    for row in rows:
        table.append(row)
        if len(table) > limit:
            raise _too_many_rows(max_rows)
    return table


def _xlsx_table(
    data: bytes, spec: Spec, max_bytes: int, max_rows: int
) -> tuple[Table, list[Merge], str | None]:
    if not data.startswith(_ZIP_MAGIC):
        raise _corrupt()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _corrupt() from None
    macros = any(is_macro_part(info.filename) for info in infos)
    if unpacks_too_much(infos):
        raise _Unreadable(
            _(
                "这个文件解压后的内容异常庞大（可能是损坏或被篡改的文件），无法导入。"
                "请用 Excel 或 WPS 打开，删去无关的工作表和内容后“另存为”.xlsx 再导入。"
            )
        )
    if macros:
        raise _macro_workbook()
    try:
        # read_only streams the sheet; openpyxl parses through defusedxml when it is installed.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        logger.info("unreadable workbook", exc_info=True)
        raise _corrupt() from None
    try:
        sheets = [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]
        sheets = sheets or list(workbook.worksheets)
        if not sheets:
            raise _Unreadable(_("文件中没有工作表。"))
        worksheet = sheets[0] if len(sheets) == 1 else _pick_worksheet(sheets, spec)
        merges: list[Merge] = []
        table = _collect(_worksheet_rows(worksheet, merges), max_rows)
        return table, merges, worksheet.title
    except _Unreadable:
        raise
    except Exception:
        logger.info("unreadable worksheet", exc_info=True)
        raise _corrupt() from None
    finally:
        workbook.close()


# Built-in number formats of Chinese Excel and WPS that openpyxl does not know (so it leaves
# such a cell a bare serial number): id → format code.
_ZH_BUILTIN_FORMATS = {
    27: 'yyyy"年"m"月"',
    28: 'm"月"d"日"',
    29: 'm"月"d"日"',
    30: "m-d-yy",
    31: 'yyyy"年"m"月"d"日"',
    36: 'yyyy"年"m"月"',
    50: 'yyyy"年"m"月"',
    51: 'm"月"d"日"',
    52: 'yyyy"年"m"月"',
    53: 'm"月"d"日"',
    54: 'm"月"d"日"',
    57: 'yyyy"年"m"月"',
    58: 'm"月"d"日"',
}
_FORMAT_NOISE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def _date_kind(code: str | None) -> Literal["day", "month"] | None:
    """What a number format shows of a date: the day, only the month, or no date at all."""
    if not code:
        return None
    code = _FORMAT_NOISE.sub("", code.split(";")[0]).lower()
    if "y" not in code and "d" not in code:
        return None  # a number, or a time of day
    if "d" in code:
        return "day"
    if "m" in code and "h" not in code and "s" not in code:
        return "month"  # yyyy"年"m"月", yyyy-mm, mmm-yy
    return None


def _style_date_kinds(workbook: Any) -> dict[int, Literal["day", "month"]]:
    """Cell style index → "month" for date formats that show no day, "day" for date formats
    openpyxl does not recognise (it then gives the bare serial)."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE

    kinds: dict[int, Literal["day", "month"]] = {}
    custom = list(getattr(workbook, "_number_formats", []) or [])
    for index, style in enumerate(getattr(workbook, "_cell_styles", []) or []):
        number_format = style.numFmtId
        if number_format >= BUILTIN_FORMATS_MAX_SIZE:
            offset = number_format - BUILTIN_FORMATS_MAX_SIZE
            code = custom[offset] if offset < len(custom) else None
        else:
            code = BUILTIN_FORMATS.get(number_format) or _ZH_BUILTIN_FORMATS.get(number_format)
        kind = _date_kind(code)
        if kind == "month" or (kind == "day" and index not in workbook._date_formats):
            kinds[index] = kind
    return kinds


def month_text(value: date) -> str:
    """A date that stands for its month, as people write one: "2015年3月"."""
    return f"{value.year}年{value.month}月"


def _dated(value: Any, kind: Literal["day", "month"], epoch: Any) -> Any:
    """A cell's value as its number format shows it: a date shown only to the month becomes
    that month ("2015年3月"), a serial under a date format openpyxl missed becomes the date."""
    from openpyxl.utils.datetime import from_excel

    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            value = from_excel(value, epoch)
        except (OverflowError, ValueError, TypeError):
            return value
    if kind == "month" and isinstance(value, date):
        return month_text(value)
    return value


def _worksheet_rows(worksheet: Any, merges: list[Merge]) -> Iterator[tuple[int, list[Any]]]:
    """Rows that hold any value, with their real row numbers; merged ranges into ``merges``.

    openpyxl's read-only sheets do not give merged cells, and their ``iter_rows`` trusts the
    sheet's stated dimensions (some programs write wrong ones, cutting rows short). Its own
    parser gives both right; ``mergeCells`` follows the rows in the file, so ``merges`` is
    complete once the rows are exhausted. (openpyxl internals: pinned in requirements.txt.)
    A date cell whose number format shows only year and month reads as that month.
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    workbook = worksheet.parent
    date_kinds = _style_date_kinds(workbook)
    with worksheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            worksheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for line, cells in parser.parse():
            present = [
                (
                    cell["column"],
                    _dated(cell["value"], date_kinds[cell["style_id"]], workbook.epoch)
                    if cell["style_id"] in date_kinds
                    else cell["value"],
                )
                for cell in cells
                if cell["value"] is not None and cell["column"] <= MAX_COLUMNS
            ]
            if not present:
                continue
            values: list[Any] = [None] * max(column for column, _value in present)
            for column, value in present:
                values[column - 1] = value
            yield line, values
        if parser.merged_cells is not None:
            merges.extend(range_boundaries(str(m.ref)) for m in parser.merged_cells.mergeCell)


def _pick_worksheet(sheets: Sequence[Any], spec: Spec) -> Any:
    """The visible sheet whose first rows look most like the header (the first on a tie):
    a workbook often starts with a 填表说明 sheet."""
    best, best_score = sheets[0], (0, 0)
    for worksheet in sheets:
        with contextlib.closing(_worksheet_rows(worksheet, [])) as rows:
            head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
        found = _find_header(spec, head)
        if found is not None and found.score > best_score:
            best, best_score = worksheet, found.score
    return best


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        # Excel on Chinese Windows saves CSV as GBK; gb18030 is its superset.
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _Unreadable(
        _("无法识别 CSV 文件的文字编码，请用 Excel 或 WPS 另存为 .xlsx 格式后再导入。")
    )


def _csv_table(data: bytes, max_rows: int) -> Table:
    content = _decode(data)
    head = content[:4096]
    delimiter = "\t" if head.count("\t") > head.count(",") else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        # Excel shows one row per CSV record, even when a quoted cell holds line breaks.
        for line, record in enumerate(reader, start=1):
            if any(cell.strip() for cell in record):
                yield line, [cell if cell else None for cell in record[:MAX_COLUMNS]]

    try:
        return _collect(rows(), max_rows)
    except csv.Error:
        raise _corrupt() from None


# --- finding the header -----------------------------------------------------------------------


@dataclass
class _Header:
    line: int  # the (lower) header row
    matches: list[tuple[int, str]]  # (position, key) in column order, duplicates included
    headers: list[str]  # display text for every position
    score: tuple[int, int] = (0, 0)  # (required columns named, columns named)


def _score(spec: Spec, matches: list[tuple[int, str]]) -> tuple[int, int]:
    keys = {key for _pos, key in matches}
    required = sum(1 for c in spec.columns if c.required and c.key in keys)
    return required, len(keys)


def _match_single(spec: Spec, line: int, cells: list[Any]) -> _Header:
    matches, headers = [], []
    for position, value in enumerate(cells):
        shown = _WHITESPACE.sub(" ", cell_text(value))
        headers.append(shown)
        key = spec.match(value) if shown else None
        if key is not None:
            matches.append((position, key))
    return _Header(line, matches, headers)


def _match_pair(spec: Spec, line: int, upper: list[Any], lower: list[Any]) -> _Header:
    """A two-row header: a group cell ("家庭成员" or "父亲") merged over sub-headers."""
    matches, headers = [], []
    for position in range(max(len(upper), len(lower))):
        up = _WHITESPACE.sub(" ", cell_text(upper[position])) if position < len(upper) else ""
        low = _WHITESPACE.sub(" ", cell_text(lower[position])) if position < len(lower) else ""
        if up and low and up != low:
            # "父亲" over "姓名" must read as 父亲姓名 before it reads as the person's 姓名.
            candidates = [(up + low, f"{up}/{low}"), (low + up, f"{up}/{low}"), (low, low)]
            shown = f"{up}/{low}"
        else:
            candidates = [(low or up, low or up)]
            shown = low or up
        key = None
        for candidate, display in candidates:
            key = spec.match(candidate)
            if key is not None:
                shown = display
                break
        headers.append(shown)
        if key is not None:
            matches.append((position, key))
    return _Header(line, matches, headers)


def _find_header(spec: Spec, head: Table) -> _Header | None:
    """The first row (or pair of rows) among ``head`` naming the most declared columns,
    required ones counting first; None when no row names any."""
    best: _Header | None = None
    previous: tuple[int, list[Any]] | None = None
    for line, cells in head:
        candidates = [_match_single(spec, line, cells)]
        if previous is not None and previous[0] == line - 1:
            candidates.append(_match_pair(spec, line, previous[1], cells))
        for candidate in candidates:
            candidate.score = _score(spec, candidate.matches)
            if candidate.score[1] and (best is None or candidate.score > best.score):
                best = candidate
        previous = (line, cells)
    return best


def _fill_merges(by_line: dict[int, list[Any]], merges: Iterable[Merge]) -> None:
    """Give every cell of a merged range the value of its top-left cell (only the top-left
    holds it in the file), in the rows of ``by_line``."""
    for min_col, min_row, max_col, max_row in merges:
        top = by_line.get(min_row)
        if top is None or min_col > len(top) or top[min_col - 1] is None:
            continue
        value = top[min_col - 1]
        last_col = min(max_col, MAX_COLUMNS)
        for line in range(min_row, max_row + 1):
            cells = by_line.get(line)
            if cells is None:
                continue
            if len(cells) < last_col:
                cells.extend([None] * (last_col - len(cells)))
            for position in range(min_col - 1, last_col):
                if cells[position] is None:
                    cells[position] = value


# --- turning rows into values -----------------------------------------------------------------

_SIGNOFF_PREFIXES = (
    "填表人",
    "填报人",
    "审核人",
    "复核人",
    "审批人",
    "制表人",
    "统计人",
    "经办人",
    "负责人",
    "联系人:",
    "填表日期",
    "填报日期",
    "制表日期",
    "分管领导",
    "主要领导",
    "盖章",
    "单位(盖章)",
    "单位盖章",
    "注:",
    "说明:",
)
_SIGNOFF_MARKERS = ("填表人:", "(盖章)")
# The date line under the seal: "年 月 日" or "2026年 月 日" with the day left for the pen.
_SIGNOFF_DATE = re.compile(r"(?:\d{4})?年月日")
_LABEL_COLON = re.compile(r"[^\d:]{1,8}:")
_TOTAL_PREFIXES = ("合计", "总计", "小计", "共计")
_SKIP_FIRST_CHARS = frozenset(p[0] for p in (*_SIGNOFF_PREFIXES, *_TOTAL_PREFIXES, "年", "("))
_SKIP_FIRST_CHARS |= frozenset("0123456789")


def _is_signoff_text(value: str) -> bool:
    return (
        value.startswith(_SIGNOFF_PREFIXES)
        or any(marker in value for marker in _SIGNOFF_MARKERS)
        or _SIGNOFF_DATE.fullmatch(value) is not None
    )


def _skip_reason(
    cells: list[Any], required_positions: Sequence[int]
) -> Literal["total", "signoff"] | None:
    first_raw = next((v for v in cells if not _is_blank(v)), None)
    first = ""
    # Cheap tests first: this runs on every row, and almost every row is plain data.
    if type(first_raw) is str and _nfkc(first_raw.lstrip()[:1]) in _SKIP_FIRST_CHARS:
        first = _compact(first_raw)
    if first.startswith(_TOTAL_PREFIXES):
        return "total"
    signoff = _is_signoff_text(first)
    if not signoff:
        strings = "\0".join(v for v in cells if type(v) is str)
        if "填表" in strings or "盖章" in strings:
            signoff = any(type(v) is str and _is_signoff_text(_compact(v)) for v in cells)
    if not signoff:
        return None
    # A real row never has a sign-off in a required column; "填表人：张三 审核人：李四" spread
    # over the cells may well land in one, so such text does not count as a value.
    for position in required_positions:
        value = cells[position] if position < len(cells) else None
        if _is_blank(value):
            continue
        compact = _compact(value)
        if not (_is_signoff_text(compact) or _LABEL_COLON.match(compact)):
            return None
    return "signoff"


def _fill_sheet(sheet: Sheet, table: Table, merges: list[Merge], max_rows: int) -> None:
    spec, report = sheet.spec, sheet.report
    if not table:
        report.add(None, "", _("文件中没有任何内容。"))
        return
    head = [(line, list(cells)) for line, cells in table[:HEADER_SCAN_ROWS]]
    if merges:
        _fill_merges(dict(head), merges)  # merged title and group cells, for the header only
    header = _find_header(spec, head)
    if header is None:
        examples = "、".join(c.label for c in spec.columns[:3])
        report.add(
            None,
            "",
            _(
                "找不到表头：文件前 %(rows)d 行中没有“%(title)s”的列名（如 %(examples)s）。"
                "请确认上传的是这张表，并且表头在表格顶部。"
            )
            % {"rows": HEADER_SCAN_ROWS, "title": spec.title, "examples": examples},
        )
        return

    sheet.header_row = header.line
    sheet.headers = tuple(header.headers)
    for position, key in header.matches:
        if key not in sheet.columns:
            sheet.columns[key] = position
            continue
        label = spec.column(key).label
        report.add(
            header.line,
            label,
            _("第%(first)s列和第%(other)s列都是“%(label)s”，已使用第%(first)s列，忽略第%(other)s列")
            % {
                "first": get_column_letter(sheet.columns[key] + 1),
                "other": get_column_letter(position + 1),
                "label": label,
            },
            warning=True,
        )
    for column in spec.columns:
        if column.required and column.key not in sheet.columns:
            also = "、".join(column.synonyms)
            message = _("缺少必填列：%(label)s") % {"label": column.label}
            if also:
                message += _("（也可写作：%(names)s）") % {"names": also}
            report.add(None, "", message)

    data = [(line, cells) for line, cells in table if line > header.line]
    if merges:
        # Only ranges spanning rows ("所在村" merged over a family's rows); a sign-off line
        # merged across the width must not spread into the columns.
        _fill_merges(dict(data), (m for m in merges if m[3] > m[1] and m[1] > header.line))
    _read_rows(sheet, data, max_rows)


def names_a_month(header: str) -> bool:
    """ "出生年月", "出生年月(年.月)": a header that asks for a year and a month, not a day."""
    name = normalize_header(header)
    return "年月" in name and "日" not in name


def _read_rows(sheet: Sheet, data: Table, max_rows: int) -> None:
    spec, report = sheet.spec, sheet.report
    plan = [
        (c.key, sheet.columns[c.key], c.parse, c.required, c.label)
        for c in spec.columns
        if c.key in sheet.columns
    ]
    positions = [position for _key, position, _parse, _req, _label in plan]
    required_positions = [position for _key, position, _parse, req, _label in plan if req]
    absent = {c.key: None for c in spec.columns if c.key not in sheet.columns}
    # A header that names a month ("出生年月"): a date on the 1st under it means that month.
    monthly = {
        position
        for position in positions
        if position < len(sheet.headers) and names_a_month(sheet.headers[position])
    }
    not_empty = _("不能为空")
    rows: list[Row] = []
    for line, cells in data:
        width = len(cells)
        blank = [position >= width or _is_blank(cells[position]) for position in positions]
        # Blank means blank in every declared column: rows numbered down the 序号 column in
        # advance, or a note in 备注 alone, are not data.
        if all(blank):
            continue
        reason = _skip_reason(cells, required_positions)
        if reason is not None:
            sheet.skipped[line] = _("合计行") if reason == "total" else _("签字行")
            continue
        if len(rows) >= max_rows:
            sheet.rows = []
            report.add(None, "", str(_too_many_rows(max_rows)))
            return
        values: dict[str, Any] = dict(absent)
        raws: dict[str, Any] = dict(absent)
        errors: list[Issue] = []
        for (key, position, parse, required, label), is_blank in zip(plan, blank, strict=True):
            raw = cells[position] if position < width else None
            if position in monthly and isinstance(raw, date) and raw.day == 1:
                raw = month_text(raw)
            raws[key] = raw
            value = None
            message = None
            if is_blank:
                if required:
                    message = not_empty
            elif type(raw) is str and raw.strip() in _EXCEL_ERRORS:
                message = _("单元格是公式错误值 %(value)s，请改成实际内容") % {"value": raw.strip()}
            else:
                try:
                    value = parse(raw)
                except CellError as exc:
                    message = exc.message
                except ValidationError as exc:
                    message = "；".join(str(m) for m in exc.messages)
            values[key] = value
            if message is not None:
                errors.append(report.add(line, label, message))
        rows.append(Row(line=line, values=values, raw=raws, errors=errors, cells=tuple(cells)))
    sheet.rows = rows


# --- row-level helper -------------------------------------------------------------------------


def find_duplicates(
    rows: Iterable[Row], key: str | Callable[[Row], Hashable | None], *, label: str
) -> list[Issue]:
    """One issue on each row whose value (``row.values[key]``, or ``key(row)``) appears on
    another row of the file, naming the other rows. Blank values are not compared.

    The value itself is not repeated in the message: it is usually an ID number.
    """
    get = (lambda row: row.values.get(key)) if isinstance(key, str) else key
    seen: dict[Hashable, list[int]] = {}
    for row in rows:
        value = get(row)
        if value is None or value == "":
            continue
        seen.setdefault(value, []).append(row.line)
    issues = []
    for lines in seen.values():
        if len(lines) < 2:
            continue
        for line in lines:
            others = [n for n in lines if n != line]
            named = "、".join(_("第%(line)d行") % {"line": n} for n in others[:5])
            if len(others) > 5:
                named += _("等%(count)d行") % {"count": len(others)}
            issues.append(Issue(line, label, _("与%(rows)s重复") % {"rows": named}))
    issues.sort(key=lambda issue: issue.line or 0)
    return issues
