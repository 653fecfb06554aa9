"""The Excel upload of visit records (走访记录) that township officers collect from the teams:
an import kind ("visits") of the hub's upload → check → preview → confirm → job flow, and the
``import_visits`` command.

The sheets are kept by hand: a title row above the header, the header names people really use
(``COLUMNS``), dates in every common form, sign-off and blank lines — the engine reads them.
Row by row, within the township chosen on the upload page:

- **Person**: by ID number; by name when the file has no ID column or the row leaves it blank,
  and only when exactly one person of the township has that name. Not registered in the
  township (including registered in another one) is a row error that does not say where.
- **Case** to hang the visit on: the open 特困 case, else the open 留守 case, else the latest.
- **Team**: by name among the township's teams; an unknown name is created (a
  关爱特困人员青年志愿服务队 of the township) and listed in the summary.
- **Visitors** (split on 、 , ， ; and spaces): matched to the team's current members by name;
  unknown names are added as volunteers and members, and listed.
- **Cares**: a cell's text is the note; a cell that starts with ★, ！ or 需关注 is a care that
  needs attention (the mark is not kept in the note). A flagged care or any 急难愁盼 opens a
  follow-up (``volunteers.policy``, as the phone form does).
- A visit is the same visit by case + date + team: one already recorded is "unchanged", so the
  same file imported twice changes nothing. A future date, or a row repeated in the file, is a
  row error. A date before the case was opened is accepted (records reach the system late).

All or nothing: one row with an error and nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidcases import access, importing, pii, selectors
from aidcases.importing import NEW, UNCHANGED, CellError, Column, Progress
from aidcases.importing.forms import UploadForm
from aidcases.models import AidCase, Area, Person, User
from volunteers import policy
from volunteers.models import CARES, Membership, Team, Visit, Volunteer
from volunteers.services import visit_import as service

PERMISSION = service.PERMISSION
PROGRESS_EVERY = 500
NAMES_LISTED = 20

# --- cells ------------------------------------------------------------------------------------

# A care that needs attention: the cell starts with one of these marks.
CONCERN_MARK = re.compile(r"^\s*(?:★|☆|!|需关注)\s*[:：、,，]?\s*")
CONCERN_RULE = gettext_lazy(
    "需要关注的事项在内容前加“★”“！”或“需关注：”（如“★屋顶漏雨”），导入后生成跟进事项"
)


@dataclass(frozen=True)
class Care:
    note: str
    concern: bool


def care_cell(raw: Any) -> Care:
    """ "★屋顶漏雨" → Care("屋顶漏雨", True); "正常" → Care("正常", False)."""
    text = importing.text(raw)
    marked = CONCERN_MARK.match(text)
    if marked:
        text = text[marked.end() :].strip()
    if len(text) > 300:
        raise CellError(_("内容过长：最多 300 个字，这里有 %(n)d 个字") % {"n": len(text)})
    return Care(text, bool(marked))


_VISITOR_SPLIT = re.compile(r"[、,，;；/\s]+")


def visitors_cell(raw: Any) -> list[str]:
    """ "张三、李四 王五" → ["张三", "李四", "王五"] (each once, in order)."""
    names = []
    for part in _VISITOR_SPLIT.split(importing.text(raw)):
        name = importing.name(part)
        if not name:
            continue
        if len(name) > 50:
            raise CellError(_("“%(name)s”不像一个人名，多个姓名请用顿号隔开") % {"name": name})
        if name not in names:
            names.append(name)
    return names


_SEEN = {
    **dict.fromkeys(("是", "见到", "已见到", "见到本人", "√", "✓", "y", "yes", "1", "有"), True),
    **dict.fromkeys(
        ("否", "未见", "未见到", "没见到", "未见到本人", "不在家", "×", "x", "n", "no", "0"), False
    ),
}


def seen_cell(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    value = importing.text(raw).replace(" ", "").casefold()
    if value in _SEEN:
        return _SEEN[value]
    raise CellError(_("应填“是”或“否”，而不是“%(value)s”") % {"value": value})


MODE = importing.choice(
    {
        "上门走访": Visit.Mode.IN_PERSON,
        "上门": Visit.Mode.IN_PERSON,
        "入户": Visit.Mode.IN_PERSON,
        "入户走访": Visit.Mode.IN_PERSON,
        "实地走访": Visit.Mode.IN_PERSON,
        "电话/视频": Visit.Mode.REMOTE,
        "电话视频": Visit.Mode.REMOTE,
        "电话": Visit.Mode.REMOTE,
        "视频": Visit.Mode.REMOTE,
        "电话走访": Visit.Mode.REMOTE,
        "视频通话": Visit.Mode.REMOTE,
    }
)


def team_name(raw: Any) -> str:
    """A team's name as matched: no spaces at all."""
    return importing.name(raw)


