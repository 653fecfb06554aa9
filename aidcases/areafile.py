"""Reading an area list (区划代码, 名称, 上级区划代码) from .xlsx or .csv,
through the shared import engine."""

from __future__ import annotations

from typing import IO

from django.core.exceptions import ValidationError

from aidcases import importing
from aidcases.services import AreaRow


def _code(raw) -> str:
    value = importing.text(raw).replace(" ", "")
    return value


AREA_SPEC = importing.Spec(
    title="行政区划",
    columns=(
        importing.Column(
            "code", "区划代码", ("行政区划代码", "代码", "code"), required=True, parse=_code
        ),
        # Not "required" here: an empty name is reported by areas_load together
        # with the tree's own problems, so one pass shows every error.
        importing.Column("name", "名称", ("区划名称", "name"), parse=importing.name),
        importing.Column(
            "parent_code", "上级区划代码", ("上级代码", "parent", "parent_code"), parse=_code
        ),
    ),
)


def read_area_rows(stream: IO[bytes], filename: str) -> list[AreaRow]:
    """Parse the file; raise ValidationError (Chinese, with row numbers) on any problem."""
    sheet = importing.read(stream, filename, AREA_SPEC)
    if not sheet.report.ok:
        raise ValidationError([str(issue) for issue in sheet.report.errors])
    return [
        AreaRow(
            line=row.line,
            code=row.values.get("code") or "",
            name=row.values.get("name") or "",
            parent_code=row.values.get("parent_code") or "",
        )
        for row in sheet.rows
    ]
