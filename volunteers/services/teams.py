"""Services: teams, volunteers and memberships.

Who may write what: county roles anywhere; a township officer in their township (a team by
its area, a volunteer by home area or by membership of one of the township's teams); a team
leader only their own teams and the volunteers in them. Out of scope is PermissionDenied here
(the views have answered 404 before a service is reached).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases import access, pii, search
from aidcases.audit import audit_log
from aidcases.models import Area, User
from aidcases.services.common import acting, require_area, require_perm
from volunteers.models import Membership, Team, Volunteer

__all__ = [
    "VolunteerData",
    "membership_add",
    "membership_end",
    "membership_set_role",
    "team_create",
    "team_update",
    "volunteer_clean",
    "volunteer_record_phone_reveal",
    "volunteer_register",
    "volunteer_update",
]

ADULT_AGE = 18


# --- scope helpers ---------------------------------------------------------------------------


def _require_team_in_scope(user: User, team: Team) -> None:
    if not Team.objects.filter(access.scope_q(Team, user), pk=team.pk).exists():
        raise PermissionDenied


def _require_volunteer_in_scope(user: User, volunteer: Volunteer) -> None:
    if not Volunteer.objects.filter(access.scope_q(Volunteer, user), pk=volunteer.pk).exists():
        raise PermissionDenied


def _within(area: Area, outer: Area) -> bool:
    return area.path.startswith(outer.path)


# --- teams -----------------------------------------------------------------------------------


def _team_clean(
    *,
    acting_user: User,
    name: str,
    area: Area,
    leader: User | None,
    areas_covered: list[Area],
) -> str:
    name = "".join((name or "").split())
    errors: dict[str, list[str]] = {}
    if not name:
        errors.setdefault("name", []).append(_("请填写服务队名称。"))
    if leader is not None:
        if not leader.is_active or leader.role != User.Role.TEAM_LEADER:
            errors.setdefault("leader", []).append(_("队长账号必须是启用的“服务队队长”角色用户。"))
        elif leader.area_id is None or not _within(leader.area, area):
            errors.setdefault("leader", []).append(
                _("队长账号所属区域须在服务队所属区域（%(area)s）之内。") % {"area": area.name}
            )
    outside = [a.name for a in areas_covered if not _within(a, area)]
    if outside:
        errors.setdefault("areas_covered", []).append(
            _("服务区域须在服务队所属区域之内：%(names)s") % {"names": "、".join(outside)}
        )
    if errors:
        raise ValidationError(errors)
    return name


def _require_unique_team_name(name: str, area: Area, exclude_pk: int | None = None) -> None:
    clash = Team.objects.filter(area=area, name=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError(
            {"name": _("%(area)s已有名为“%(name)s”的服务队。") % {"area": area.name, "name": name}}
        )


def team_create(
    *,
    acting_user: User,
    name: str,
    kind: str,
    area: Area,
    leader: User | None = None,
    areas_covered: list[Area] | tuple[Area, ...] = (),
    issuing_organisation: str = "",
) -> Team:
    """A new team. Team leaders do not found teams (a township officer or the county does)."""
    require_perm(acting_user, "volunteers.add_team")
    if acting_user.role == User.Role.TEAM_LEADER:
        raise PermissionDenied
    require_area(acting_user, area)
    areas_covered = list(areas_covered)
    name = _team_clean(
        acting_user=acting_user, name=name, area=area, leader=leader, areas_covered=areas_covered
    )
    with transaction.atomic(), acting(acting_user):
        _require_unique_team_name(name, area)
        team = Team(
            name=name,
            kind=kind,
            area=area,
            leader=leader,
            issuing_organisation=(issuing_organisation or "").strip(),
            created_by=acting_user,
        )
        team.full_clean(exclude=["created_by"])
        team.save()
        team.areas_covered.set(areas_covered)
        audit_log(
            actor=acting_user,
            verb="team.create",
            obj=team,
            area=area,
            details={"leader": leader.pk if leader else None},
        )
    return team


def team_update(
    *,
    acting_user: User,
    team: Team,
    name: str,
    kind: str,
    area: Area,
    leader: User | None,
    areas_covered: list[Area] | tuple[Area, ...] = (),
    issuing_organisation: str = "",
    is_active: bool = True,
) -> list[str]:
    """Returns the names of the changed fields. A team leader may edit their team but not
    move it or hand it to another leader."""
    require_perm(acting_user, "volunteers.change_team")
    _require_team_in_scope(acting_user, team)
    require_area(acting_user, area)
    if acting_user.role == User.Role.TEAM_LEADER and (
        area.pk != team.area_id or (leader.pk if leader else None) != team.leader_id
    ):
        raise ValidationError(_("队长不能更改服务队的所属区域或队长账号，请联系乡镇专干。"))
    areas_covered = list(areas_covered)
    name = _team_clean(
        acting_user=acting_user, name=name, area=area, leader=leader, areas_covered=areas_covered
    )
    with transaction.atomic(), acting(acting_user):
        team = Team.objects.select_for_update().get(pk=team.pk)
        new = {
            "name": name,
            "kind": kind,
            "area_id": area.pk,
            "leader_id": leader.pk if leader else None,
            "issuing_organisation": (issuing_organisation or "").strip(),
            "is_active": is_active,
        }
        changed = [k for k, v in new.items() if getattr(team, k) != v]
        covered_before = set(team.areas_covered.values_list("pk", flat=True))
        covered_after = {a.pk for a in areas_covered}
        if changed:
            _require_unique_team_name(name, area, exclude_pk=team.pk)
            for k in changed:
                setattr(team, k, new[k])
            team.full_clean(exclude=["created_by"])
            team.save(update_fields=changed)
        if covered_before != covered_after:
            team.areas_covered.set(areas_covered)
            changed.append("areas_covered")
        names = [k.removesuffix("_id") for k in changed]
        if names:
            audit_log(
                actor=acting_user,
                verb="team.update",
                obj=team,
                area=area,
                details={"fields": names},
            )
    return names


# --- volunteers ------------------------------------------------------------------------------


@dataclass
class VolunteerData:
    """What a form or a roster row says about a volunteer (raw, before checks)."""

    name: str
    kind: str
    area: Area
    gender: str = ""
    birth_date: date | None = None
    phone: str = ""
    university: str = ""
    major: str = ""
    skills: str = ""
    id_number: str = ""
    guardian_name: str = ""
    guardian_consent_on: date | None = None
    guardian_consent_how: str = ""
    notes: str = ""
    user: User | None = None


VOLUNTEER_FIELDS = (
    "name",
    "kind",
    "area",
    "gender",
    "birth_date",
    "phone",
    "university",
    "major",
    "skills",
    "guardian_name",
    "guardian_consent_on",
    "guardian_consent_how",
    "notes",
    "user",
)


def volunteer_clean(data: VolunteerData, *, existing: Volunteer | None = None) -> dict:
    """Validate and normalise; model field values (and `_id_number` when one was given).
    Raises ValidationError with Chinese messages keyed by field name."""
    errors: dict[str, list[str]] = {}
    values: dict = {}
    values["name"] = "".join((data.name or "").split())
    if not values["name"]:
        errors.setdefault("name", []).append(_("姓名不能为空。"))
    if data.kind not in Volunteer.Kind.values:
        errors.setdefault("kind", []).append(_("请选择志愿者类别。"))
    values["kind"] = data.kind
    values["area"] = data.area
    if data.gender and data.gender not in Volunteer.Gender.values:
        errors.setdefault("gender", []).append(_("请选择性别。"))
    values["gender"] = data.gender or ""
    values["birth_date"] = data.birth_date
    today = timezone.localdate()
    if data.birth_date and data.birth_date > today:
        errors.setdefault("birth_date", []).append(_("出生日期不能晚于今天。"))
    try:
        values["phone"] = pii.normalize_phone(data.phone) if data.phone else ""
    except ValidationError as exc:
        errors.setdefault("phone", []).extend(f"联系电话：{m}" for m in exc.messages)
    if data.id_number:
        try:
            info = pii.parse_id_number(data.id_number)
        except ValidationError as exc:
            errors.setdefault("id_number", []).extend(exc.messages)
        else:
            values["_id_number"] = info.number
            if data.gender and data.gender != info.gender:
                errors.setdefault("gender", []).append(_("性别与身份证号码不符。"))
            if data.birth_date and data.birth_date != info.birth_date:
                errors.setdefault("birth_date", []).append(_("出生日期与身份证号码不符。"))
            values["gender"], values["birth_date"] = info.gender, info.birth_date
            clash = Volunteer.objects.filter(id_number_hash=pii.id_hash(info.number))
            if existing is not None:
                clash = clash.exclude(pk=existing.pk)
            if clash.exists():
                errors.setdefault("id_number", []).append(
                    _("该身份证号码已登记为另一名志愿者，请勿重复登记。")
                )
    for field_name, limit in (("university", 100), ("major", 100), ("skills", 200)):
        values[field_name] = (getattr(data, field_name) or "").strip()[:limit]
    values["guardian_name"] = "".join((data.guardian_name or "").split())
    values["guardian_consent_on"] = data.guardian_consent_on
    values["guardian_consent_how"] = (data.guardian_consent_how or "").strip()
    if data.guardian_consent_on and data.guardian_consent_on > today:
        errors.setdefault("guardian_consent_on", []).append(_("同意日期不能晚于今天。"))
    if data.guardian_consent_on and not values["guardian_name"]:
        errors.setdefault("guardian_name", []).append(_("记录监护人同意时，请填写监护人姓名。"))
    values["notes"] = (data.notes or "").strip()
    values["user"] = data.user
    if errors:
        raise ValidationError(errors)
    return values


def _apply_volunteer_values(volunteer: Volunteer, values: dict) -> list[str]:
    changed = []
    for field_name in VOLUNTEER_FIELDS:
        if field_name not in values:
            continue
        if field_name in ("area", "user"):
            current = getattr(volunteer, f"{field_name}_id")
            new = values[field_name].pk if values[field_name] is not None else None
        else:
            current, new = getattr(volunteer, field_name), values[field_name]
        if current != new:
            setattr(volunteer, field_name, values[field_name])
            changed.append(field_name)
    id_number = values.get("_id_number")
    if id_number and pii.store_id_number(volunteer, id_number):
        changed.append("id_number")
    volunteer.name_sort = search.sort_key(volunteer.name)
    return changed


def volunteer_register(
    *, acting_user: User, data: VolunteerData, team: Team | None = None
) -> Volunteer:
    """A new volunteer. Their home area must be in the user's scope — unless they are being
    registered into one of the user's teams (`team`; the caller then adds the membership in
    the same transaction). A team leader always registers into one of their teams."""
    require_perm(acting_user, "volunteers.add_volunteer")
    if team is not None:
        _require_team_in_scope(acting_user, team)
    elif acting_user.role == User.Role.TEAM_LEADER:
        raise PermissionDenied
    else:
        require_area(acting_user, data.area)
    values = volunteer_clean(data)
    with transaction.atomic(), acting(acting_user):
        volunteer = Volunteer(created_by=acting_user)
        _apply_volunteer_values(volunteer, values)
        volunteer.full_clean(exclude=["created_by", "user"])
        volunteer.save()
        audit_log(
            actor=acting_user,
            verb="volunteer.create",
            obj=volunteer,
            area=volunteer.area,
            details={"with_id_number": bool(volunteer.id_number_hash)},
        )
    return volunteer


def volunteer_update(*, acting_user: User, volunteer: Volunteer, data: VolunteerData) -> list[str]:
    """Returns the changed field names (the ID number only by name, never its value)."""
    require_perm(acting_user, "volunteers.change_volunteer")
    _require_volunteer_in_scope(acting_user, volunteer)
    if data.area.pk != volunteer.area_id and acting_user.role != User.Role.TEAM_LEADER:
        require_area(acting_user, data.area)
    values = volunteer_clean(data, existing=volunteer)
    with transaction.atomic(), acting(acting_user):
        volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
        changed = _apply_volunteer_values(volunteer, values)
        if not changed:
            return []
        volunteer.full_clean(exclude=["created_by", "user"])
        volunteer.save()
        audit_log(
            actor=acting_user,
            verb="volunteer.update",
            obj=volunteer,
            area=volunteer.area,
            details={"fields": changed},
        )
    return changed


@transaction.atomic
def volunteer_record_phone_reveal(*, acting_user: User, volunteer: Volunteer) -> str:
    """The clear phone of a volunteer; every reveal is an audit event."""
    require_perm(acting_user, "aidcases.reveal_phone")
    _require_volunteer_in_scope(acting_user, volunteer)
    audit_log(
        actor=acting_user,
        verb="volunteer.reveal",
        obj=volunteer,
        area=volunteer.area,
        details={"field": "phone"},
    )
    return volunteer.phone


# --- memberships -----------------------------------------------------------------------------


def _require_consent(volunteer: Volunteer, started_on: date) -> None:
    age = volunteer.age_on(started_on)
    if age is not None and age < ADULT_AGE and volunteer.guardian_consent_on is None:
        raise ValidationError(
            {
                "volunteer": _(
                    "%(name)s入队时未满18周岁，须先在志愿者信息中登记监护人同意（监护人姓名、"
                    "同意日期和方式）后才能加入服务队。"
                )
                % {"name": volunteer.name}
            }
        )


def membership_add(
    *,
    acting_user: User,
    team: Team,
    volunteer: Volunteer,
    role: str = Membership.Role.MEMBER,
    started_on: date | None = None,
) -> Membership:
    require_perm(acting_user, "volunteers.add_membership")
    _require_team_in_scope(acting_user, team)
    started_on = started_on or timezone.localdate()
    if role not in Membership.Role.values:
        raise ValidationError({"role": _("请选择队内职务。")})
    if started_on > timezone.localdate():
        raise ValidationError({"started_on": _("加入日期不能晚于今天。")})
    _require_consent(volunteer, started_on)
    with transaction.atomic(), acting(acting_user):
        # Lock the volunteer: two requests adding the same person meet here, not at the
        # constraint with an IntegrityError.
        Volunteer.objects.select_for_update().filter(pk=volunteer.pk).first()
        if Membership.objects.filter(
            team=team, volunteer=volunteer, ended_on__isnull=True
        ).exists():
            raise ValidationError(
                {"volunteer": _("%(name)s已是本队在队队员。") % {"name": volunteer.name}}
            )
        membership = Membership(team=team, volunteer=volunteer, role=role, started_on=started_on)
        membership.full_clean()
        membership.save()
        audit_log(
            actor=acting_user,
            verb="membership.add",
            obj=membership,
            area=team.area,
            details={"team": team.pk, "volunteer": volunteer.pk, "role": role},
        )
    return membership


def membership_end(*, acting_user: User, membership: Membership, ended_on: date) -> None:
    require_perm(acting_user, "volunteers.change_membership")
    _require_team_in_scope(acting_user, membership.team)
    if ended_on > timezone.localdate():
        raise ValidationError({"ended_on": _("退出日期不能晚于今天。")})
    if ended_on < membership.started_on:
        raise ValidationError({"ended_on": _("退出日期不能早于加入日期。")})
    with transaction.atomic(), acting(acting_user):
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.ended_on is not None:
            raise ValidationError(_("该队员已退出本队。"))
        membership.ended_on = ended_on
        membership.save(update_fields=["ended_on"])
        audit_log(
            actor=acting_user,
            verb="membership.end",
            obj=membership,
            area=membership.team.area,
            details={"team": membership.team_id, "volunteer": membership.volunteer_id},
        )


def membership_set_role(*, acting_user: User, membership: Membership, role: str) -> bool:
    """Change a current member's role (队长/联络员/队员); False when it is already that."""
    require_perm(acting_user, "volunteers.change_membership")
    _require_team_in_scope(acting_user, membership.team)
    if role not in Membership.Role.values:
        raise ValidationError({"role": _("请选择队内职务。")})
    if membership.role == role:
        return False
    with transaction.atomic(), acting(acting_user):
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit_log(
            actor=acting_user,
            verb="membership.role",
            obj=membership,
            area=membership.team.area,
            details={"before": before, "role": role},
        )
    return True