def team_key(name: str) -> str:
    """A registered team's name as the file's names are read (no spaces)."""
    return "".join(name.split())


CARE_SYNONYMS = {
    "home_safety": ("居家安全情况",),
    "mind": ("心理状态情况", "心理健康"),
    "living": ("生活环境情况",),
    "health": ("身体健康情况", "身体状况", "健康状况"),
    "urgent": ("急难愁盼问题", "急难愁盼事项"),
}

COLUMNS: tuple[Column, ...] = (
    Column(
        "date",
        "走访日期",
        ("日期", "服务时间", "走访时间", "服务日期", "帮扶日期"),
        required=True,
        parse=importing.full_date,
        example="2026-03-05",
        help="如 2026-03-05、2026.3.5、2026年3月5日、2026/3/5",
    ),
    Column(
        "name",
        "被帮扶人",
        ("姓名", "特困人员姓名", "帮扶对象", "被走访人", "被帮扶人姓名", "服务对象"),
        required=True,
        parse=importing.limited(50, importing.name),
        example="王老汉",
    ),
    Column(
        "id_number",
        "身份证号码",
        ("身份证号", "公民身份号码", "身份证", "证件号码"),
        parse=pii.normalize_id_number,
        help="按身份证号码查找本乡(镇)登记的人；没有这一列时按姓名查找（须在本乡(镇)唯一）",
    ),
    Column(
        "team",
        "服务队",
        ("志愿服务队", "服务队名称", "志愿服务队名称", "所属服务队"),
        required=True,
        parse=importing.limited(100, team_name),
        example="城关镇关爱特困人员青年志愿服务队",
        help="本乡(镇)的服务队；系统中没有的服务队会在导入时新建",
    ),
    Column(
        "visitors",
        "走访人员",
        ("参与人员", "志愿者", "走访人", "参与志愿者", "志愿者姓名"),
        parse=visitors_cell,
        example="张三、李四",
        help="多人用顿号隔开；不是该队队员的会作为新志愿者加入该队",
    ),
    *(
        Column(
            key,
            str(label),
            CARE_SYNONYMS[key],
            parse=care_cell,
            example="★屋顶漏雨" if key == "home_safety" else "",
            help=str(CONCERN_RULE) if key != "urgent" else "填写了内容即生成跟进事项",
        )
        for key, label in CARES
    ),
    Column(
        "own_action",
        "自选行动",
        ("自选动作", "自选服务", "自选服务内容"),
        parse=importing.limited(300),
        example="帮收玉米",
    ),
    Column(
        "mode",
        "走访方式",
        ("服务方式",),
        parse=MODE,
        example="上门走访",
        help="上门走访 或 电话/视频；不填为上门走访",
    ),
    Column(
        "seen",
        "是否见到本人",
        ("见到本人", "是否见面"),
        parse=seen_cell,
        example="是",
        help="填“否”时请在“未见原因”或“备注”中写明原因",
    ),
    Column(
        "not_seen_reason",
        "未见原因",
        ("未见到本人原因", "未见本人原因"),
        parse=importing.limited(200),
    ),
    Column("notes", "备注", ("说明",), parse=importing.limited(1000)),
)

SPEC = importing.Spec(title="特困人员走访记录（五个关爱）", columns=COLUMNS)
CARE_LABELS = {key: str(label) for key, label in CARES}


# --- the plan ---------------------------------------------------------------------------------


