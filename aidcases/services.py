"""Writes of the hub app. Each is atomic and writes its audit row inside."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import pghistory
import pghistory.models
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import models, transaction
from django.db.models import Q, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases import jobs, search
from aidcases.audit import audit_event, audit_log
from aidcases.models import (
    AidCase,
    Area,
    AuditEvent,
    DistinctPersons,
    Job,
    Person,
    TekunProfile,
    User,
)
from aidcases.roles import put_in_role_group

logger = logging.getLogger(__name__)


def _require_perm(user: User, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _acting(user: User | None):
    """pghistory context so trigger-written history rows name the acting user,
    also outside a request (commands, tasks)."""
    return pghistory.context(user=user.pk if user is not None else None)


# --- users ------------------------------------------------------------------


def _validate_role_area(role: str, area: Area | None) -> None:
    if role in User.AREA_BOUND_ROLES and area is None:
        raise ValidationError({"area": _("乡镇专干和服务队队长必须指定所属区域。")})
    if role == User.Role.TOWNSHIP_OFFICER and area is not None and area.level == Area.Level.COUNTY:
        raise ValidationError({"area": _("乡镇专干的所属区域应为乡(镇)，不能是整个县。")})


@transaction.atomic
def user_create(
    *,
    acting_user: User,
    username: str,
    password: str,
    role: str,
    area: Area | None,
    full_name: str = "",
    phone: str = "",
    email: str = "",
) -> User:
    _require_perm(acting_user, "aidcases.manage_users")
    _validate_role_area(role, area)
    user = User(
        username=username.strip(),
        full_name=full_name.strip(),
        phone=phone.strip(),
        email=email.strip(),
        role=role,
        area=area,
        is_staff=role == User.Role.ADMIN,
        is_superuser=role == User.Role.ADMIN,
    )
    user.set_password(password)
    user.full_clean()
    with _acting(acting_user):
        user.save()
    put_in_role_group(user)
    audit_log(
        actor=acting_user,
        verb="user.create",
        obj=user,
        details={"role": role, "area": area.code if area else None},
    )
    return user


@transaction.atomic
def user_update(
    *,
    acting_user: User,
    user: User,
    role: str,
    area: Area | None,
    full_name: str,
    phone: str = "",
    email: str = "",
) -> User:
    _require_perm(acting_user, "aidcases.manage_users")
    _validate_role_area(role, area)
    if user.pk == acting_user.pk and role != user.role:
        raise ValidationError({"role": _("不能修改自己的角色。")})
    before = {"role": user.role, "area": user.area.code if user.area else None}
    user.role, user.area = role, area
    user.full_name, user.phone, user.email = full_name.strip(), phone.strip(), email.strip()
    user.is_staff = user.is_superuser = role == User.Role.ADMIN
    user.full_clean()
    with _acting(acting_user):
        user.save(
            update_fields=[
                "role",
                "area",
                "full_name",
                "phone",
                "email",
                "is_staff",
                "is_superuser",
            ]
        )
    put_in_role_group(user)
    after = {"role": role, "area": area.code if area else None}
    audit_log(
        actor=acting_user,
        verb="user.update",
        obj=user,
        details={k: [before[k], after[k]] for k in before if before[k] != after[k]},
    )
    return user


@transaction.atomic
def user_set_active(*, acting_user: User, user: User, active: bool) -> User:
    _require_perm(acting_user, "aidcases.manage_users")
    if user.pk == acting_user.pk and not active:
        raise ValidationError(_("不能停用自己的账号。"))
    if user.is_active == active:
        return user
    user.is_active = active
    with _acting(acting_user):
        user.save(update_fields=["is_active"])
    audit_log(actor=acting_user, verb="user.activate" if active else "user.deactivate", obj=user)
    return user


@transaction.atomic
def user_reset_password(*, acting_user: User, user: User, password: str) -> User:
    _require_perm(acting_user, "aidcases.manage_users")
    user.set_password(password)
    with _acting(acting_user):
        user.save(update_fields=["password"])
    # The password itself is never logged, only that it was reset.
    audit_log(actor=acting_user, verb="user.password_reset", obj=user)
    return user


def user_record_login(*, user: User) -> None:
    audit_log(actor=user, verb="auth.login", obj=user, area=user.area)


def user_record_logout(*, user: User) -> None:
    audit_log(actor=user, verb="auth.logout", obj=user, area=user.area)


def user_record_login_failed(*, username: str) -> None:
    audit_log(actor=None, verb="auth.login_failed", details={"username": username[:150]})


def user_record_password_change(*, user: User) -> None:
    audit_log(actor=user, verb="auth.password_change", obj=user)


# --- areas ------------------------------------------------------------------

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


def areas_load(*, acting_user: User | None, rows: list[AreaRow]) -> AreaLoadResult:
    """Create or update areas from (code, name, parent code) rows. All or nothing.

    The level follows from the depth in the tree: a root is a county, its
    children townships, then villages, hamlets, groups. Loading the same rows
    again changes nothing.
    """
    result = AreaLoadResult()
    existing = {a.code: a for a in Area.objects.all()}
    by_code: dict[str, AreaRow] = {}
    for row in rows:
        if not row.code.isdigit():
            result.errors.append(_("第%(line)d行：区划代码“%(code)s”应为数字。") % vars(row))
        elif len(row.code) > CODE_MAX_LENGTH:
            result.errors.append(
                _("第%(line)d行：区划代码“%(code)s”超过%(max)d位。")
                % {**vars(row), "max": CODE_MAX_LENGTH}
            )
        elif not row.name:
            result.errors.append(_("第%(line)d行：名称不能为空。") % vars(row))
        elif len(row.name) > NAME_MAX_LENGTH:
            result.errors.append(
                _("第%(line)d行：名称超过%(max)d个字。") % {**vars(row), "max": NAME_MAX_LENGTH}
            )
        elif row.code in by_code:
            result.errors.append(
                _("第%(line)d行：区划代码%(code)s重复（第%(first)d行已出现）。")
                % {**vars(row), "first": by_code[row.code].line}
            )
        elif row.parent_code == row.code:
            result.errors.append(_("第%(line)d行：上级区划代码不能是自己。") % vars(row))
        else:
            by_code[row.code] = row

    def parent_of(code: str) -> str:
        if code in by_code:
            return by_code[code].parent_code
        area = existing.get(code)
        return area.parent.code if area and area.parent_id else ""

    paths: dict[str, str] = {}

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
            result.errors.append(_("第%(line)d行：上级区划代码%(parent_code)s不存在。") % vars(row))
            continue
        path = path_of(row.code)
        if path is None:
            result.errors.append(_("第%(line)d行：上级关系形成了循环。") % vars(row))
        elif _depth(path) + _moved_height(existing.get(row.code), path, existing, by_code) > len(
            LEVEL_BY_DEPTH
        ):
            result.errors.append(
                _("第%(line)d行：层级超过五级（县/乡/村/自然村/组）。") % vars(row)
            )
    if result.errors:
        return result

    with transaction.atomic(), _acting(acting_user):
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


# --- jobs -------------------------------------------------------------------


@transaction.atomic
def job_start(*, acting_user: User, kind: str, params: dict | None = None) -> Job:
    """Create a job row and hand it to a worker once the transaction commits."""
    job_kind = jobs.get_kind(kind)
    _require_perm(acting_user, job_kind.permission)
    job = Job.objects.create(kind=kind, params=params or {}, requested_by=acting_user)
    audit_log(actor=acting_user, verb="job.create", obj=job, details={"kind": kind, **job.params})

    from aidcases.tasks import run_job

    transaction.on_commit(lambda: run_job.delay(job.pk))
    return job


def job_run(*, job_id: int) -> None:
    """Run one job. Safe to call twice: only the call that claims the row runs it."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=Job.State.PENDING).update(
        state=Job.State.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        logger.info("job %s already claimed or finished; skipping", job_id)
        return
    job = Job.objects.select_related("requested_by").get(pk=job_id)
    reporter = jobs.ProgressReporter(job)
    try:
        with tempfile.TemporaryFile() as out, _acting(job.requested_by):
            filename = jobs.get_kind(job.kind).run(job=job, out=out, progress=reporter)
            out.seek(0)
            job.result_file.save(filename, File(out), save=False)
        job.result_name = filename
        job.state = Job.State.SUCCEEDED
        job.progress = 100
        job.message = _("已完成")
        job.finished_at = timezone.now()
        job.expires_at = job.finished_at + settings.JOB_FILE_TTL
        job.save(
            update_fields=[
                "result_file",
                "result_name",
                "state",
                "progress",
                "message",
                "finished_at",
                "expires_at",
            ]
        )
    except Exception as exc:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        job_mark_failed(job_id=job.pk, error=jobs.user_message(exc))
        raise


