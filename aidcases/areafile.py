"""Reading an area list (区划代码, 名称, 上级区划代码) from .xlsx or .csv.

A stop-gap reader for the foundation; the shared import engine
(aidcases/importing.py, a later issue) will take it over.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from aidcases.services import AreaRow

HEADERS = {
    "code": ("区划代码", "行政区划代码", "代码", "code"),
    "name": ("名称", "区划名称", "name"),
    "parent_code": ("上级区划代码", "上级代码", "parent", "parent_code"),
}


def _clean(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip().replace(" ", "")


def _rows_from_xlsx(stream: IO[bytes]) -> Iterable[list]:
    from openpyxl import load_workbook  # uses defusedxml when it is installed

    try:
        wb = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:
        raise ValidationError(_("无法读取该 Excel 文件，请确认是 .xlsx 格式。")) from exc
    try:
        yield from wb.worksheets[0].iter_rows(values_only=True)
    finally:
        wb.close()


def _rows_from_csv(data: bytes) -> Iterable[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError(_("无法识别 CSV 文件的编码，请另存为 UTF-8。"))
    yield from csv.reader(io.StringIO(text))


def read_area_rows(stream: IO[bytes], filename: str) -> list[AreaRow]:
    """Parse the file; raise ValidationError (Chinese) when its shape is wrong."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        rows = _rows_from_csv(stream.read())
    elif suffix in (".xlsx", ".xlsm"):
        rows = _rows_from_xlsx(stream)
    else:
        raise ValidationError(_("只支持 .xlsx 或 .csv 文件。"))

    columns: dict[str, int] | None = None
    result: list[AreaRow] = []
    for line, raw in enumerate(rows, start=1):
        cells = [_clean(c) for c in raw]
        if columns is None:
            # The header may sit under title rows: take the first row naming code and name.
            found = {
                key: cells.index(name)
                for key, names in HEADERS.items()
                for name in names
                if name in cells
            }
            if "code" in found and "name" in found:
                columns = found
            continue
        if not any(cells):
            continue

        def cell(key: str, cells=cells, columns=columns) -> str:
            i = columns.get(key)
            return cells[i] if i is not None and i < len(cells) else ""

        result.append(
            AreaRow(
                line=line, code=cell("code"), name=cell("name"), parent_code=cell("parent_code")
            )
        )
    if columns is None:
        raise ValidationError(_("找不到表头：文件中应有“区划代码”和“名称”两列。"))
    return result
