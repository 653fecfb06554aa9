"""The team roster import (服务队名册): a sheet of one team's volunteers, the team chosen on
the upload page — a kind of the hub's generic upload flow ("team_roster"), so its pages, jobs
and command come from there.

Each row is a volunteer: found within the user's scope by name + phone, or name + birth date
(a month-only birth date compares year and month), else registered anew in the team's area.
Blank cells keep what is on file. A volunteer not yet in the team joins it with the row's role
(队长/联络员/队员) and join date; a current member whose role differs gets the new role.
A volunteer under 18 on the join date needs a guardian's consent already on record. All or
nothing; importing the same file again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidcases import access, importing, pii
from aidcases.importing import Column
from aidcases.importing.forms import UploadForm
from aidcases.importing.kinds import NEW, UNCHANGED, UPDATED
from aidcases.models import Area, User
from volunteers.models import Membership, Team, Volunteer
from volunteers.services import teams as services

PERMISSION = "volunteers.add_membership"


def _phone(raw: Any) -> str:
    return pii.normalize_phone(raw)


KIND = importing.choice(
    {
        **{str(label): value for value, label in Volunteer.Kind.choices},
        "干部": Volunteer.Kind.CADRE,
        "机关": Volunteer.Kind.CADRE,
        "团干部": Volunteer.Kind.CADRE,
        "青年干部": Volunteer.Kind.CADRE,
        "老师": Volunteer.Kind.TEACHER,
        "大学生村官": Volunteer.Kind.VILLAGE_GRADUATE,
        "选调生": Volunteer.Kind.VILLAGE_GRADUATE,
        "大学生": Volunteer.Kind.RETURNING_STUDENT,
        "在校大学生": Volunteer.Kind.RETURNING_STUDENT,
    }
)
ROLE = importing.choice(
    {
        "队长": Membership.Role.CAPTAIN,
        "联络员": Membership.Role.LIAISON,
        "队员": Membership.Role.MEMBER,
        "成员": Membership.Role.MEMBER,
        "志愿者": Membership.Role.MEMBER,
        "副队长": Membership.Role.LIAISON,
    }
)

SPEC = importing.Spec(
    title="服务队名册",
    columns=(
        Column(
            "name", "姓名", ("志愿者姓名", "队员姓名"), required=True,
            parse=importing.limited(50, importing.name), example="李青",
        ),
        Column("gender", "性别", parse=importing.gender, example="女"),
        Column(
            "birth_date", "出生日期", ("出生年月", "出生年月日", "生日"),
            parse=importing.partial_date, example="2003-05-01",
        ),
        Column(
            "phone", "联系电话", ("手机号", "手机号码", "电话", "联系方式", "手机"),
            parse=_phone, example="13812345678",
        ),
        Column(
            "kind", "志愿者类别", ("类别", "身份", "人员类别", "志愿者类型"),
            parse=KIND, example="返乡大学生",
            help="机关干部、教师、到村工作大学生、返乡大学生、其他；空白按“其他”",
        ),
        Column(
            "university", "就读高校", ("高校", "就读学校", "学校", "院校", "所在高校"),
            parse=importing.limited(100), example="山西大学",
        ),
        Column("major", "专业", ("所学专业",), parse=importing.limited(100), example="汉语言文学"),
        Column(
            "role", "队内职务", ("职务", "队内职位", "队内分工"), parse=ROLE, example="队员",
            help="队长、联络员、队员；空白按“队员”",
        ),
        Column(
            "started_on", "加入日期", ("入队日期", "加入时间", "入队时间"),
            parse=importing.full_date, example="2026-01-10", help="空白按导入当天",
        ),
        Column("skills", "特长", ("专长", "技能", "爱好特长"), parse=importing.limited(200)),
    ),
)  # fmt: skip

# Fields a roster row may set on a volunteer (blank cells keep what is on file).
ROW_FIELDS = ("gender", "birth_date", "phone", "kind", "university", "major", "skills")
FIELD_LABELS = {
    "gender": "性别",
    "birth_date": "出生日期",
    "phone": "联系电话",
    "kind": "志愿者类别",
    "university": "就读高校",
    "major": "专业",
    "skills": "特长",
}


@dataclass(kw_only=True)
class RosterRow(importing.PlanRow):
    name: str
    volunteer: Volunteer | None
    values: dict[str, Any]
    role: str
    started_on: date
    membership: Membership | None = None
    joins: bool = False
    role_changes: bool = False
    field_changes: list[str] = field(default_factory=list)

    @property
    def phone_masked(self) -> str:
        phone = self.values.get("phone") or (self.volunteer.phone if self.volunteer else "")
        return pii.mask_phone(phone) if phone else ""

    @property
    def role_label(self) -> str:
        return str(Membership.Role(self.role).label)

    @property
    def started_label(self) -> str:
        return self.started_on.isoformat()


@dataclass(kw_only=True)
class RosterPlan(importing.Plan):
    team: Team | None = None


class TeamRosterUploadForm(UploadForm):
    team = forms.ModelChoiceField(
        label=gettext_lazy("服务队"),
        queryset=Team.objects.none(),
        empty_label=gettext_lazy("—请选择—"),
        error_messages={
            "required": gettext_lazy("请选择服务队。"),
            "invalid_choice": gettext_lazy("请选择有效的服务队。"),
        },
        help_text=gettext_lazy("名册中的志愿者将加入这个服务队。"),
    )
    field_order = ("team", "file")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["file"].label = _("名册文件")
        teams = _teams_for(user)
        self.fields["team"].queryset = teams
        if not self.is_bound:
            chosen = self.initial.get("team")
            if chosen is None and teams.count() == 1:
                self.initial["team"] = teams.first().pk

    def out_of_scope(self) -> bool:
        raw = self.data.get("team", "")
        return bool(raw) and not (raw.isdigit() and _teams_for(self.user).filter(pk=raw).exists())

    def options(self) -> dict[str, Any]:
        return {"team": self.cleaned_data["team"].pk}


def _teams_for(user: User):
    return (
        Team.objects.filter(access.scope_q(Team, user), is_active=True)
        .select_related("area")
        .order_by("area__path", "name")
    )


def _same_birth(value: importing.PartialDate, birth: date | None) -> bool:
    if birth is None:
        return False
    if value.precision == "month":
        return (birth.year, birth.month) == (value.value.year, value.value.month)
    return birth == value.value


class TeamRosterImport(importing.ImportKind):
    name = "team_roster"
    title = gettext_lazy("服务队名册导入")
    permission = PERMISSION
    job_rows = 2_000
    description = gettext_lazy(
        "上传一个服务队的志愿者名册（Excel），志愿者加入所选服务队。"
        "已在系统中的志愿者按“姓名＋电话”或“姓名＋出生日期”识别，不会重复登记。"
    )
    upload_form = TeamRosterUploadForm
    preview_columns = (
        (gettext_lazy("姓名"), "name"),
        (gettext_lazy("联系电话"), "phone_masked"),
        (gettext_lazy("队内职务"), "role_label"),
        (gettext_lazy("加入日期"), "started_label"),
    )
    back_url_name = "team_list"
    back_label = gettext_lazy("查看服务队")
    check_download_verb = "team_roster.check_download"

    def spec(self, options):
        return SPEC

    def context(self, user, options) -> Team:
        team = _teams_for(user).filter(pk=options.get("team")).first()
        if team is None:
            raise importing.UploadGone
        return team

    def heading(self, options, context: Team) -> str:
        return _("服务队名册 · %(team)s") % {"team": context.name}

    def audit_area(self, context: Team) -> Area:
        return context.area

    def file_title(self, options):
        return "服务队名册"

    # --- validate -----------------------------------------------------------------------------

    def validate(self, sheet, *, acting_user, context: Team, file_name="", progress=None):
        team = context
        plan = RosterPlan(sheet=sheet, file_name=file_name, team=team)
        report = sheet.report
        if sheet.header_row is None or sheet.missing_required:
            return plan
        today = timezone.localdate()
        names = {row.values["name"] for row in sheet.rows if row.values.get("name")}
        candidates: dict[str, list[Volunteer]] = {}
        for volunteer in Volunteer.objects.filter(
            access.scope_q(Volunteer, acting_user), name__in=names
        ).order_by("pk"):
            candidates.setdefault(volunteer.name, []).append(volunteer)
        current = {
            m.volunteer_id: m for m in Membership.objects.filter(team=team, ended_on__isnull=True)
        }

        def person_key(row):
            values = row.values
            if not values.get("name"):
                return None
            if values.get("phone"):
                return (values["name"], "phone", values["phone"])
            if values.get("birth_date"):
                return (values["name"], "birth", str(values["birth_date"]))
            return (values["name"],)

        report.extend(importing.find_duplicates(sheet.rows, person_key, label="姓名"))
        matched: dict[int, int] = {}
        for row in sheet.rows:
            planned = self._plan_row(
                row, team=team, candidates=candidates, current=current, today=today, report=report
            )
            if planned is None:
                continue
            if planned.volunteer is not None:
                other = matched.setdefault(planned.volunteer.pk, row.line)
                if other != row.line:
                    report.add(
                        row.line,
                        "姓名",
                        _("与第%(line)d行是同一名志愿者") % {"line": other},
                    )
                    continue
            plan.rows.append(planned)
        if not report.ok:
            bad = {issue.line for issue in report.errors}
            plan.rows = [r for r in plan.rows if r.line not in bad]
        new_people = sum(1 for r in plan.rows if r.volunteer is None)
        if new_people:
            plan.notes = [_("将新登记志愿者 %(n)d 名") % {"n": new_people}]
        return plan

    def _plan_row(self, row, *, team, candidates, current, today, report) -> RosterRow | None:
        values = row.values
        if not row.ok or not values.get("name"):
            return None
        name = values["name"]
        problems = False
        birth = values.get("birth_date")
        if birth is not None and birth.first_day > today:
            report.add(row.line, "出生日期", _("出生日期不能晚于今天"))
            problems = True
        started_on = values.get("started_on") or today
        if started_on > today:
            report.add(row.line, "加入日期", _("加入日期不能晚于今天"))
            problems = True
        found = candidates.get(name, [])
        hits: list[Volunteer] = []
        if values.get("phone"):
            hits = [v for v in found if v.phone and v.phone == values["phone"]]
        if not hits and birth is not None:
            hits = [v for v in found if _same_birth(birth, v.birth_date)]
        if not hits and not values.get("phone") and birth is None:
            hits = [v for v in found if v.pk in current]
            if not hits and found:
                report.add(
                    row.line,
                    "姓名",
                    _("系统中已有同名志愿者，请填写联系电话或出生日期以便识别"),
                )
                return None
        if len(hits) > 1:
            report.add(
                row.line,
                "姓名",
                _("系统中有%(n)d名同名且信息相同的志愿者，无法确定是哪一位，请联系乡镇专干核实")
                % {"n": len(hits)},
            )
            return None
        volunteer = hits[0] if hits else None

        desired: dict[str, Any] = {}
        for key in ROW_FIELDS:
            value = values.get(key)
            if value is None or value == "":
                continue
            if key == "birth_date":
                if volunteer is not None and _same_birth(value, volunteer.birth_date):
                    continue
                value = value.value
            desired[key] = value
        changes = []
        if volunteer is not None:
            changes = [k for k, v in desired.items() if getattr(volunteer, k) != v]
        membership = current.get(volunteer.pk) if volunteer is not None else None
        role = values.get("role") or (membership.role if membership else Membership.Role.MEMBER)
        joins = membership is None
        role_changes = membership is not None and membership.role != role

        birth_date = desired.get("birth_date") or (volunteer.birth_date if volunteer else None)
        consent = volunteer.guardian_consent_on if volunteer else None
        if joins and birth_date is not None and consent is None:
            probe = Volunteer(name=name, birth_date=birth_date)
            age = probe.age_on(started_on)
            if age is not None and age < services.ADULT_AGE:
                report.add(
                    row.line,
                    "出生日期",
                    _("入队时未满18周岁，须先在系统中登记监护人同意后才能入队"),
                )
                problems = True
        if problems:
            return None
        if volunteer is None:
            action, labels = NEW, [_("新登记志愿者并入队")]
        elif joins:
            action = NEW
            labels = [_("已登记的志愿者入队")] + [FIELD_LABELS[k] for k in changes]
        elif changes or role_changes:
            action = UPDATED
            labels = [FIELD_LABELS[k] for k in changes] + ([_("队内职务")] if role_changes else [])
        else:
            action, labels = UNCHANGED, []
        return RosterRow(
            line=row.line,
            action=action,
            changes=[str(label) for label in labels],
            name=name,
            volunteer=volunteer,
            values=desired,
            role=role,
            started_on=started_on,
            membership=membership,
            joins=joins,
            role_changes=role_changes,
            field_changes=changes,
        )

    # --- commit -------------------------------------------------------------------------------

    def commit(self, plan: RosterPlan, *, acting_user, progress=None):
        team = plan.team
        done_new = 0
        with transaction.atomic():
            for row in plan.rows:
                if row.action == UNCHANGED:
                    continue
                try:
                    self._commit_row(row, team=team, user=acting_user)
                except ValidationError as exc:
                    raise ValidationError(
                        _("第%(line)d行：%(message)s")
                        % {"line": row.line, "message": "；".join(exc.messages)}
                    ) from exc
                done_new += row.volunteer is None
        notes = [_("新登记志愿者 %(n)d 名") % {"n": done_new}] if done_new else []
        return importing.Result(counts=plan.counts, notes=notes, rows=plan.rows)

    def _commit_row(self, row: RosterRow, *, team: Team, user: User) -> None:
        volunteer = row.volunteer
        if volunteer is None:
            volunteer = services.volunteer_register(
                acting_user=user,
                data=services.VolunteerData(
                    name=row.name,
                    kind=row.values.get("kind") or Volunteer.Kind.OTHER,
                    area=team.area,
                    **{k: v for k, v in row.values.items() if k != "kind"},
                ),
                team=team,
            )
        elif row.field_changes:
            merged = {
                name: getattr(volunteer, name)
                for name in services.VOLUNTEER_FIELDS
                if name not in ("area", "user")
            }
            merged.update({k: row.values[k] for k in row.field_changes})
            services.volunteer_update(
                acting_user=user,
                volunteer=volunteer,
                data=services.VolunteerData(area=volunteer.area, user=volunteer.user, **merged),
            )
            volunteer.refresh_from_db()
        if row.joins:
            services.membership_add(
                acting_user=user,
                team=team,
                volunteer=volunteer,
                role=row.role,
                started_on=row.started_on,
            )
        elif row.role_changes:
            services.membership_set_role(acting_user=user, membership=row.membership, role=row.role)


KIND_INSTANCE = importing.register(TeamRosterImport())
