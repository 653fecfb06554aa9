"""The one shared Excel writer: every export declares its columns and hands its rows to it.

Rows are streamed (xlsxwriter ``constant_memory``): each row goes to disk as soon as it is
written, so a 10,000-person archive costs no more memory than a ten-row list. The price is that
rows must be written in order, top to bottom, and a written row can never be revisited.

Kept free of Django imports so that it can be used (and tested) without settings.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import IO, Any, Literal, Self
from zoneinfo import ZoneInfo

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

__all__ = ["Column", "ColumnKind", "SheetWriter", "WorkbookWriter", "export_rows"]

ColumnKind = Literal["text", "int", "decimal", "money", "date", "datetime", "bool"]
Target = str | os.PathLike[str] | IO[bytes]

# Excel has no time zones, so aware datetimes are shown as the wall-clock time the county
# staff live in (the project's TIME_ZONE), not as UTC.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")

MAX_ROWS = 1_048_576  # Excel's limit; xlsxwriter silently drops rows beyond it
PAPER_A4 = 9

_KINDS = frozenset(("text", "int", "decimal", "money", "date", "datetime", "bool"))
_NUMBER_TYPES = (int, float, Decimal)
# The first characters that make Excel (or LibreOffice, or a CSV re-import) start a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_YES, _NO = "是", "否"
_LINE_HEIGHT = 15  # points per line of 11-point text

_NUMBER_FORMATS: dict[str, str] = {
    "int": "0",
    "decimal": "#,##0.00",
    "money": "¥#,##0.00",
}
# Narrowest sensible width per kind, in Excel character units: wide enough for the values
# (a date, ¥1,234,567.00), whatever the header says.
_MIN_WIDTHS: dict[str, float] = {
    "text": 10,
    "int": 8,
    "decimal": 12,
    "money": 14,
    "date": 12,
    "datetime": 17,
    "bool": 6,
}
_MAX_DEFAULT_WIDTH = 50


@dataclass(frozen=True, slots=True)
class Column:
    """One exported column.

    ``value`` is either a dotted attribute path (``"person.area.name"``; mapping rows are
    looked up by key; a ``None`` on the way gives an empty cell) or a callable taking the row.
    ``kind`` decides how numbers are shown: in a ``text`` column they are written as text,
    which is what ID, bank-card and voucher numbers need. Dates, datetimes, booleans and
    ``None`` are handled the same way in every kind. ``wrap`` breaks long text into lines
    inside the column (an explanation, a list of changes) instead of letting it run over the
    empty cells to its right, which also widens the printed page until the print is tiny.
    """

    header: str
    value: str | Callable[[Any], Any]
    kind: ColumnKind = "text"
    width: float | None = None
    wrap: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}; use one of {sorted(_KINDS)}")


def display_width(text: str) -> int:
    """Width of ``text`` in Excel character units: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def default_width(column: Column) -> float:
    return min(
        max(_MIN_WIDTHS[column.kind], display_width(str(column.header)) + 2),
        _MAX_DEFAULT_WIDTH,
    )


def fit_width(header: str, values: Iterable[Any], *, cap: float = 40) -> float:
    """A column width for its header and the values it holds (pass a sample of the first
    rows): an 18-character ID number is not cut off, a long note stops at ``cap``."""
    widest = max((display_width(str(v)) for v in values if v is not None), default=0)
    return min(max(widest, display_width(str(header)) + 2, 10) + 1, cap)


def sanitize_sheet_name(name: str) -> str:
    """A name Excel accepts: no []:*?/\\, no apostrophe at either end, at most 31 characters."""
    cleaned = _SHEET_NAME_BAD.sub("_", str(name)).strip().strip("'")
    cleaned = _truncate_utf16(cleaned, 31).strip().strip("'")
    return cleaned or "Sheet"


def _truncate_utf16(text: str, limit: int) -> str:
    # Excel counts UTF-16 code units, so a rare CJK character outside the BMP counts twice.
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    out: list[str] = []
    used = 0
    for ch in text:
        units = 2 if ord(ch) > 0xFFFF else 1
        if used + units > limit:
            break
        out.append(ch)
        used += units
    return "".join(out)


def _path_getter(path: str) -> Callable[[Any], Any]:
    parts = tuple(path.split("."))

    def get(row: Any) -> Any:
        value = row
        for part in parts:
            if value is None:
                return None
            # A missing key or attribute raises on purpose: a typo in a column path must fail
            # the export, not quietly ship an empty column.
            value = value[part] if isinstance(value, Mapping) else getattr(value, part)
        return value

    return get


