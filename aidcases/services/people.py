"""The person registry: check and store a person, change, reveal, (de)activate,
and register a whole checked roster in a few statements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from aidcases import access, pii, search
from aidcases.audit import audit_event, audit_log
from aidcases.models import AidCase, Area, AuditEvent, Person, User
from aidcases.querytools import update_rows
from aidcases.services.common import acting, require_area, require_perm


@dataclass
class PersonData:
    """What a form or an import row says about a person (raw, before checks)."""

    name: str
    area: Area
    gender: str = ""
    id_number: str = ""
    no_id_reason: str = ""
    birth_date: date | None = None
    # Month-only dates from sheets ("2015.03"): only year and month are compared.
    birth_date_month_only: bool = False
    phone: str = ""
    address: str = ""
    guardian_name: str = ""
    guardian_relationship: str = ""
    guardian_phone: str = ""
    notes: str = ""


PERSON_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "phone",
    "area",
    "address",
    "guardian_name",
    "guardian_relationship",
    "guardian_phone",
    "notes",
    "no_id_reason",
)


def person_clean(
    data: PersonData, *, existing: Person | None = None, check_registered: bool = True
) -> dict:
    """Validate and normalise; return model field values. Raises ValidationError
    with Chinese messages keyed by field name. `check_registered=False` skips the
    "ID already registered" query for callers that looked every ID up already
    (an import, one query for the whole file)."""
    errors: dict[str, list[str]] = {}
    values: dict = {}
    name = "".join((data.name or "").split())
    if not name:
        errors.setdefault("name", []).append(_("姓名不能为空。"))
    values["name"] = name
    if data.area.level not in (Area.Level.VILLAGE, Area.Level.HAMLET, Area.Level.GROUP):
        errors.setdefault("area", []).append(_("请选择到村(社区)一级。"))
    values["area"] = data.area

    id_number = ""
    if data.id_number:
        try:
            info = pii.parse_id_number(data.id_number)
        except ValidationError as exc:
            errors.setdefault("id_number", []).extend(exc.messages)
        else:
            id_number = info.number
            _check_against_id(data, info, errors)
            values["gender"] = info.gender
            values["birth_date"] = info.birth_date
    elif existing is None or not existing.has_id_number:
        if not (data.no_id_reason or "").strip():
            errors.setdefault("id_number", []).append(
                _("请填写身份证号码；确实没有的，请在“无身份证号码的原因”中说明。")
            )
    if (
        not id_number
        and not errors.get("id_number")
        and existing is not None
        and existing.has_id_number
    ):
        # The stored number still governs gender and birth date.
        stored = pii.parse_id_number(pii.decrypt(existing.id_number_encrypted))
        _check_against_id(data, stored, errors)
        values["gender"], values["birth_date"] = stored.gender, stored.birth_date
    elif not id_number:
        # A mistyped ID number would have given the gender: say only what is wrong.
        missing = data.gender not in Person.Gender.values and not (existing and existing.gender)
        if missing and not data.id_number:
            errors.setdefault("gender", []).append(_("请选择性别。"))
        values["gender"] = data.gender or (existing.gender if existing else "")
        values["birth_date"] = data.birth_date or (existing.birth_date if existing else None)
    if values.get("birth_date") and values["birth_date"] > timezone.localdate():
        errors.setdefault("birth_date", []).append(_("出生日期不能晚于今天。"))

    for field_name, label in (("phone", "联系电话"), ("guardian_phone", "监护人电话")):
        raw = getattr(data, field_name)
        try:
            values[field_name] = pii.normalize_phone(raw) if raw else ""
        except ValidationError as exc:
            errors.setdefault(field_name, []).extend(f"{label}：{m}" for m in exc.messages)

    values["address"] = (data.address or "").strip()
    values["guardian_name"] = "".join((data.guardian_name or "").split())
    values["guardian_relationship"] = (data.guardian_relationship or "").strip()
    values["notes"] = (data.notes or "").strip()
    values["no_id_reason"] = "" if id_number else (data.no_id_reason or "").strip()
    if existing is not None and not id_number and existing.has_id_number:
        values["no_id_reason"] = ""
    if id_number and check_registered and _id_clash(id_number, existing) is not None:
        errors.setdefault("id_number", []).append(str(ALREADY_REGISTERED))
    if id_number:
        values["_id_number"] = id_number
    if errors:
        raise ValidationError(errors)
    return values


# Where a registered number lives is not said: a township officer typing numbers
# into the form would otherwise map the county's registry village by village.
ALREADY_REGISTERED = _lazy("该身份证号码已经登记，请勿重复登记；如需核实，请联系县团委工作人员。")
TOO_MANY_LOOKUPS = _lazy(
    "一小时内查到已登记身份证号码的次数过多，暂停登记带身份证号码的人员，"
    "请一小时后再试，或联系县团委工作人员。"
)
ID_LOOKUP_VERB = "person.id_registered_elsewhere"
ID_LOOKUP_LIMIT = 20  # hits on another township's number per township user per hour
ID_LOOKUP_WINDOW = timedelta(hours=1)


def _id_clash(id_number: str, existing: Person | None) -> Person | None:
    clash = Person.objects.filter(id_number_hash=pii.id_hash(id_number)).select_related("area")
    if existing is not None:
        clash = clash.exclude(pk=existing.pk)
    return clash.first()


def id_lookups_left(user: User) -> int | None:
    """How many more numbers registered outside their scope this user may hit in
    the current hour; None for county-level users (the whole registry is theirs).
    Counted from the audit log, so it holds across web and worker processes."""
    if access.sees_everything(user):
        return None
    used = AuditEvent.objects.filter(
        actor=user, verb=ID_LOOKUP_VERB, at__gte=timezone.now() - ID_LOOKUP_WINDOW
    ).count()
    return max(ID_LOOKUP_LIMIT - used, 0)


def id_lookups_record(*, acting_user: User, persons: list[Person], source: str) -> None:
    """One audit event per number found registered outside the user's scope, so
    that probing is visible to auditors. Callers commit it even when they then
    refuse the registration (call outside the registration's transaction)."""
    AuditEvent.objects.bulk_create(
        audit_event(
            actor=acting_user,
            verb=ID_LOOKUP_VERB,
            obj=person,
            area=person.area,
            details={"source": source, "by_area": acting_user.area_id},
        )
        for person in persons
    )


def person_id_lookup(*, acting_user: User, id_number: str, existing: Person | None = None) -> None:
    """Refuse an ID number that is registered already, saying neither who nor
    where. A hit outside the user's scope is audited; a township user past
    ID_LOOKUP_LIMIT hits in an hour is refused every lookup (hit or not, so
    that the refusal itself tells nothing) for the rest of the hour.

    The audit row is committed before the refusal is raised: call this outside
    any transaction of your own (the registry views do), or it rolls back with it.
    """
    try:
        number = pii.parse_id_number(id_number).number
    except ValidationError:
        return  # person_clean explains what is wrong with it
    refusal = None
    with transaction.atomic():
        left = id_lookups_left(acting_user)
        if left == 0:
            refusal = TOO_MANY_LOOKUPS
        else:
            clash = _id_clash(number, existing)
            if clash is not None:
                refusal = ALREADY_REGISTERED
                if not access.scope(Person.objects.filter(pk=clash.pk), acting_user).exists():
                    id_lookups_record(acting_user=acting_user, persons=[clash], source="form")
    if refusal is not None:
        raise ValidationError({"id_number": [str(refusal)]})


def _check_against_id(data: PersonData, info, errors: dict[str, list[str]]) -> None:
    """A stated gender or birth date must agree with what the ID number says."""
    if data.gender and data.gender != info.gender:
        errors.setdefault("gender", []).append(
            _("性别与身份证号码不符（号码显示为%(g)s）。") % {"g": Person.Gender(info.gender).label}
        )
    if data.birth_date and not _same_birth(
        data.birth_date, info.birth_date, month_only=data.birth_date_month_only
    ):
        errors.setdefault("birth_date", []).append(
            _("出生日期与身份证号码不符（号码显示为%(d)s）。")
            % {"d": info.birth_date.strftime("%Y-%m-%d")}
        )


def _same_birth(stated: date, derived: date, *, month_only: bool) -> bool:
    if month_only:
        return (stated.year, stated.month) == (derived.year, derived.month)
    return stated == derived


def _apply_person_values(person: Person, values: dict) -> list[str]:
    """Set cleaned values on the instance; return the names of changed fields."""
    changed = []
    for field_name in PERSON_FIELDS:
        if field_name not in values:
            continue
        if field_name == "area":
            current, new = person.area_id, values["area"].pk
        else:
            current, new = getattr(person, field_name), values[field_name]
        if current != new:
            setattr(person, field_name, values[field_name])
            changed.append(field_name)
    id_number = values.get("_id_number")
    if id_number and pii.store_id_number(person, id_number):
        changed.append("id_number")
    plain_id = id_number or (
        pii.decrypt(person.id_number_encrypted) if person.has_id_number else ""
    )
    person.name_sort = search.sort_key(person.name)
    person.search_tokens = search.person_tokens(
        name=person.name,
        id_number=plain_id,
        phone=person.phone,
        guardian_phone=person.guardian_phone,
    )
    return changed


def person_register(*, acting_user: User, data: PersonData) -> Person:
    require_perm(acting_user, "aidcases.change_person")
    require_area(acting_user, data.area)
    values = person_clean(data, check_registered=False)
    if values.get("_id_number"):
        person_id_lookup(acting_user=acting_user, id_number=values["_id_number"])
    with transaction.atomic(), acting(acting_user):
        person = Person(created_by=acting_user)
        _apply_person_values(person, values)
        person.full_clean(exclude=["photo", "merged_into", "created_by"])
        person.save()
        audit_log(
            actor=acting_user,
            verb="person.create",
            obj=person,
            area=person.area,
            details={"with_id_number": person.has_id_number},
        )
    return person


def person_update(*, acting_user: User, person: Person, data: PersonData) -> list[str]:
    """Returns the names of the fields that changed (empty: nothing to do)."""
    require_perm(acting_user, "aidcases.change_person")
    require_area(acting_user, person.area, data.area)
    values = person_clean(data, existing=person, check_registered=False)
    new_number = values.get("_id_number")
    if new_number and pii.id_hash(new_number) != person.id_number_hash:
        person_id_lookup(acting_user=acting_user, id_number=new_number, existing=person)
    with transaction.atomic(), acting(acting_user):
        person = Person.objects.select_for_update().get(pk=person.pk)
        changed = _apply_person_values(person, values)
        if not changed:
            return []
        person.updated_at = timezone.now()
        person.full_clean(exclude=["photo", "merged_into", "created_by"])
        person.save()
        # Field names only: the log must not become a second copy of the ID number.
        audit_log(
            actor=acting_user,
            verb="person.update",
            obj=person,
            area=person.area,
            details={"fields": changed},
        )
    return changed


@transaction.atomic
def person_reveal(*, acting_user: User, person: Person, field_name: str, via: str = "") -> str:
    """The clear value of a masked field; every reveal is an audit event
    (`via` names the screen when it is not the 显示 button, e.g. "edit_form")."""
    perm = {
        "id_number": "aidcases.reveal_id_number",
        "phone": "aidcases.reveal_phone",
        "guardian_phone": "aidcases.reveal_phone",
    }.get(field_name)
    if perm is None:
        raise ValueError(field_name)
    require_perm(acting_user, perm)
    value = (
        pii.decrypt(person.id_number_encrypted)
        if field_name == "id_number" and person.has_id_number
        else getattr(person, field_name, "")
        if field_name != "id_number"
        else ""
    )
    audit_log(
        actor=acting_user,
        verb="person.reveal",
        obj=person,
        area=person.area,
        details={"field": field_name, **({"via": via} if via else {})},
    )
    return value


@transaction.atomic
def person_id_search_record(*, acting_user: User, kind: str, matches: int) -> None:
    """A search by ID number (whole, or a tail) is a logged view: it tells the
    searcher whose number ends so, or that a number is registered. The number
    itself is not logged (a tail is already most of one beside a birth year)."""
    audit_log(
        actor=acting_user,
        verb="person.search_id",
        area=acting_user.area,
        details={"kind": kind, "matches": matches},
    )


@transaction.atomic
def person_record_view(*, acting_user: User, person: Person) -> None:
    audit_log(actor=acting_user, verb="person.view", obj=person, area=person.area)


@transaction.atomic
def person_set_active(*, acting_user: User, person: Person, active: bool, reason: str = "") -> None:
    require_perm(acting_user, "aidcases.change_person")
    require_area(acting_user, person.area)
    if person.is_active == active:
        return
    person.is_active = active
    with acting(acting_user):
        person.save(update_fields=["is_active"])
    audit_log(
        actor=acting_user,
        verb="person.activate" if active else "person.deactivate",
        obj=person,
        area=person.area,
        details={"reason": reason} if reason else {},
    )


@dataclass
class NewPersonEntry:
    """One brand-new person for `people_register_batch`: values already checked
    by `person_clean` (and the import's column parsers)."""

    person_values: dict
    hardship_level: str = ""
    flags: list[str] = field(default_factory=list)
    notes: str = ""
    # Builds the category's unsaved profile for the new case (the leaf app's model).
    build_profile: Callable[[AidCase], models.Model] | None = None


def people_register_batch(
    *, acting_user: User, category: str, entries: list[NewPersonEntry]
) -> list[Person]:
    """What person_register + case_open + a profile service store, in a few
    statements per batch instead of ~25 per person (a 10,000-row roster must
    commit in seconds). Call inside the caller's transaction, after checking
    every entry; scope and permission are checked here all the same."""
    require_perm(acting_user, "aidcases.change_person")
    allowed = set(access.areas_for(acting_user).values_list("pk", flat=True))
    persons = []
    for entry in entries:
        person = Person(created_by=acting_user)
        _apply_person_values(person, entry.person_values)
        if person.area_id not in allowed:
            raise PermissionDenied
        persons.append(person)
    Person.objects.bulk_create(persons)
    events = [
        audit_event(
            actor=acting_user,
            verb="person.create",
            obj=person,
            area=person.area,
            details={"with_id_number": person.has_id_number},
        )
        for person in persons
    ]
    today = timezone.localdate()
    cases = [
        AidCase(
            person=person,
            category=category,
            hardship_level=entry.hardship_level,
            flags=sorted(set(entry.flags)),
            opened_on=today,
            notes=entry.notes,
            created_by=acting_user,
        )
        for entry, person in zip(entries, persons, strict=True)
    ]
    AidCase.objects.bulk_create(cases)
    events += [
        audit_event(
            actor=acting_user,
            verb="case.open",
            obj=case,
            area=case.person.area,
            details={"category": case.category, "level": case.hardship_level},
        )
        for case in cases
    ]
    # Opening the case covers its profile in the audit log; the profile's
    # values are in the trigger-written history.
    profiles = [
        entry.build_profile(case)
        for entry, case in zip(entries, cases, strict=True)
        if entry.build_profile is not None
    ]
    if profiles:
        type(profiles[0]).objects.bulk_create(profiles)
    AuditEvent.objects.bulk_create(events)
    return persons


@dataclass
class PersonUpdateEntry:
    """One existing person for `people_update_batch`: `values` already checked
    by `person_clean` against this record (as an import's validate does)."""

    person: Person
    values: dict


# Person columns each changed field name stands for.
_UPDATE_COLUMNS = {"id_number": ("id_number_hash", "id_number_encrypted")}


def people_update_batch(
    *, acting_user: User, entries: list[PersonUpdateEntry], batch_size: int = 500
) -> dict[int, list[str]]:
    """What `person_update` does for each entry — the same row values, the same
    "person.update" audit events (field names only), the same trigger-written
    field history under the caller's `acting` context — in a few statements per
    batch instead of ~10 per person (10,000 changed roster rows took 93 s).

    Call inside the caller's transaction, after checking every entry (the
    unique ID constraint still guards races: an IntegrityError rolls all back).
    Returns the changed field names by person id; persons without a change are
    not written."""
    require_perm(acting_user, "aidcases.change_person")
    allowed = set(access.areas_for(acting_user).values_list("pk", flat=True))
    changed_by: dict[int, list[str]] = {}
    now = timezone.now()
    for start in range(0, len(entries), batch_size):
        chunk = entries[start : start + batch_size]
        # Fresh rows, locked, as person_update reads each one.
        locked = (
            Person.objects.select_for_update(of=("self",))
            .select_related("area")
            .in_bulk([e.person.pk for e in chunk])
        )
        persons = []
        for entry in chunk:
            person = locked.get(entry.person.pk)
            if person is None:
                raise ValidationError(_("“%(name)s”的记录已不存在。") % {"name": entry.person.name})
            new_area = entry.values.get("area")
            if person.area_id not in allowed or (
                new_area is not None and new_area.pk not in allowed
            ):
                raise PermissionDenied
            changed = _apply_person_values(person, entry.values)
            if not changed:
                continue
            person.updated_at = now
            persons.append(person)
            changed_by[person.pk] = changed
        if not persons:
            continue
        fields = {"name_sort", "search_tokens", "updated_at"}
        for person in persons:
            for name in changed_by[person.pk]:
                fields.update(_UPDATE_COLUMNS.get(name, (name,)))
        update_rows(persons, sorted(fields))
        AuditEvent.objects.bulk_create(
            [
                audit_event(
                    actor=acting_user,
                    verb="person.update",
                    obj=person,
                    area=person.area,
                    details={"fields": changed_by[person.pk]},
                )
                for person in persons
            ]
        )
    return changed_by