def job_mark_failed(*, job_id: int, error: str) -> bool:
    """Mark an unfinished job failed. Returns False when it had already finished."""
    return bool(
        Job.objects.filter(pk=job_id, state__in=[Job.State.PENDING, Job.State.RUNNING]).update(
            state=Job.State.FAILED, error=error[:2000], finished_at=timezone.now()
        )
    )


def job_fail_stale(*, now: datetime | None = None) -> int:
    """Fail jobs whose worker died: running without a heartbeat, or never picked up."""
    now = now or timezone.now()
    limit = now - settings.JOB_STALE_AFTER
    stale = Q(state=Job.State.RUNNING, heartbeat_at__lt=limit) | Q(
        state=Job.State.PENDING, created_at__lt=limit
    )
    return Job.objects.filter(stale).update(
        state=Job.State.FAILED,
        error=_("任务中断：后台处理进程长时间无响应（可能已重启或未启动），请重新发起。"),
        finished_at=now,
    )


def job_delete_expired_files(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    count = 0
    for job in Job.objects.filter(expires_at__lt=now).exclude(result_file=""):
        job.result_file.delete(save=False)
        Job.objects.filter(pk=job.pk).update(result_file="")
        count += 1
    return count


@transaction.atomic
def job_record_download(*, acting_user: User, job: Job) -> None:
    audit_log(
        actor=acting_user,
        verb="job.download",
        obj=job,
        details={"kind": job.kind, "file": job.result_name},
    )


# --- people -----------------------------------------------------------------


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


def _can_write_in(user: User, area: Area) -> bool:
    from aidcases import access

    return access.areas_for(user).filter(pk=area.pk).exists()


def person_clean(
    data: PersonData, *, existing: Person | None = None, check_registered: bool = True
) -> dict:
    """Validate and normalise; return model field values. Raises ValidationError
    with Chinese messages keyed by field name. `check_registered=False` skips the
    "ID already registered" query for callers that looked every ID up already
    (an import, one query for the whole file)."""
    from aidcases import pii

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
    if id_number and check_registered:
        digest = pii.id_hash(id_number)
        clash = Person.objects.filter(id_number_hash=digest)
        if existing is not None:
            clash = clash.exclude(pk=existing.pk)
        if clash.exists():
            errors.setdefault("id_number", []).append(
                _("该身份证号码已登记（%(where)s），请勿重复登记。")
                % {"where": clash.first().area.full_name()}
            )
    if id_number:
        values["_id_number"] = id_number
    if errors:
        raise ValidationError(errors)
    return values


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
    from aidcases import pii

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
    if id_number:
        digest = pii.id_hash(id_number)
        if person.id_number_hash != digest:
            person.id_number_hash = digest
            person.id_number_encrypted = pii.encrypt(id_number)
            person.id_number_last4 = id_number[-4:]
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
    _require_perm(acting_user, "aidcases.change_person")
    if not _can_write_in(acting_user, data.area):
        raise PermissionDenied
    values = person_clean(data)
    with transaction.atomic(), _acting(acting_user):
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
    _require_perm(acting_user, "aidcases.change_person")
    if not (_can_write_in(acting_user, person.area) and _can_write_in(acting_user, data.area)):
        raise PermissionDenied
    values = person_clean(data, existing=person)
    with transaction.atomic(), _acting(acting_user):
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
def person_reveal(*, acting_user: User, person: Person, field_name: str) -> str:
    """The clear value of a masked field; every reveal is an audit event."""
    from aidcases import pii

    perm = {
        "id_number": "aidcases.reveal_id_number",
        "phone": "aidcases.reveal_phone",
        "guardian_phone": "aidcases.reveal_phone",
    }.get(field_name)
    if perm is None:
        raise ValueError(field_name)
    _require_perm(acting_user, perm)
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
        details={"field": field_name},
    )
    return value