@dataclass(kw_only=True)
class PlanRow(importing.PlanRow):
    name: str
    id_masked: str
    date: date
    team_name: str
    visitor_names: list[str]
    entry: service.VisitEntry | None = None
    needs: list[policy.Need] = field(default_factory=list)

    @property
    def date_text(self) -> str:
        return self.date.isoformat()

    @property
    def visitors_text(self) -> str:
        return "、".join(self.visitor_names)

    @property
    def follow_ups_text(self) -> str:
        return "；".join(need.text for need in self.needs)


@dataclass(kw_only=True)
class Plan(importing.Plan):
    township: Area
    user: User
    new_teams: list[str] = field(default_factory=list)
    new_volunteers: list[tuple[str, str]] = field(default_factory=list)


def require_import(user: User | None, township: Area) -> None:
    if user is None or not (user.is_authenticated and user.has_perm(PERMISSION)):
        raise PermissionDenied
    if township.level != Area.Level.TOWNSHIP:
        raise ValidationError(_("请选择乡(镇)。"))
    if not access.areas_for(user).filter(pk=township.pk).exists():
        raise PermissionDenied


def choose_case(cases: list[AidCase]) -> AidCase | None:
    """The open 特困 case, else the open 留守 case, else the latest one."""
    for category in (AidCase.Category.TEKUN, AidCase.Category.LEFT_BEHIND):
        for case in cases:
            if case.category == category and case.status == AidCase.Status.OPEN:
                return case
    if not cases:
        return None
    return max(cases, key=lambda c: (c.opened_on, c.pk))


def _listed(names: list[str]) -> str:
    shown = "、".join(names[:NAMES_LISTED])
    if len(names) > NAMES_LISTED:
        shown += _("等 %(n)d 人") % {"n": len(names)}
    return shown


def plan_notes(
    new_teams: list[str], new_volunteers: list[tuple[str, str]], follow_ups: int, *, done: bool
) -> list[str]:
    notes = []
    if new_teams:
        label = _("新建服务队") if done else _("将新建服务队")
        notes.append(_("%(label)s：%(names)s") % {"label": label, "names": "、".join(new_teams)})
    if new_volunteers:
        label = _("新增志愿者") if done else _("将新增志愿者")
        names = [f"{name}（{team}）" for team, name in new_volunteers]
        notes.append(_("%(label)s：%(names)s") % {"label": label, "names": _listed(names)})
    if follow_ups:
        label = _("新建跟进事项") if done else _("将新建跟进事项")
        notes.append(_("%(label)s %(n)d 项") % {"label": label, "n": follow_ups})
    return notes


NOT_FOUND = gettext_lazy(
    "本乡(镇)没有登记此人：请先在花名册中登记，或核对身份证号码；"
    "如此人登记在其他乡(镇)，请联系县团委工作人员"
)


