"""Importing the beneficiary rosters township staff keep: 困难学生, 特困人员, 留守儿童.

One spec per category (the common person columns plus the category's own), read by the
shared engine (``aidcases.importing``), then::

    sheet = people_import.read(upload, upload.name, "student")
    plan = people_import.validate(sheet, "student", township, user)   # writes nothing
    if plan.ok:
        result = people_import.commit(plan, user)                      # all or nothing

``validate`` checks every row before anything is written: the engine's cell checks, the
ID number (via ``pii``), gender and birth date against it, a person listed twice, the
village (matched by name inside the township, also inside a longer address), persons the
user may not touch, and the same field checks the registry forms use
(``services.person_clean``). Each row then becomes new / updated (with the fields that
change) / unchanged; importing the same file twice writes nothing the second time.

Category details (profiles) are registered by category: the hub registers 特困人员 here;
the students app registers 困难学生 and 留守儿童 (``students/people_import.py``), so the hub
never imports it.

``commit`` runs in one transaction. Existing persons go through the services one by one
(person_update, case_open, case_update, the profile services); brand-new persons — the
bulk of a first import — are written in batches that store exactly what
``person_register`` / ``case_open`` / the profile services store (same cleaned values,
encryption, search tokens, one audit row each, history rows via the triggers), because
one service call per row cannot meet the 10,000-rows-in-20-seconds budget.

The web screens keep uploads under MEDIA_ROOT, in a folder per user named by a random
token (never served by URL); the job kinds for big files are registered at the bottom.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidcases import access, importing, jobs, pii, services, xlsx
from aidcases.audit import audit_log, register_verbs
from aidcases.importing import CellError, Column, Spec
from aidcases.models import (
    HARDSHIP_FLAGS,
    AidCase,
    Area,
    Job,
    Person,
    TekunProfile,
    User,
)

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"
ACTION_LABELS = {
    NEW: gettext_lazy("新增"),
    UPDATED: gettext_lazy("更新"),
    UNCHANGED: gettext_lazy("未变"),
}
PERMISSION = "aidcases.import_people"
# Files with this many data rows (or more) are checked and imported by a worker.
JOB_ROWS = 2_000
PROGRESS_EVERY = 250
BATCH = 2_000
PREVIEW_ROWS = 50

register_verbs({"person.import_check": gettext_lazy("下载花名册导入检查表")})


# --- cell parsers -----------------------------------------------------------------------------


def id_number_cell(raw: Any) -> str:
    """Clean only (spaces, full-width digits, lower-case x, Excel's number cells); the row
    check validates with ``pii.parse_id_number`` so the message is pii's."""
    return pii.normalize_id_number(raw)


def phone_cell(raw: Any) -> str:
    """A mobile (13812345678) or a landline with its area code (0359-1234567)."""
    return pii.normalize_phone(raw)


def limited(max_length: int, parse: Callable[[Any], Any] = importing.text) -> Callable[[Any], Any]:
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


_FLAG_ALIASES: dict[str, str] = {
    "建档立卡": "registered_poor",
    "建档立卡户": "registered_poor",
    "建档立卡贫困户": "registered_poor",
    "脱贫户": "registered_poor",
    "脱贫": "registered_poor",
    "低保": "dibao",
    "低保户": "dibao",
    "孤儿": "orphan",
    "事实无人抚养": "unsupported",
    "事实无人抚养儿童": "unsupported",
    "残疾": "disability",
    "因残": "disability",
    "重大疾病": "serious_illness",
    "大病": "serious_illness",
    "因病": "serious_illness",
    "受灾": "disaster",
    "因灾": "disaster",
    "单亲": "single_parent",
    "单亲家庭": "single_parent",
}
_NO_FLAGS = frozenset(("无", "没有", "无困难类型"))
_FLAG_SPLIT = re.compile(r"[,，、;；/\s+]+")


def hardship_flags(raw: Any) -> list[str]:
    """ "低保、残疾" → ["dibao", "disability"] (sorted); labels as HARDSHIP_FLAGS name them."""
    labels = {str(label): key for key, label in HARDSHIP_FLAGS}
    text = importing.text(raw)
    if text in _NO_FLAGS:
        return []  # said explicitly: none (a blank cell keeps what is on file)
    flags: set[str] = set()
    for part in _FLAG_SPLIT.split(text):
        if not part:
            continue
        key = _FLAG_ALIASES.get(part) or labels.get(part)
        if key is None:
            raise CellError(
                _("无法识别的困难类型“%(value)s”，可填：%(choices)s（多个用顿号隔开）")
                % {"value": part, "choices": "、".join(str(label) for _k, label in HARDSHIP_FLAGS)}
            )
        flags.add(key)
    return sorted(flags)


def year(raw: Any) -> int:
    """入学年份: 2023, "2023年", "2023级", "2023.9", an Excel date."""
    if isinstance(raw, datetime | date):
        return raw.year
    if isinstance(raw, int | float) and not isinstance(raw, bool) and float(raw).is_integer():
        value = int(raw)
    else:
        text = importing.cell_text(raw).replace(" ", "").rstrip("年级届")
        if text.isdigit() and len(text) == 4:
            value = int(text)
        else:
            try:
                value = importing.partial_date(raw).value.year
            except CellError:
                raise CellError(
                    _("“%(value)s”不是年份，请写成 2023") % {"value": importing.cell_text(raw)}
                ) from None
    if not 1950 <= value <= timezone.localdate().year + 1:
        raise CellError(_("年份不对：%(value)s") % {"value": value})
    return value


def age(raw: Any) -> int:
    value = importing.integer(raw)
    if not 0 < value <= 120:
        raise CellError(_("年龄应在1到120之间，而不是%(value)s") % {"value": value})
    return value


LEVEL = importing.choice(
    {
        str(AidCase.Level.SPECIAL.label): AidCase.Level.SPECIAL.value,
        str(AidCase.Level.HARD.label): AidCase.Level.HARD.value,
        str(AidCase.Level.GENERAL.label): AidCase.Level.GENERAL.value,
    }
)

# --- columns ----------------------------------------------------------------------------------

COMMON_COLUMNS: tuple[Column, ...] = (
    Column(
        "name",
        "姓名",
        ("学生姓名", "儿童姓名", "留守儿童姓名", "特困人员姓名", "供养对象姓名"),
        required=True,
        parse=limited(50, importing.name),
        example="张小明",
    ),
    Column("gender", "性别", parse=importing.gender, example="男"),
    Column(
        "id_number",
        "身份证号码",
        ("身份证号", "公民身份号码", "身份证", "证件号码", "身份证件号码", "居民身份证号码"),
        parse=id_number_cell,
        example="149901201203150013",
        help="18位，最后一位可以是X；确实没有的，请在“无身份证原因”列说明",
    ),
    Column(
        "birth_date",
        "出生日期",
        ("出生年月", "生日", "出生年月日"),
        parse=importing.partial_date,
        example="2012-03-15",
        help="可写到月，如 2012.03",
    ),
    Column(
        "village",
        "所在村",
        (
            "村(社区)",
            "所在村(社区)",
            "村",
            "村名",
            "行政村",
            "所属村",
            "村居",
            "村组",
            "住址",
            "家庭住址",
            "家庭地址",
            "地址",
            "现住址",
        ),
        required=True,
        parse=limited(200),
        example="南街村",
        help="本乡(镇)的村(社区)名称，也可以写详细地址（如 南街村三组）",
    ),
    Column(
        "phone",
        "联系电话",
        ("电话", "手机", "手机号", "手机号码", "联系方式"),
        parse=phone_cell,
        example="13812345678",
    ),
    Column("guardian_name", "监护人", ("监护人姓名",), parse=limited(50, importing.name)),
    Column(
        "guardian_relationship",
        "与儿童关系",
        ("关系", "与本人关系", "与监护人关系", "监护人关系", "与学生关系", "监护关系"),
        parse=limited(20),
    ),
    Column(
        "guardian_phone",
        "监护人联系电话",
        ("监护人电话", "监护人手机", "监护人手机号", "家长电话", "家长联系电话"),
        parse=phone_cell,
    ),
    Column("hardship_level", "认定等级", ("困难等级", "困难程度"), parse=LEVEL, example="比较困难"),
    Column(
        "flags",
        "困难类型",
        ("困难类别",),
        parse=hardship_flags,
        example="低保、残疾",
        help="可填多个，用顿号隔开",
    ),
    Column("notes", "备注", ("备注说明",), parse=importing.text),
    Column(
        "no_id_reason",
        "无身份证原因",
        ("无身份证号码原因", "无身份证号码的原因", "无证原因", "未办身份证原因"),
        parse=limited(200),
    ),
)

PERSON_LABELS = {
    "name": "姓名",
    "gender": "性别",
    "birth_date": "出生日期",
    "id_number": "身份证号码",
    "phone": "联系电话",
    "area": "所在村",
    "address": "详细地址",
    "guardian_name": "监护人",
    "guardian_relationship": "与儿童关系",
    "guardian_phone": "监护人联系电话",
    "notes": "备注",
    "no_id_reason": "无身份证原因",
}
# person_clean's error keys → the column the message belongs to.
_ERROR_COLUMNS = {**PERSON_LABELS, "area": "所在村", "address": "所在村"}
CASE_LABELS = {"hardship_level": "认定等级", "flags": "困难类型", "notes": "备注"}


# --- the registry -----------------------------------------------------------------------------


@dataclass
class Context:
    """One validation run: who, where, and whatever a category's handler prefetched."""

    category: str
    township: Area
    user: User
    data: dict[str, Any] = field(default_factory=dict)


class ProfileHandler:
    """A category's details (TekunProfile, StudentProfile, …): which row keys feed which
    profile field, how to read the current ones, and the services that write them.

    ``fields`` maps a row key to the profile field of the same name. Subclasses override
    what needs references resolved (a school by name).
    """

    model: Any = None
    fields: tuple[str, ...] = ()
    labels: dict[str, str] = {}

    def prepare(self, ctx: Context) -> None:
        """Prefetch reference data for the township (one query, not one per row)."""

    def current(self, case_ids: list[int]) -> dict[int, dict[str, Any]]:
        """Existing profile values, by case id."""
        rows = self.model.objects.filter(case_id__in=case_ids).values("case_id", *self.fields)
        return {row.pop("case_id"): row for row in rows}

    def defaults(self) -> dict[str, Any]:
        return {name: self.model._meta.get_field(name).get_default() for name in self.fields}

    def desired(self, ctx: Context, values: dict[str, Any], current: dict | None) -> dict:
        """What the profile should hold: the row's values, keeping what a blank cell or an
        absent column does not say."""
        base = dict(current) if current is not None else self.defaults()
        for name in self.fields:
            value = values.get(name)
            if value is not None and value != "":
                base[name] = value
        return base

    def changed(self, ctx: Context, current: dict | None, desired: dict) -> list[str]:
        base = current if current is not None else self.defaults()
        return [name for name in self.fields if base.get(name) != desired.get(name)]

    def check(self, ctx: Context, values: dict[str, Any]) -> list[tuple[str, str]]:
        """Extra row issues as (column label, message)."""
        return []

    def pending(self, ctx: Context) -> list[str]:
        """Things the commit will create besides persons ("将新建学校：…")."""
        return []

    def before_commit(self, ctx: Context, user: User) -> None:
        """Create what ``pending`` announced (inside the import's transaction)."""

    def model_values(self, ctx: Context, desired: dict) -> dict:
        """``desired`` as model field values (names resolved to objects)."""
        return dict(desired)

    def save(self, ctx: Context, user: User, case: AidCase, desired: dict) -> None:
        raise NotImplementedError

    def build(self, ctx: Context, case: AidCase, desired: dict) -> Any:
        """An unsaved profile for a brand-new case (the batch path; values already checked
        by the column parsers)."""
        return self.model(case=case, **self.model_values(ctx, desired))


@dataclass(frozen=True)
class Category:
    category: str
    spec: Spec
    handler: ProfileHandler

    @property
    def label(self) -> str:
        return str(AidCase.Category(self.category).label)

    @property
    def template_spec(self) -> Spec:
        """The spec as the template shows it: the ID column marked required (a blank one is
        allowed only with a reason, which the row check enforces)."""
        columns = tuple(
            Column(c.key, c.label, c.synonyms, True, c.parse, c.example, c.help)
            if c.key == "id_number"
            else c
            for c in self.spec.columns
        )
        return Spec(title=self.spec.title, columns=columns)


_REGISTRY: dict[str, Category] = {}


def register(category: str, *, title: str, columns: Iterable[Column], handler: ProfileHandler):
    """Register a category's roster: its spec is the common columns plus ``columns``."""
    spec = Spec(title=title, columns=(*COMMON_COLUMNS, *columns))
    _REGISTRY[category] = Category(category=category, spec=spec, handler=handler)
    return _REGISTRY[category]


def get(category: str) -> Category:
    try:
        return _REGISTRY[category]
    except KeyError:
        raise ValueError(f"no people import registered for {category!r}") from None


def categories() -> list[Category]:
    order = list(AidCase.Category.values)
    return sorted(
        _REGISTRY.values(),
        key=lambda c: order.index(c.category) if c.category in order else len(order),
    )


def read(source: Any, filename: str, category: str, **kwargs: Any) -> importing.Sheet:
    return importing.read(source, filename, get(category).spec, **kwargs)


# --- 特困人员 (the hub's own category) -----------------------------------------------------------


class TekunHandler(ProfileHandler):
    model = TekunProfile
    fields = services.TEKUN_FIELDS
    labels = {
        "support_mode": "供养方式",
        "care_home": "供养机构",
        "health": "健康状况",
        "disability": "残疾情况",
        "lives_alone": "是否独居",
        "responsible_cadre": "帮扶责任人",
        "responsible_cadre_phone": "责任人电话",
    }

    def save(self, ctx: Context, user: User, case: AidCase, desired: dict) -> None:
        services.tekun_profile_save(acting_user=user, case=case, **desired)


register(
    AidCase.Category.TEKUN,
    title="特困人员花名册",
    columns=(
        Column(
            "support_mode",
            "供养方式",
            ("供养形式", "供养类型"),
            parse=importing.choice(
                {
                    "分散供养": TekunProfile.SupportMode.DISPERSED.value,
                    "分散": TekunProfile.SupportMode.DISPERSED.value,
                    "集中供养": TekunProfile.SupportMode.CENTRALISED.value,
                    "集中": TekunProfile.SupportMode.CENTRALISED.value,
                }
            ),
            example="分散供养",
        ),
        Column("care_home", "供养机构", ("集中供养机构", "供养单位"), parse=limited(100)),
        Column("health", "健康状况", ("身体状况", "健康情况"), parse=limited(100), example="良好"),
        Column("disability", "残疾情况", ("残疾类别", "残疾类型"), parse=limited(100)),
        Column("lives_alone", "是否独居", ("独居",), parse=importing.boolean, example="是"),
        Column(
            "responsible_cadre",
            "帮扶责任人",
            ("责任人", "包联干部", "帮扶人"),
            parse=limited(50, importing.name),
        ),
        Column(
            "responsible_cadre_phone",
            "责任人电话",
            ("帮扶责任人电话", "责任人联系电话", "帮扶人电话"),
            parse=phone_cell,
        ),
    ),
    handler=TekunHandler(),
)


# --- villages ---------------------------------------------------------------------------------

_VILLAGE_SUFFIXES = ("村民委员会", "居民委员会", "村委会", "居委会", "社区", "村")


def _base_name(name: str) -> str:
    for suffix in _VILLAGE_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


class VillageMatcher:
    """Villages of one township by name; also found inside a longer address
    ("城关镇南街村三组"), or by the name without 村/社区 ("南街")."""

    def __init__(self, township: Area) -> None:
        self.township = township
        self.villages = list(
            Area.objects.filter(parent=township, level=Area.Level.VILLAGE, is_active=True).order_by(
                "code"
            )
        )
        self._names = [(self._key(v.name), v) for v in self.villages]
        self._cache: dict[str, tuple[Area | None, str]] = {}

    @staticmethod
    def _key(text: str) -> str:
        return re.sub(r"\s+", "", importing.cell_text(text))

    def match(self, text: str) -> tuple[Area | None, str]:
        """(village, "") or (None, the Chinese reason)."""
        key = self._key(text)
        if key not in self._cache:
            self._cache[key] = self._match(key, text)
        return self._cache[key]

    def _match(self, key: str, shown: str) -> tuple[Area | None, str]:
        exact = [v for name, v in self._names if name == key]
        if len(exact) == 1:
            return exact[0], ""
        for candidates in (
            [(name, v) for name, v in self._names if name in key],
            [(_base_name(name), v) for name, v in self._names if _base_name(name) in key],
        ):
            if not candidates:
                continue
            longest = max(len(name) for name, _v in candidates)
            best = {v.pk: v for name, v in candidates if len(name) == longest}
            if len(best) == 1:
                return next(iter(best.values())), ""
            names = "、".join(v.name for v in best.values())
            return None, _(
                "“%(value)s”可能是以下几个村(社区)中的任何一个：%(names)s，请写明是哪一个"
            ) % {
                "value": shown,
                "names": names,
            }
        known = "、".join(v.name for v in self.villages[:12])
        if len(self.villages) > 12:
            known += _("等")
        message = _("%(township)s没有名为“%(value)s”的村(社区)，请核对村名") % {
            "township": self.township.name,
            "value": shown,
        }
        if known:
            message += _("（本乡镇的村(社区)有：%(names)s）") % {"names": known}
        else:
            message += _("（系统中%(township)s还没有登记村(社区)，请先导入行政区划）") % {
                "township": self.township.name
            }
        return None, message


# --- the plan ---------------------------------------------------------------------------------


@dataclass
class PlanRow:
    line: int
    action: str
    name: str
    id_masked: str
    village: Area
    changes: list[str]
    person: Person | None
    person_data: services.PersonData
    person_values: dict
    person_changed: list[str]
    case: AidCase | None
    case_values: dict
    case_changed: list[str]
    profile: dict
    profile_changed: list[str]

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS[self.action])


