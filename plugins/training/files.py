"""Files of a training: materials for participants, photos and documents of the event.

A file is accepted when its extension is on the list, its content really is of that kind
(images are opened with Pillow, office documents as the ZIP packages they are, PDFs must
start and end like one) and it is within the size limit. Photos must be images. Files
are stored under ``<instance>/uploads/training/<yyyy>/<mm>/`` with random names, readable
by the server's user only; a file written for a transaction that then fails is removed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import uploads
from core.audit.service import record as audit
from plugins.training.errors import N_, TrainingError
from plugins.training.models import FileKind, Training, TrainingFile
from plugins.training.options import setting

# What a training takes; the content checks themselves are core.uploads'.
ACCEPTED: tuple[str, ...] = ("png", "jpg", "jpeg", "webp", "pdf", "docx", "xlsx", "pptx",
                             "odt", "ods", "odp")
MAX_FILES = 20


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Checked:
    filename: str
    content_type: str
    data: bytes
    sha256: str


def clean_name(name: str) -> str:
    """A file name safe to show and to send back: no folders, no control characters."""
    return uploads.clean_name(name, fallback="berkas")


def check(upload: Upload, *, max_bytes: int, kind: str) -> Checked:
    """Accept ``upload`` as a file of ``kind`` or raise :class:`TrainingError` saying why."""
    name = clean_name(upload.filename)
    ext = uploads.extension(name)
    accepted = sorted(e for e in ACCEPTED
                      if kind != FileKind.PHOTO.value or uploads.family(e) == "image")
    if ext not in accepted:
        raise TrainingError(N_("%(name)s: files of type %(ext)s are not accepted here; accepted: "
                            "%(accepted)s"), name=name, ext="." + ext if ext else "-",
                            accepted=", ".join(accepted))
    data = upload.data
    if not data:
        raise TrainingError(N_("%(name)s: the file is empty"), name=name)
    if len(data) > max_bytes:
        raise TrainingError(N_("%(name)s: %(size)s is more than the limit of %(limit)s"),
                            name=name, size=uploads.human_size(len(data)),
                            limit=uploads.human_size(max_bytes))
    content_type = uploads.sniff(ext, data)
    if content_type is None:
        raise TrainingError(N_("%(name)s: the content is not a valid .%(ext)s file (it looks "
                            "like %(found)s)"), name=name, ext=ext,
                            found=uploads.looks_like(data))
    return Checked(name, content_type, data, hashlib.sha256(data).hexdigest())


# -- storage ---------------------------------------------------------------------------------


def _files(instance: Path) -> uploads.Store:
    return uploads.Store(instance, "training")


def root(instance: Path) -> Path:
    return _files(instance).root


def _store(instance: Path, data: bytes) -> str:
    return _files(instance).save(data)


def path_of(instance: Path, storage_name: str) -> Path:
    path = _files(instance).path(storage_name)
    if path is None:
        raise TrainingError(N_("bad storage name"), kind="not_found", http=404)
    return path


def store_bytes(instance: Path, data: bytes) -> str:
    """Write ``data`` under a new random name (the report PDF uses it too)."""
    return _store(instance, data)


def remove(instance: Path, names: Sequence[str]) -> None:
    _files(instance).remove(names)


def _instance() -> Path:
    from core.instance import ruang

    return ruang().settings.instance


class Pending:
    """Files written for a transaction: removed again when it does not commit.

    Use ``with Pending() as pending:`` around ``db.transaction()``.
    """

    def __init__(self) -> None:
        self.names: list[str] = []

    def __enter__(self) -> Pending:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            remove(_instance(), self.names)


def check_all(uploads: Sequence[Upload], kind: str, *, max_bytes: int) -> list[Checked]:
    """Check every upload; every problem is reported together and nothing is accepted
    when one file is bad. Needs no database, so it runs before the write transaction."""
    if kind not in {k.value for k in FileKind}:
        raise TrainingError(N_("Unknown kind of file %(kind)s."), kind="invalid", http=400)
    uploads = [u for u in uploads if u.filename or u.data]
    if not uploads:
        raise TrainingError(N_("Choose at least one file."))
    if len(uploads) > MAX_FILES:
        raise TrainingError(N_("At most %(n)s files at once."), n=MAX_FILES)
    checked: list[Checked] = []
    problems: list[str] = []
    for upload in uploads:
        try:
            checked.append(check(upload, max_bytes=max_bytes, kind=kind))
        except TrainingError as exc:
            problems.append(exc.translated())
    if problems:
        raise TrainingError(N_("Nothing was attached: %(problems)s"), problems="; ".join(problems))
    return checked


def max_bytes(session: Session) -> int:
    return int(setting(session, "training.max_upload_mb")) * 1024 * 1024


def attach(session: Session, training: Training, checked: Sequence[Checked], kind: str,
           actor: Any, *, title: str = "", pending: Pending | None = None
           ) -> list[TrainingFile]:
    """Store files :func:`check_all` accepted and list them on the training."""
    if kind not in {k.value for k in FileKind}:
        raise TrainingError(N_("Unknown kind of file %(kind)s."), kind="invalid", http=400)
    if training.state in ("rejected", "cancelled"):
        raise TrainingError(N_("Files are not added to a training that was %(state)s."),
                            kind="state", http=409, state=training.state)
    if not checked:
        raise TrainingError(N_("Choose at least one file."))
    title = " ".join((title or "").split())[:200]
    instance = _instance()
    rows = []
    for item in checked:
        name = _store(instance, item.data)
        if pending is not None:
            pending.names.append(name)
        row = TrainingFile(training_id=training.id, kind=kind,
                           title=title or item.filename.rpartition(".")[0][:200],
                           filename=item.filename, content_type=item.content_type,
                           size=len(item.data), sha256=item.sha256, storage_name=name,
                           uploaded_by=getattr(actor, "id", None))
        session.add(row)
        rows.append(row)
    session.flush()
    audit(session, "training.file.add", actor=actor, object_type="training",
          object_id=training.id, details={"kind": kind, "files": [
              {"id": r.id, "name": r.filename, "sha256": r.sha256} for r in rows]})
    return rows


def of_training(session: Session, training_id: int, kind: str | None = None
                ) -> list[TrainingFile]:
    stmt = select(TrainingFile).where(TrainingFile.training_id == training_id)
    if kind:
        stmt = stmt.where(TrainingFile.kind == kind)
    return list(session.scalars(stmt.order_by(TrainingFile.uploaded_at, TrainingFile.id)))


def delete(session: Session, training: Training, file_id: int, actor: Any) -> str:
    """Remove a file from the training; returns its storage name, deleted from disk by the
    caller once the transaction committed."""
    row = session.get(TrainingFile, file_id)
    if row is None or row.training_id != training.id:
        raise TrainingError(N_("That file is not part of this training."), kind="not_found",
                            http=404)
    if training.state == "documented":
        raise TrainingError(N_("The files of a documented training are part of its record."),
                            kind="state", http=409)
    name = row.storage_name
    session.delete(row)
    session.flush()
    audit(session, "training.file.delete", actor=actor, object_type="training",
          object_id=training.id, details={"file": file_id, "name": row.filename,
                                          "sha256": row.sha256})
    return name


def read(row: TrainingFile) -> bytes:
    return path_of(_instance(), row.storage_name).read_bytes()