def validate(
    sheet: importing.Sheet,
    township: Area,
    user: User,
    *,
    file_name: str = "",
    progress: Progress | None = None,
) -> Plan:
    """Check every row against the township's persons, cases, teams and visits; write
    nothing. Problems go into ``sheet.report``."""
    require_import(user, township)
    plan = Plan(township=township, user=user, sheet=sheet, file_name=file_name)
    report = sheet.report
    if sheet.header_row is None or sheet.missing_required:
        return plan
    today = timezone.localdate()
    rows = sheet.rows
    total = len(rows)
    in_township = {"area__path__startswith": township.path}

    # Persons: by ID number (keyed hash), else by name unique in the township.
    # A number found registered is valid: only the others are parsed, for a precise message.
    hashes: dict[int, str] = {}
    bad_id: set[int] = set()
    for row in rows:
        number = row.values.get("id_number")
        if number:
            hashes[row.line] = pii.id_hash(number)
    by_hash: dict[str, Person] = {}
    wanted = sorted(set(hashes.values()))
    for start in range(0, len(wanted), 5_000):
        for person in Person.objects.filter(
            id_number_hash__in=wanted[start : start + 5_000],
            merged_into__isnull=True,
            **in_township,
        ):
            by_hash[person.id_number_hash] = person
    for row in rows:
        if row.line in hashes and hashes[row.line] not in by_hash:
            try:
                pii.parse_id_number(row.values["id_number"])
            except ValidationError as exc:
                report.add(row.line, "身份证号码", exc.messages[0])
                bad_id.add(row.line)
                del hashes[row.line]
    names = {
        row.values["name"]
        for row in rows
        if row.line not in hashes and row.line not in bad_id and row.values.get("name")
    }
    by_name: dict[str, list[Person]] = {}
    if names:
        for person in Person.objects.filter(
            name__in=names, merged_into__isnull=True, is_active=True, **in_township
        ).order_by("pk"):
            by_name.setdefault(person.name, []).append(person)

    person_ids = {p.pk for p in by_hash.values()} | {p.pk for ps in by_name.values() for p in ps}
    cases_by_person: dict[int, list[AidCase]] = {}
    found = sorted(person_ids)
    for start in range(0, len(found), 5_000):
        for case in AidCase.objects.filter(
            person_id__in=found[start : start + 5_000]
        ).select_related("person__area"):
            cases_by_person.setdefault(case.person_id, []).append(case)

    # Teams of the township and their current members.
    teams = {
        team_key(team.name): team
        for team in Team.objects.filter(area__path__startswith=township.path)
        .select_related("area")
        .order_by("pk")
    }
    members: dict[int, dict[str, Volunteer]] = {}
    for membership in (
        Membership.objects.filter(team__in=list(teams.values()), ended_on__isnull=True)
        .select_related("volunteer")
        .order_by("volunteer_id")
    ):
        members.setdefault(membership.team_id, {}).setdefault(
            membership.volunteer.name, membership.volunteer
        )

    chosen = {pid: choose_case(cases) for pid, cases in cases_by_person.items()}
    case_ids = [c.pk for c in chosen.values() if c is not None]
    recorded: set[tuple[int, date, int]] = set()
    if case_ids and teams:
        for start in range(0, len(case_ids), 5_000):
            recorded |= set(
                Visit.objects.filter(
                    case_id__in=case_ids[start : start + 5_000],
                    team_id__in=[t.pk for t in teams.values()],
                ).values_list("case_id", "date", "team_id")
            )

    # The same visit twice in the file: same person (ID, else name), date and team.
    def same_visit(row: importing.Row):
        values = row.values
        who = values.get("id_number") or values.get("name")
        if not who or values.get("date") is None or not values.get("team"):
            return None
        return (who, values["date"], values["team"])

    report.extend(importing.find_duplicates(rows, same_visit, label="被帮扶人"))
    example = (SPEC.column("name").example, SPEC.column("date").example)
    for row in rows:
        if (row.values.get("name"), row.values.get("date")) == example:
            report.add(row.line, "被帮扶人", _("这是导入模板中的示例行，请删除或改成实际内容"))

    new_teams: dict[str, None] = {}
    new_volunteers: dict[tuple[str, str], None] = {}
    follow_ups = 0
    for done, row in enumerate(rows, start=1):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, total, _("正在检查第 %(n)d 行") % {"n": row.line})
        values = row.values
        line = row.line
        issues: list[importing.Issue] = []

        visit_date: date | None = values.get("date")
        if visit_date is not None and visit_date > today:
            issues.append(
                importing.Issue(
                    line, "走访日期", _("走访日期 %(d)s 还没到，请核对") % {"d": visit_date}
                )
            )

        person: Person | None = None
        if line in hashes:
            person = by_hash.get(hashes[line])
            if person is None:
                issues.append(importing.Issue(line, "身份证号码", str(NOT_FOUND)))
            elif not person.is_active:
                issues.append(
                    importing.Issue(line, "被帮扶人", _("此人的档案已停用，请先在一人一档页面恢复"))
                )
        elif line not in bad_id and values.get("name"):
            matches = by_name.get(values["name"], [])
            if len(matches) == 1:
                person = matches[0]
            elif not matches:
                issues.append(importing.Issue(line, "被帮扶人", str(NOT_FOUND)))
            else:
                issues.append(
                    importing.Issue(
                        line,
                        "被帮扶人",
                        _(
                            "本乡(镇)有 %(n)d 名叫“%(name)s”的帮扶对象，无法确定是哪一位，"
                            "请填写身份证号码"
                        )
                        % {"n": len(matches), "name": values["name"]},
                    )
                )
        case = chosen.get(person.pk) if person is not None else None
        if person is not None and person.is_active and case is None:
            issues.append(
                importing.Issue(
                    line,
                    "被帮扶人",
                    _("此人还没有帮扶档案（特困人员或留守儿童），请先建档再导入走访记录"),
                )
            )

        seen = values.get("seen")
        reason = values.get("not_seen_reason") or ""
        if seen is False and not reason:
            reason = (values.get("notes") or "")[:200]
            if not reason:
                issues.append(
                    importing.Issue(
                        line, "是否见到本人", _("未见到本人时，请在“未见原因”或“备注”中写明原因")
                    )
                )

        report.extend(issues)
        if row.errors or issues or line in bad_id or person is None:
            continue

        name_of_team = values["team"]
        team = teams.get(name_of_team)
        visitor_names = values.get("visitors") or []
        if team is not None and (case.pk, visit_date, team.pk) in recorded:
            plan.rows.append(
                PlanRow(
                    line=line,
                    action=UNCHANGED,
                    name=person.name,
                    id_masked=pii.mask_id_number(values["id_number"]) if line in hashes else "",
                    date=visit_date,
                    team_name=name_of_team,
                    visitor_names=visitor_names,
                )
            )
            continue
        if team is None:
            new_teams.setdefault(name_of_team, None)
        known = members.get(team.pk, {}) if team is not None else {}
        visitors = [known[n] for n in visitor_names if n in known]
        unknown = [n for n in visitor_names if n not in known]
        for name in unknown:
            new_volunteers.setdefault((name_of_team, name), None)

        visit_values: dict[str, Any] = {}
        for key, _label in CARES:
            care: Care | None = values.get(key)
            visit_values[f"{key}_note"] = care.note if care else ""
            visit_values[f"{key}_concern"] = care.concern if care else False
        visit_values["own_action"] = values.get("own_action") or ""
        visit_values["mode"] = values.get("mode") or Visit.Mode.IN_PERSON
        visit_values["seen_in_person"] = seen is not False
        visit_values["not_seen_reason"] = reason if seen is False else ""
        visit_values["notes"] = values.get("notes") or ""
        needs = policy.needs_of(visit_values)
        follow_ups += len(needs)
        changes = []
        if unknown:
            changes.append(_("新队员：%(names)s") % {"names": "、".join(unknown)})
        changes += [_("跟进：%(need)s") % {"need": need.text} for need in needs]
        plan.rows.append(
            PlanRow(
                line=line,
                action=NEW,
                name=person.name,
                id_masked=pii.mask_id_number(values["id_number"]) if line in hashes else "",
                date=visit_date,
                team_name=name_of_team,
                visitor_names=visitor_names,
                needs=needs,
                changes=changes,
                entry=service.VisitEntry(
                    line=line,
                    case=case,
                    date=visit_date,
                    team=team,
                    team_name=name_of_team,
                    visitors=visitors,
                    new_visitors=unknown,
                    values=visit_values,
                    needs=needs,
                ),
            )
        )
    if not report.ok:
        # One row with a problem and nothing of this file is written.
        bad = {issue.line for issue in report.errors}
        plan.rows = [r for r in plan.rows if r.line not in bad]
    plan.new_teams = list(new_teams)
    plan.new_volunteers = list(new_volunteers)
    plan.notes = plan_notes(plan.new_teams, plan.new_volunteers, follow_ups, done=False)
    if progress is not None:
        progress(total, total, _("检查完成"))
    return plan


