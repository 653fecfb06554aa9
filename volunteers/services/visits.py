"""Services: visits (走访记录) and the follow-ups (跟进事项) they open.

A visit arrives from the phone form (here) or the Excel import (which shares
`volunteers.policy` for what a visit opens). Everything a visit writes — the visit,
its photos, its follow-ups and their audit rows — commits together or not at all.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases import access
from aidcases.attachments import clean_upload
from aidcases.audit import audit_log
from aidcases.models import AidCase, Attachment, User
from aidcases.services.attachments import attachment_add
from aidcases.services.common import acting, require_perm
from volunteers import policy
from volunteers.models import (
    CARE_KEYS,
    MANDATORY_REPORTS,
    FollowUp,
    Membership,
    Pairing,
    Team,
    Visit,
    Volunteer,
)

__all__ = [
    "LEFT_BEHIND_FIELDS",
    "VISITABLE_CATEGORIES",
    "follow_up_close",
    "follow_up_create",
    "follow_up_reassign",
    "follow_up_refer",
    "follow_up_resolve",
    "follow_up_start",
    "visit_record",
]

VISITABLE_CATEGORIES = (AidCase.Category.TEKUN, AidCase.Category.LEFT_BEHIND)
REPORT_FIELDS = tuple(field for field, _label in MANDATORY_REPORTS)
# The 留守 block of a visit (besides the mandatory-report checklist).
LEFT_BEHIND_FIELDS = (
    "left_behind_kind",
    "actual_carer",
    "carer_matches_guardian",
    "schooling",
    "child_health",
    "child_mood",
    "child_safety",
    "parents_contacted",
    "parents_contact_note",
)
MAX_PHOTOS = 9

PERM_RECORD = "volunteers.add_visit"
PERM_FOLLOW_UP = "volunteers.change_followup"


def _in_scope(model, user: User, pk) -> bool:
    return model.objects.filter(access.scope_q(model, user), pk=pk).exists()


def _check_case_and_team(*, acting_user: User, case: AidCase, team: Team | None) -> None:
    if not _in_scope(AidCase, acting_user, case.pk):
        raise PermissionDenied
    if case.category not in VISITABLE_CATEGORIES:
        raise ValidationError({"case": _("只能为特困人员或留守儿童记录走访。")})
    if acting_user.role == User.Role.TEAM_LEADER:
        if team is None:
            raise ValidationError({"team": _("请选择您的服务队。")})
        if team.leader_id != acting_user.pk:
            raise PermissionDenied
        paired = Pairing.objects.filter(case=case, team=team).exclude(state=Pairing.State.CANCELLED)
        if not paired.exists():
            raise ValidationError({"case": _("您的服务队与该对象没有结对，不能为其记录走访。")})
    elif team is not None and not _in_scope(Team, acting_user, team.pk):
        raise PermissionDenied


def _check_visitors(team: Team | None, visitors: list[Volunteer], day: date) -> None:
    if not visitors:
        return
    if team is None:
        raise ValidationError({"visitors": _("请先选择服务队，再勾选走访人员。")})
    members = set(
        # Not by start date: rosters often reach the system after the members started.
        Membership.objects.filter(team=team, volunteer__in=visitors)
        .exclude(ended_on__lt=day)
        .values_list("volunteer_id", flat=True)
    )
    strangers = [v.name for v in visitors if v.pk not in members]
    if strangers:
        raise ValidationError(
            {
                "visitors": _("%(names)s 在走访日期不是该服务队队员。")
                % {"names": "、".join(strangers)}
            }
        )


def _photo_attachment(*, acting_user: User, case: AidCase, upload, day: date) -> Attachment:
    """Store one photo through the hub (sniffed, re-encoded, EXIF/GPS gone). The same
    picture already in the person's archive is linked instead of refused."""
    try:
        return attachment_add(
            acting_user=acting_user,
            person=case.person,
            case=case,
            upload=upload,
            kind=Attachment.Kind.PHOTO,
            title=_("走访照片 %(day)s") % {"day": day.isoformat()},
            permission=PERM_RECORD,
        )
    except ValidationError as exc:
        if not _is_duplicate(exc):
            # a refused photo is the form's "photos" field
            messages = exc.error_dict.get("file") if hasattr(exc, "error_dict") else None
            raise ValidationError({"photos": messages or exc.messages}) from None
        if hasattr(upload, "seek"):
            upload.seek(0)
        digest = hashlib.sha256(clean_upload(upload).data).hexdigest()
        existing = Attachment.objects.filter(
            person=case.person, sha256=digest, is_active=True
        ).first()
        if existing is None:
            raise
        return existing


