"""Services: pairings (多助一, 双向确定).

The state machine, as an explicit table (the model's `state` is a plain field, so no
migration for django-fsm): proposed → volunteers confirmed → (the person or guardian
confirms, recorded by an officer) active → ended; a pairing not yet active may be
cancelled. Every step locks the pairing row, checks who may take it, and writes its
audit row in the same transaction. The database has the last word too: one open
pairing per case and team, active only when confirmed both ways.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidcases import access
from aidcases.audit import audit_log
from aidcases.models import AidCase, User
from aidcases.services import acting, require_perm
from volunteers.models import Membership, Pairing, PairingVolunteer, Team, Volunteer

__all__ = [
    "PAIRING_CASE_CATEGORIES",
    "PAIRING_PERSON_WHO",
    "PAIRING_TRANSITIONS",
    "pairing_actions",
    "pairing_cancel",
    "pairing_confirm_person",
    "pairing_confirm_volunteers",
    "pairing_end",
    "pairing_propose",
    "pairing_set_volunteers",
]

State = Pairing.State

# Only these cases are paired with volunteers (困难学生 get money, not a team).
PAIRING_CASE_CATEGORIES = (AidCase.Category.TEKUN, AidCase.Category.LEFT_BEHIND)

# Who confirms on the person's side.
PAIRING_PERSON_WHO = ("本人", "监护人")

# action → (states it may start from, state it leads to; None = the state stays)
PAIRING_TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "confirm_volunteers": ((State.PROPOSED,), State.VOLUNTEER_CONFIRMED),
    "confirm_person": ((State.VOLUNTEER_CONFIRMED,), State.ACTIVE),
    "end": ((State.ACTIVE,), State.ENDED),
    "cancel": ((State.PROPOSED, State.VOLUNTEER_CONFIRMED), State.CANCELLED),
    "set_volunteers": (tuple(Pairing.OPEN_STATES), None),
}

# Why a step is refused, by the state the pairing is in.
_STATE_REFUSALS = {
    "confirm_volunteers": gettext_lazy("只有“待志愿者确认”的结对才能登记志愿者确认。"),
    "confirm_person": gettext_lazy("志愿者确认之后才能登记对象（本人或监护人）确认。"),
    "end": gettext_lazy("只有结对中的帮扶才能结束。"),
    "cancel": gettext_lazy(
        "只有尚未生效的结对（待志愿者确认、待对象确认）才能撤销；结对中的请办理结束。"
    ),
    "set_volunteers": gettext_lazy("已结束或已撤销的结对不能再调整志愿者。"),
}

# Roles that manage pairings in their scope; a team leader only proposes, confirms the
# volunteers' side and adjusts the volunteers of their own team's pairings.
_OFFICER_ROLES = (User.Role.ADMIN, User.Role.COUNTY_STAFF, User.Role.TOWNSHIP_OFFICER)
_LEADER_ACTIONS = ("confirm_volunteers", "set_volunteers")


def _is_officer(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.role in _OFFICER_ROLES


def _may_manage(user: User) -> bool:
    return user.has_perm("volunteers.change_pairing") and (
        _is_officer(user) or user.role == User.Role.TEAM_LEADER
    )


def pairing_actions(*, user: User, pairing: Pairing) -> list[str]:
    """The steps `user` may take on `pairing` now (the pairing is already in their
    scope: the view fetched it through access)."""
    if not _may_manage(user):
        return []
    allowed = [
        action for action, (sources, _target) in PAIRING_TRANSITIONS.items()
        if pairing.state in sources
    ]  # fmt: skip
    if not _is_officer(user):
        allowed = [a for a in allowed if a in _LEADER_ACTIONS]
    return allowed


def _lock(*, acting_user: User, pairing: Pairing, action: str) -> Pairing:
    """The pairing locked for this step, after checking role, scope and state."""
    if not _may_manage(acting_user):
        raise PermissionDenied
    if action not in _LEADER_ACTIONS and not _is_officer(acting_user):
        # Recording the person's side, ending or cancelling is the officer's act.
        raise PermissionDenied
    locked = (
        Pairing.objects.select_for_update(of=("self",))
        .select_related("case__person__area", "team")
        .get(pk=pairing.pk)
    )
    if not Pairing.objects.filter(access.scope_q(Pairing, acting_user), pk=locked.pk).exists():
        raise PermissionDenied
    sources, _target = PAIRING_TRANSITIONS[action]
    if locked.state not in sources:
        raise ValidationError(
            _("%(why)s（当前状态：%(state)s）")
            % {"why": _STATE_REFUSALS[action], "state": locked.get_state_display()}
        )
    return locked


def _not_future(day: date, field: str, label: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: _("%(what)s不能晚于今天。") % {"what": label}})


def _clean_volunteers(
    *, team: Team, volunteers: Sequence[Volunteer], lead: Volunteer | None
) -> list[Volunteer]:
    chosen = list({v.pk: v for v in volunteers}.values())
    if not chosen:
        raise ValidationError({"volunteers": _("请至少选择一名结对志愿者。")})
    if lead is None:
        raise ValidationError({"lead": _("请指定一名主责志愿者。")})
    if lead.pk not in {v.pk for v in chosen}:
        raise ValidationError({"lead": _("主责志愿者须是所选的结对志愿者之一。")})
    members = set(
        Membership.objects.filter(
            team=team, ended_on__isnull=True, volunteer__in=[v.pk for v in chosen]
        ).values_list("volunteer_id", flat=True)
    )
    outsiders = [v.name for v in chosen if v.pk not in members]
    if outsiders:
        raise ValidationError(
            {"volunteers": _("%(names)s不是%(team)s的在队队员，不能参加该队的结对。")
             % {"names": "、".join(outsiders), "team": team.name}}
        )  # fmt: skip
    return chosen


def _audit(acting_user: User, verb: str, pairing: Pairing, **details) -> None:
    audit_log(
        actor=acting_user,
        verb=verb,
        obj=pairing,
        area=pairing.case.person.area,
        details={"state": pairing.state, **details},
    )


@transaction.atomic
def pairing_propose(
    *,
    acting_user: User,
    case: AidCase,
    team: Team,
    volunteers: Sequence[Volunteer],
    lead: Volunteer | None,
    proposed_on: date | None = None,
) -> Pairing:
    """Propose pairing `volunteers` of `team` (one of them the lead) with `case`."""
    require_perm(acting_user, "volunteers.add_pairing")
    if not _may_manage(acting_user):
        raise PermissionDenied
    if not AidCase.objects.filter(access.scope_q(AidCase, acting_user), pk=case.pk).exists():
        raise PermissionDenied
    if not Team.objects.filter(access.scope_q(Team, acting_user), pk=team.pk).exists():
        raise PermissionDenied
    # Lock the case: two officers proposing at once meet here, not in the constraint.
    case = (
        AidCase.objects.select_for_update(of=("self",))
        .select_related("person__area")
        .get(pk=case.pk)
    )
    if case.status != AidCase.Status.OPEN:
        raise ValidationError({"case": _("该档案已结案，不能再结对。")})
    if case.category not in PAIRING_CASE_CATEGORIES:
        raise ValidationError({"case": _("只有特困人员和留守儿童档案可以与志愿者结对。")})
    if not team.is_active:
        raise ValidationError({"team": _("该服务队已不在册，不能新建结对。")})
    proposed_on = proposed_on or timezone.localdate()
    _not_future(proposed_on, "proposed_on", _("提出日期"))
    chosen = _clean_volunteers(team=team, volunteers=volunteers, lead=lead)
    clash = _("%(name)s与%(team)s已有一条未结束的结对，请在原结对中调整志愿者。") % {
        "name": case.person.name,
        "team": team.name,
    }
    if Pairing.objects.filter(case=case, team=team, state__in=Pairing.OPEN_STATES).exists():
        raise ValidationError({"team": clash})
    with acting(acting_user):
        pairing = Pairing(case=case, team=team, proposed_on=proposed_on, proposed_by=acting_user)
        pairing.full_clean(exclude=["proposed_by"], validate_constraints=False)
        try:
            with transaction.atomic():
                pairing.save()
        except IntegrityError as exc:  # a proposal made meanwhile by someone else
            raise ValidationError({"team": clash}) from exc
        PairingVolunteer.objects.bulk_create(
            PairingVolunteer(pairing=pairing, volunteer=v, is_lead=v.pk == lead.pk) for v in chosen
        )
        _audit(
            acting_user,
            "pairing.propose",
            pairing,
            volunteers=[v.pk for v in chosen],
            lead=lead.pk,
        )
    return pairing


@transaction.atomic
def pairing_confirm_volunteers(
    *, acting_user: User, pairing: Pairing, confirmed_on: date | None = None
) -> Pairing:
    """Every volunteer of the pairing has agreed (the volunteers' side of 双向确定)."""
    pairing = _lock(acting_user=acting_user, pairing=pairing, action="confirm_volunteers")
    confirmed_on = confirmed_on or timezone.localdate()
    _not_future(confirmed_on, "confirmed_on", _("志愿者确认日期"))
    if confirmed_on < pairing.proposed_on:
        raise ValidationError({"confirmed_on": _("志愿者确认日期不能早于提出日期。")})
    with acting(acting_user):
        PairingVolunteer.objects.filter(pairing=pairing, confirmed_on__isnull=True).update(
            confirmed_on=confirmed_on
        )
        pairing.state = State.VOLUNTEER_CONFIRMED
        pairing.volunteers_confirmed_on = confirmed_on
        pairing.save(update_fields=["state", "volunteers_confirmed_on"])
        _audit(acting_user, "pairing.confirm_volunteers", pairing, on=confirmed_on.isoformat())
    return pairing


@transaction.atomic
def pairing_confirm_person(
    *,
    acting_user: User,
    pairing: Pairing,
    confirmed_on: date,
    who: str,
    name: str,
    how: str,
    started_on: date | None = None,
) -> Pairing:
    """The person (本人) or guardian (监护人) agreed — recorded by an officer, with date,
    who and how (当面/电话/书面…). The pairing becomes active from `started_on`
    (default: the day of the confirmation)."""
    pairing = _lock(acting_user=acting_user, pairing=pairing, action="confirm_person")
    errors = {}
    if who not in PAIRING_PERSON_WHO:
        errors["who"] = _("请选择由本人还是监护人确认。")
    name = (name or "").strip()
    if not name:
        errors["name"] = _("请填写确认人的姓名。")
    how = (how or "").strip()
    if not how:
        errors["how"] = _("请填写确认方式（当面、电话、书面等）。")
    if errors:
        raise ValidationError(errors)
    _not_future(confirmed_on, "confirmed_on", _("对象确认日期"))
    if confirmed_on < pairing.volunteers_confirmed_on:
        raise ValidationError({"confirmed_on": _("对象确认日期不能早于志愿者确认日期。")})
    started_on = started_on or confirmed_on
    if started_on < confirmed_on:
        raise ValidationError({"started_on": _("结对开始日期不能早于双方确认完成的日期。")})
    if pairing.case.status != AidCase.Status.OPEN:
        raise ValidationError(_("该档案已结案，不能再开始结对，请撤销这条结对。"))
    with acting(acting_user):
        pairing.state = State.ACTIVE
        pairing.person_confirmed_on = confirmed_on
        pairing.person_confirmed_by = f"{who}：{name}"[:50]
        pairing.person_confirmed_how = how[:100]
        pairing.person_confirmation_recorded_by = acting_user
        pairing.started_on = started_on
        pairing.save(
            update_fields=[
                "state",
                "person_confirmed_on",
                "person_confirmed_by",
                "person_confirmed_how",
                "person_confirmation_recorded_by",
                "started_on",
            ]
        )
        _audit(
            acting_user,
            "pairing.confirm_person",
            pairing,
            on=confirmed_on.isoformat(),
            who=who,
            how=pairing.person_confirmed_how,
            started_on=started_on.isoformat(),
        )
    return pairing


@transaction.atomic
def pairing_end(*, acting_user: User, pairing: Pairing, ended_on: date, reason: str) -> Pairing:
    pairing = _lock(acting_user=acting_user, pairing=pairing, action="end")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写结束原因。")})
    _not_future(ended_on, "ended_on", _("结束日期"))
    if ended_on < pairing.started_on:
        raise ValidationError(
            {"ended_on": _("结束日期不能早于结对开始日期（%(day)s）。")
             % {"day": pairing.started_on.isoformat()}}
        )  # fmt: skip
    with acting(acting_user):
        pairing.state = State.ENDED
        pairing.ended_on = ended_on
        pairing.end_reason = reason[:200]
        pairing.save(update_fields=["state", "ended_on", "end_reason"])
        _audit(acting_user, "pairing.end", pairing, on=ended_on.isoformat(), reason=reason)
    return pairing


@transaction.atomic
def pairing_cancel(*, acting_user: User, pairing: Pairing, reason: str) -> Pairing:
    """Withdraw a proposal that has not become active (the day is recorded as ended_on)."""
    pairing = _lock(acting_user=acting_user, pairing=pairing, action="cancel")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写撤销原因。")})
    with acting(acting_user):
        pairing.state = State.CANCELLED
        pairing.ended_on = timezone.localdate()
        pairing.end_reason = reason[:200]
        pairing.save(update_fields=["state", "ended_on", "end_reason"])
        _audit(acting_user, "pairing.cancel", pairing, reason=reason)
    return pairing


@transaction.atomic
def pairing_set_volunteers(
    *,
    acting_user: User,
    pairing: Pairing,
    volunteers: Sequence[Volunteer],
    lead: Volunteer | None,
    confirmed_on: date | None = None,
) -> bool:
    """Change who helps (add, remove, change the lead) while the pairing is not over.

    Once the volunteers' side is confirmed, a volunteer who joins is recorded as
    confirmed on `confirmed_on` (default today): whoever adds them vouches that they
    agreed. Returns whether anything changed."""
    pairing = _lock(acting_user=acting_user, pairing=pairing, action="set_volunteers")
    chosen = _clean_volunteers(team=pairing.team, volunteers=volunteers, lead=lead)
    confirmed_on = confirmed_on or timezone.localdate()
    _not_future(confirmed_on, "confirmed_on", _("确认日期"))
    current = {m.volunteer_id: m for m in pairing.members.select_for_update()}
    wanted = {v.pk for v in chosen}
    added = [pk for pk in wanted if pk not in current]
    removed = [pk for pk in current if pk not in wanted]
    old_lead = next((pk for pk, m in current.items() if m.is_lead), None)
    if not added and not removed and old_lead == lead.pk:
        return False
    joined_confirmed = confirmed_on if pairing.state != State.PROPOSED else None
    with acting(acting_user):
        # The lead is unique per pairing: clear it before setting the new one.
        PairingVolunteer.objects.filter(pairing=pairing, is_lead=True).exclude(
            volunteer_id=lead.pk
        ).update(is_lead=False)
        PairingVolunteer.objects.filter(pairing=pairing, volunteer_id__in=removed).delete()
        PairingVolunteer.objects.bulk_create(
            PairingVolunteer(pairing=pairing, volunteer_id=pk, confirmed_on=joined_confirmed)
            for pk in added
        )
        PairingVolunteer.objects.filter(pairing=pairing, volunteer_id=lead.pk).update(is_lead=True)
        _audit(
            acting_user,
            "pairing.set_volunteers",
            pairing,
            added=sorted(added),
            removed=sorted(removed),
            lead=lead.pk,
            old_lead=old_lead,
        )
    return True
