"""Cell values: every normaliser an import column can use (text, name, dates, money …).

Each takes a non-blank cell exactly as read (str, int, float, datetime, bool) and returns the
clean value or raises ``CellError`` with a Chinese message for whoever filled the cell.
"""

from __future__ import annotations

import calendar
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from django.utils import timezone
from django.utils.translation import gettext as _

MALE, FEMALE = "male", "female"

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


# --- building blocks for columns --------------------------------------------------------------


def limited(max_length: int, parse: Callable[[Any], Any] = text) -> Callable[[Any], Any]:
    """A text parser that refuses what the database column cannot hold."""

    def parse_limited(raw: Any) -> Any:
        value = parse(raw)
        if isinstance(value, str) and len(value) > max_length:
            raise CellError(
                _("内容过长：最多 %(max)d 个字，这里有 %(n)d 个字")
                % {"max": max_length, "n": len(value)}
            )
        return value

    parse_limited.__name__ = f"limited_{max_length}"
    return parse_limited


def year(raw: Any) -> int:
    """A year (入学年份): 2023, "2023年", "2023级", "2023.9", an Excel date."""
    if isinstance(raw, datetime | date):
        return raw.year
    if isinstance(raw, int | float) and not isinstance(raw, bool) and float(raw).is_integer():
        value = int(raw)
    else:
        shown = cell_text(raw).replace(" ", "").rstrip("年级届")
        if shown.isdigit() and len(shown) == 4:
            value = int(shown)
        else:
            try:
                value = partial_date(raw).value.year
            except CellError:
                raise CellError(
                    _("“%(value)s”不是年份，请写成 2023") % {"value": cell_text(raw)}
                ) from None
    if not 1950 <= value <= timezone.localdate().year + 1:
        raise CellError(_("年份不对：%(value)s") % {"value": value})
    return value


def age(raw: Any) -> int:
    """An age in whole years, 1 to 120 ("12周岁" gives 12)."""
    value = integer(raw)
    if not 0 < value <= 120:
        raise CellError(_("年龄应在1到120之间，而不是%(value)s") % {"value": value})
    return value
