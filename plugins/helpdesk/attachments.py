"""Attachments: checked by what they contain, not only by their name, and stored safely.

A file is accepted when its extension is on the list, its content really is of that
kind (images are opened with Pillow, office documents are opened as the ZIP packages
they are, PDFs must start and end like one, text must be text), and it is within the size
limit. Files are stored under ``<instance>/uploads/helpdesk/<yyyy>/<mm>/`` with random
names and no extension, readable by the server's user only; the database keeps the
original name, the type found, the size and a SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core import uploads

# What the helpdesk takes; the content checks themselves are core.uploads'.
ACCEPTED: tuple[str, ...] = ("png", "jpg", "jpeg", "gif", "webp", "pdf", "txt", "log", "csv",
                             "docx", "xlsx", "pptx", "odt", "ods")


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
    return uploads.clean_name(name, fallback="lampiran")


def check(upload: Upload, *, max_bytes: int) -> CheckedFile:
    """Accept ``upload`` or raise :class:`AttachmentError` saying which file and why."""
    name = clean_name(upload.filename)
    ext = uploads.extension(name)
    if ext not in ACCEPTED:
        raise AttachmentError("%(name)s: files of type %(kind)s are not accepted; accepted: "
                              "%(accepted)s", name=name, kind="." + ext if ext else "-",
                              accepted=", ".join(accepted_extensions()))
    data = upload.data
    if not data:
        raise AttachmentError("%(name)s: the file is empty", name=name)
    if len(data) > max_bytes:
        raise AttachmentError("%(name)s: %(size)s is more than the limit of %(limit)s",
                              name=name, size=uploads.human_size(len(data)),
                              limit=uploads.human_size(max_bytes))
    content_type = uploads.sniff(ext, data)
    if content_type is None:
        raise AttachmentError("%(name)s: the content is not a valid .%(ext)s file (it looks "
                              "like %(found)s)", name=name, ext=ext,
                              found=uploads.looks_like(data))
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


def _store(instance: Path) -> uploads.Store:
    return uploads.Store(instance, "helpdesk")


def root(instance: Path) -> Path:
    return _store(instance).root


def store(instance: Path, data: bytes) -> str:
    """Write ``data`` under a new random name; returns that name (relative to :func:`root`)."""
    return _store(instance).save(data)


def path_of(instance: Path, storage_name: str) -> Path:
    path = _store(instance).path(storage_name)
    if path is None:
        raise AttachmentError("bad storage name")
    return path


def remove(instance: Path, names: Sequence[str]) -> None:
    """Delete stored files (when the transaction that would have kept them failed)."""
    _store(instance).remove(names)
