"""Attachments: content checks, metadata stripping, scoped and audited download, removal."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageCms, PngImagePlugin

from aidcases import attachments, services
from aidcases.models import Attachment, AuditEvent, Person
from tests.factories import make_person

GPS_IFD = 0x8825
ORIENTATION = 0x0112


# --- files made for the tests --------------------------------------------------


def jpeg_with_gps(size=(40, 20), orientation: int = 6) -> bytes:
    """A camera-like JPEG: EXIF with GPS position and orientation, ICC profile and XMP."""
    exif = Image.Exif()
    exif[0x010F] = "HUAWEI"  # Make
    exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "N", (39.0, 54.0, 27.5)
    gps[3], gps[4] = "E", (116.0, 23.0, 15.0)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    Image.new("RGB", size, "blue").save(
        buf, "JPEG", exif=exif, icc_profile=icc, xmp=b"<x:xmpmeta>GPSLatitude 39.9</x:xmpmeta>"
    )
    return buf.getvalue()


def png_bytes(mode="RGB", size=(16, 16), text: dict | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    for k, v in (text or {}).items():
        info.add_text(k, v)
    buf = io.BytesIO()
    Image.new(mode, size, "red").save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def image_bytes(fmt: str, mode="RGB", size=(16, 16), color="green") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, fmt)
    return buf.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def upload(data: bytes, name: str, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def person(village_a) -> Person:
    return make_person(village_a, name="赵熙晨", category="student")


@pytest.fixture
def person_b(village_b) -> Person:
    return make_person(village_b, name="钱东冶")


def add(user, person, data, name="x.jpg", kind="document", title="", **kw) -> Attachment:
    return services.attachment_add(
        acting_user=user, person=person, upload=upload(data, name), kind=kind, title=title, **kw
    )


def stored_bytes(attachment: Attachment) -> bytes:
    with attachment.file.open("rb") as fh:
        return fh.read()


def file_error(exc: pytest.ExceptionInfo) -> str:
    return "；".join(exc.value.message_dict["file"])


# --- content checks ---------------------------------------------------------------


def test_jpeg_with_gps_is_stored_without_exif_icc_or_xmp(officer_a, person):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test file has GPS

    attachment = add(officer_a, person, original, name="IMG_0001.JPG", kind="photo")

    data = stored_bytes(attachment)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert len(image.getexif()) == 0
    assert not image.getexif().get_ifd(GPS_IFD)
    assert "exif" not in image.info and "icc_profile" not in image.info
    assert b"xmpmeta" not in data and b"HUAWEI" not in data and b"Exif" not in data
    assert attachment.content_type == "image/jpeg" and attachment.extension == ".jpg"


def test_jpeg_orientation_is_applied_to_the_pixels_before_exif_is_dropped(officer_a, person):
    # Orientation 6: the camera held sideways; the stored image must stand upright.
    attachment = add(officer_a, person, jpeg_with_gps(size=(40, 20), orientation=6))

    image = Image.open(io.BytesIO(stored_bytes(attachment)))
    assert image.size == (20, 40)


def test_png_is_accepted_and_its_text_chunks_dropped(officer_a, person):
    attachment = add(
        officer_a, person, png_bytes(text={"Location": "东冶村 39.9N"}), name="扫描件.png"
    )

    data = stored_bytes(attachment)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (16, 16)
    assert "Location" not in image.info
    assert attachment.content_type == "image/png" and attachment.extension == ".png"
    assert attachment.original_name == "扫描件.png"


def test_pdf_is_kept_byte_for_byte(officer_a, person):
    attachment = add(officer_a, person, PDF, name="低保证明.pdf", title="低保证明")

    assert stored_bytes(attachment) == PDF
    assert attachment.content_type == "application/pdf"
    assert attachment.extension == ".pdf"
    assert attachment.size == len(PDF)
    import hashlib

    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()


def test_webp_without_transparency_is_stored_as_jpeg(officer_a, person):
    attachment = add(officer_a, person, image_bytes("WEBP"), name="微信图片.webp")

    assert attachment.content_type == "image/jpeg"
    assert attachments.download_name(attachment) == "微信图片.jpg"


def test_webp_with_transparency_is_stored_as_png(officer_a, person):
    attachment = add(
        officer_a,
        person,
        image_bytes("WEBP", mode="RGBA", color=(0, 128, 0, 100)),
        name="logo.webp",
    )

    assert attachment.content_type == "image/png"
    assert Image.open(io.BytesIO(stored_bytes(attachment))).mode == "RGBA"


def test_gif_is_stored_as_a_still_png(officer_a, person):
    attachment = add(officer_a, person, image_bytes("GIF", mode="P"), name="scan.gif")

    assert attachment.content_type == "image/png" and attachment.extension == ".png"


def test_windows_program_is_refused_with_a_chinese_message(officer_a, person):
    exe = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200

    with pytest.raises(ValidationError) as exc:
        add(officer_a, person, exe, name="setup.exe")

    assert "不支持的文件类型" in file_error(exc)
    assert not Attachment.objects.exists()


def test_html_renamed_to_jpg_is_refused_despite_name_and_content_type(officer_a, person):
    html = b"<!doctype html><html><script>alert(document.cookie)</script></html>"

    with pytest.raises(ValidationError) as exc:
        services.attachment_add(
            acting_user=officer_a,
            person=person,
            upload=upload(html, "photo.jpg", "image/jpeg"),
            kind="photo",
            title="",
        )

    assert "不支持的文件类型" in file_error(exc)


def test_jpeg_header_followed_by_garbage_is_refused_as_broken(officer_a, person):
    fake = jpeg_with_gps()[:40] + b"not really an image" * 20

    with pytest.raises(ValidationError) as exc:
        add(officer_a, person, fake)

    assert "损坏" in file_error(exc)


def test_file_over_the_size_cap_is_refused(officer_a, person, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000

    with pytest.raises(ValidationError) as exc:
        add(officer_a, person, PDF + b"%" * 2000, name="big.pdf")

    assert "文件太大" in file_error(exc)
    assert "1000 字节" in file_error(exc)


def test_default_size_cap_is_ten_megabytes(officer_a, person):
    assert attachments.max_bytes() == 10 * 1024 * 1024
    with pytest.raises(ValidationError) as exc:
        add(officer_a, person, PDF + b"%" * (10 * 1024 * 1024), name="scan.pdf")
    assert "不能超过 10 MB" in file_error(exc)


@pytest.mark.parametrize(
    "width,height",
    [
        (30_000, 30_000),  # above twice Pillow's limit: DecompressionBombError
        (10_000, 7_000),  # between once and twice: our own pixel check
    ],
)
def test_decompression_bomb_is_refused(officer_a, person, width, height):
    with pytest.raises(ValidationError) as exc:
        add(officer_a, person, png_claiming(width, height), name="bomb.png")

    assert "像素过大" in file_error(exc)


def test_empty_file_is_refused(officer_a, person):
    with pytest.raises(ValidationError) as exc:
        add(officer_a, person, b"", name="empty.pdf")
    assert "文件是空的" in file_error(exc)


def test_heic_photo_gets_advice_instead_of_a_bare_refusal(officer_a, person):
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64

    with pytest.raises(ValidationError) as exc:
        add(officer_a, person, heic, name="IMG_0002.HEIC")

    assert "HEIC" in file_error(exc)


def test_photo_kind_must_be_an_image(officer_a, person):
    with pytest.raises(ValidationError) as exc:
        add(officer_a, person, PDF, name="a.pdf", kind="photo")
    assert "照片只能上传图片" in file_error(exc)


def test_same_file_twice_is_refused(officer_a, person):
    add(officer_a, person, PDF, name="a.pdf")
    with pytest.raises(ValidationError) as exc:
        add(officer_a, person, PDF, name="again.pdf")
    assert "已经上传过" in file_error(exc)


def test_merged_record_takes_no_new_attachments(officer_a, person, village_a):
    keep = make_person(village_a, name="赵熙晨", no_id_reason="重复登记", gender="male")
    Person.objects.filter(pk=person.pk).update(merged_into=keep, is_active=False)
    person.refresh_from_db()

    with pytest.raises(ValidationError) as exc:
        add(officer_a, person, PDF, name="a.pdf")

    assert "已合并" in file_error(exc)


def test_case_of_another_person_is_refused(officer_a, person, village_a):
    other = make_person(village_a, name="孙一", category="tekun")
    with pytest.raises(ValidationError):
        add(officer_a, person, PDF, name="a.pdf", case=other.cases.get())


def test_original_name_is_sanitised():
    assert attachments.sanitize_name("C:\\Users\\张三\\户口本.jpg") == "户口本.jpg"
    assert attachments.sanitize_name("../../etc/passwd") == "passwd"
    assert attachments.sanitize_name('a<b>"c"\x00.pdf') == "a_b_c_.pdf"
    assert attachments.sanitize_name("") == "附件"
    long = attachments.sanitize_name("长" * 300 + ".pdf")
    assert len(long) == 200 and long.endswith(".pdf")


def test_file_is_stored_under_a_random_name(officer_a, person):
    attachment = add(officer_a, person, PDF, name="赵熙晨身份证.pdf")

    assert "赵熙晨" not in attachment.file.name
    assert attachment.file.name.startswith("attachments/") and attachment.file.name.endswith(".pdf")


def test_failed_save_leaves_no_file_behind(officer_a, person, settings, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("aidcases.services.attachments.audit_log", boom)

    with pytest.raises(RuntimeError):
        add(officer_a, person, PDF, name="a.pdf")

    media = Path(settings.MEDIA_ROOT)
    assert not [p for p in media.rglob("*") if p.is_file()]
    assert not Attachment.objects.exists()


# --- permissions and audit -----------------------------------------------------------


def test_adding_is_audited_with_the_person(officer_a, person):
    attachment = add(officer_a, person, PDF, name="a.pdf")

    event = AuditEvent.objects.get(verb="attachment.add")
    assert event.actor == officer_a and event.object_id == str(attachment.pk)
    assert event.details["person"] == person.pk and event.area == person.area


def test_team_leader_may_not_add(leader, person):
    with pytest.raises(PermissionDenied):
        add(leader, person, PDF, name="a.pdf")


def test_officer_may_not_add_to_another_township(officer_b, person):
    with pytest.raises(PermissionDenied):
        add(officer_b, person, PDF, name="a.pdf")


def test_setting_a_photo_is_audited_and_only_images_qualify(officer_a, person):
    pdf = add(officer_a, person, PDF, name="a.pdf")
    photo = add(officer_a, person, png_bytes(), name="me.png", kind="photo")

    with pytest.raises(ValidationError):
        services.person_set_photo(acting_user=officer_a, person=person, attachment=pdf)
    services.person_set_photo(acting_user=officer_a, person=person, attachment=photo)

    person.refresh_from_db()
    assert person.photo == photo
    assert AuditEvent.objects.filter(verb="person.photo", object_id=str(person.pk)).count() == 1


def test_removing_the_photo_clears_the_persons_photo(officer_a, person):
    photo = add(officer_a, person, png_bytes(), name="me.png", kind="photo", set_as_photo=True)
    person.refresh_from_db()
    assert person.photo == photo

    services.attachment_remove(acting_user=officer_a, attachment=photo)

    person.refresh_from_db()
    photo.refresh_from_db()
    assert person.photo is None and photo.is_active is False
    assert AuditEvent.objects.filter(verb="attachment.remove").count() == 1


# --- views -------------------------------------------------------------------------


def test_upload_form_stores_and_audits(client_for, officer_a, person):
    client = client_for(officer_a)
    response = client.post(
        reverse("attachment_upload", args=[person.pk]),
        {"kind": "document", "title": "户口本", "file": upload(png_bytes(), "hukou.png")},
    )

    assert response.status_code == 302
    assert response["Location"].endswith(f"/people/{person.pk}/#section-attachments")
    attachment = Attachment.objects.get(person=person)
    assert attachment.title == "户口本" and attachment.uploaded_by == officer_a
    assert AuditEvent.objects.filter(verb="attachment.add").exists()
    page = client.get(response["Location"]).content.decode()
    assert "已上传“户口本”" in page and "户口本" in page


def test_upload_form_refusal_is_shown_in_chinese(client_for, officer_a, person):
    client = client_for(officer_a)
    response = client.post(
        reverse("attachment_upload", args=[person.pk]),
        {"kind": "photo", "file": upload(b"<html></html>", "x.jpg", "image/jpeg")},
        follow=True,
    )

    assert "上传失败：不支持的文件类型" in response.content.decode()
    assert not Attachment.objects.exists()


def test_upload_form_without_file_says_so(client_for, officer_a, person):
    response = client_for(officer_a).post(
        reverse("attachment_upload", args=[person.pk]), {"kind": "document"}, follow=True
    )
    assert "请选择要上传的文件" in response.content.decode()


def test_upload_with_set_as_photo_shows_the_photo_in_the_header(client_for, officer_a, person):
    client = client_for(officer_a)
    client.post(
        reverse("attachment_upload", args=[person.pk]),
        {"kind": "photo", "set_as_photo": "on", "file": upload(jpeg_with_gps(), "me.jpg")},
    )

    person.refresh_from_db()
    page = client.get(reverse("person_detail", args=[person.pk])).content.decode()
    assert f'src="/attachments/{person.photo_id}/?thumb=1"' in page


def test_team_leader_cannot_upload_through_the_view(client_for, leader, person):
    response = client_for(leader).post(
        reverse("attachment_upload", args=[person.pk]),
        {"kind": "document", "file": upload(PDF, "a.pdf")},
    )
    assert response.status_code == 403
    assert not Attachment.objects.exists()


def test_download_is_audited_and_sent_with_safe_headers(client_for, officer_a, person):
    attachment = add(officer_a, person, PDF, name="低保证明.pdf")

    response = client_for(officer_a).get(reverse("attachment_download", args=[attachment.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''%E4%BD%8E%E4%BF%9D%E8%AF%81%E6%98%8E.pdf" in disposition
    event = AuditEvent.objects.get(verb="attachment.download")
    assert event.actor == officer_a and event.details["person"] == person.pk


def test_image_is_served_inline(client_for, officer_a, person):
    attachment = add(officer_a, person, png_bytes(), name="photo.png")

    response = client_for(officer_a).get(reverse("attachment_download", args=[attachment.pk]))

    assert response["Content-Disposition"].startswith("inline;")
    assert response["Content-Type"] == "image/png"


def test_thumbnail_downloads_are_audited_once_per_ten_minutes(client_for, officer_a, person):
    attachment = add(officer_a, person, png_bytes(), name="photo.png")
    client = client_for(officer_a)
    url = reverse("attachment_download", args=[attachment.pk]) + "?thumb=1"

    client.get(url)
    client.get(url)
    client.get(reverse("attachment_download", args=[attachment.pk]))  # a real download

    assert AuditEvent.objects.filter(verb="attachment.download").count() == 2


def test_officer_of_another_township_gets_404_for_the_attachment(
    client_for, officer_a, officer_b, person
):
    attachment = add(officer_a, person, PDF, name="a.pdf")

    response = client_for(officer_b).get(reverse("attachment_download", args=[attachment.pk]))

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(verb="attachment.download").exists()


def test_county_staff_may_download_from_any_township(client_for, officer_a, county_staff, person):
    attachment = add(officer_a, person, PDF, name="a.pdf")
    response = client_for(county_staff).get(reverse("attachment_download", args=[attachment.pk]))
    assert response.status_code == 200


def test_remove_view_soft_deletes_and_download_then_404s(client_for, officer_a, person):
    attachment = add(officer_a, person, PDF, name="a.pdf", title="旧证明")
    client = client_for(officer_a)

    response = client.post(reverse("attachment_remove", args=[attachment.pk]))

    assert response.status_code == 302
    attachment.refresh_from_db()
    assert attachment.is_active is False and attachment.file  # kept for the record
    page = client.get(reverse("person_detail", args=[person.pk])).content.decode()
    assert "已删除附件“旧证明”" in page
    assert f"/attachments/{attachment.pk}/" not in page
    assert client.get(reverse("attachment_download", args=[attachment.pk])).status_code == 404


def test_remove_view_refuses_get(client_for, officer_a, person):
    attachment = add(officer_a, person, PDF, name="a.pdf")
    response = client_for(officer_a).get(reverse("attachment_remove", args=[attachment.pk]))
    assert response.status_code == 405


def test_officer_of_another_township_cannot_remove(client_for, officer_a, officer_b, person):
    attachment = add(officer_a, person, PDF, name="a.pdf")
    response = client_for(officer_b).post(reverse("attachment_remove", args=[attachment.pk]))
    assert response.status_code == 404
    attachment.refresh_from_db()
    assert attachment.is_active


def test_set_photo_view(client_for, officer_a, person):
    attachment = add(officer_a, person, png_bytes(), name="me.png")
    response = client_for(officer_a).post(reverse("attachment_set_photo", args=[attachment.pk]))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.photo == attachment


def test_attachment_history_in_the_archive(client_for, officer_a, person):
    attachment = add(officer_a, person, PDF, name="a.pdf", title="入学通知书")
    services.attachment_remove(acting_user=officer_a, attachment=attachment)

    page = client_for(officer_a).get(reverse("person_detail", args=[person.pk])).content.decode()

    assert "上传附件：入学通知书" in page
    assert "附件已删除" in page
