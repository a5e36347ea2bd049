"""Uploaded files, for every plugin: checked by what they contain, and stored safely.

A file is accepted when its extension is one a plugin allows and its content really is of
that kind: images are opened with Pillow (decompression bombs refused), office documents
are opened as the ZIP packages they are, PDFs must start and end like one, text must be
text and not a page a browser would run. Plugins keep their own messages (and their own
error classes); the checks and the storage are here, so they cannot drift apart.

Files are stored under ``<instance>/uploads/<area>/<yyyy>/<mm>/`` with random names and
no extension, readable by the server's user only.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Iterable
from pathlib import Path

from core.db import utcnow

# extension -> (family, content type stored when the content matches)
KNOWN: dict[str, tuple[str, str]] = {
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
    "odp": ("odf", "application/vnd.oasis.opendocument.presentation"),
}
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif",
               "WEBP": "image/webp"}
OOXML_MAIN = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
MAX_IMAGE_PIXELS = 60_000_000  # a decompression bomb is refused, a phone photo is not
MAX_ZIP_ENTRIES = 5000
MAX_NAME = 150
STORAGE_RE = re.compile(r"\d{4}/\d{2}/[0-9a-f]{32}")


def extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def family(ext: str) -> str:
    return KNOWN[ext][0] if ext in KNOWN else ""


def clean_name(name: str, fallback: str = "berkas") -> str:
    """A file name safe to show and to send back: no folders, no control characters."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    name = re.sub(r"\s+", " ", name)
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot else name[:MAX_NAME]
    return name or fallback


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(size // 1024, 1)} KB"


def looks_like(data: bytes) -> str:
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


def _image_type(data: bytes) -> str | None:
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


def _open_zip(data: bytes) -> zipfile.ZipFile | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        if len(archive.infolist()) > MAX_ZIP_ENTRIES or archive.testzip() is not None:
            return None
        return archive
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError):
        return None


def _is_text(data: bytes) -> bool:
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


def sniff(ext: str, data: bytes) -> str | None:
    """The content type to store if ``data`` really is a ``.ext`` file, else ``None``."""
    if ext not in KNOWN or not data:
        return None
    kind, content_type = KNOWN[ext]
    if kind == "image":
        return _image_type(data)
    if kind == "pdf":
        ok = data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]
    elif kind == "ooxml":
        archive = _open_zip(data)
        names = set(archive.namelist()) if archive is not None else set()
        ok = "[Content_Types].xml" in names and any(n.startswith(OOXML_MAIN[ext]) for n in names)
    elif kind == "odf":
        archive = _open_zip(data)
        ok = (archive is not None and "mimetype" in archive.namelist()
              and archive.read("mimetype").decode("ascii", "replace").strip() == content_type)
    else:
        ok = _is_text(data)
    return content_type if ok else None


class Store:
    """Files of one area (``helpdesk``, ``training``...) under the instance folder."""

    def __init__(self, instance: Path, area: str) -> None:
        self.root = instance / "uploads" / area

    def save(self, data: bytes) -> str:
        """Write ``data`` under a new random name; returns that name, relative to the root."""
        now = utcnow()
        rel = f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(path.name + ".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        tmp.replace(path)
        return rel

    def path(self, name: str) -> Path | None:
        """Where a stored file is; ``None`` for a name this store never gives out."""
        return self.root / name if STORAGE_RE.fullmatch(name) else None

    def remove(self, names: Iterable[str]) -> None:
        """Delete stored files (when the transaction that would have kept them failed)."""
        for name in names:
            path = self.path(name)
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