def _is_duplicate(exc: ValidationError) -> bool:
    if not hasattr(exc, "error_dict"):
        return False
    errors = exc.error_dict.get("file", [])
    return any(getattr(e, "code", None) == "duplicate" for e in errors)


def _values_of(cares: dict | None, own_action: str, left_behind: dict | None) -> dict:
    values: dict = {}
    for key in CARE_KEYS:
        note, concern = (cares or {}).get(key, ("", False))
        values[f"{key}_note"] = (note or "").strip()
        values[f"{key}_concern"] = bool(concern)
    values["own_action"] = (own_action or "").strip()
    lb = left_behind or {}
    for field in LEFT_BEHIND_FIELDS:
        value = lb.get(field)
        if field in ("carer_matches_guardian", "parents_contacted"):
            values[field] = value if value in (True, False) else None
        else:
            values[field] = (value or "").strip()
    for field in REPORT_FIELDS:
        values[field] = bool(lb.get(field))
    return values


def _check_category_block(category: str, values: dict) -> None:
    cares_given = any(values[f"{k}_note"] or values[f"{k}_concern"] for k in CARE_KEYS)
    lb_given = any(
        values[f] not in ("", None) for f in LEFT_BEHIND_FIELDS if f != "left_behind_kind"
    ) or any(values[f] for f in REPORT_FIELDS)
    if category == AidCase.Category.TEKUN:
        if lb_given or values["left_behind_kind"]:
            raise ValidationError(_("特困人员的走访请填写“五个关爱”，不填留守儿童项目。"))
        if not cares_given:
            raise ValidationError({"cares": _("请至少填写一项“五个关爱”的情况。")})
    else:
        if cares_given or values["own_action"]:
            raise ValidationError(_("留守儿童的走访请填写留守儿童项目，不填“五个关爱”。"))
        if not values["left_behind_kind"]:
            raise ValidationError({"left_behind_kind": _("请选择走访类型。")})


def _open_follow_ups(*, acting_user: User, visit: Visit, values: dict, today: date) -> None:
    owner = None
    for need in policy.needs_of(values):
        owner = owner or policy.owner_for(visit.case, acting_user)
        follow_up = FollowUp(
            case=visit.case,
            visit=visit,
            source_key=need.source_key,
            need=need.text,
            owner=owner,
            due_on=policy.due_on(need, visit.date, today),
            urgency=need.urgency,
            is_mandatory_report=need.is_mandatory_report,
            created_by=acting_user,
        )
        follow_up.full_clean()
        follow_up.save()
        audit_log(
            actor=acting_user,
            verb="follow_up.open",
            obj=follow_up,
            area=visit.case.person.area,
            details={
                "visit": visit.pk,
                "source": need.source_key,
                "urgency": need.urgency,
                "mandatory_report": need.is_mandatory_report,
                "owner": owner.pk,
            },
        )


