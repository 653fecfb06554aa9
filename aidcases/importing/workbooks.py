"""Workbooks and text the engine writes: the error report (the upload with a 错误说明 column),
the downloadable template, and the one-line-per-issue text for the command line."""

from __future__ import annotations

import operator
import os
from collections.abc import Iterator, Sequence
from datetime import datetime, time
from typing import IO, Any

import xlsxwriter
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from aidcases import xlsx
from aidcases.importing.cells import _TEMPLATE_CHOICES, _number_text
from aidcases.importing.spec import Issue, Report, Sheet, Spec

Target = str | os.PathLike[str] | IO[bytes]

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
    sample = sheet.rows[:200]
    columns += [
        xlsx.Column(
            n,
            operator.itemgetter(i + 1),
            width=xlsx.fit_width(
                n, (_report_value(r.cells[i]) for r in sample if i < len(r.cells))
            ),
        )
        for i, n in enumerate(names)
    ]
    columns.append(xlsx.Column(_("错误说明"), operator.itemgetter(width + 1), width=60, wrap=True))

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