@dataclass
class Plan:
    category: str
    township: Area
    user: User
    sheet: importing.Sheet
    file_name: str = ""
    rows: list[PlanRow] = field(default_factory=list)
    context: Context | None = None
    pending: list[str] = field(default_factory=list)

    @property
    def report(self) -> importing.Report:
        return self.sheet.report

    @property
    def ok(self) -> bool:
        return self.report.ok and bool(self.rows)

    @property
    def errors(self) -> list[importing.Issue]:
        errors = self.report.errors
        if not errors and not self.rows:
            return [importing.Issue(None, "", _("文件中没有可以导入的数据行。"))]
        return errors

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def counts(self) -> dict[str, int]:
        return {action: self.count(action) for action in (NEW, UPDATED, UNCHANGED)}

    def summary_line(self, *, done: bool = True) -> str:
        return summary_line(self.counts, self.pending, done=done)


def summary_line(counts: dict[str, int], schools: list[str], *, done: bool = True) -> str:
    text = _("新增 %(new)d，更新 %(updated)d，未变 %(unchanged)d") % counts
    if schools:
        label = _("新建学校") if done else _("将新建学校")
        text += _("；%(label)s：%(names)s") % {"label": label, "names": "、".join(schools)}
    return text


def _require_import(user: User, township: Area) -> None:
    if not (user.is_authenticated and user.has_perm(PERMISSION)):
        raise PermissionDenied
    if township.level != Area.Level.TOWNSHIP:
        raise ValidationError(_("请选择乡(镇)。"))
    if not access.areas_for(user).filter(pk=township.pk).exists():
        raise PermissionDenied


