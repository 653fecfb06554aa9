"""The one shared Excel import engine: each import declares its columns, this reads the file.

It reads the rosters county and township staff really keep, not only our template: the header
may sit under title rows or span two rows under a merged group cell, columns are found by the
names people actually write (synonyms), blank rows, total rows and sign-off lines are skipped,
and every cell goes through a normaliser that either cleans it or says in Chinese what is
wrong, keeping the Excel row number so the person can find the cell.

The engine knows nothing about persons or visits. Row-level rules (a village that does not
exist, an ID number already on file) and the all-or-nothing commit belong to each import,
which adds its own issues to the same ``Report``::

    sheet = importing.read(upload, upload.name, STUDENT_ROSTER)
    sheet.report.extend(importing.find_duplicates(sheet.rows, "id_number", label="身份证号码"))
    if not sheet.report.ok:
        importing.write_error_report(buffer, sheet)

Messages are gettext strings, so reading a file that has problems needs Django settings.
"""

from __future__ import annotations

import calendar
import codecs
import contextlib
import csv
import io
import itertools
import logging
import math
import operator
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, Literal

import xlsxwriter
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries

from aidcases import xlsx

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "FEMALE",
    "MALE",
    "CellError",
    "Column",
    "Issue",
    "PartialDate",
    "Report",
    "Row",
    "Sheet",
    "Spec",
    "boolean",
    "cell_text",
    "choice",
    "decimal",
    "find_duplicates",
    "format_report_text",
    "full_date",
    "gender",
    "integer",
    "money",
    "name",
    "normalize_header",
    "partial_date",
    "read",
    "text",
    "write_error_report",
    "write_template",
]

logger = logging.getLogger(__name__)

Source = str | os.PathLike[str] | bytes | IO[bytes]
Target = str | os.PathLike[str] | IO[bytes]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_ROWS = 50_000
# The header is looked for among the first rows that hold anything; title, unit and date
# lines above it rarely take more than three or four.
HEADER_SCAN_ROWS = 20
# Nothing we import has this many columns; a stray value in column XFD must not make every
# row 16,384 cells wide.
MAX_COLUMNS = 256
# An .xlsx is a zip: refuse one that would unpack to far more than an honest roster of the
# allowed size (a "zip bomb" would otherwise fill the memory before the row cap is reached).
_MAX_UNZIP_RATIO = 15

MALE, FEMALE = "male", "female"

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and password-protected .xlsx
_ZIP_MAGIC = b"PK\x03\x04"
_EXCEL_ERRORS = frozenset(
    ("#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")
)

# --- text helpers -----------------------------------------------------------------------------

# Zero-width characters come along when names are pasted from WeChat or web pages.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_WHITESPACE = re.compile(r"\s+")
# What people put in a cell that does not apply: "/", "-", "——".
_PLACEHOLDER = re.compile(r"[-/\\—–_]{1,4}")