@transaction.atomic
def person_record_view(*, acting_user: User, person: Person) -> None:
    audit_log(actor=acting_user, verb="person.view", obj=person, area=person.area)


@transaction.atomic
def person_set_active(*, acting_user: User, person: Person, active: bool, reason: str = "") -> None:
    _require_perm(acting_user, "aidcases.change_person")
    if not _can_write_in(acting_user, person.area):
        raise PermissionDenied
    if person.is_active == active:
        return
    person.is_active = active
    with _acting(acting_user):
        person.save(update_fields=["is_active"])
    audit_log(
        actor=acting_user,
        verb="person.activate" if active else "person.deactivate",
        obj=person,
        area=person.area,
        details={"reason": reason} if reason else {},
    )


# --- cases ------------------------------------------------------------------


def case_open(
    *,
    acting_user: User,
    person: Person,
    category: str,
    hardship_level: str = "",
    flags: list[str] | None = None,
    opened_on: date | None = None,
    notes: str = "",
) -> AidCase:
    _require_perm(acting_user, "aidcases.change_person")
    if not _can_write_in(acting_user, person.area):
        raise PermissionDenied
    if AidCase.objects.filter(person=person, category=category, status="open").exists():
        raise ValidationError(
            {"category": _("%(name)s已有在册的“%(cat)s”档案。")
             % {"name": person.name, "cat": AidCase.Category(category).label}}
        )  # fmt: skip
    with transaction.atomic(), _acting(acting_user):
        case = AidCase(
            person=person,
            category=category,
            hardship_level=hardship_level,
            flags=sorted(set(flags or [])),
            opened_on=opened_on or timezone.localdate(),
            notes=notes,
            created_by=acting_user,
        )
        case.full_clean(exclude=["created_by"])
        case.save()
        audit_log(
            actor=acting_user,
            verb="case.open",
            obj=case,
            area=person.area,
            details={"category": category, "level": hardship_level},
        )
    return case


