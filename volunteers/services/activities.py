"""Services: team activities (团队活动) and their photos."""

from __future__ import annotations

import hashlib
from datetime import date, time, timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases import access
from aidcases.attachments import clean_upload, file_error, sanitize_name
from aidcases.audit import audit_log
from aidcases.models import AuditEvent, User
from aidcases.services.common import acting, require_perm
from volunteers.models import Activity, ActivityPhoto, Team, Volunteer

__all__ = ["MAX_PHOTOS", "activity_photo_record_download", "activity_record", "members_on"]

MAX_PHOTOS = 9
DOWNLOAD_THROTTLE = timedelta(minutes=10)


def members_on(team: Team, day: date):
    """The team's members on `day` (joined on or before it, not yet left)."""
    return Volunteer.objects.filter(
        memberships__team=team, memberships__started_on__lte=day
    ).filter(Q(memberships__ended_on__isnull=True) | Q(memberships__ended_on__gte=day))


def activity_record(
    *,
    acting_user: User,
    team: Team,
    date: date,
    kind: str,
    content: str,
    participants: list[Volunteer] | tuple[Volunteer, ...] = (),
    starts_at: time | None = None,
    ends_at: time | None = None,
    place: str = "",
    people_served: int | None = None,
    backfill_reason: str = "",
    photos: list | tuple = (),
) -> Activity:
    """Record one team outing. An entry made more than `Activity.BACKFILL_DAYS` days after
    its date is marked back-filled and needs a reason; future dates are refused; every
    participant must have been a member of the team on the day. Photos are cleaned
    (content-sniffed, re-encoded without EXIF/GPS) before anything is stored."""
    require_perm(acting_user, "volunteers.add_activity")
    if not Team.objects.filter(access.scope_q(Team, acting_user), pk=team.pk).exists():
        raise PermissionDenied
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    if date > today:
        errors.setdefault("date", []).append(_("活动日期不能晚于今天。"))
    backfilled = (today - date).days > Activity.BACKFILL_DAYS
    backfill_reason = (backfill_reason or "").strip()
    if backfilled and not backfill_reason:
        errors.setdefault("backfill_reason", []).append(
            _("活动日期已过去%(days)d天以上，属于补录，请填写补录原因。")
            % {"days": Activity.BACKFILL_DAYS}
        )
    if starts_at and ends_at and ends_at < starts_at:
        errors.setdefault("ends_at", []).append(_("结束时间不能早于开始时间。"))
    content = (content or "").strip()
    if not content:
        errors.setdefault("content", []).append(_("请填写活动内容。"))
    participants = list(participants)
    if participants and "date" not in errors:
        members = set(
            members_on(team, date)
            .filter(pk__in=[v.pk for v in participants])
            .values_list("pk", flat=True)
        )
        outsiders = [v.name for v in participants if v.pk not in members]
        if outsiders:
            errors.setdefault("participants", []).append(
                _("以下人员在活动当天不是本队队员：%(names)s") % {"names": "、".join(outsiders)}
            )
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        errors.setdefault("photos", []).append(_("一次最多上传%(n)d张照片。") % {"n": MAX_PHOTOS})
    if errors:
        raise ValidationError(errors)
    cleaned = []
    for upload in photos:
        clean = clean_upload(upload)
        if not clean.is_image:
            raise file_error(_("活动照片只能上传图片文件（JPG、PNG 等）。"), "photo_not_image")
        cleaned.append((upload, clean))

    stored: list[str] = []
    try:
        with transaction.atomic(), acting(acting_user):
            activity = Activity(
                team=team,
                date=date,
                starts_at=starts_at,
                ends_at=ends_at,
                place=(place or "").strip(),
                kind=kind,
                content=content,
                people_served=people_served,
                backfilled=backfilled,
                backfill_reason=backfill_reason if backfilled else "",
                entered_by=acting_user,
            )
            activity.full_clean(exclude=["entered_by"])
            activity.save()
            activity.participants.set(participants)
            for upload, clean in cleaned:
                photo = ActivityPhoto(
                    activity=activity,
                    original_name=sanitize_name(getattr(upload, "name", "") or ""),
                    content_type=clean.content_type,
                    extension=clean.extension,
                    size=len(clean.data),
                    sha256=hashlib.sha256(clean.data).hexdigest(),
                    uploaded_by=acting_user,
                )
                photo.file.save(f"photo{clean.extension}", ContentFile(clean.data), save=False)
                stored.append(photo.file.name)
                photo.save()
            audit_log(
                actor=acting_user,
                verb="activity.create",
                obj=activity,
                area=team.area,
                details={
                    "team": team.pk,
                    "participants": len(participants),
                    "photos": len(cleaned),
                    "backfilled": backfilled,
                },
            )
    except BaseException:
        # Nothing committed: leave no orphan photo files behind.
        for name in stored:
            ActivityPhoto.file.field.storage.delete(name)
        raise
    return activity


@transaction.atomic
def activity_photo_record_download(
    *, acting_user: User, photo: ActivityPhoto, inline: bool = False
) -> None:
    """Audit a photo fetch. Thumbnails shown on the activity page are recorded at most once
    per user per photo per 10 minutes (every page view would otherwise log them all)."""
    if inline:
        recent = AuditEvent.objects.filter(
            actor=acting_user,
            verb="activity.photo_download",
            object_type=ContentType.objects.get_for_model(ActivityPhoto),
            object_id=str(photo.pk),
            at__gte=timezone.now() - DOWNLOAD_THROTTLE,
        )
        if recent.exists():
            return
    audit_log(
        actor=acting_user,
        verb="activity.photo_download",
        obj=photo,
        area=photo.activity.team.area,
        details={"activity": photo.activity_id, "inline": inline},
    )