def _person_error_issues(line: int, exc: ValidationError, skip: set[str]) -> list[importing.Issue]:
    issues = []
    for key, messages in exc.message_dict.items():
        column = _ERROR_COLUMNS.get(key, "")
        if column in skip:
            continue
        issues.extend(importing.Issue(line, column, message) for message in messages)
    return issues


def _chunks(items: list, size: int = 5_000) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def validate(
    sheet: importing.Sheet,
    category: str,
    township: Area,
    user: User,
    *,
    file_name: str = "",
    progress: Callable[[int, int | None, str], None] | None = None,
) -> Plan:
    """Check every row and work out what importing it would do. Writes nothing."""
    _require_import(user, township)
    entry = get(category)
    if sheet.spec is not entry.spec:
        raise ValueError("the sheet was read with another category's spec")
    plan = Plan(category=category, township=township, user=user, sheet=sheet, file_name=file_name)
    report = sheet.report
    if sheet.header_row is not None and "id_number" not in sheet.columns:
        # Optional to the engine (a row may leave it blank with a reason), required here.
        column = entry.spec.column("id_number")
        report.add(
            None,
            "",
            _("缺少必填列：%(label)s") % {"label": column.label}
            + _("（也可写作：%(names)s）") % {"names": "、".join(column.synonyms)},
        )
    if sheet.header_row is None or sheet.missing_required or "id_number" not in sheet.columns:
        # A file without its key columns: row-by-row messages would only repeat that.
        return plan
    ctx = Context(category=category, township=township, user=user)
    plan.context = ctx
    handler = entry.handler
    handler.prepare(ctx)
    villages = VillageMatcher(township)
    total = len(sheet.rows)

    # Everything the rows refer to, fetched once.
    hashes: dict[int, str] = {}
    for row in sheet.rows:
        number = row.values.get("id_number")
        if number and len(number) == pii.ID_LENGTH:
            hashes[row.line] = pii.id_hash(number)
    existing: dict[str, Person] = {}
    for chunk in _chunks(sorted(set(hashes.values()))):
        for person in Person.objects.filter(id_number_hash__in=chunk).select_related("area"):
            existing[person.id_number_hash] = person
    no_id = _no_id_people(sheet, villages)
    people = [*existing.values(), *(p for ps in no_id.values() for p in ps)]
    in_scope = set()
    for chunk in _chunks([p.pk for p in people]):
        in_scope |= set(
            access.scope(Person.objects.filter(pk__in=chunk), user).values_list("pk", flat=True)
        )
    cases: dict[int, AidCase] = {}
    for chunk in _chunks([p.pk for p in people]):
        for case in AidCase.objects.filter(
            person_id__in=chunk, category=category, status=AidCase.Status.OPEN
        ):
            cases[case.person_id] = case
    profiles: dict[int, dict] = {}
    for chunk in _chunks([c.pk for c in cases.values()]):
        profiles.update(handler.current(chunk))

    report.extend(importing.find_duplicates(sheet.rows, "id_number", label="身份证号码"))

    def no_id_key(row: importing.Row):
        if row.values.get("id_number") or not row.values.get("name") or not row.values["village"]:
            return None
        village, _reason = villages.match(row.values["village"])
        return (row.values["name"], village.pk) if village else None

    report.extend(importing.find_duplicates(sheet.rows, no_id_key, label="姓名"))

    example = (entry.spec.column("name").example, entry.spec.column("id_number").example)
    for row in sheet.rows:
        if (row.values.get("name"), row.values.get("id_number")) == example:
            report.add(row.line, "姓名", _("这是导入模板中的示例行，请删除或改成实际内容"))

    for done, row in enumerate(sheet.rows, start=1):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, total, _("正在检查第 %(n)d 行") % {"n": row.line})
        planned = _plan_row(
            row,
            ctx=ctx,
            handler=handler,
            villages=villages,
            existing=existing,
            no_id=no_id,
            in_scope=in_scope,
            cases=cases,
            profiles=profiles,
            hashes=hashes,
            report=report,
        )
        if planned is not None:
            plan.rows.append(planned)
    plan.pending = handler.pending(ctx)
    if not report.ok:
        # A row with problems has no plan: nothing of this file will be written.
        bad = {issue.line for issue in report.errors}
        plan.rows = [r for r in plan.rows if r.line not in bad]
    if progress is not None:
        progress(total, total, _("检查完成"))
    return plan


