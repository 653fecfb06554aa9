"""URL-walk entries for the 一人一档 archive and attachments (township B's objects)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.factories import make_person
from tests.urlwalk import ObjectUrl


def _png() -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, format="PNG")
    return SimpleUploadedFile("photo.png", buf.getvalue(), content_type="image/png")


def extend_world(world) -> None:
    from aidcases import services

    world.archive_person_b = make_person(
        world.village_b, name="钱东冶", category="tekun", phone="13800138000"
    )
    world.archive_attachment_b = services.attachment_add(
        acting_user=world.officer_b,
        person=world.archive_person_b,
        upload=_png(),
        kind="photo",
        title="照片",
    )


# Order matters for the owner's walk: removing comes last.
OBJECT_URLS = {
    "person_detail": ObjectUrl(lambda w: {"pk": w.archive_person_b.pk}),
    "person_reveal": ObjectUrl(
        lambda w: {"pk": w.archive_person_b.pk, "field": "phone"}, method="post"
    ),
    # An empty upload is refused with a message and sent back to the page.
    "attachment_upload": ObjectUrl(
        lambda w: {"pk": w.archive_person_b.pk}, owner_status=302, method="post"
    ),
    "attachment_download": ObjectUrl(lambda w: {"pk": w.archive_attachment_b.pk}),
    "attachment_set_photo": ObjectUrl(
        lambda w: {"pk": w.archive_attachment_b.pk}, owner_status=302, method="post"
    ),
    "attachment_remove": ObjectUrl(
        lambda w: {"pk": w.archive_attachment_b.pk}, owner_status=302, method="post"
    ),
}