class CellError(ValueError):
    """A cell's value cannot be used; ``message`` says why, in Chinese, to whoever filled it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _nfkc(value: str) -> str:
    if value.isascii():
        return value
    value = unicodedata.normalize("NFKC", value)
    # str.translate is slow on CJK text; look first, translate only the rare cell that needs it.
    return value.translate(_INVISIBLE) if _INVISIBLE_RE.search(value) else value


def _number_text(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    # Excel shows at most 15 significant digits, so 1200.3000000000002 is 1200.3 to the user.
    return format(value, ".15g")


def cell_text(raw: Any) -> str:
    """Any cell value as clean text: NFKC (full-width digits and letters become ASCII), trimmed.

    Numbers read as Excel shows them (1200.0 → "1200"), dates as 2015-03-01.
    """
    if raw is None:
        return ""
    if isinstance(raw, str):
        return _nfkc(raw).strip()
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return _number_text(raw)
    if isinstance(raw, datetime):
        if raw.time() == time(0):
            return raw.date().isoformat()
        return raw.isoformat(sep=" ", timespec="seconds")
    if isinstance(raw, date | time):
        return raw.isoformat()
    return _nfkc(str(raw)).strip()


def _compact(raw: Any) -> str:
    return _WHITESPACE.sub("", cell_text(raw))


def _is_blank(raw: Any) -> bool:
    if raw is None:
        return True
    if type(raw) is not str:
        return False
    stripped = raw.strip()
    if not stripped:
        return True
    if len(stripped) > 4 or stripped.isalnum():  # the common case, decided cheaply
        return False
    normalized = _nfkc(stripped)
    return not normalized.strip() or _PLACEHOLDER.fullmatch(normalized) is not None


def _shown(raw: Any) -> str:
    """A value quoted in a message, cut short so a pasted paragraph does not flood the report."""
    shown = cell_text(raw)
    return shown if len(shown) <= 30 else shown[:30] + "…"


# --- normalisers ------------------------------------------------------------------------------
# Each takes a non-blank cell value exactly as read (str, int, float, datetime, bool) and
# returns the cleaned value or raises CellError. The engine never calls them with a blank cell.

_EXCEL_PRECISION = 1e15


def _check_precision(raw: Any) -> None:
    if isinstance(raw, float) and abs(raw) >= _EXCEL_PRECISION:
        raise CellError(
            _("这个数字超过15位，Excel已把末尾几位变成了0，请把该列设为“文本”格式后重新填写")
        )


def text(raw: Any) -> str:
    """Text: NFKC, trimmed, runs of spaces and line breaks inside become one space."""
    _check_precision(raw)  # a bank card number typed into a number cell
    return _WHITESPACE.sub(" ", cell_text(raw))


_NAME_DOTS = str.maketrans(dict.fromkeys("•‧・∙⋅", "·"))
_LATIN_GAP = re.compile(r"(?<=[A-Za-z])\s+(?=[A-Za-z])")
_CJK_PERIOD = re.compile(r"(?<=[^\x00-\x7f])\.(?=[^\x00-\x7f])")


def name(raw: Any) -> str:
    """A person's name: no spaces at all ("张　三" → "张三"), one kind of middle dot ("·").

    Chinese names never contain spaces; the only space kept is one between two Latin letters.
    """
    value = cell_text(raw).translate(_NAME_DOTS)
    value = _LATIN_GAP.sub("\0", value)
    value = _WHITESPACE.sub("", value).replace("\0", " ")
    # "买买提.艾力": a full stop typed for the middle dot of a minority name.
    return _CJK_PERIOD.sub("·", value)


_INTEGER = re.compile(r"([+-]?\d+)(?:\.0*)?(\D{0,3})")
_CJK_UNIT = re.compile(r"[\u4e00-\u9fff]{1,3}")
_MULTIPLIERS = frozenset("十百千万亿")


def integer(raw: Any) -> int:
    """A whole number; "4人" and "12周岁" give 4 and 12, "1,200" gives 1200."""
    if isinstance(raw, bool):
        raise CellError(_("应填写整数"))
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if raw.is_integer():
            return int(raw)
        raise CellError(_("应填写整数，不能有小数：%(value)s") % {"value": _number_text(raw)})
    value = _compact(raw).replace(",", "")
    match = _INTEGER.fullmatch(value)
    unit = match.group(2) if match else ""
    if match is None or (unit and (not _CJK_UNIT.fullmatch(unit) or _MULTIPLIERS & set(unit))):
        raise CellError(_("“%(value)s”不是整数") % {"value": _shown(raw)})
    return int(match.group(1))


_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)")
_CURRENCY_PREFIXES = ("¥", "RMB", "CNY", "人民币")
_CURRENCY_SUFFIXES = ("元整", "元", "圆", "整")
_CENT = Decimal("0.01")


def decimal(raw: Any) -> Decimal:
    """A number as Decimal: "1,200.50", "¥1200", "1200元", "1.2万元" (= 12000)."""
    if isinstance(raw, bool):
        raise CellError(_("应填写数字"))
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise CellError(_("应填写数字"))
        return Decimal(_number_text(raw))
    value = _compact(raw).replace(",", "").upper()
    sign = ""
    if value[:1] in ("+", "-"):
        sign, value = value[0], value[1:]
    for prefix in _CURRENCY_PREFIXES:
        if value.startswith(prefix):
            value = value[len(prefix) :]
            break
    scale = 1
    if value.endswith(("万元", "万")):
        value, scale = value.removesuffix("元").removesuffix("万"), 10_000
    else:
        for suffix in _CURRENCY_SUFFIXES:
            if value.endswith(suffix):
                value = value.removesuffix(suffix)
                break
    if not _NUMBER.fullmatch(value):
        raise CellError(_("“%(value)s”不是有效的数字") % {"value": _shown(raw)})
    try:
        number = Decimal(sign + value) * scale
    except InvalidOperation:  # pragma: no cover - the pattern above rules it out
        raise CellError(_("“%(value)s”不是有效的数字") % {"value": _shown(raw)}) from None
    return number


def money(raw: Any) -> Decimal:
    """An amount in yuan with at most two decimal places, returned with exactly two."""
    value = decimal(raw)
    cents = value.quantize(_CENT)
    if cents != value:
        raise CellError(_("金额最多保留两位小数：%(value)s") % {"value": _shown(raw)})
    return cents


_TRUE = frozenset(("是", "有", "√", "✓", "✔", "y", "yes", "true", "1", "对", "是的"))
_FALSE = frozenset(("否", "无", "×", "✗", "✘", "x", "n", "no", "false", "0", "不是", "没有", "错"))


def boolean(raw: Any) -> bool:
    """是/否, 有/无, √/×, Y/N, 1/0 (and Excel's TRUE/FALSE cells)."""
    if isinstance(raw, bool):
        return raw
    value = _compact(raw).casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellError(_("应填“是”或“否”，而不是“%(value)s”") % {"value": _shown(raw)})


_GENDERS = {
    "男": MALE,
    "男性": MALE,
    "男生": MALE,
    "m": MALE,
    "male": MALE,
    "女": FEMALE,
    "女性": FEMALE,
    "女生": FEMALE,
    "f": FEMALE,
    "female": FEMALE,
}


def gender(raw: Any) -> str:
    """男/女 (男性, M, F…) as ``MALE`` / ``FEMALE`` ("male" / "female")."""
    value = _GENDERS.get(_compact(raw).casefold())
    if value is None:
        raise CellError(_("性别应填“男”或“女”，而不是“%(value)s”") % {"value": _shown(raw)})
    return value


class choice:  # lower case: used like the other normalisers, parse=choice({...})
    """A normaliser for a fixed list: ``choice({"特别困难": "special", "特困": "special"})``.

    Keys are matched after normalising (NFKC, no spaces, case-insensitive). A plain list of
    options maps each to itself. ``choices`` (one label per value) feeds the template's
    drop-down.
    """

    def __init__(self, options: Mapping[str, Any] | Iterable[str]) -> None:
        pairs = list(options.items() if isinstance(options, Mapping) else ((o, o) for o in options))
        if not pairs:
            raise ValueError("choice() needs at least one option")
        self._lookup = {_compact(label).casefold(): value for label, value in pairs}
        labels: dict[Any, str] = {}
        for label, value in pairs:
            labels.setdefault(value, label)
        self.choices: tuple[str, ...] = tuple(labels.values())

    def __call__(self, raw: Any) -> Any:
        key = _compact(raw).casefold()
        if key in self._lookup:
            return self._lookup[key]
        raise CellError(
            _("“%(value)s”不是可选的值，应为：%(choices)s")
            % {"value": _shown(raw), "choices": "、".join(self.choices)}
        )

    def __repr__(self) -> str:
        return f"choice({list(self.choices)!r})"


# Drop-downs for the template, for the built-in normalisers that have a short list.
_TEMPLATE_CHOICES: dict[Callable[[Any], Any], tuple[str, ...]] = {
    boolean: ("是", "否"),
    gender: ("男", "女"),
}

# --- dates ------------------------------------------------------------------------------------

Precision = Literal["day", "month"]


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date that may only be known to the month ("2015年3月" on a roster).

    ``value`` is the day itself, or the first of the month when ``precision`` is "month".
    Compare with ``first_day``/``last_day``: a month-only enrolment date is only known to be
    before a birth date if its ``last_day`` is.
    """

    value: date
    precision: Precision

    @property
    def first_day(self) -> date:
        return self.value

    @property
    def last_day(self) -> date:
        if self.precision == "day":
            return self.value
        days = calendar.monthrange(self.value.year, self.value.month)[1]
        return self.value.replace(day=days)

    def __str__(self) -> str:
        if self.precision == "month":
            return f"{self.value.year:04d}-{self.value.month:02d}"
        return self.value.isoformat()


_MIN_YEAR, _MAX_YEAR = 1900, 2100
_EXCEL_EPOCH = date(1899, 12, 30)  # right for every serial after 1900-02-28
# Serials accepted as dates: 1910-01-01 to 2099-12-31. A number outside is more likely a typo
# than a date (and 4-digit years fall below it, so 2015 is never read as 1905-07-07).
_SERIAL_MIN = (date(1910, 1, 1) - _EXCEL_EPOCH).days
_SERIAL_MAX = (date(2099, 12, 31) - _EXCEL_EPOCH).days
_DAY_FORM = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?"
    r"(?:T?\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?)?"  # "2015-03-01 00:00:00" from a CSV
)
_MONTH_FORM = re.compile(r"(\d{4})[-/.年](\d{1,2})月?")


def _unrecognised_date(raw: Any) -> CellError:
    return CellError(
        _("无法识别的日期“%(value)s”，请写成 2015-03-01、2015年3月1日 或 2015.3")
        % {"value": _shown(raw)}
    )


def _make(raw: Any, year: int, month: int, day: int | None) -> PartialDate:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise CellError(_("年份不对：“%(value)s”") % {"value": _shown(raw)})
    if not 1 <= month <= 12:
        raise CellError(_("月份不对：“%(value)s”") % {"value": _shown(raw)})
    if day is None:
        return PartialDate(date(year, month, 1), "month")
    try:
        return PartialDate(date(year, month, day), "day")
    except ValueError:
        raise CellError(
            _("日期不存在：%(year)d年%(month)d月%(day)d日")
            % {"year": year, "month": month, "day": day}
        ) from None


def _from_digits(raw: Any, digits: str) -> PartialDate:
    if len(digits) == 8:  # 20150301
        return _make(raw, int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    if len(digits) == 6:  # 201503
        return _make(raw, int(digits[:4]), int(digits[4:]), None)
    number = int(digits)
    if _MIN_YEAR <= number <= _MAX_YEAR:
        raise CellError(_("只有年份“%(value)s”，请至少写到月份，如 2015.3") % {"value": number})
    if _SERIAL_MIN <= number <= _SERIAL_MAX:
        return PartialDate(_EXCEL_EPOCH + timedelta(days=number), "day")
    raise _unrecognised_date(raw)


def _from_float(raw: float) -> PartialDate:
    whole = math.floor(raw)
    if _MIN_YEAR <= whole <= _MAX_YEAR:
        # "2015.3" typed into a General cell arrives as the number 2015.3. Excel has already
        # turned "2015.10" into 2015.1, so a single digit 1 could be January or October.
        month_digits = _number_text(raw).partition(".")[2]
        if month_digits == "1":
            raise CellError(
                _(
                    "“%(value)s”可能是%(year)d年1月，也可能是%(year)d年10月"
                    "（Excel会把2015.10存成2015.1），请写成“%(year)d年1月”或“%(year)d年10月”"
                )
                % {"value": _number_text(raw), "year": whole}
            )
        if len(month_digits) in (1, 2):
            return _make(raw, whole, int(month_digits), None)
        raise _unrecognised_date(raw)
    if _SERIAL_MIN <= whole <= _SERIAL_MAX:  # a serial with a time of day
        return PartialDate(_EXCEL_EPOCH + timedelta(days=whole), "day")
    raise _unrecognised_date(raw)


def partial_date(raw: Any) -> PartialDate:
    """A date to the day or only to the month, from any form people write.

    Day: Excel date cells, serial numbers (44927 → 2023-01-01), 2015-03-01, 2015/3/1,
    2015.3.1, 2015年3月1日, 20150301. Month: 2015.03, 2015-3, 2015年3月, 201503.
    """
    if isinstance(raw, datetime):
        return PartialDate(raw.date(), "day")
    if isinstance(raw, date):
        return PartialDate(raw, "day")
    if isinstance(raw, bool) or isinstance(raw, time | timedelta):
        raise _unrecognised_date(raw)
    if isinstance(raw, int):
        if raw <= 0:
            raise _unrecognised_date(raw)
        return _from_digits(raw, str(raw))
    if isinstance(raw, float):
        if not math.isfinite(raw) or raw <= 0:
            raise _unrecognised_date(raw)
        return _from_digits(raw, str(int(raw))) if raw.is_integer() else _from_float(raw)
    value = _compact(raw).rstrip(".")
    if value.isdigit():
        return _from_digits(raw, value)
    match = _DAY_FORM.fullmatch(value)
    if match:
        year, month, day = map(int, match.groups())
        return _make(raw, year, month, day)
    match = _MONTH_FORM.fullmatch(value)
    if match:
        year, month = map(int, match.groups())
        return _make(raw, year, month, None)
    raise _unrecognised_date(raw)


def full_date(raw: Any) -> date:
    """A date to the day (any form ``partial_date`` reads); month-only is an error."""
    value = partial_date(raw)
    if value.precision != "day":
        raise CellError(
            _("“%(value)s”只有年月，请写完整的年月日，如 2015-03-01") % {"value": _shown(raw)}
        )
    return value.value


# --- declarations -----------------------------------------------------------------------------

# Markers people put on header cells: "*姓名", "身份证号码*", "联系电话（选填）", "备注：".
_HEADER_MARKERS = re.compile(r"^[*※]+|(?:\*|\((?:必填|选填|可选|必须|必录|选录|非必填)项?\)|:)+$")
_TRAILING_BRACKET = re.compile(r"(?:\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】)$")


def normalize_header(raw: Any) -> str:
    """A header cell as matched against declared names: NFKC, no spaces, no required markers."""
    value = _compact(raw)
    previous = None
    while previous != value:
        previous, value = value, _HEADER_MARKERS.sub("", value)
    return value.casefold()


@dataclass(frozen=True)
class Column:
    """One column an import reads.

    ``label`` is the canonical Chinese header (used in the template and in messages);
    ``synonyms`` are the other names people write for it. ``required`` means the column must
    be in the file and every row must have a value. ``parse`` is any callable taking the
    non-blank cell as read (str, int, float, datetime or bool) and returning the clean value;
    it reports a bad value by raising ``CellError`` or Django's ``ValidationError``.
    """

    key: str
    label: str
    synonyms: tuple[str, ...] = ()
    required: bool = False
    parse: Callable[[Any], Any] = text
    example: str = ""
    help: str = ""

    def __post_init__(self) -> None:
        if not self.key or not self.label:
            raise ValueError("a column needs a key and a label")
        if isinstance(self.synonyms, str):
            raise TypeError(f"synonyms of {self.key!r} must be a tuple, not a string")


@dataclass(frozen=True)
class Spec:
    """What one import reads: a title (for the template) and its columns."""

    title: str
    columns: tuple[Column, ...]
    _names: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        columns = tuple(self.columns)
        if not columns:
            raise ValueError("a spec needs at least one column")
        object.__setattr__(self, "columns", columns)
        names: dict[str, str] = {}
        keys: set[str] = set()
        for column in columns:
            if column.key in keys:
                raise ValueError(f"column key {column.key!r} is declared twice")
            keys.add(column.key)
            for header in (column.label, *column.synonyms):
                normalized = normalize_header(header)
                if not normalized:
                    raise ValueError(f"empty header name for column {column.key!r}")
                owner = names.setdefault(normalized, column.key)
                if owner != column.key:
                    raise ValueError(
                        f"header name {header!r} is declared by both {owner!r} and {column.key!r}"
                    )
        object.__setattr__(self, "_names", names)

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    def match(self, header: Any) -> str | None:
        """The key of the column this header cell names, or None."""
        normalized = normalize_header(header)
        if not normalized:
            return None
        key = self._names.get(normalized)
        if key is None:
            # "金额(元)", "身份证号码(18位)": the name without its trailing note.
            stripped = _TRAILING_BRACKET.sub("", normalized)
            if stripped and stripped != normalized:
                key = self._names.get(stripped)
        return key


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem: the Excel row (None for the file as a whole), the column label, a message.

    A ``warning`` is shown but does not stop the import.
    """

    line: int | None
    column: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        parts = []
        if self.warning:
            parts.append(_("提示："))
        if self.line is not None:
            parts.append(_("第%(line)d行 ") % {"line": self.line})
        if self.column:
            parts.append(f"[{self.column}] ")
        parts.append(self.message)
        return "".join(parts)


class Report:
    """Every issue found in one file: the engine's, then each import's own."""

    def __init__(self, issues: Iterable[Issue] = ()) -> None:
        self._issues: list[Issue] = list(issues)

    def add(self, line: int | None, column: str, message: str, *, warning: bool = False) -> Issue:
        issue = Issue(line, column, message, warning)
        self._issues.append(issue)
        return issue

    def extend(self, issues: Iterable[Issue]) -> None:
        self._issues.extend(issues)

    @property
    def ok(self) -> bool:
        """True when nothing stops the import (warnings do not)."""
        return not any(not issue.warning for issue in self._issues)

    @property
    def issues(self) -> list[Issue]:
        """File-level issues first, then by row; the order found within a row."""
        return sorted(self._issues, key=lambda i: (i.line is not None, i.line or 0))

    @property
    def errors(self) -> list[Issue]:
        return [issue for issue in self.issues if not issue.warning]

    @property
    def warnings(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.warning]

    def for_line(self, line: int | None) -> list[Issue]:
        return [issue for issue in self._issues if issue.line == line]

    def __len__(self) -> int:
        return len(self._issues)

    def __iter__(self) -> Iterator[Issue]:
        return iter(self.issues)


@dataclass(slots=True)
class Row:
    """One data row. ``values`` has every declared key (None when blank or not in the file);
    ``raw`` the cells as read; ``cells`` the whole row as read, every column of the file."""

    line: int
    values: dict[str, Any]
    raw: dict[str, Any]
    errors: list[Issue] = field(default_factory=list)
    cells: tuple[Any, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Sheet:
    """What ``read`` found. ``columns`` maps each found key to its 0-based column position;
    ``headers`` is the file's own header text for every position; ``skipped`` the total and
    sign-off lines left out (line → reason)."""

    spec: Spec
    report: Report
    rows: list[Row] = field(default_factory=list)
    header_row: int | None = None
    columns: dict[str, int] = field(default_factory=dict)
    headers: tuple[str, ...] = ()
    sheet_name: str | None = None
    skipped: dict[int, str] = field(default_factory=dict)

    @property
    def missing_required(self) -> list[str]:
        return [c.label for c in self.spec.columns if c.required and c.key not in self.columns]

    @property
    def missing_optional(self) -> list[str]:
        return [c.label for c in self.spec.columns if not c.required and c.key not in self.columns]

    def letter(self, key: str) -> str:
        """The Excel column letter ("C") of a found column."""
        return get_column_letter(self.columns[key] + 1)


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
    """Read an .xlsx/.xlsm/.csv upload against ``spec``; never raises for a bad file.

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


def _too_big(max_bytes: int) -> _Unreadable:
    return _Unreadable(
        _("文件太大：超过 %(mb)s MB。请删去无关的工作表、图片，或拆分成几个文件分批导入。")
        % {"mb": f"{max_bytes / 1024 / 1024:g}"}
    )


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
    if suffix == ".xls" or data.startswith(_OLE_MAGIC):
        raise _Unreadable(
            _(
                "这是旧版 Excel（.xls）文件，或设置了打开密码，无法直接导入。"
                "请用 Excel 或 WPS 打开，点“另存为”，保存类型选“Excel 工作簿（*.xlsx）”"
                "（不要设密码），再导入新文件。"
            )
        )
    if suffix in (".xlsx", ".xlsm") or (suffix == ".csv" and data.startswith(_ZIP_MAGIC)):
        return _xlsx_table(data, spec, max_bytes, max_rows)
    if suffix == ".csv":
        return _csv_table(data, max_rows), [], None
    raise _Unreadable(
        _("不支持“%(suffix)s”文件，请上传 Excel（.xlsx）或 CSV 文件。")
        % {"suffix": suffix or filename}
    )


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
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _corrupt() from None
    if unpacked > max_bytes * _MAX_UNZIP_RATIO:
        raise _too_big(max_bytes)
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


def _worksheet_rows(worksheet: Any, merges: list[Merge]) -> Iterator[tuple[int, list[Any]]]:
    """Rows that hold any value, with their real row numbers; merged ranges into ``merges``.

    openpyxl's read-only sheets do not give merged cells, and their ``iter_rows`` trusts the
    sheet's stated dimensions (some programs write wrong ones, cutting rows short). Its own
    parser gives both right; ``mergeCells`` follows the rows in the file, so ``merges`` is
    complete once the rows are exhausted. (openpyxl internals: pinned in requirements.txt.)
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    workbook = worksheet.parent
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
                (cell["column"], cell["value"])
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


# --- writing ----------------------------------------------------------------------------------


def format_report_text(report: Report) -> str:
    """One line per issue, for the command line: "第12行 [身份证号码] 校验位错误"."""
    return "\n".join(str(issue) for issue in report.issues)


def _explain(issues: Sequence[Issue]) -> str | None:
    if not issues:
        return None
    parts = []
    for issue in issues:
        part = f"{issue.column}：{issue.message}" if issue.column else issue.message
        parts.append(_("（提示）") + part if issue.warning else part)
    return "；".join(parts)


def _report_value(value: Any) -> Any:
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date()
    return value


def write_error_report(target: Target, sheet: Sheet, report: Report | None = None) -> None:
    """The uploaded rows as they were, each with its problems, as a workbook.

    Columns: 原行号 (the row number in the uploaded file), every column of the file under its
    own header, and 错误说明. Rows without problems are included, so the file can be fixed
    in place; problems not tied to a data row (a missing column) come first. Read back with
    the same spec, the report gives the same values (原行号 and 错误说明 are ignored).
    """
    report = sheet.report if report is None else report
    by_line: dict[int | None, list[Issue]] = {}
    for issue in report.issues:
        by_line.setdefault(issue.line, []).append(issue)
    row_lines = {row.line for row in sheet.rows}
    width = max([len(sheet.headers), *(len(row.cells) for row in sheet.rows)])
    names = [
        (sheet.headers[i] if i < len(sheet.headers) else "")
        or _("%(letter)s列") % {"letter": get_column_letter(i + 1)}
        for i in range(width)
    ]
    columns = [xlsx.Column(_("原行号"), operator.itemgetter(0), kind="int", width=8)]
    columns += [xlsx.Column(n, operator.itemgetter(i + 1)) for i, n in enumerate(names)]
    columns.append(xlsx.Column(_("错误说明"), operator.itemgetter(width + 1), width=60))

    def records() -> Iterator[list[Any]]:
        for line, issues in by_line.items():
            if line not in row_lines:
                yield [line, *([None] * width), _explain(issues)]
        for row in sheet.rows:
            cells = [_report_value(v) for v in row.cells]
            cells += [None] * (width - len(cells))
            yield [row.line, *cells, _explain(by_line.get(row.line, ()))]

    errors = report.errors
    if errors:
        title = _("%(title)s 导入检查：%(rows)d 行有问题，共 %(count)d 处") % {
            "title": sheet.spec.title,
            "rows": len({issue.line for issue in errors if issue.line is not None}),
            "count": len(errors),
        }
    else:
        title = _("%(title)s 导入检查：没有发现问题") % {"title": sheet.spec.title}
    with xlsx.WorkbookWriter(target, landscape=True) as book:
        book.sheet(_("导入检查"), columns=columns, title=title).write_many(records())


_TEMPLATE_ROWS = 1000  # how far down the drop-downs reach


def write_template(target: Target, spec: Spec) -> None:
    """The downloadable template: title, header (required columns red with *), one example
    row, every column formatted as text (an 18-digit ID number stays exact), a note on each
    header cell, and drop-downs where the answer is from a short list."""
    target_arg = os.fspath(target) if isinstance(target, os.PathLike) else target
    book = xlsxwriter.Workbook(
        target_arg,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_format_properties": {"font_name": "宋体", "font_size": 11},
        },
    )
    try:
        ws = book.add_worksheet(xlsx.sanitize_sheet_name(spec.title))
        as_text = book.add_format({"num_format": "@"})
        title_format = book.add_format(
            {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"}
        )
        header = {"bold": True, "align": "center", "valign": "vcenter", "border": 1}
        header_format = book.add_format({**header, "bg_color": "#D9E1F2"})
        required_format = book.add_format({**header, "bg_color": "#D9E1F2", "font_color": "red"})
        example_format = book.add_format({"num_format": "@", "font_color": "#808080"})

        last = len(spec.columns) - 1
        title = _("%(title)s（标 * 的列必须填写；第3行是示例，请改成实际内容）") % {
            "title": spec.title
        }
        ws.set_row(0, 28)
        if last:
            ws.merge_range(0, 0, 0, last, title, title_format)
        else:
            ws.write_string(0, 0, title, title_format)
        for c, column in enumerate(spec.columns):
            width = max(
                xlsx.display_width(column.label) + 4, xlsx.display_width(column.example) + 2, 10
            )
            ws.set_column(c, c, min(width, 40), as_text)
            label = f"{column.label}*" if column.required else column.label
            ws.write_string(1, c, label, required_format if column.required else header_format)
            if column.example:
                ws.write_string(2, c, column.example, example_format)
            choices = getattr(column.parse, "choices", None) or _TEMPLATE_CHOICES.get(column.parse)
            note = [_("必填") if column.required else _("选填")]
            if column.help:
                note.append(column.help)
            if choices:
                note.append(_("可填：%(choices)s") % {"choices": "、".join(choices)})
            if column.synonyms:
                note.append(_("表头也可写作：%(names)s") % {"names": "、".join(column.synonyms)})
            ws.write_comment(1, c, "\n".join(note), {"x_scale": 1.6, "y_scale": 1.4})
            if choices and len(",".join(choices)) < 250:
                ws.data_validation(
                    2,
                    c,
                    2 + _TEMPLATE_ROWS - 1,
                    c,
                    {"validate": "list", "source": list(choices), "show_error": False},
                )
        ws.freeze_panes(2, 0)
        ws.set_paper(xlsx.PAPER_A4)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(1)
    finally:
        book.close()