def _no_id_people(sheet: importing.Sheet, villages: VillageMatcher) -> dict[tuple, list[Person]]:
    """Persons registered without an ID number, by (name, village): rows without one are
    matched on those, so that importing the same file twice still changes nothing."""
    names = {
        row.values["name"]
        for row in sheet.rows
        if not row.values.get("id_number") and row.values.get("name")
    }
    if not names or not villages.villages:
        return {}
    found: dict[tuple, list[Person]] = {}
    for person in Person.objects.filter(
        id_number_hash__isnull=True,
        merged_into__isnull=True,
        name__in=names,
        area__in=villages.villages,
    ).select_related("area"):
        found.setdefault((person.name, person.area_id), []).append(person)
    return found


def _pick(value: Any, current: Any) -> Any:
    return current if value is None or value == "" else value


def _plan_row(
    row: importing.Row,
    *,
    ctx: Context,
    handler: ProfileHandler,
    villages: VillageMatcher,
    existing: dict[str, Person],
    no_id: dict[tuple, list[Person]],
    in_scope: set[int],
    cases: dict[int, AidCase],
    profiles: dict[int, dict],
    hashes: dict[int, str],
    report: importing.Report,
) -> PlanRow | None:
    values = row.values
    line = row.line
    bad_columns = {issue.column for issue in row.errors}
    issues: list[importing.Issue] = []

    village, reason = (None, "")
    if values.get("village"):
        village, reason = villages.match(values["village"])
        if village is None:
            issues.append(importing.Issue(line, "所在村", reason))

    person: Person | None = None
    number = values.get("id_number") or ""
    if number and line in hashes:
        person = existing.get(hashes[line])
    elif not number and "身份证号码" not in bad_columns and village is not None and values["name"]:
        matches = no_id.get((values["name"], village.pk), [])
        birth = values.get("birth_date")
        if birth is not None:
            matches = [
                p
                for p in matches
                if p.birth_date is None or (birth.first_day <= p.birth_date <= birth.last_day)
            ]
        if len(matches) > 1:
            issues.append(
                importing.Issue(
                    line,
                    "身份证号码",
                    _(
                        "%(village)s有%(n)d名未登记身份证号码的“%(name)s”，无法确定是哪一位，请填写身份证号码"
                    )
                    % {"village": village.name, "n": len(matches), "name": values["name"]},
                )
            )
        elif matches:
            person = matches[0]

    if person is not None and person.pk not in in_scope:
        # Do not say who, or where: the user may not know this person exists. The row's
        # other cells are still checked (against that record, so that person_clean does not
        # name the village it is registered in).
        issues.append(
            importing.Issue(
                line,
                "身份证号码",
                _("此人已在其他乡镇登记，您无权修改其档案；如确为同一人，请联系县团委核实处理"),
            )
        )
    if village is None:
        # Still check the rest of the row, so that the report lists every problem at once.
        bad_columns.add("所在村")

    # The person as the registry forms would save them: blanks keep what is on file.
    birth = values.get("birth_date")
    birth_value = birth.value if birth is not None else None
    month_only = birth is not None and birth.precision == "month"
    if (
        person is not None
        and month_only
        and person.birth_date is not None
        and birth.first_day <= person.birth_date <= birth.last_day
    ):
        birth_value, month_only = person.birth_date, False
    address = ""
    if village is not None and VillageMatcher._key(values["village"]) != VillageMatcher._key(
        village.name
    ):
        address = values["village"]  # "南街村三组": more than the village name
    data = services.PersonData(
        name=values.get("name") or "",
        area=village or ctx.township,
        gender=values.get("gender") or "",
        id_number=number,
        no_id_reason=_pick(values.get("no_id_reason"), person.no_id_reason if person else ""),
        birth_date=birth_value,
        birth_date_month_only=month_only,
        phone=_pick(values.get("phone"), person.phone if person else ""),
        address=_pick(address, person.address if person else ""),
        guardian_name=_pick(values.get("guardian_name"), person.guardian_name if person else ""),
        guardian_relationship=_pick(
            values.get("guardian_relationship"), person.guardian_relationship if person else ""
        ),
        guardian_phone=_pick(values.get("guardian_phone"), person.guardian_phone if person else ""),
        notes=person.notes if person else "",
    )
    person_values: dict = {}
    if "身份证号码" not in bad_columns:
        try:
            # Every ID of the file was looked up in one query (`person` is that match).
            person_values = services.person_clean(data, existing=person, check_registered=False)
        except ValidationError as exc:
            issues.extend(_person_error_issues(line, exc, bad_columns))
    if person is not None and not person.is_active and person.pk in in_scope:
        issues.append(
            importing.Issue(
                line,
                "姓名",
                _("此人的档案已停用：本次会更新其信息，但不会恢复；如需恢复请到一人一档页面操作"),
                warning=True,
            )
        )
    if (
        person is not None
        and village is not None
        and person.pk in in_scope
        and not person.area.is_within(ctx.township)
    ):
        issues.append(
            importing.Issue(
                line,
                "所在村",
                _("此人原登记在%(old)s，导入后将改为%(new)s")
                % {"old": person.area.full_name(), "new": village.name},
                warning=True,
            )
        )
    if (
        person is not None
        and person.pk in in_scope
        and person_values.get("name")
        and person_values["name"] != person.name
    ):
        # Same ID number, another name: a typo in either place, worth a second look.
        issues.append(
            importing.Issue(
                line,
                "姓名",
                _("系统中该身份证号码登记的姓名是“%(old)s”，导入后将改为“%(new)s”")
                % {"old": person.name, "new": person_values["name"]},
                warning=True,
            )
        )
    for column, message in handler.check(ctx, values):
        issues.append(importing.Issue(line, column, message))
    report.extend(issues)
    if row.errors or any(not issue.warning for issue in issues):
        return None

    person_changed = _person_changes(person, person_values) if person else []
    case = cases.get(person.pk) if person else None
    case_values = {
        "hardship_level": _pick(values.get("hardship_level"), case.hardship_level if case else ""),
        "flags": values["flags"]
        if values.get("flags") is not None
        else (case.flags if case else []),
        "notes": _pick(values.get("notes"), case.notes if case else ""),
    }
    case_values["flags"] = sorted(set(case_values["flags"]))
    case_changed = []
    if case is not None:
        case_changed = [
            key for key in ("hardship_level", "notes") if getattr(case, key) != case_values[key]
        ]
        if set(case.flags) != set(case_values["flags"]):
            case_changed.append("flags")
    current_profile = profiles.get(case.pk) if case else None
    profile = handler.desired(ctx, values, current_profile)
    profile_changed = handler.changed(ctx, current_profile, profile) if case else []

    if person is None:
        action, changes = NEW, []
    else:
        changes = [PERSON_LABELS[name] for name in person_changed]
        if case is None:
            changes.append(
                _("新建%(category)s档案") % {"category": AidCase.Category(ctx.category).label}
            )
        changes += [CASE_LABELS[name] for name in case_changed]
        changes += [handler.labels.get(name, name) for name in profile_changed]
        action = UPDATED if changes else UNCHANGED
    return PlanRow(
        line=line,
        action=action,
        name=person_values.get("name", values.get("name") or ""),
        id_masked=pii.mask_id_number(number) if number else "",
        village=village,
        changes=changes,
        person=person,
        person_data=data,
        person_values=person_values,
        person_changed=person_changed,
        case=case,
        case_values=case_values,
        case_changed=case_changed,
        profile=profile,
        profile_changed=profile_changed,
    )


