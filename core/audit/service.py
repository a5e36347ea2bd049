"""Writing and verifying the audit log.

Each entry's hash is SHA-256 over a canonical JSON of its fields and the previous entry's
hash, so altering, deleting or reordering any row breaks the chain from that row on.
Entries are written in the caller's transaction: the change and its audit entry commit
or vanish together. Appending takes the chain's lock (the write lock on SQLite, an
advisory transaction lock on PostgreSQL) so that two writers never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.audit.models import AuditEntry
from core.db import utcnow

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x5275616E67  # "Ruang"


def _canonical(entry: AuditEntry) -> bytes:
    at = entry.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    payload = [
        entry.id, at, entry.actor_id, entry.actor_name, entry.ip, entry.action,
        entry.object_type, entry.object_id, entry.details or {}, entry.prev_hash,
    ]
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def compute_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def _request_context() -> tuple[str, Any]:
    """The client address and signed-in user of the current request, if there is one."""
    try:
        from flask import has_request_context, request
        from flask_login import current_user
    except ImportError:  # pragma: no cover
        return "", None
    if not has_request_context():
        return "", None
    user = current_user if getattr(current_user, "is_authenticated", False) else None
    return request.remote_addr or "", user


def lock_chain(session: Session) -> None:
    """Take the chain's lock for the rest of ``session``'s transaction.

    On PostgreSQL, a service that will audit and also lock rows of its own (a counter, a
    workflow object) takes this first, so that two such transactions always lock in the
    same order and cannot deadlock. On SQLite the write lock already serialises writers.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})


def record(
    session: Session,
    action: str,
    *,
    actor: Any = None,
    object_type: str = "",
    object_id: object = "",
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Append an entry in ``session``'s transaction; who and where default to the request's."""
    req_ip, req_user = _request_context()
    actor = actor if actor is not None else req_user
    lock_chain(session)
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    entry = AuditEntry(
        id=(last.id + 1) if last else 1,
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_name=str(getattr(actor, "username", "") or (actor if isinstance(actor, str) else "")),
        ip=ip if ip is not None else req_ip,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details or {},
        prev_hash=last.hash if last else GENESIS,
    )
    entry.hash = compute_hash(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int
    reason: str

    def __str__(self) -> str:
        return f"audit entry {self.entry_id}: {self.reason}"


def verify(session: Session, batch: int = 2000) -> ChainProblem | None:
    """Walk the chain from the start; return the first bad entry, or ``None`` if intact."""
    prev_hash = GENESIS
    expected_id = 1
    for entry in _iter_entries(session, batch):
        if entry.id != expected_id:
            return ChainProblem(expected_id, f"missing (next entry found is {entry.id})")
        if entry.prev_hash != prev_hash:
            return ChainProblem(entry.id, "does not follow the previous entry (prev_hash)")
        if compute_hash(entry) != entry.hash:
            return ChainProblem(entry.id, "was altered (its hash does not match its content)")
        prev_hash = entry.hash
        expected_id += 1
    return None


def _iter_entries(session: Session, batch: int) -> Iterator[AuditEntry]:
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()


def entries_for(session: Session, object_type: str, object_id: object) -> list[AuditEntry]:
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(stmt))


