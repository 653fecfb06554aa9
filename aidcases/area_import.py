"""The area tree from a file (区划代码, 名称, 上级区划代码; .xlsx or .csv): an import kind of the
shared flow, so the upload page, preview, check workbook, confirm and ``load_areas`` command
come from ``aidcases.importing``. The checks and the writing are ``services.areas_check`` and
``services.areas_load``: all or nothing, and loading the same file again changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from aidcases import importing, services
from aidcases.services import AreaRow


def _code(raw) -> str:
    return importing.text(raw).replace(" ", "")


AREA_SPEC = importing.Spec(
    title="行政区划",
    columns=(
        importing.Column(
            "code",
            "区划代码",
            ("行政区划代码", "代码", "code"),
            required=True,
            parse=_code,
            example="149901101",
        ),
        # Not "required" here: an empty name is reported by areas_check together with the
        # tree's own problems, so one pass shows every error.
        importing.Column(
            "name", "名称", ("区划名称", "name"), parse=importing.name, example="城关镇"
        ),
        importing.Column(
            "parent_code",
            "上级区划代码",
            ("上级代码", "parent", "parent_code"),
            parse=_code,
            example="149901",
            help="县（最上一级）留空",
        ),
    ),
)


def area_rows(sheet: importing.Sheet) -> list[AreaRow]:
    return [
        AreaRow(
            line=row.line,
            code=row.values.get("code") or "",
            name=row.values.get("name") or "",
            parent_code=row.values.get("parent_code") or "",
        )
        for row in sheet.rows
    ]


@dataclass(kw_only=True)
class AreaPlanRow(importing.PlanRow):
    row: AreaRow

    @property
    def code(self) -> str:
        return self.row.code

    @property
    def area_name(self) -> str:
        return self.row.name

    @property
    def parent_code(self) -> str:
        return self.row.parent_code


@dataclass(kw_only=True)
class AreaPlan(importing.Plan):
    area_rows: list[AreaRow]


class AreaImport(importing.ImportKind):
    name = "areas"
    title = gettext_lazy("行政区划导入")
    permission = "aidcases.manage_areas"
    description = gettext_lazy(
        "文件需含“区划代码”“名称”“上级区划代码”三列。级别按上下级关系自动判断："
        "县 → 乡(镇) → 行政村 → 自然村 → 组。"
    )
    preview_columns = (
        (gettext_lazy("区划代码"), "code"),
        (gettext_lazy("名称"), "area_name"),
        (gettext_lazy("上级区划代码"), "parent_code"),
    )
    back_url_name = "area_list"
    back_label = gettext_lazy("查看行政区划")

    def spec(self, options):
        return AREA_SPEC

    def validate(self, sheet, *, acting_user, context, file_name="", progress=None):
        rows = area_rows(sheet) if sheet.report.ok else []
        plan = AreaPlan(sheet=sheet, file_name=file_name, area_rows=rows)
        if not rows:
            return plan
        check = services.areas_check(rows=rows)
        for line, column, message in check.problems:
            sheet.report.add(line, column, message)
        if check.problems:
            return plan
        for row in rows:
            action, changes = check.actions[row.code]
            plan.rows.append(AreaPlanRow(line=row.line, action=action, changes=changes, row=row))
        return plan

    def commit(self, plan, *, acting_user, progress=None):
        result = services.areas_load(acting_user=acting_user, rows=plan.area_rows)
        if result.errors:
            raise ValidationError(result.errors)
        counts = {"new": result.created, "updated": result.updated, "unchanged": result.unchanged}
        return importing.Result(
            counts=counts, written=bool(result.created or result.updated), rows=plan.rows
        )


importing.register(AreaImport())