def case_update(
    *,
    acting_user: User,
    case: AidCase,
    hardship_level: str,
    flags: list[str],
    notes: str = "",
) -> list[str]:
    _require_perm(acting_user, "aidcases.change_person")
    if not _can_write_in(acting_user, case.person.area):
        raise PermissionDenied
    new = {"hardship_level": hardship_level, "flags": sorted(set(flags)), "notes": notes}
    changed = [k for k, v in new.items() if getattr(case, k) != v]
    if not changed:
        return []
    with transaction.atomic(), _acting(acting_user):
        for k in changed:
            setattr(case, k, new[k])
        case.full_clean(exclude=["created_by"])
        case.save(update_fields=changed)
        audit_log(
            actor=acting_user,
            verb="case.update",
            obj=case,
            area=case.person.area,
            details={"fields": changed},
        )
    return changed


def case_close(*, acting_user: User, case: AidCase, closed_on: date, reason: str) -> AidCase:
    _require_perm(acting_user, "aidcases.change_person")
    if not _can_write_in(acting_user, case.person.area):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError({"closed_reason": _("请填写结案原因。")})
    if case.status == AidCase.Status.CLOSED:
        raise ValidationError(_("该档案已结案。"))
    if closed_on < case.opened_on:
        raise ValidationError({"closed_on": _("结案日期不能早于建档日期。")})
    with transaction.atomic(), _acting(acting_user):
        case.status = AidCase.Status.CLOSED
        case.closed_on = closed_on
        case.closed_reason = reason.strip()
        case.save(update_fields=["status", "closed_on", "closed_reason"])
        audit_log(
            actor=acting_user,
            verb="case.close",
            obj=case,
            area=case.person.area,
            details={"reason": case.closed_reason},
        )
    return case


TEKUN_FIELDS = (
    "support_mode",
    "care_home",
    "health",
    "disability",
    "lives_alone",
    "responsible_cadre",
    "responsible_cadre_phone",
)


def case_profile_save(
    *,
    acting_user: User,
    case: AidCase,
    model: type[models.Model],
    fields: tuple[str, ...],
    category: str,
    values: dict,
) -> tuple[models.Model, list[str]]:
    """Create or update a case's one-to-one profile (特困, student, left-behind …);
    returns (profile, changed field names). Audited when anything was written."""
    _require_perm(acting_user, "aidcases.change_person")
    if case.category != category:
        raise ValueError(f"case {case.pk} is not {category}")
    if not _can_write_in(acting_user, case.person.area):
        raise PermissionDenied
    with transaction.atomic(), _acting(acting_user):
        profile, created = model.objects.get_or_create(case=case)
        changed = [k for k in fields if k in values and getattr(profile, k) != values[k]]
        for k in changed:
            setattr(profile, k, values[k])
        if changed:
            profile.full_clean()
            profile.save()
        if changed or created:
            audit_log(
                actor=acting_user,
                verb="case.profile",
                obj=case,
                area=case.person.area,
                details={"fields": changed},
            )
    return profile, changed


def tekun_profile_save(*, acting_user: User, case: AidCase, **values) -> TekunProfile:
    profile, _changed = case_profile_save(
        acting_user=acting_user,
        case=case,
        model=TekunProfile,
        fields=TEKUN_FIELDS,
        category=AidCase.Category.TEKUN,
        values=values,
    )
    return profile


# --- duplicates and merging -------------------------------------------------


