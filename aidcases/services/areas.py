"""The administrative-area tree (county → township → village → hamlet → group), loaded from rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from aidcases.audit import audit_log
from aidcases.models import Area, User
from aidcases.services.common import acting

LEVEL_BY_DEPTH = [
    Area.Level.COUNTY,
    Area.Level.TOWNSHIP,
    Area.Level.VILLAGE,
    Area.Level.HAMLET,
    Area.Level.GROUP,
]


CODE_MAX_LENGTH = Area._meta.get_field("code").max_length
NAME_MAX_LENGTH = Area._meta.get_field("name").max_length


def _depth(path: str) -> int:
    return path.count("/") - 1


def _moved_height(area: Area | None, new_path: str, existing: dict, by_code: dict) -> int:
    """How many levels a moved area takes along below it (descendants not in the file)."""
    if area is None or area.path == new_path:
        return 0
    return max(
        (
            _depth(a.path) - _depth(area.path)
            for a in existing.values()
            if a.path.startswith(area.path) and a.code not in by_code
        ),
        default=0,
    )


@dataclass(frozen=True)
class AreaRow:
    line: int  # row number in the source file, for error messages
    code: str
    name: str
    parent_code: str


@dataclass
class AreaLoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class AreaCheck:
    """What loading the rows would do, found without writing: every problem as (row, column,
    message), and for each good row whether it is new, changes (with what) or stays."""

    rows: dict[str, AreaRow] = field(default_factory=dict)  # by code, the rows without error
    paths: dict[str, str] = field(default_factory=dict)
    existing: dict[str, Area] = field(default_factory=dict)
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    actions: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    def problem(self, row: AreaRow, column: str, message: str) -> None:
        self.problems.append((row.line, column, message))

    @property
    def error_lines(self) -> list[str]:
        """ "第4行：区划代码“14990110A”应为数字。" each, in the order found."""
        return [_("第%(line)d行：%(message)s") % {"line": line, "message": message}
                for line, _column, message in self.problems]  # fmt: skip


def areas_check(*, rows: list[AreaRow]) -> AreaCheck:
    """Check (code, name, parent code) rows against each other and the tree; write nothing.

    The level follows from the depth in the tree: a root is a county, its children townships,
    then villages, hamlets, groups.
    """
    check = AreaCheck(existing={a.code: a for a in Area.objects.select_related("parent")})
    existing, by_code = check.existing, check.rows
    code_label, name_label, parent_label = _("区划代码"), _("名称"), _("上级区划代码")
    for row in rows:
        if not row.code.isdigit():
            check.problem(row, code_label, _("区划代码“%(code)s”应为数字。") % vars(row))
        elif len(row.code) > CODE_MAX_LENGTH:
            check.problem(
                row,
                code_label,
                _("区划代码“%(code)s”超过%(max)d位。") % {**vars(row), "max": CODE_MAX_LENGTH},
            )
        elif not row.name:
            check.problem(row, name_label, _("名称不能为空。"))
        elif len(row.name) > NAME_MAX_LENGTH:
            check.problem(row, name_label, _("名称超过%(max)d个字。") % {"max": NAME_MAX_LENGTH})
        elif row.code in by_code:
            check.problem(
                row,
                code_label,
                _("区划代码%(code)s重复（第%(first)d行已出现）。")
                % {**vars(row), "first": by_code[row.code].line},
            )
        elif row.parent_code == row.code:
            check.problem(row, parent_label, _("上级区划代码不能是自己。"))
        else:
            by_code[row.code] = row

    def parent_of(code: str) -> str:
        if code in by_code:
            return by_code[code].parent_code
        area = existing.get(code)
        return area.parent.code if area and area.parent_id else ""

    paths = check.paths

    def path_of(code: str, seen: tuple[str, ...] = ()) -> str | None:
        if code in paths:
            return paths[code]
        if code in seen:
            return None  # a cycle
        parent = parent_of(code)
        if not parent:
            paths[code] = f"/{code}/"
        else:
            if parent not in by_code and parent not in existing:
                return None
            parent_path = path_of(parent, (*seen, code))
            if parent_path is None:
                return None
            paths[code] = f"{parent_path}{code}/"
        return paths[code]

    for row in by_code.values():
        if row.parent_code and row.parent_code not in by_code and row.parent_code not in existing:
            check.problem(row, parent_label, _("上级区划代码%(parent_code)s不存在。") % vars(row))
            continue
        path = path_of(row.code)
        if path is None:
            check.problem(row, parent_label, _("上级关系形成了循环。"))
        elif _depth(path) + _moved_height(existing.get(row.code), path, existing, by_code) > len(
            LEVEL_BY_DEPTH
        ):
            check.problem(row, parent_label, _("层级超过五级（县/乡/村/自然村/组）。"))
        else:
            check.actions[row.code] = _action(row, path, existing)
    return check


def _action(row: AreaRow, path: str, existing: dict[str, Area]) -> tuple[str, list[str]]:
    """("new" | "updated" | "unchanged", the changed things in words) for one good row."""
    area = existing.get(row.code)
    if area is None:
        return "new", []
    changes = []
    if area.name != row.name:
        changes.append(_("名称"))
    if (area.parent.code if area.parent_id else "") != row.parent_code:
        changes.append(_("上级区划"))
    elif area.path != path or area.level != LEVEL_BY_DEPTH[path.count("/") - 2]:
        changes.append(_("层级位置"))
    return ("updated" if changes else "unchanged"), changes


def areas_load(*, acting_user: User | None, rows: list[AreaRow]) -> AreaLoadResult:
    """Create or update areas from (code, name, parent code) rows. All or nothing: with any
    problem (``areas_check``) nothing is written and ``errors`` says why. Loading the same
    rows again changes nothing. ``acting_user`` None is the system (set-up, before any user).
    """
    result = AreaLoadResult()
    check = areas_check(rows=rows)
    if check.problems:
        result.errors = check.error_lines
        return result
    existing, by_code, paths = check.existing, check.rows, check.paths

    with transaction.atomic(), acting(acting_user):
        moved: list[tuple[str, str]] = []
        # Parents before children: sort by depth.
        for row in sorted(by_code.values(), key=lambda r: paths[r.code].count("/")):
            path = paths[row.code]
            level = LEVEL_BY_DEPTH[path.count("/") - 2]
            parent = existing.get(row.parent_code) if row.parent_code else None
            area = existing.get(row.code)
            if area is None:
                area = Area(code=row.code, name=row.name, level=level, parent=parent, path=path)
                area.full_clean()
                area.save()
                existing[row.code] = area
                result.created += 1
            elif (area.name, area.level, area.parent_id, area.path) != (
                row.name,
                level,
                parent.pk if parent else None,
                path,
            ):
                if area.path != path:
                    moved.append((area.path, path))
                area.name, area.level, area.parent, area.path = row.name, level, parent, path
                area.full_clean()
                area.save(update_fields=["name", "level", "parent", "path"])
                result.updated += 1
            else:
                result.unchanged += 1
        # A moved area drags its subtree along: one UPDATE per moved area.
        for old_path, new_path in moved:
            Area.objects.filter(path__startswith=old_path).exclude(code__in=by_code).update(
                path=Concat(Value(new_path), Substr("path", len(old_path) + 1))
            )
        if moved:
            # A subtree that moved up or down a level changes what its areas are.
            for depth, level in enumerate(LEVEL_BY_DEPTH, start=1):
                Area.objects.filter(path__regex=rf"^(/[0-9]+){{{depth}}}/$").exclude(
                    level=level
                ).update(level=level)
        if result.created or result.updated:
            audit_log(
                actor=acting_user,
                verb="area.load",
                details={"created": result.created, "updated": result.updated},
            )
    return result
