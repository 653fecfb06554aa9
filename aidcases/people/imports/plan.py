"""Checking a roster: every row against the registry, into a plan that says what importing it
would do. Writes nothing but the audit rows of numbers found registered in another township."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from aidcases import access, importing, pii, services
from aidcases.importing import NEW, UNCHANGED, UPDATED, Progress
from aidcases.importing.villages import VillageMatcher
from aidcases.models import AidCase, Area, Person, User
from aidcases.people.imports.categories import Context, ProfileHandler, get
from aidcases.people.imports.columns import CASE_LABELS, ERROR_COLUMNS, PERSON_LABELS
from aidcases.services.people import TOO_MANY_LOOKUPS, id_lookups_left, id_lookups_record

PERMISSION = "aidcases.import_people"
PROGRESS_EVERY = 250


@dataclass(kw_only=True)
class PlanRow(importing.PlanRow):
    name: str
    id_masked: str
    village: Area
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
    def village_name(self) -> str:
        return self.village.name


@dataclass(kw_only=True)
class Plan(importing.Plan):
    category: str
    township: Area
    user: User
    context: Context | None = None


def require_import(user: User, township: Area) -> None:
    if not (user.is_authenticated and user.has_perm(PERMISSION)):
        raise PermissionDenied
    if township.level != Area.Level.TOWNSHIP:
        raise ValidationError(_("请选择乡(镇)。"))
    if not access.areas_for(user).filter(pk=township.pk).exists():
        raise PermissionDenied


def person_error_issues(line: int, exc: ValidationError, skip: set[str]) -> list[importing.Issue]:
    issues = []
    for key, messages in exc.message_dict.items():
        column = ERROR_COLUMNS.get(key, "")
        if column in skip:
            continue
        issues.extend(importing.Issue(line, column, message) for message in messages)
    return issues


def chunks(items: list, size: int = 5_000) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def validate(
    sheet: importing.Sheet,
    category: str,
    township: Area,
    user: User,
    *,
    file_name: str = "",
    progress: Progress | None = None,
) -> Plan:
    """Check every row and work out what importing it would do. Writes nothing but the
    audit rows of numbers found registered in another township (see below)."""
    require_import(user, township)
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
    for chunk in chunks(sorted(set(hashes.values()))):
        for person in Person.objects.filter(id_number_hash__in=chunk).select_related("area"):
            existing[person.id_number_hash] = person
    no_id = _no_id_people(sheet, villages)
    people = [*existing.values(), *(p for ps in no_id.values() for p in ps)]
    in_scope = set()
    for chunk in chunks([p.pk for p in people]):
        in_scope |= set(
            access.scope(Person.objects.filter(pk__in=chunk), user).values_list("pk", flat=True)
        )
    # Numbers registered in another township: each such lookup is audited (probing
    # shows in the log), and past the hourly limit the file is refused as a whole,
    # without saying which rows hit (that would answer the probe all the same).
    elsewhere = [existing[h] for h in hashes.values() if existing.get(h) is not None]
    elsewhere = [p for p in elsewhere if p.pk not in in_scope]
    left = id_lookups_left(user)
    if elsewhere:
        id_lookups_record(acting_user=user, persons=elsewhere, source="import")
    if left is not None and (left == 0 or len(elsewhere) > left):
        report.add(None, "", str(TOO_MANY_LOOKUPS))
        return plan
    cases: dict[int, AidCase] = {}
    for chunk in chunks([p.pk for p in people]):
        for case in AidCase.objects.filter(
            person_id__in=chunk, category=category, status=AidCase.Status.OPEN
        ):
            cases[case.person_id] = case
    profiles: dict[int, dict] = {}
    for chunk in chunks([c.pk for c in cases.values()]):
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
    plan.notes = handler.notes(ctx, done=False)
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
    if village is not None and VillageMatcher.key(values["village"]) != VillageMatcher.key(
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
            issues.extend(person_error_issues(line, exc, bad_columns))
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
