"""Writes of the hub app. Each is atomic and writes its audit row inside."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from datetime import datetime

import pghistory
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases import jobs
from aidcases.audit import audit_log
from aidcases.models import Area, Job, User
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
        elif not row.name:
            result.errors.append(_("第%(line)d行：名称不能为空。") % vars(row))
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
        elif path.count("/") - 1 > len(LEVEL_BY_DEPTH):
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