def visit_record(
    *,
    acting_user: User,
    case: AidCase,
    team: Team | None,
    date: date,
    visitors: Iterable[Volunteer] = (),
    mode: str = Visit.Mode.IN_PERSON,
    seen_in_person: bool = True,
    not_seen_reason: str = "",
    cares: dict[str, tuple[str, bool]] | None = None,
    own_action: str = "",
    left_behind: dict | None = None,
    notes: str = "",
    photos: Iterable = (),
    client_token: uuid.UUID | None = None,
    source: str = Visit.Source.FORM,
) -> Visit:
    """Record one visit and open the follow-ups it calls for (volunteers.policy).

    `cares`: {care key: (note, needs attention)} for a 特困 visit; `left_behind`: the
    LEFT_BEHIND_FIELDS and the mandatory-report checklist (`report_*`) for a 留守 visit.
    The same `client_token` gives back the visit it already made (a double submit, a
    retry after a dropped connection). Raises ValidationError (Chinese) for bad input,
    PermissionDenied for a case or team out of the user's reach."""
    require_perm(acting_user, PERM_RECORD)
    if client_token is not None:
        existing = Visit.objects.filter(client_token=client_token).first()
        if existing is not None:
            if existing.entered_by_id != acting_user.pk:
                raise PermissionDenied
            return existing
    visitors = list(visitors)
    photos = list(photos)
    today = timezone.localdate()
    _check_case_and_team(acting_user=acting_user, case=case, team=team)
    if date > today:
        raise ValidationError({"date": _("走访日期不能晚于今天。")})
    if mode not in Visit.Mode.values:
        raise ValidationError({"mode": _("请选择走访方式。")})
    not_seen_reason = (not_seen_reason or "").strip()
    if seen_in_person:
        not_seen_reason = ""
    elif not not_seen_reason:
        raise ValidationError({"not_seen_reason": _("未见到本人时，请填写原因。")})
    _check_visitors(team, visitors, date)
    if len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": _("一次最多上传 %(n)s 张照片。") % {"n": MAX_PHOTOS}})
    values = _values_of(cares, own_action, left_behind)
    _check_category_block(case.category, values)
    duplicate = Visit.objects.filter(case=case, date=date, team=team)
    if duplicate.exists():
        raise ValidationError(
            _("%(name)s 在 %(day)s 已有%(team)s的走访记录，不能重复登记。")
            % {
                "name": case.person.name,
                "day": date.isoformat(),
                "team": _("该服务队") if team else _("（未选服务队）"),
            },
            code="duplicate",
        )
    visit = Visit(
        case=case,
        team=team,
        date=date,
        mode=mode,
        seen_in_person=seen_in_person,
        not_seen_reason=not_seen_reason,
        notes=(notes or "").strip(),
        source=source,
        client_token=client_token,
        entered_by=acting_user,
        **values,
    )
    visit.full_clean(exclude=["entered_by", "client_token"], validate_unique=False)
    try:
        with transaction.atomic(), acting(acting_user):
            visit.save()
            visit.visitors.set(visitors)
            stored = [
                _photo_attachment(acting_user=acting_user, case=case, upload=upload, day=date)
                for upload in photos
            ]
            visit.photos.set(stored)
            audit_log(
                actor=acting_user,
                verb="visit.record",
                obj=visit,
                area=case.person.area,
                details={
                    "case": case.pk,
                    "team": team.pk if team else None,
                    "date": date.isoformat(),
                    "seen_in_person": seen_in_person,
                    "photos": len(stored),
                    "source": source,
                },
            )
            _open_follow_ups(acting_user=acting_user, visit=visit, values=values, today=today)
    except IntegrityError:
        # A concurrent submit of the same form won the race: give back its visit.
        if client_token is not None:
            existing = Visit.objects.filter(client_token=client_token).first()
            if existing is not None and existing.entered_by_id == acting_user.pk:
                return existing
        raise ValidationError(
            _("%(name)s 在 %(day)s 已有该服务队的走访记录，不能重复登记。")
            % {"name": case.person.name, "day": date.isoformat()},
            code="duplicate",
        ) from None
    return visit


# --- follow-ups ---------------------------------------------------------------


def _check_follow_up(acting_user: User, follow_up: FollowUp) -> None:
    require_perm(acting_user, PERM_FOLLOW_UP)
    if not _in_scope(FollowUp, acting_user, follow_up.pk):
        raise PermissionDenied


def _require_open(follow_up: FollowUp) -> None:
    if not follow_up.is_open:
        state = follow_up.get_state_display()
        raise ValidationError(_("该事项已%(state)s，不能再操作。") % {"state": state})


def _save(acting_user: User, follow_up: FollowUp, verb: str, fields: list[str], details: dict):
    follow_up.full_clean()
    with acting(acting_user):
        follow_up.save(update_fields=fields)
    audit_log(
        actor=acting_user,
        verb=verb,
        obj=follow_up,
        area=follow_up.case.person.area,
        details=details,
    )