def _person_changes(person: Person, values: dict) -> list[str]:
    """The fields ``person_update`` would change (the same comparison it makes)."""
    changed = []
    for name in services.PERSON_FIELDS:
        if name not in values:
            continue
        if name == "area":
            if person.area_id != values["area"].pk:
                changed.append(name)
        elif getattr(person, name) != values[name]:
            changed.append(name)
    return changed


# --- commit -----------------------------------------------------------------------------------


@dataclass
class Result:
    counts: dict[str, int]
    schools: list[str]
    written: bool
    rows: list[PlanRow] = field(default_factory=list)

    def summary_line(self) -> str:
        return summary_line(self.counts, self.schools)


Progress = Callable[[int, int | None, str], None]


def _row_error(line: int, exc: ValidationError) -> ValidationError:
    issues = (
        _person_error_issues(line, exc, set())
        if hasattr(exc, "error_dict")
        else [importing.Issue(line, "", message) for message in exc.messages]
    )
    return ValidationError([str(issue) for issue in issues])


def commit(
    plan: Plan,
    user: User,
    *,
    progress: Progress | None = None,
) -> Result:
    """Write a validated plan in one transaction: all rows or none.

    Writes nothing at all (not even the import's own audit row) when every row is
    unchanged. Raises ValidationError (messages name the row) when something no longer
    holds — the transaction is then rolled back.
    """
    _require_import(user, plan.township)
    if plan.user.pk != user.pk:
        raise PermissionDenied
    if not plan.ok:
        raise ValidationError(_("文件有 %(n)d 处问题，未导入任何内容。") % {"n": len(plan.errors)})
    entry = get(plan.category)
    handler = entry.handler
    ctx = plan.context
    assert ctx is not None
    todo = [row for row in plan.rows if row.action != UNCHANGED]
    counts = plan.counts
    if not todo:
        return Result(counts=counts, schools=[], written=False, rows=plan.rows)
    total = len(todo)
    done = 0
    last = 0
    try:
        with transaction.atomic(), services.acting(user):
            handler.before_commit(ctx, user)
            new_rows = [row for row in todo if row.action == NEW]
            for batch in _chunks(new_rows, BATCH):
                _register_batch(batch, ctx=ctx, handler=handler, user=user)
                done += len(batch)
                if progress is not None:
                    progress(done, total, _("已导入 %(n)d 行") % {"n": done})
                last = done
            for row in todo:
                if row.action != UPDATED:
                    continue
                try:
                    _update_row(row, ctx=ctx, handler=handler, user=user)
                except ValidationError as exc:
                    raise _row_error(row.line, exc) from exc
                done += 1
                if progress is not None and done - last >= PROGRESS_EVERY:
                    progress(done, total, _("已导入 %(n)d 行") % {"n": done})
                    last = done
            audit_log(
                actor=user,
                verb="person.import",
                obj=plan.township,
                area=plan.township,
                details={
                    "file": plan.file_name,
                    "category": plan.category,
                    "township": plan.township.code,
                    "new": counts[NEW],
                    "updated": counts[UPDATED],
                    "unchanged": counts[UNCHANGED],
                    "schools": plan.pending,
                },
            )
    except (IntegrityError, DataError) as exc:
        # Someone registered one of these persons between the check and now (or a value
        # the checks let through does not fit its column).
        raise ValidationError(
            _("导入时发现其中有人刚被别人登记或修改，未导入任何内容，请重新上传检查后再导入。")
        ) from exc
    if progress is not None:
        progress(total, total, _("导入完成"))
    return Result(counts=counts, schools=list(plan.pending), written=True, rows=plan.rows)