class _Formats:
    """The workbook's cell formats, created once: xlsxwriter keeps every format it is given."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.title = workbook.add_format(
            {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"}
        )
        self.header = workbook.add_format(
            {
                "bold": True,
                "align": "center",
                "valign": "vcenter",
                "border": 1,
                "bg_color": "#D9E1F2",
            }
        )
        # quote_prefix is what Excel itself sets when a user types '=1+1: the cell stays text
        # even when someone later edits it and presses Enter.
        self.formula_like_text = workbook.add_format({"quote_prefix": True})
        self.wrapped_text = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.wrapped_formula_like_text = workbook.add_format(
            {"quote_prefix": True, "text_wrap": True, "valign": "top"}
        )
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.numbers = {
            kind: workbook.add_format({"num_format": fmt}) for kind, fmt in _NUMBER_FORMATS.items()
        }


class SheetWriter:
    """Writes rows to one worksheet, in order. Get one from ``WorkbookWriter.sheet``."""

    def __init__(
        self,
        worksheet: Worksheet,
        formats: _Formats,
        *,
        columns: Sequence[Column],
        title: str | None,
        landscape: bool,
    ) -> None:
        if not columns:
            raise ValueError("a sheet needs at least one column")
        self._ws = worksheet
        self._formats = formats
        self._columns = tuple(columns)
        self._getters = tuple(
            _path_getter(c.value) if isinstance(c.value, str) else c.value for c in self._columns
        )
        self._kinds = tuple(c.kind for c in self._columns)
        self._number_formats = tuple(formats.numbers.get(c.kind) for c in self._columns)
        self._wrapped = tuple(c.wrap for c in self._columns)
        self._wrap_widths = [
            (i, c.width if c.width is not None else default_width(c))
            for i, c in enumerate(self._columns)
            if c.wrap
        ]
        self._last_col = len(self._columns) - 1
        self._header_row = 0 if title is None else 1
        self._next_row = self._header_row + 1
        self._setup(title=title, landscape=landscape)

    @property
    def rows_written(self) -> int:
        """Data rows written so far (title and header not counted)."""
        return self._next_row - self._header_row - 1

    def write(self, row: Any) -> None:
        """Write one object or mapping as the next row; values come out through the columns."""
        r = self._next_row
        if r >= MAX_ROWS:
            raise ValueError(f"Excel cannot hold more than {MAX_ROWS} rows in one sheet")
        write_cell = self._write_cell
        values = [get(row) for get in self._getters]
        if self._wrap_widths:
            self._fit_height(r, values)
        for c, value in enumerate(values):
            if value is not None:
                write_cell(r, c, value)
        self._next_row = r + 1

    def _fit_height(self, r: int, values: list[Any]) -> None:
        """A row tall enough for its wrapped text: not every program (LibreOffice, printing)
        grows a row for wrapped cells by itself."""
        lines = 1
        for c, width in self._wrap_widths:
            text = values[c]
            if isinstance(text, str) and text:
                lines = max(lines, math.ceil(display_width(text) / max(width - 1, 1)))
        if lines > 1:
            self._ws.set_row(r, _LINE_HEIGHT * min(lines, 20))

    def write_many(
        self,
        rows: Iterable[Any],
        *,
        progress: Callable[[int], None] | None = None,
        every: int = 500,
    ) -> int:
        """Write every row; return how many were written.

        ``progress(n)`` is called with the running count every ``every`` rows and once at the
        end, so a job row can show progress without a database write per row.
        """
        if every < 1:
            raise ValueError("every must be at least 1")
        count = 0
        reported = -1
        write = self.write
        for row in rows:
            write(row)
            count += 1
            if progress is not None and count % every == 0:
                progress(count)
                reported = count
        if progress is not None and reported != count:
            progress(count)
        return count

    def _setup(self, *, title: str | None, landscape: bool) -> None:
        ws, formats, last_col = self._ws, self._formats, self._last_col
        for c, column in enumerate(self._columns):
            width = column.width if column.width is not None else default_width(column)
            ws.set_column(c, c, width)
        if title is not None:
            ws.set_row(0, 28)
            if last_col == 0:
                ws.write_string(0, 0, str(title), formats.title)
            else:
                ws.merge_range(0, 0, 0, last_col, str(title), formats.title)
        for c, column in enumerate(self._columns):
            ws.write_string(self._header_row, c, str(column.header), formats.header)
        # Freezing below the header keeps the title visible too: it is one short row.
        ws.freeze_panes(self._header_row + 1, 0)

        ws.set_paper(PAPER_A4)
        if landscape:
            ws.set_landscape()
        else:
            ws.set_portrait()
        ws.fit_to_pages(1, 0)  # one page wide, as many pages tall as the rows need
        ws.repeat_rows(self._header_row)
        ws.center_horizontally()
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.7)
        ws.set_footer("&C第 &P 页 / 共 &N 页")
        # Ledgers are printed for inspectors; without gridlines the cells run together on paper.
        ws.hide_gridlines(0)

    def _finish(self) -> None:
        # The filter range is only known once all rows are in; xlsxwriter writes it at close.
        last_row = max(self._next_row - 1, self._header_row)
        self._ws.autofilter(self._header_row, 0, last_row, self._last_col)

    def _write_cell(self, r: int, c: int, value: Any) -> None:
        ws = self._ws
        if type(value) is str:
            self._write_text(r, c, value)
        elif isinstance(value, bool):
            ws.write_string(r, c, _YES if value else _NO)
        elif isinstance(value, _NUMBER_TYPES):
            number_format = self._number_formats[c]
            if number_format is None:
                self._write_text(r, c, str(value))
            else:
                ws.write_number(r, c, value, number_format)
        elif isinstance(value, datetime):
            if value.tzinfo is not None and value.utcoffset() is not None:
                value = value.astimezone(LOCAL_TZ)
            value = value.replace(tzinfo=None)
            if self._kinds[c] == "date":
                ws.write_datetime(r, c, value.date(), self._formats.date)
            else:
                ws.write_datetime(r, c, value, self._formats.datetime)
        elif isinstance(value, date):
            ws.write_datetime(r, c, value, self._formats.date)
        elif isinstance(value, str):
            # str subclasses (TextChoices members, SafeString): write the plain text.
            self._write_text(r, c, str.__str__(value))
        elif callable(value):
            raise TypeError(
                f"column {self._columns[c].header!r} produced a callable ({value!r}); "
                "use a callable column such as lambda p: p.get_gender_display()"
            )
        else:
            # Lazy translations, UUIDs and the like.
            self._write_text(r, c, str(value))

    def _write_text(self, r: int, c: int, text: str) -> None:
        # Always write_string: xlsxwriter's write() would turn "=..." into a formula, "http..."
        # into a link and (if asked) "0123" into a number.
        formats = self._formats
        if text.startswith(_FORMULA_STARTS):
            wrapped = self._wrapped[c]
            style = formats.wrapped_formula_like_text if wrapped else formats.formula_like_text
            self._ws.write_string(r, c, text, style)
        elif self._wrapped[c]:
            self._ws.write_string(r, c, text, formats.wrapped_text)
        else:
            self._ws.write_string(r, c, text)


class WorkbookWriter:
    """A workbook of one or more streamed sheets. Use as a context manager::

        with WorkbookWriter(buffer) as book:
            book.sheet("人员名单", columns=COLUMNS, title="某县困难学生名单").write_many(people)

    ``target`` is a path or a binary file-like object (``BytesIO``, an open file). The file is
    written when the ``with`` block ends; if the block raises, nothing is written and the
    temporary row files are removed.
    """

    def __init__(self, target: Target, *, landscape: bool = False) -> None:
        self._landscape = landscape
        # Our own temp dir, so an export that dies half-way leaves no row files behind
        # (xlsxwriter only removes them when the workbook closes successfully).
        self._tmpdir = tempfile.TemporaryDirectory(
            prefix="aidcases-xlsx-", ignore_cleanup_errors=True
        )
        target_arg = os.fspath(target) if isinstance(target, os.PathLike) else target
        self._workbook = xlsxwriter.Workbook(
            target_arg,
            {
                "constant_memory": True,
                "tmpdir": self._tmpdir.name,
                # Belt and braces: text goes through write_string anyway, but these stop any
                # stray write() from turning text into formulas, links or numbers.
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                # SimSun is what Chinese Excel and WPS users print with; Calibri has no CJK.
                "default_format_properties": {"font_name": "宋体", "font_size": 11},
            },
        )
        self._formats = _Formats(self._workbook)
        self._sheets: list[SheetWriter] = []
        self._names: set[str] = set()
        self._closed = False

    def sheet(
        self,
        name: str,
        *,
        columns: Sequence[Column],
        title: str | None = None,
        landscape: bool | None = None,
    ) -> SheetWriter:
        """Add a sheet (name made Excel-safe and unique) with its title and header rows."""
        if self._closed:
            raise RuntimeError("workbook is already closed")
        worksheet = self._workbook.add_worksheet(self._unique_name(name))
        writer = SheetWriter(
            worksheet,
            self._formats,
            columns=columns,
            title=title,
            landscape=self._landscape if landscape is None else landscape,
        )
        self._sheets.append(writer)
        return writer

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            for sheet in self._sheets:
                sheet._finish()
            self._workbook.close()
        finally:
            self._tmpdir.cleanup()

    def abort(self) -> None:
        """Drop the workbook without writing it."""
        self._closed = True
        self._tmpdir.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _unique_name(self, name: str) -> str:
        base = sanitize_sheet_name(name)
        candidate = base
        n = 1
        # Excel compares sheet names case-insensitively; "History" is reserved by Excel.
        while candidate.lower() in self._names or candidate.lower() == "history":
            n += 1
            suffix = f"({n})"
            candidate = _truncate_utf16(base, 31 - len(suffix)) + suffix
        self._names.add(candidate.lower())
        return candidate


def export_rows(
    target: Target,
    *,
    sheet_name: str,
    columns: Sequence[Column],
    rows: Iterable[Any],
    title: str | None = None,
    landscape: bool = False,
    progress: Callable[[int], None] | None = None,
    every: int = 500,
) -> int:
    """Write a one-sheet workbook; return the number of data rows."""
    with WorkbookWriter(target, landscape=landscape) as book:
        sheet = book.sheet(sheet_name, columns=columns, title=title)
        return sheet.write_many(rows, progress=progress, every=every)
