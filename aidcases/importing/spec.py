"""What an import declares (``Column``, ``Spec``) and what reading a file finds (``Row``,
``Sheet``, ``Issue``, ``Report``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from aidcases.importing.cells import _compact, text

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