def _update_row(row: PlanRow, *, ctx: Context, handler: ProfileHandler, user: User) -> None:
    """An existing person: one service call per thing that changes (each audited)."""
    person = row.person
    assert person is not None
    if row.person_changed:
        services.person_update(acting_user=user, person=person, data=row.person_data)
        person.area = row.person_values["area"]
    case = row.case
    if case is None:
        case = services.case_open(
            acting_user=user,
            person=person,
            category=ctx.category,
            hardship_level=row.case_values["hardship_level"],
            flags=row.case_values["flags"],
            notes=row.case_values["notes"],
        )
        handler.save(ctx, user, case, row.profile)
        return
    case.person = person
    if row.case_changed:
        services.case_update(acting_user=user, case=case, **row.case_values)
    if row.profile_changed:
        handler.save(ctx, user, case, row.profile)


def _register_batch(
    rows: list[PlanRow], *, ctx: Context, handler: ProfileHandler, user: User
) -> None:
    """Brand-new persons with their case and profile, through the batch service."""
    services.people_register_batch(
        acting_user=user,
        category=ctx.category,
        entries=[
            services.NewPersonEntry(
                person_values=row.person_values,
                hardship_level=row.case_values["hardship_level"],
                flags=row.case_values["flags"],
                notes=row.case_values["notes"],
                build_profile=lambda case, row=row: handler.build(ctx, case, row.profile),
            )
            for row in rows
        ],
    )


