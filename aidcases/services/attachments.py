"""Attachments of a person's archive: store a checked upload, choose the photo,
remove, and audit downloads. The checks themselves are in `aidcases.attachments`.

Files live under MEDIA_ROOT with random names and are served only through the
scoped `attachment_download` view.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidcases.attachments import IMAGE_TYPES, clean_upload, file_error, sanitize_name
from aidcases.audit import audit_log, register_verbs
from aidcases.models import AidCase, Attachment, AuditEvent, Person, User
from aidcases.services.common import acting, require_area, require_perm

register_verbs({"person.photo": gettext_lazy("设置照片")})


def attachment_add(
    *,
    acting_user: User,
    person: Person,
    upload,
    kind: str,
    title: str,
    case: AidCase | None = None,
    set_as_photo: bool = False,
    permission: str = "aidcases.change_person",
) -> Attachment:
    """Check, clean and store one upload for a person; audited "attachment.add".

    Raises ValidationError (Chinese messages, keyed "file"/"kind"/"case") for
    anything we refuse. `permission`: what the caller's write needs instead of
    editing the person (a leaf app's own, e.g. recording a visit with photos).
    """
    require_perm(acting_user, permission)
    require_area(acting_user, person.area)
    if person.merged_into_id:
        raise file_error(_("该记录已合并到另一条记录，请到合并后的记录上传附件。"), "merged")
    if kind not in Attachment.Kind.values:
        raise ValidationError({"kind": _("请选择附件类型。")})
    if case is not None and case.person_id != person.pk:
        raise ValidationError({"case": _("所选帮扶档案不属于该帮扶对象。")})
    clean = clean_upload(upload)
    if (kind == Attachment.Kind.PHOTO or set_as_photo) and not clean.is_image:
        raise file_error(_("照片只能上传图片文件（JPG、PNG 等）。"), "photo_not_image")
    digest = hashlib.sha256(clean.data).hexdigest()
    if Attachment.objects.filter(person=person, sha256=digest, is_active=True).exists():
        raise file_error(_("该文件已经上传过，无需重复上传。"), "duplicate")
    original = sanitize_name(getattr(upload, "name", "") or "")
    attachment = Attachment(
        person=person,
        case=case,
        kind=kind,
        title=(title or "").strip()[:100],
        original_name=original,
        content_type=clean.content_type,
        extension=clean.extension,
        size=len(clean.data),
        sha256=digest,
        uploaded_by=acting_user,
    )
    attachment.file.save(f"upload{clean.extension}", ContentFile(clean.data), save=False)
    stored_name = attachment.file.name
    try:
        with transaction.atomic(), acting(acting_user):
            attachment.full_clean(exclude=["file", "uploaded_by"])
            attachment.save()
            audit_log(
                actor=acting_user,
                verb="attachment.add",
                obj=attachment,
                area=person.area,
                details={
                    "person": person.pk,
                    "kind": kind,
                    "content_type": clean.content_type,
                    "size": attachment.size,
                    "sha256": digest,
                },
            )
            if set_as_photo:
                _set_photo(acting_user=acting_user, person=person, attachment=attachment)
    except BaseException:
        # The row did not commit: do not leave an orphan file with personal data behind.
        attachment.file.storage.delete(stored_name)
        raise
    return attachment


def _set_photo(*, acting_user: User, person: Person, attachment: Attachment | None) -> None:
    person.photo = attachment
    with acting(acting_user):
        Person.objects.filter(pk=person.pk).update(photo=attachment)
    audit_log(
        actor=acting_user,
        verb="person.photo",
        obj=person,
        area=person.area,
        details={"attachment": attachment.pk if attachment else None},
    )


@transaction.atomic
def person_set_photo(*, acting_user: User, person: Person, attachment: Attachment) -> None:
    """Use one of the person's image attachments as their photo; audited "person.photo"."""
    require_perm(acting_user, "aidcases.change_person")
    require_area(acting_user, person.area)
    if attachment.person_id != person.pk or not attachment.is_active:
        raise ValidationError(_("只能选用该帮扶对象自己的附件作为照片。"))
    if attachment.content_type not in IMAGE_TYPES:
        raise ValidationError(_("照片只能是图片文件。"))
    if person.photo_id == attachment.pk:
        return
    _set_photo(acting_user=acting_user, person=person, attachment=attachment)


@transaction.atomic
def attachment_remove(*, acting_user: User, attachment: Attachment) -> None:
    """Soft delete (the file and row stay for the record); audited "attachment.remove".
    A removed photo stops being the person's photo."""
    person = attachment.person
    require_perm(acting_user, "aidcases.change_person")
    require_area(acting_user, person.area)
    if not attachment.is_active:
        return
    attachment.is_active = False
    with acting(acting_user):
        attachment.save(update_fields=["is_active"])
    audit_log(
        actor=acting_user,
        verb="attachment.remove",
        obj=attachment,
        area=person.area,
        details={"person": person.pk},
    )
    if Person.objects.filter(pk=person.pk, photo=attachment).exists():
        _set_photo(acting_user=acting_user, person=person, attachment=None)


DOWNLOAD_THROTTLE = timedelta(minutes=10)


@transaction.atomic
def attachment_record_download(
    *, acting_user: User, attachment: Attachment, thumbnail: bool = False
) -> None:
    """Audit a download. The photo thumbnail on the archive page is fetched on
    every page view: those are recorded at most once per user per 10 minutes
    (the page view itself is audited too)."""
    if thumbnail:
        recent = AuditEvent.objects.filter(
            actor=acting_user,
            verb="attachment.download",
            object_type=ContentType.objects.get_for_model(Attachment),
            object_id=str(attachment.pk),
            at__gte=timezone.now() - DOWNLOAD_THROTTLE,
        )
        if recent.exists():
            return
    audit_log(
        actor=acting_user,
        verb="attachment.download",
        obj=attachment,
        area=attachment.person.area,
        details={"person": attachment.person_id, "thumbnail": thumbnail},
    )
