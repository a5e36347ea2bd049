"""Attachments: checked by what they contain, not only by their name, and stored safely.

A file is accepted when its extension is on the list, its content really is of that
kind (images are opened with Pillow, office documents are opened as the ZIP packages
they are, PDFs must start and end like one, text must be text), and it is within the size
limit. Files are stored under ``<instance>/uploads/helpdesk/<yyyy>/<mm>/`` with random
names and no extension, readable by the server's user only; the database keeps the
original name, the type found, the size and a SHA-256.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.db import utcnow

# extension -> (kind, content type stored when the content matches)
ACCEPTED: dict[str, tuple[str, str]] = {
    "png": ("image", "image/png"),
    "jpg": ("image", "image/jpeg"),
    "jpeg": ("image", "image/jpeg"),
    "gif": ("image", "image/gif"),
    "webp": ("image", "image/webp"),
    "pdf": ("pdf", "application/pdf"),
    "txt": ("text", "text/plain"),
    "log": ("text", "text/plain"),
    "csv": ("text", "text/csv"),
    "docx": ("ooxml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("ooxml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": ("ooxml",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "odt": ("odf", "application/vnd.oasis.opendocument.text"),
    "ods": ("odf", "application/vnd.oasis.opendocument.spreadsheet"),
}
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif",
               "WEBP": "image/webp"}
OOXML_MAIN = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
MAX_IMAGE_PIXELS = 60_000_000  # a decompression bomb is refused, a phone photo is not
MAX_ZIP_ENTRIES = 5000
MAX_NAME = 150


class AttachmentError(ValueError):
    """Files were refused; each problem names the file and says why.

    ``problems`` are (English msgid, params) pairs, so pages show them translated.
    """

    def __init__(self, message: str, **params: object) -> None:
        self.problems: list[tuple[str, dict[str, object]]] = [(message, params)]
        super().__init__(message % params if params else message)

    @classmethod
    def many(cls, errors: list[AttachmentError]) -> AttachmentError:
        first = errors[0]
        for other in errors[1:]:
            first.problems.extend(other.problems)
        first.args = ("; ".join(m % p if p else m for m, p in first.problems),)
        return first


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: the name the sender gave and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def accepted_extensions() -> list[str]:
    return sorted(ACCEPTED)


def clean_name(name: str) -> str:
    """A file name safe to show and to send back: no folders, no control characters."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    name = re.sub(r"\s+", " ", name)
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot else name[:MAX_NAME]
    return name or "lampiran"


def _human(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(size // 1024, 1)} KB"


def _looks_like(data: bytes) -> str:
    """A short guess of what refused content is, for the error message."""
    head = data[:8]
    if head.startswith(b"MZ"):
        return "a Windows program"
    if head.startswith(b"\x7fELF"):
        return "a Linux program"
    if head.startswith(b"PK"):
        return "a ZIP archive"
    if head.startswith(b"%PDF"):
        return "a PDF"
    if head.lstrip().lower().startswith((b"<!doc", b"<html", b"<svg", b"<?xml")):
        return "HTML or XML"
    return "something else"


def _check_image(data: bytes) -> str | None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            width, height = img.size
            if width * height > MAX_IMAGE_PIXELS:
                return None
            img.verify()
    except Exception:
        return None
    return IMAGE_TYPES.get(fmt)


def _check_pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]


def _open_zip(data: bytes) -> zipfile.ZipFile | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        if len(archive.infolist()) > MAX_ZIP_ENTRIES or archive.testzip() is not None:
            return None
        return archive
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError):
        return None


def _check_ooxml(data: bytes, ext: str) -> bool:
    archive = _open_zip(data)
    if archive is None:
        return False
    names = set(archive.namelist())
    if "[Content_Types].xml" not in names:
        return False
    return any(n.startswith(OOXML_MAIN[ext]) for n in names)


def _check_odf(data: bytes, ext: str) -> bool:
    archive = _open_zip(data)
    if archive is None or "mimetype" not in archive.namelist():
        return False
    return archive.read("mimetype").decode("ascii", "replace").strip() == ACCEPTED[ext][1]


def _check_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            return False
    head = text[:512].lstrip().lower()
    # A page a browser would run is not a text file, whatever its name says.
    return not head.startswith(("<!doctype html", "<html", "<script", "<svg"))


def check(upload: Upload, *, max_bytes: int) -> CheckedFile:
    """Accept ``upload`` or raise :class:`AttachmentError` saying which file and why."""
    name = clean_name(upload.filename)
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if ext not in ACCEPTED:
        raise AttachmentError("%(name)s: files of type %(kind)s are not accepted; accepted: "
                              "%(accepted)s", name=name, kind="." + ext if ext else "-",
                              accepted=", ".join(accepted_extensions()))
    data = upload.data
    if not data:
        raise AttachmentError("%(name)s: the file is empty", name=name)
    if len(data) > max_bytes:
        raise AttachmentError("%(name)s: %(size)s is more than the limit of %(limit)s",
                              name=name, size=_human(len(data)), limit=_human(max_bytes))
    kind, content_type = ACCEPTED[ext]
    ok = True
    if kind == "image":
        found = _check_image(data)
        ok = found is not None
        content_type = found or content_type
    elif kind == "pdf":
        ok = _check_pdf(data)
    elif kind == "ooxml":
        ok = _check_ooxml(data, ext)
    elif kind == "odf":
        ok = _check_odf(data, ext)
    elif kind == "text":
        ok = _check_text(data)
    if not ok:
        raise AttachmentError("%(name)s: the content is not a valid .%(ext)s file (it looks "
                              "like %(found)s)", name=name, ext=ext, found=_looks_like(data))
    return CheckedFile(name, content_type, data, hashlib.sha256(data).hexdigest())


def check_all(uploads: Sequence[Upload], *, max_bytes: int, max_files: int) -> list[CheckedFile]:
    """Check every file; all problems are reported together, and nothing is accepted."""
    uploads = [u for u in uploads if u.filename or u.data]
    if len(uploads) > max_files:
        raise AttachmentError("%(n)s files sent; at most %(max)s are accepted",
                              n=len(uploads), max=max_files)
    problems: list[AttachmentError] = []
    out: list[CheckedFile] = []
    for upload in uploads:
        try:
            out.append(check(upload, max_bytes=max_bytes))
        except AttachmentError as exc:
            problems.append(exc)
    if problems:
        raise AttachmentError.many(problems)
    return out


# -- storage -------------------------------------------------------------------------------


def root(instance: Path) -> Path:
    return instance / "uploads" / "helpdesk"


def store(instance: Path, data: bytes) -> str:
    """Write ``data`` under a new random name; returns that name (relative to :func:`root`)."""
    now = utcnow()
    rel = f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}"
    path = root(instance) / rel
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)
    return rel


def path_of(instance: Path, storage_name: str) -> Path:
    if not re.fullmatch(r"\d{4}/\d{2}/[0-9a-f]{32}", storage_name):
        raise AttachmentError("bad storage name")
    return root(instance) / storage_name


def remove(instance: Path, names: Sequence[str]) -> None:
    """Delete stored files (when the transaction that would have kept them failed)."""
    for name in names:
        with contextlib.suppress(OSError, AttachmentError):
            path_of(instance, name).unlink(missing_ok=True)