@transaction.atomic
def follow_up_create(
    *,
    acting_user: User,
    case: AidCase,
    need: str,
    due_on: date,
    owner: User | None = None,
    urgency: str = FollowUp.Urgency.NORMAL,
    visit: Visit | None = None,
) -> FollowUp:
    """A follow-up opened by hand, from a visit or straight from a case."""
    require_perm(acting_user, PERM_FOLLOW_UP)
    if not _in_scope(AidCase, acting_user, case.pk):
        raise PermissionDenied
    if visit is not None:
        if visit.case_id != case.pk:
            raise ValidationError({"visit": _("该走访记录不属于此帮扶对象。")})
        if not _in_scope(Visit, acting_user, visit.pk):
            raise PermissionDenied
    need = (need or "").strip()
    if not need:
        raise ValidationError({"need": _("请填写需要跟进的事项。")})
    if due_on < timezone.localdate():
        raise ValidationError({"due_on": _("办理期限不能早于今天。")})
    follow_up = FollowUp(
        case=case,
        visit=visit,
        # manual ones from the same visit must not collide with the policy's sources
        source_key=f"manual-{uuid.uuid4().hex[:12]}" if visit is not None else "",
        need=need[:300],
        owner=owner or policy.owner_for(case, acting_user),
        due_on=due_on,
        urgency=urgency,
        created_by=acting_user,
    )
    follow_up.full_clean()
    with acting(acting_user):
        follow_up.save()
    audit_log(
        actor=acting_user,
        verb="follow_up.open",
        obj=follow_up,
        area=case.person.area,
        details={"visit": visit.pk if visit else None, "manual": True, "owner": follow_up.owner_id},
    )
    return follow_up


@transaction.atomic
def follow_up_start(*, acting_user: User, follow_up: FollowUp) -> FollowUp:
    _check_follow_up(acting_user, follow_up)
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if follow_up.state == FollowUp.State.IN_PROGRESS:
        return follow_up
    _require_open(follow_up)
    follow_up.state = FollowUp.State.IN_PROGRESS
    _save(acting_user, follow_up, "follow_up.start", ["state"], {})
    return follow_up


@transaction.atomic
def follow_up_resolve(*, acting_user: User, follow_up: FollowUp, resolution: str) -> FollowUp:
    """Handled: says what was done (required)."""
    _check_follow_up(acting_user, follow_up)
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    _require_open(follow_up)
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": _("请填写处理结果（做了什么）。")})
    follow_up.state = FollowUp.State.RESOLVED
    follow_up.resolution = resolution
    follow_up.resolved_on = timezone.localdate()
    _save(
        acting_user,
        follow_up,
        "follow_up.resolve",
        ["state", "resolution", "resolved_on"],
        {"resolution": resolution[:200]},
    )
    return follow_up


@transaction.atomic
def follow_up_close(*, acting_user: User, follow_up: FollowUp, reason: str) -> FollowUp:
    """Closed without being resolved (no longer needed, duplicate …): a reason is required."""
    _check_follow_up(acting_user, follow_up)
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    _require_open(follow_up)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写关闭原因。")})
    follow_up.state = FollowUp.State.CLOSED
    follow_up.resolution = _("关闭：%(reason)s") % {"reason": reason}
    follow_up.resolved_on = timezone.localdate()
    _save(
        acting_user,
        follow_up,
        "follow_up.close",
        ["state", "resolution", "resolved_on"],
        {"reason": reason[:200]},
    )
    return follow_up


@transaction.atomic
def follow_up_reassign(
    *, acting_user: User, follow_up: FollowUp, owner: User, note: str = ""
) -> FollowUp:
    """Hand the follow-up to another user who can reach it."""
    _check_follow_up(acting_user, follow_up)
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    _require_open(follow_up)
    if not owner.is_active or not _in_scope(FollowUp, owner, follow_up.pk):
        raise ValidationError({"owner": _("所选负责人无权处理该事项，请另选。")})
    if owner.pk == follow_up.owner_id:
        return follow_up
    before = follow_up.owner_id
    follow_up.owner = owner
    _save(
        acting_user,
        follow_up,
        "follow_up.reassign",
        ["owner"],
        {"from": before, "to": owner.pk, "note": (note or "").strip()[:200]},
    )
    return follow_up


@transaction.atomic
def follow_up_refer(
    *, acting_user: User, follow_up: FollowUp, referred_to: str, note: str = ""
) -> FollowUp:
    """Refer to another office (民政, 儿童主任, 派出所 …); the follow-up stays open here
    until someone records the outcome."""
    _check_follow_up(acting_user, follow_up)
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    _require_open(follow_up)
    if referred_to not in FollowUp.ReferredTo.values:
        raise ValidationError({"referred_to": _("请选择转介部门。")})
    follow_up.referred_to = referred_to
    follow_up.referred_note = (note or "").strip()[:200]
    if follow_up.state == FollowUp.State.OPEN:
        follow_up.state = FollowUp.State.IN_PROGRESS
    _save(
        acting_user,
        follow_up,
        "follow_up.refer",
        ["referred_to", "referred_note", "state"],
        {"referred_to": referred_to, "note": follow_up.referred_note},
    )
    return follow_up