# --- the check and result workbooks -----------------------------------------------------------


def write_result(target: Any, rows: list[PlanRow], *, title: str) -> None:
    """What happened to each row (ID numbers masked)."""
    columns = [
        xlsx.Column("原行号", "line", kind="int", width=8),
        xlsx.Column("姓名", "name"),
        xlsx.Column("身份证号码", "id_masked", width=22),
        xlsx.Column("所在村", lambda r: r.village.name),
        xlsx.Column("处理结果", "action_label", width=10),
        xlsx.Column("变更内容", lambda r: "、".join(r.changes), width=50),
    ]
    xlsx.export_rows(target, sheet_name="导入结果", columns=columns, rows=rows, title=title)


def _issue_dict(issue: importing.Issue) -> dict:
    return {
        "line": issue.line,
        "column": issue.column,
        "message": issue.message,
        "warning": issue.warning,
    }


def plan_summary(plan: Plan, *, limit: int = PREVIEW_ROWS) -> dict:
    """What the preview page shows, as JSON-able data (ID numbers masked)."""
    by_action: dict[str, list[dict]] = {NEW: [], UPDATED: [], UNCHANGED: []}
    for row in plan.rows:
        shown = by_action[row.action]
        if len(shown) < limit:
            shown.append(
                {
                    "line": row.line,
                    "name": row.name,
                    "id_masked": row.id_masked,
                    "village": row.village.name,
                    "changes": row.changes,
                }
            )
    return {
        "ok": plan.ok,
        "counts": plan.counts,
        "total": len(plan.sheet.rows),
        "pending": plan.pending,
        "rows": by_action,
        "errors": [_issue_dict(i) for i in plan.errors],
        "warnings": [_issue_dict(i) for i in plan.report.warnings],
        "skipped": len(plan.sheet.skipped),
        "header_row": plan.sheet.header_row,
        "sheet_name": plan.sheet.sheet_name or "",
        "missing_optional": plan.sheet.missing_optional,
        "checked_at": timezone.now().isoformat(),
    }


@transaction.atomic
def record_check_download(
    *, acting_user: User, township: Area, file_name: str, category: str
) -> None:
    """The check workbook holds the uploaded personal data: its download is audited."""
    audit_log(
        actor=acting_user,
        verb="person.import_check",
        obj=township,
        area=township,
        details={"file": file_name, "category": category},
    )


# --- uploads kept for the web screens ---------------------------------------------------------

UPLOAD_DIR = "people_imports"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class UploadMissing(Exception):
    """No such upload for this user (or it expired): the views answer 404."""


def _user_root(user: User) -> Path:
    return Path(settings.MEDIA_ROOT) / UPLOAD_DIR / str(user.pk)


def upload_dir(user: User, token: str) -> Path:
    """The folder of one upload — only ever looked up under the user's own folder, so a
    token alone never reaches someone else's file."""
    if not _TOKEN.match(token or ""):
        raise UploadMissing
    path = _user_root(user) / token
    if not (path / "meta.json").is_file():
        raise UploadMissing
    return path


def upload_store(
    *, user: User, chunks: Iterable[bytes], file_name: str, category: str, township: Area
) -> str:
    """Keep an uploaded roster for preview and confirm; returns its token."""
    get(category)
    _purge_expired(user)
    token = secrets.token_urlsafe(24)
    path = _user_root(user) / token
    path.mkdir(parents=True)
    suffix = Path(file_name).suffix.lower()[:6]
    stored = path / f"upload{suffix}"
    with stored.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
    meta = {
        "file_name": Path(file_name).name[:200],
        "stored": stored.name,
        "category": category,
        "township": township.pk,
        "created_at": timezone.now().isoformat(),
        "state": "uploaded",
        "rows_estimate": estimate_rows(stored),
    }
    _write_json(path / "meta.json", meta)
    return token


def upload_meta(user: User, token: str) -> dict:
    return json.loads((upload_dir(user, token) / "meta.json").read_text(encoding="utf-8"))


def upload_update(user: User, token: str, **changes: Any) -> dict:
    path = upload_dir(user, token) / "meta.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta.update(changes)
    _write_json(path, meta)
    return meta


def upload_summary(user: User, token: str) -> dict | None:
    path = upload_dir(user, token) / "plan.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def upload_report_path(user: User, token: str) -> Path | None:
    path = upload_dir(user, token) / "report.xlsx"
    return path if path.is_file() else None


