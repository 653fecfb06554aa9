"""Attachments of a person's archive (photos, scanned certificates): what an uploaded file
must pass before it is stored, and which attachments a user may see. The writes that store,
remove and audit them are ``services.attachment_*``.

An upload is trusted for nothing: its type is sniffed from the content (never
the name or the browser's content type), its size is capped, images are decoded
and re-encoded from their pixels alone — so EXIF (GPS!), XMP, ICC profiles and
anything smuggled after the image data are gone — and PDFs, which cannot be
cleaned that way, are kept as they are but only ever served as downloads.
"""

from __future__ import annotations

import contextlib
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from aidcases import access
from aidcases.models import Attachment, User

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

# Pixels, not bytes, decide how much memory decoding takes: a 40 KB PNG may
# claim 30000 × 30000 pixels (2.7 GB of RGB). 60 MP admits every phone camera's
# default output (a 50 MP sensor is 8160 × 6144) and refuses bombs.
MAX_PIXELS = 60_000_000
# Pillow raises DecompressionBombError above twice this and only warns between
# one and two times; `_decode_image` refuses anything above MAX_PIXELS itself.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class _Accepted:
    pil_format: str | None  # None: not an image, kept as is
    label: str


# Sniffed MIME type → how we handle it. GIF is accepted (old scanners and
# WeChat forwards produce them) but stored as a still PNG of its first frame.
ACCEPTED: dict[str, _Accepted] = {
    "image/jpeg": _Accepted("JPEG", "JPG"),
    "image/png": _Accepted("PNG", "PNG"),
    "image/webp": _Accepted("WEBP", "WebP"),
    "image/gif": _Accepted("GIF", "GIF"),
    "application/pdf": _Accepted(None, "PDF"),
}
IMAGE_TYPES = ("image/jpeg", "image/png")  # what we store images as


def max_bytes() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} 字节"


def file_error(message: str, code: str) -> ValidationError:
    """A refusal of the upload, keyed "file" as the upload forms show it."""
    return ValidationError({"file": [ValidationError(message, code=code)]})


def _unsupported() -> ValidationError:
    return file_error(
        _("不支持的文件类型：只能上传 JPG、PNG、WebP、GIF 图片或 PDF 文件。"), "file_type"
    )


# --- checks -----------------------------------------------------------------


def read_upload(upload) -> bytes:
    """The upload's bytes, refusing more than the cap without reading it all."""
    limit = max_bytes()
    size = getattr(upload, "size", None)
    too_big = _("文件太大（%(size)s），单个附件不能超过 %(max)s。")
    if size is not None and size > limit:
        raise file_error(too_big % {"size": human_size(size), "max": human_size(limit)}, "size")
    if hasattr(upload, "seek"):
        upload.seek(0)
    chunks, total = [], 0
    reader = upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(65536), b"")
    for chunk in reader:
        total += len(chunk)
        if total > limit:
            raise file_error(
                too_big % {"size": human_size(total) + "以上", "max": human_size(limit)}, "size"
            )
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise file_error(_("文件是空的，请重新选择。"), "empty")
    return data


def sniff(data: bytes) -> str:
    """The MIME type the content says it is, if we accept it; else a ValidationError."""
    kind = filetype.guess(data[:8192])
    mime = kind.mime if kind is not None else ""
    if mime in ("image/heic", "image/heif", "image/avif"):
        raise file_error(
            _(
                "暂不支持 HEIC/AVIF 格式的照片。请在手机相机设置中选择“兼容性最佳”，"
                "或截图后再上传。"
            ),
            "heic",
        )
    if mime not in ACCEPTED:
        raise _unsupported()
    return mime


@dataclass(frozen=True)
class CleanFile:
    data: bytes
    content_type: str
    extension: str
    width: int | None = None
    height: int | None = None

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def _too_many_pixels() -> ValidationError:
    return file_error(
        _("图片像素过大（超过 %(mp)d 万像素），请缩小后再上传。") % {"mp": MAX_PIXELS // 10000},
        "pixels",
    )


def _decode_image(data: bytes, pil_format: str) -> Image.Image:
    broken = file_error(_("图片文件已损坏或无法识别，请重新拍照或导出后上传。"), "broken")
    try:
        with warnings.catch_warnings():
            # Between MAX_PIXELS and twice that Pillow only warns: make it an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only the plugin the sniffed type names may parse it.
            with Image.open(io.BytesIO(data), formats=[pil_format]) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    raise _too_many_pixels()
                probe.verify()
            # verify() leaves the image unusable: open again to decode.
            image = Image.open(io.BytesIO(data), formats=[pil_format])
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise broken from exc
    return image


def clean_image(data: bytes, mime: str) -> CleanFile:
    """Re-encode from pixels only: keeps the orientation the camera recorded,
    drops every metadata block (EXIF/GPS, XMP, ICC, comments, text chunks)."""
    image = _decode_image(data, ACCEPTED[mime].pil_format)
    # Turn the pixels the way EXIF says, before EXIF is thrown away. A broken
    # EXIF block must not block a usable photo: then it stays as it is.
    with contextlib.suppress(Exception):
        image = ImageOps.exif_transpose(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if mime == "image/jpeg" or (mime == "image/webp" and not has_alpha):
        mode, out_format, out_mime, ext = (
            ("L" if image.mode in ("L", "1") else "RGB"),
            "JPEG",
            "image/jpeg",
            ".jpg",
        )
    else:
        mode = "RGBA" if has_alpha else ("L" if image.mode in ("L", "1") else "RGB")
        out_format, out_mime, ext = "PNG", "image/png", ".png"
    if image.mode != mode:
        image = image.convert(mode)
    # A fresh image carries pixels and nothing else: no .info to leak into save().
    clean = Image.new(mode, image.size)
    clean.paste(image)
    out = io.BytesIO()
    if out_format == "JPEG":
        clean.save(out, format="JPEG", quality=88, optimize=True)
    else:
        clean.save(out, format="PNG", optimize=True)
    return CleanFile(out.getvalue(), out_mime, ext, clean.width, clean.height)


def clean_upload(upload) -> CleanFile:
    data = read_upload(upload)
    mime = sniff(data)
    if ACCEPTED[mime].pil_format is None:
        return CleanFile(data, "application/pdf", ".pdf")
    return clean_image(data, mime)


_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def sanitize_name(name: str, *, extension: str = "") -> str:
    """A display name: no path, no control or reserved characters, ≤ 200 chars."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_NAME.sub("_", name).strip(" ._") or "附件"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        keep = ("." + ext) if dot and len(ext) <= 10 else ""
        name = (stem if dot else name)[: 200 - len(keep)] + keep
    return name


def download_name(attachment: Attachment) -> str:
    """The original name with the extension of what we actually store
    (a photo.webp may be stored as JPEG)."""
    stem = attachment.original_name
    if "." in stem:
        stem = stem.rsplit(".", 1)[0] or stem
    return f"{stem[: 200 - len(attachment.extension)]}{attachment.extension}"


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