def commit(plan: Plan, user: User, *, progress: Progress | None = None) -> importing.Result:
    """Write a checked plan: all rows or none. Writes nothing when every row is unchanged."""
    require_import(user, plan.township)
    if plan.user.pk != user.pk:
        raise PermissionDenied
    if not plan.ok:
        raise ValidationError(_("文件有 %(n)d 处问题，未导入任何内容。") % {"n": len(plan.errors)})
    entries = [row.entry for row in plan.rows if row.action == NEW]
    if not entries:
        return importing.Result(counts=plan.counts, written=False, rows=plan.rows)
    try:
        outcome = service.visits_import(
            acting_user=user, township=plan.township, entries=entries, file_name=plan.file_name
        )
    except (IntegrityError, DataError) as exc:
        raise ValidationError(
            _("导入时发现其中有走访记录刚被别人录入，未导入任何内容，请重新上传检查后再导入。")
        ) from exc
    if progress is not None:
        progress(len(entries), len(entries), _("导入完成"))
    return importing.Result(
        counts=plan.counts,
        notes=plan_notes(outcome.new_teams, outcome.new_volunteers, outcome.follow_ups, done=True),
        rows=plan.rows,
    )


# --- the kind ---------------------------------------------------------------------------------


class VisitUploadForm(UploadForm):
    township = forms.ModelChoiceField(
        label=gettext_lazy("乡(镇)"),
        queryset=Area.objects.none(),
        empty_label=gettext_lazy("—请选择—"),
        error_messages={
            "required": gettext_lazy("请选择乡(镇)。"),
            "invalid_choice": gettext_lazy("请选择有效的乡(镇)。"),
        },
        help_text=gettext_lazy("文件中的人员和服务队在这个乡(镇)中查找。"),
    )
    field_order = ("township", "file")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["file"].label = _("走访记录文件")
        self.fields["file"].error_messages["required"] = _("请选择要上传的走访记录文件。")
        townships = selectors.townships_for(user=user)
        field_ = self.fields["township"]
        field_.queryset = townships
        own = townships.filter(pk=user.area_id).first() if user.area_id else None
        if own is None and townships.count() == 1:
            own = townships.first()
        if own is not None and not access.sees_everything(user):
            # A township officer imports into their own township only: shown, not chosen.
            field_.initial = own.pk
            field_.disabled = True
            field_.help_text = _("只能导入本乡(镇)的走访记录。")
        elif own is not None and not self.is_bound:
            self.initial.setdefault("township", own.pk)

    def out_of_scope(self) -> bool:
        # A township outside the user's scope is not "invalid input": it does not exist here.
        raw = self.data.get("township", "")
        return bool(raw) and not (
            raw.isdigit() and selectors.townships_for(user=self.user).filter(pk=raw).exists()
        )

    def options(self) -> dict[str, Any]:
        return {"township": self.cleaned_data["township"].pk}