@transaction.atomic
def person_mark_distinct(*, acting_user: User, a: Person, b: Person) -> None:
    _require_perm(acting_user, "aidcases.change_person")
    if not (_can_write_in(acting_user, a.area) and _can_write_in(acting_user, b.area)):
        raise PermissionDenied
    first, second = sorted([a, b], key=lambda p: p.pk)
    DistinctPersons.objects.get_or_create(
        person_a=first, person_b=second, defaults={"decided_by": acting_user}
    )
    audit_log(
        actor=acting_user,
        verb="person.distinct",
        obj=first,
        area=first.area,
        details={"other": second.pk},
    )


def person_merge(*, acting_user: User, keep: Person, drop: Person) -> Person:
    """Fold `drop` into `keep`: every row that points at `drop` — in any app —
    is re-pointed; `drop` is deactivated with `merged_into = keep`.

    Two open cases of the same category cannot both survive: the dropped
    record's one is closed with the reason "合并重复记录".
    """
    _require_perm(acting_user, "aidcases.change_person")
    if keep.pk == drop.pk:
        raise ValidationError(_("不能把记录与自己合并。"))
    if not (_can_write_in(acting_user, keep.area) and _can_write_in(acting_user, drop.area)):
        raise PermissionDenied
    with transaction.atomic(), _acting(acting_user):
        keep = Person.objects.select_for_update().get(pk=keep.pk)
        drop = Person.objects.select_for_update().get(pk=drop.pk)
        if drop.merged_into_id:
            raise ValidationError(_("该记录已合并过。"))
        if keep.has_id_number and drop.has_id_number and keep.id_number_hash != drop.id_number_hash:
            raise ValidationError(_("两条记录的身份证号码不同，不是同一人，不能合并。"))
        open_keep = set(
            keep.cases.filter(status=AidCase.Status.OPEN).values_list("category", flat=True)
        )
        for case in drop.cases.filter(status=AidCase.Status.OPEN, category__in=open_keep):
            case.status = AidCase.Status.CLOSED
            case.closed_on = timezone.localdate()
            case.closed_reason = "合并重复记录"
            case.save(update_fields=["status", "closed_on", "closed_reason"])
        moved: dict[str, int] = {}
        for rel in Person._meta.related_objects:
            if rel.related_model in (DistinctPersons,) or rel.remote_field.name == "merged_into":
                continue
            if issubclass(rel.related_model, pghistory.models.Event):
                continue  # history stays with the record it describes (and is append-only)
            if not (rel.one_to_many or rel.one_to_one):
                continue
            field = rel.remote_field.name
            count = rel.related_model._base_manager.filter(**{field: drop}).update(**{field: keep})
            if count:
                moved[rel.related_model._meta.label] = count
        DistinctPersons.objects.filter(Q(person_a=drop) | Q(person_b=drop)).delete()
        # The identity moves to the surviving record when only `drop` had it.
        if drop.has_id_number and not keep.has_id_number:
            keep.id_number_hash, keep.id_number_encrypted = (
                drop.id_number_hash,
                drop.id_number_encrypted,
            )
            keep.id_number_last4 = drop.id_number_last4
            drop.id_number_hash, drop.id_number_encrypted, drop.id_number_last4 = None, "", ""
            drop.no_id_reason = f"已合并到 {keep.pk}"
            drop.save(update_fields=["id_number_hash", "id_number_encrypted", "id_number_last4",
                                     "no_id_reason"])  # fmt: skip
            keep.no_id_reason = ""
        for field_name in ("phone", "address", "guardian_name", "guardian_relationship",
                           "guardian_phone", "birth_date"):  # fmt: skip
            if not getattr(keep, field_name) and getattr(drop, field_name):
                setattr(keep, field_name, getattr(drop, field_name))
        if keep.photo_id is None and drop.photo_id is not None:
            keep.photo_id = drop.photo_id
        from aidcases import pii

        keep.search_tokens = search.person_tokens(
            name=keep.name,
            id_number=pii.decrypt(keep.id_number_encrypted) if keep.has_id_number else "",
            phone=keep.phone,
            guardian_phone=keep.guardian_phone,
        )
        keep.updated_at = timezone.now()
        keep.save()
        drop.is_active = False
        drop.merged_into = keep
        drop.save(update_fields=["is_active", "merged_into"])
        audit_log(
            actor=acting_user,
            verb="person.merge",
            obj=keep,
            area=keep.area,
            details={"merged": drop.pk, "moved": moved},
        )
    return keep


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
    _require_perm(acting_user, "aidcases.change_person")
    from aidcases import access

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
