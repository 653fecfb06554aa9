"""Attachments of a person's archive, as the archive screens use them.

The reads are here; the upload checks (content sniffing, metadata stripping,
safe names) are in `aidcases.uploads` and the writes in
`aidcases.services.attachments` — both re-exported below under the names the
screens and tests call them by (`attachments.attachment_add`, …).
"""

from __future__ import annotations

from django.db.models import QuerySet

from aidcases import access
from aidcases.models import Attachment, User
from aidcases.services.attachments import (
    attachment_add,
    attachment_record_download,
    attachment_remove,
    person_set_photo,
)
from aidcases.uploads import IMAGE_TYPES, download_name, human_size, max_bytes, sanitize_name

__all__ = [
    "IMAGE_TYPES",
    "attachment_add",
    "attachment_record_download",
    "attachment_remove",
    "attachments_for",
    "download_name",
    "human_size",
    "max_bytes",
    "person_set_photo",
    "sanitize_name",
]


def attachments_for(user: User) -> QuerySet[Attachment]:
    """Active attachments of people in the user's scope."""
    if not user.has_perm("aidcases.view_person"):
        return Attachment.objects.none()
    return access.scope(
        Attachment.objects.filter(is_active=True).select_related(
            "person", "person__area", "uploaded_by", "case"
        ),
        user,
        area_field="person__area",
    )