@dataclass(frozen=True)
class Where:
    township: Area


class VisitImport(importing.ImportKind):
    name = "visits"
    title = gettext_lazy("走访记录导入")
    permission = PERMISSION
    description = gettext_lazy(
        "把服务队交来的走访记录表（Excel）上传到系统：按身份证号码（没有这一列时按姓名）"
        "找到本乡(镇)的帮扶对象，按名称找到服务队和队员。"
        "需要关注的事项在内容前加“★”“！”或“需关注：”，"
        "它和填写了的“急难愁盼”都会生成跟进事项。"
    )
    upload_form = VisitUploadForm
    preview_columns = (
        (gettext_lazy("走访日期"), "date_text"),
        (gettext_lazy("被帮扶人"), "name"),
        (gettext_lazy("身份证号码"), "id_masked"),
        (gettext_lazy("服务队"), "team_name"),
        (gettext_lazy("走访人员"), "visitors_text"),
        (gettext_lazy("跟进事项"), "follow_ups_text"),
    )
    back_label = gettext_lazy("返回首页")
    check_download_verb = "visit.import_check"

    def spec(self, options):
        return SPEC

    def context(self, user, options) -> Where:
        township = selectors.townships_for(user=user).filter(pk=options.get("township")).first()
        if township is None:
            raise importing.UploadGone
        return Where(township=township)

    def heading(self, options, context: Where) -> str:
        return _("走访记录 · %(township)s") % {"township": context.township.name}

    def audit_area(self, context: Where) -> Area:
        return context.township

    def file_title(self, options) -> str:
        return _("走访记录")

    def validate(self, sheet, *, acting_user, context: Where, file_name="", progress=None):
        return validate(
            sheet, context.township, acting_user, file_name=file_name, progress=progress
        )

    def commit(self, plan, *, acting_user, progress=None):
        return commit(plan, acting_user, progress=progress)


KIND = VisitImport()
