"""Uploaded files kept between the check, the preview and the confirm.

Each upload lives in MEDIA_ROOT/imports/<user id>/<random token>/ — the file as uploaded,
``meta.json`` (kind, options, state, counts), the preview's ``plan.json`` and the check
workbook. It is only ever looked up under the requesting user's own folder, so a token alone
never reaches someone else's file, and nothing here is served by URL. The file, the preview
and the check workbook (they hold personal data) are deleted once the import is committed or
cancelled; ``meta.json`` (counts, no personal data) stays for the result page until the
upload expires (IMPORT_UPLOAD_TTL, 24 hours; the beat task ``purge_expired_uploads`` runs hourly).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from aidcases.importing.kinds import UploadGone
from aidcases.importing.reader import unpacks_too_much

UPLOAD_DIR = "imports"
# Uploads bigger than this are read and checked by a worker, never in the web process.
INLINE_MAX_BYTES = 1024 * 1024
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# Files that hold the upload's personal data, deleted after commit or cancel.
_PERSONAL = ("plan.json", "report.xlsx")


def _user_root(user: Any) -> Path:
    return Path(settings.MEDIA_ROOT) / UPLOAD_DIR / str(user.pk)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(path)


class Upload:
    """One staged upload of one user (see the module docstring)."""

    def __init__(self, user: Any, token: str, path: Path, meta: dict) -> None:
        self.user = user
        self.token = token
        self.path = path
        self.meta = meta

    @property
    def kind(self) -> str:
        return self.meta["kind"]

    @property
    def options(self) -> dict[str, Any]:
        return self.meta.get("options") or {}

    @property
    def file_name(self) -> str:
        return self.meta["file_name"]

    @property
    def state(self) -> str:
        return self.meta.get("state", "")

    @property
    def file_path(self) -> Path:
        return self.path / self.meta["stored"]

    @property
    def rows_estimate(self) -> int | None:
        """About how many rows, for a small file; None for a big one (not looked into)."""
        estimate = self.meta.get("rows_estimate")
        return None if estimate is None else int(estimate)

    def update(self, **changes: Any) -> None:
        self.meta.update(changes)
        _write_json(self.path / "meta.json", self.meta)

    def summary(self) -> dict | None:
        """The preview data ``flow.check`` kept, or None before the first check."""
        path = self.path / "plan.json"
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def save_summary(self, summary: dict) -> None:
        _write_json(self.path / "plan.json", summary)

    @property
    def report_path(self) -> Path:
        return self.path / "report.xlsx"

    def has_report(self) -> bool:
        return self.report_path.is_file()

    def discard_personal_data(self) -> None:
        """After the commit: the uploaded file, the preview and the check workbook go; the
        counts in meta.json stay for the result page."""
        for name in (self.meta.get("stored", ""), *_PERSONAL):
            if name:
                (self.path / name).unlink(missing_ok=True)

    def delete(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def store(
    *, user: Any, kind: str, options: dict[str, Any], chunks: Iterable[bytes], file_name: str
) -> Upload:
    """Keep an uploaded file for check, preview and confirm."""
    purge_expired(user)
    token = secrets.token_urlsafe(24)
    path = _user_root(user) / token
    path.mkdir(parents=True)
    suffix = Path(file_name).suffix.lower()[:6]
    stored = path / f"upload{suffix}"
    with stored.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
    size = stored.stat().st_size
    meta = {
        "kind": kind,
        "size": size,
        "options": options,
        "file_name": Path(file_name).name[:200],
        "stored": stored.name,
        "created_at": timezone.now().isoformat(),
        "state": "uploaded",
        # Only a small file is looked into here, in the web process; a bigger one goes to
        # the worker whatever it holds (INLINE_MAX_BYTES).
        "rows_estimate": estimate_rows(stored) if size <= INLINE_MAX_BYTES else None,
    }
    _write_json(path / "meta.json", meta)
    return Upload(user, token, path, meta)


def get(user: Any, token: str, *, kind: str | None = None) -> Upload:
    """The user's own upload with this token (of this kind); UploadGone otherwise."""
    if not getattr(user, "is_authenticated", False) or not _TOKEN.match(token or ""):
        raise UploadGone
    path = _user_root(user) / token
    meta_path = path / "meta.json"
    if not meta_path.is_file():
        raise UploadGone
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if kind is not None and meta.get("kind") != kind:
        raise UploadGone
    return Upload(user, token, path, meta)


def purge_expired(user: Any | None = None) -> int:
    """Uploads are working copies: gone after IMPORT_UPLOAD_TTL (24 hours), confirmed or not.
    One user's (at each new upload), or everyone's (the hourly clean-up)."""
    root = Path(settings.MEDIA_ROOT) / UPLOAD_DIR
    roots = [_user_root(user)] if user is not None else [p for p in _children(root) if p.is_dir()]
    limit = time.time() - settings.IMPORT_UPLOAD_TTL.total_seconds()
    purged = 0
    for user_root in roots:
        for child in _children(user_root):
            try:
                if child.is_dir() and child.stat().st_mtime < limit:
                    shutil.rmtree(child, ignore_errors=True)
                    purged += 1
            except OSError:
                continue
    return purged


def _children(path: Path) -> list[Path]:
    try:
        return list(path.iterdir())
    except OSError:
        return []


_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>]")


def estimate_rows(path: Path) -> int | None:
    """About how many rows the file holds, without parsing it (to choose inline or job):
    the <row> elements of the largest worksheet, or the lines of a CSV. None when the zip says
    it unpacks to more than the reader accepts (the worker then refuses it with a message)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
        if head != b"PK\x03\x04":
            with path.open("rb") as handle:
                return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        best = 0
        with zipfile.ZipFile(path) as archive:
            if unpacks_too_much(archive.infolist()):
                return None
            for info in archive.infolist():
                name = info.filename
                if not name.startswith("xl/worksheets/") or not name.endswith(".xml"):
                    continue
                count, tail = 0, b""
                with archive.open(info) as sheet:
                    for chunk in iter(lambda: sheet.read(1 << 20), b""):
                        data = tail + chunk
                        count += len(_ROW_TAG.findall(data))
                        # keep a short tail so a tag cut between chunks is counted once
                        cut = data.rfind(b"<")
                        tail = data[cut:] if cut >= len(data) - 8 else b""
                        if tail:
                            count -= len(_ROW_TAG.findall(tail))
                best = max(best, count)
        return best
    except (OSError, zipfile.BadZipFile, ValueError):
        return 0