def upload_delete(user: User, token: str) -> None:
    shutil.rmtree(upload_dir(user, token), ignore_errors=True)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(path)


def _purge_expired(user: User) -> None:
    """Uploads are working copies: gone after JOB_FILE_TTL, like job files."""
    root = _user_root(user)
    if not root.is_dir():
        return
    limit = time.time() - settings.JOB_FILE_TTL.total_seconds()
    for child in root.iterdir():
        try:
            if child.is_dir() and child.stat().st_mtime < limit:
                shutil.rmtree(child, ignore_errors=True)
        except OSError:
            continue


_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>]")


def estimate_rows(path: Path) -> int:
    """About how many rows the file holds, without parsing it (to choose inline or job):
    the <row> elements of the largest worksheet, or the lines of a CSV."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
        if head != b"PK\x03\x04":
            with path.open("rb") as handle:
                return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        best = 0
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.startswith("xl/worksheets/") or not info.filename.endswith(
                    ".xml"
                ):
                    continue
                count, tail = 0, b""
                with archive.open(info) as sheet:
                    for chunk in iter(lambda: sheet.read(1 << 20), b""):
                        data = tail + chunk
                        count += len(_ROW_TAG.findall(data))
                        # keep a short tail so a tag cut between chunks is counted once
                        cut = data.rfind(b"<")
                        tail = data[cut:] if cut >= len(data) - 8 else b""
                        if tail:
                            count -= len(_ROW_TAG.findall(tail))
                best = max(best, count)
        return best
    except (OSError, zipfile.BadZipFile, ValueError):
        return 0


def needs_job(meta: dict) -> bool:
    return int(meta.get("rows_estimate") or 0) >= JOB_ROWS


def upload_township(user: User, meta: dict) -> Area:
    """The upload's township, if the user may still import into it (404 otherwise)."""
    township = (
        access.areas_for(user).filter(pk=meta.get("township"), level=Area.Level.TOWNSHIP).first()
    )
    if township is None:
        raise UploadMissing
    return township


def validate_upload(
    user: User, token: str, *, progress: Progress | None = None, state: str = "validated"
) -> Plan:
    """Read and check a stored upload; keep the preview data and the check workbook."""
    path = upload_dir(user, token)
    meta = upload_meta(user, token)
    township = upload_township(user, meta)
    with (path / meta["stored"]).open("rb") as handle:
        sheet = read(handle, meta["file_name"], meta["category"])
    plan = validate(
        sheet, meta["category"], township, user, file_name=meta["file_name"], progress=progress
    )
    _write_json(path / "plan.json", plan_summary(plan))
    with (path / "report.xlsx").open("wb") as out:
        importing.write_error_report(out, sheet, plan_report(plan))
    upload_update(user, token, state=state, ok=plan.ok)
    return plan


def plan_report(plan: Plan) -> importing.Report:
    """The sheet's report, plus the "nothing to import" line when the file had no rows."""
    if plan.rows or not plan.report.ok:
        return plan.report
    return importing.Report([*plan.report.issues, *plan.errors])


# --- jobs (files of JOB_ROWS rows or more) ----------------------------------------------------


def _detached(report: Progress) -> Progress:
    """Progress written from inside the import's transaction would stay invisible until it
    commits: write it from a short-lived thread, on its own connection."""

    def call(done: int, total: int | None = None, message: str = "") -> None:
        def run() -> None:
            try:
                report(done, total, message)
            finally:
                connections.close_all()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(timeout=10)

    return call


@contextmanager
def _gone_as_message() -> Iterator[None]:
    """A job whose upload expired, or whose user lost the township, fails with a reason."""
    try:
        yield
    except (UploadMissing, PermissionDenied):
        raise ValidationError(
            _("找不到上传的文件（可能已过期），或您已无权导入到该乡(镇)。请重新上传。")
        ) from None


def _title(category: str) -> str:
    return get(category).spec.title


@jobs.register(
    "people_import_validate", label=gettext_lazy("花名册导入检查"), permission=PERMISSION
)
def run_validate_job(*, job: Job, out: IO[bytes], progress: jobs.ProgressReporter) -> str:
    user = job.requested_by
    token = job.params["token"]
    progress(0, None, _("正在读取文件"))
    with _gone_as_message():
        plan = validate_upload(user, token, progress=progress)
    report = upload_report_path(user, token)
    assert report is not None
    with report.open("rb") as handle:
        shutil.copyfileobj(handle, out)
    return f"{_title(plan.category)}_导入检查.xlsx"


@jobs.register("people_import_commit", label=gettext_lazy("花名册导入"), permission=PERMISSION)
def run_commit_job(*, job: Job, out: IO[bytes], progress: jobs.ProgressReporter) -> str:
    """Re-check the stored file, then import it (all or nothing)."""
    user = job.requested_by
    token = job.params["token"]
    progress(0, None, _("正在复核文件"))

    def checking(done: int, total: int | None = None, message: str = "") -> None:
        progress(done, (total or 0) * 2 or None, message)

    with _gone_as_message():
        plan = validate_upload(user, token, progress=checking, state="committing")
    if not plan.ok:
        upload_update(user, token, state="validated", commit_job=None)
        raise ValidationError(
            _("复核时发现 %(n)d 处问题，未导入任何内容，请回到预览页查看。")
            % {"n": len(plan.errors)}
        )
    rows = len(plan.sheet.rows)
    detached = _detached(progress)

    def importing_progress(done: int, total: int | None = None, message: str = "") -> None:
        todo = max(total or 0, 1)
        detached(rows + done * rows // todo, rows * 2, message)

    result = commit(plan, user, progress=importing_progress)
    upload_update(user, token, state="committed", result=result.counts, schools=result.schools)
    write_result(out, result.rows, title=result.summary_line())
    return f"{_title(plan.category)}_导入结果.xlsx"
