"""Accounts: create, change role/area, (de)activate, reset passwords; sign-in events."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aidcases.audit import audit_log
from aidcases.models import Area, User, UserManager
from aidcases.roles import put_in_role_group
from aidcases.services.common import acting, require_perm


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
    require_perm(acting_user, "aidcases.manage_users")
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
    with acting(acting_user):
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
    require_perm(acting_user, "aidcases.manage_users")
    _validate_role_area(role, area)
    if user.pk == acting_user.pk and role != user.role:
        raise ValidationError({"role": _("不能修改自己的角色。")})
    before = {"role": user.role, "area": user.area.code if user.area else None}
    user.role, user.area = role, area
    user.full_name, user.phone, user.email = full_name.strip(), phone.strip(), email.strip()
    user.is_staff = user.is_superuser = role == User.Role.ADMIN
    user.full_clean()
    with acting(acting_user):
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
    require_perm(acting_user, "aidcases.manage_users")
    if user.pk == acting_user.pk and not active:
        raise ValidationError(_("不能停用自己的账号。"))
    if user.is_active == active:
        return user
    user.is_active = active
    with acting(acting_user):
        user.save(update_fields=["is_active"])
    audit_log(actor=acting_user, verb="user.activate" if active else "user.deactivate", obj=user)
    return user


@transaction.atomic
def user_reset_password(*, acting_user: User, user: User, password: str) -> User:
    require_perm(acting_user, "aidcases.manage_users")
    user.set_password(password)
    with acting(acting_user):
        user.save(update_fields=["password"])
    # The password itself is never logged, only that it was reset.
    audit_log(actor=acting_user, verb="user.password_reset", obj=user)
    return user


def user_record_login(*, user: User) -> None:
    audit_log(actor=user, verb="auth.login", obj=user, area=user.area)


def user_record_logout(*, user: User) -> None:
    audit_log(actor=user, verb="auth.logout", obj=user, area=user.area)


def user_record_login_failed(*, username: str) -> None:
    """A failed sign-in. The typed name is kept only when it names an account: people
    type their password into the name field, and the audit log must not keep it."""
    account = User.objects.filter(username=username).select_related("area").first()
    if account is None:
        audit_log(actor=None, verb="auth.login_failed", details={"username_known": False})
        return
    audit_log(
        actor=None,
        verb="auth.login_failed",
        obj=account,
        area=account.area,
        details={"username": account.username},
    )


def user_record_password_change(*, user: User) -> None:
    audit_log(actor=user, verb="auth.password_change", obj=user)


def user_record_created_by_command(user: User) -> None:
    """`createsuperuser` made `user` (see models.UserManager): the role group and the audit
    row every account gets from `user_create`."""
    with transaction.atomic():
        put_in_role_group(user)
        audit_log(
            actor=None,
            verb="user.create",
            obj=user,
            details={"role": user.role, "area": None, "command": "createsuperuser"},
        )


UserManager.superuser_created = user_record_created_by_command
