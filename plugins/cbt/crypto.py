"""Exam content encrypted at rest: AES-256-GCM under data keys wrapped by the master key.

Three layers:

* The **master key** is a 32-byte file ``master_key`` in the instance folder (owner-only,
  created by :func:`core.config.instance_secret`). It never enters the database, so a copy
  of the database alone reveals no question text.
* A **data key** per bank and per exam (table ``cbt_data_keys``) encrypts that bank's or
  exam's content. It is stored *wrapped* (AES-GCM encrypted) under the master key, with the
  id of the master key that wrapped it, so rotating the master key re-wraps a few hundred
  32-byte keys instead of re-encrypting every item.
* Each **sealed field** (an item's body, its answer key, an image) is
  ``version byte | 12-byte nonce | ciphertext+tag``. The associated data names the row
  (``table|id|field``), so a ciphertext copied onto another row or field fails to open
  instead of showing the wrong question.

Rotation (``ruang keys rotate``) runs while servers serve: the new key is first written
beside the old one (``master_key.next``); every process's :class:`Keyring` notices the new
file on its next use, can open keys wrapped under either, and wraps new data keys under the
new one. When every data key has been re-wrapped, the old key is kept as ``master_key.prev``
while the new one atomically takes the name ``master_key``; a last sweep catches keys a
slower process wrapped under the old key meanwhile, and only then is the old key deleted.
A rotation that was interrupted resumes where it stopped when run again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import secrets
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.config import Settings, instance_secret, write_secret_once
from core.db import Base, Database, utcnow

MASTER = "master_key"
NEXT = "master_key.next"
PREV = "master_key.prev"
_FORMAT = b"\x01"
_NONCE = 12
KEY_BYTES = 32


class CryptoError(RuntimeError):
    """Content cannot be opened: wrong key, tampered or misplaced ciphertext, missing key."""


class MasterKeyMissing(CryptoError):
    """The database holds data keys but the instance folder lacks the key that wraps them.

    Creating a new master key then would wrap new content under a key the other nodes (and
    the backups) lack, and leave the existing content unreadable on this node: refuse.
    """


class DataKey(Base):
    """A 256-bit key for one bank's or one exam's content, wrapped by the master key."""

    __tablename__ = "cbt_data_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(60), default="")
    master_key_id: Mapped[str] = mapped_column(String(16), index=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(default=None)


def master_key_id(key: bytes) -> str:
    """A short public name for a master key: which key wrapped a row, without revealing it."""
    return hashlib.sha256(b"ruang-master-key-id\x00" + key).hexdigest()[:16]


def _aad(table: str, row_id: int, field: str) -> bytes:
    return f"{table}|{row_id}|{field}".encode()


def encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(_NONCE)
    return _FORMAT + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < 1 + _NONCE + 16 or blob[:1] != _FORMAT:
        raise CryptoError("not a sealed value (wrong format or truncated)")
    try:
        return AESGCM(key).decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], aad)
    except InvalidTag:
        raise CryptoError(
            "sealed value does not open: tampered, or moved from another row"
        ) from None


# -- master keys ---------------------------------------------------------------------------


class Keyring:
    """The master keys of one instance folder, re-read whenever one of their files changes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.folder = settings.instance
        self.resolved = settings.instance.resolve()
        self._lock = threading.Lock()
        self._signature: tuple[Any, ...] | None = None
        self._keys: dict[str, bytes] = {}
        self._current = ""
        self._missing = ""

    def _file_signature(self) -> tuple[Any, ...]:
        sig: list[Any] = []
        for name in (MASTER, NEXT, PREV):
            try:
                st = (self.folder / name).stat()
            except FileNotFoundError:
                sig.append(None)
                continue
            sig.append((st.st_ino, st.st_mtime_ns, st.st_size))
        return tuple(sig)

    def _read(self, name: str) -> bytes:
        path = self.folder / name
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CryptoError(f"{path} is readable by others; run: chmod 600 {path}")
        data = path.read_bytes()
        if len(data) != KEY_BYTES:
            raise CryptoError(f"{path} holds {len(data)} bytes, a master key has {KEY_BYTES}")
        return data

    def refresh(self) -> None:
        with self._lock:
            self._missing = ""
            if not (self.folder / MASTER).exists() and not (self.folder / NEXT).exists():
                # Only an instance with nothing sealed yet gets a new key; otherwise the
                # keys present (none) stay, reads name the missing key, and wrap() refuses.
                self._missing = _missing_if_wrapped_keys_exist(self.folder, _app_database())
                if not self._missing:
                    instance_secret(self.settings, MASTER, KEY_BYTES)
            sig = self._file_signature()
            if sig == self._signature:
                return
            keys: dict[str, bytes] = {}
            current = ""
            for name in (PREV, MASTER, NEXT):  # the last one present wraps new keys
                try:
                    key = self._read(name)
                except FileNotFoundError:
                    continue
                kid = master_key_id(key)
                keys[kid] = key
                if name != PREV:
                    current = kid
            self._keys, self._current, self._signature = keys, current, sig

    @property
    def current_id(self) -> str:
        self.refresh()
        return self._current

    def key(self, kid: str) -> bytes:
        self.refresh()
        try:
            return self._keys[kid]
        except KeyError:
            raise CryptoError(
                f"master key {kid} is not in {self.folder}: the data key was wrapped by a key "
                "this instance no longer has (restore the instance folder's master_key)"
            ) from None

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, bytes]:
        self.refresh()
        kid = self._current
        if not kid:
            raise MasterKeyMissing(self._missing or f"no master key in {self.folder}")
        return kid, encrypt(self._keys[kid], data_key, aad)

    def unwrap(self, kid: str, blob: bytes, aad: bytes) -> bytes:
        return decrypt(self.key(kid), blob, aad)


def _app_database() -> Database | None:
    from flask import has_app_context

    if not has_app_context():
        return None
    from core.instance import ruang

    return ruang().db


def _wrapping_ids(db: Database) -> dict[str, int]:
    """Data keys per master key id; empty when the table does not exist yet."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        with db.session() as session:
            rows = session.execute(select(DataKey.master_key_id, func.count())
                                   .group_by(DataKey.master_key_id)).all()
    except (OperationalError, ProgrammingError):
        return {}
    return {str(k): int(v) for k, v in rows}


def _missing_if_wrapped_keys_exist(folder: Path, db: Database | None) -> str:
    """The reason not to create a master key ("" when creating one is right)."""
    if db is None:
        return ""
    wrapping = _wrapping_ids(db)
    return _missing_message(folder, wrapping) if wrapping else ""


def _missing_message(folder: Path, wrapping: dict[str, int]) -> str:
    total = sum(wrapping.values())
    ids = ", ".join(sorted(wrapping))
    return (f"{folder / MASTER} does not exist, but the database holds {total} data key(s) "
            f"wrapped by master key {ids}. Ruang will not create a new master key: exam "
            f"content would not open and new content would be sealed under a key the other "
            f"nodes lack. Copy master_key (id {ids}) from another node or from the backup "
            f"into {folder} (owner ruang, chmod 600), then start again.")


def check_master_key(settings: Settings, db: Database) -> None:
    """Refuse to run a node whose master key is not the one the database's data keys need.

    Raises :class:`MasterKeyMissing` when ``master_key`` is missing while data keys exist,
    or when no key in the folder wraps any of them (a key from another instance).
    """
    folder = settings.instance
    wrapping = _wrapping_ids(db)
    if not wrapping:
        return
    present: dict[str, str] = {}
    for name in (PREV, MASTER, NEXT):
        path = folder / name
        if path.exists():
            present[master_key_id(path.read_bytes())] = name
    if not present:
        raise MasterKeyMissing(_missing_message(folder, wrapping))
    if not set(present) & set(wrapping):
        names = ", ".join(f"{n} (id {k})" for k, n in present.items())
        raise MasterKeyMissing(
            f"{names} in {folder} wraps none of the database's data keys, which need "
            f"master key {', '.join(sorted(wrapping))}: this folder's key belongs to another "
            f"instance. Put the right master_key in place (from another node or the backup).")


_keyrings: dict[Path, Keyring] = {}
_keyrings_lock = threading.Lock()
# Unwrapped data keys by (instance folder, data key id): a data key never changes, only
# its wrapping does, so the cache stays right across rotations.
_data_keys: dict[tuple[Path, int], bytes] = {}


@functools.lru_cache(maxsize=64)
def _resolved(folder: Path) -> Path:
    # Resolving asks the file system each time, and every sealed value opened (a thousand
    # paper keys at a proctor's start) looks its keyring up.
    return folder.resolve()


def keyring(settings: Settings | None = None) -> Keyring:
    if settings is None:
        from core.instance import ruang

        settings = ruang().settings
    folder = _resolved(settings.instance)
    with _keyrings_lock:
        ring = _keyrings.get(folder)
        if ring is None:
            ring = _keyrings[folder] = Keyring(settings)
        return ring


# -- data keys -----------------------------------------------------------------------------


def new_data_key(session: Session, purpose: str, ring: Keyring | None = None) -> DataKey:
    """Create a fresh data key row (in ``session``'s transaction) and return it."""
    ring = ring or keyring()
    raw = AESGCM.generate_key(bit_length=256)
    row = DataKey(purpose=purpose[:60], master_key_id="", wrapped=b"")
    session.add(row)
    session.flush()
    row.master_key_id, row.wrapped = ring.wrap(raw, _aad(DataKey.__tablename__, row.id, "key"))
    session.flush()
    _data_keys[(ring.folder.resolve(), row.id)] = raw
    return row


def data_key(session: Session, key_id: int, ring: Keyring | None = None) -> bytes:
    ring = ring or keyring()
    cache_key = (ring.resolved, key_id)
    raw = _data_keys.get(cache_key)
    if raw is not None:
        return raw
    row = session.get(DataKey, key_id)
    if row is None:
        raise CryptoError(f"data key {key_id} does not exist")
    raw = ring.unwrap(row.master_key_id, row.wrapped, _aad(DataKey.__tablename__, row.id, "key"))
    _data_keys[cache_key] = raw
    return raw


def seal(
    session: Session, key_id: int, table: str, row_id: int, field: str, plaintext: bytes
) -> bytes:
    """Encrypt ``plaintext`` for column ``field`` of row ``row_id`` of ``table``."""
    if not row_id:
        raise CryptoError("seal needs the row's id: flush the row first")
    return encrypt(data_key(session, key_id), plaintext, _aad(table, row_id, field))


def unseal(
    session: Session, key_id: int, table: str, row_id: int, field: str, blob: bytes
) -> bytes:
    return decrypt(data_key(session, key_id), blob, _aad(table, row_id, field))


def seal_json(
    session: Session, key_id: int, table: str, row_id: int, field: str, value: Any
) -> bytes:
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return seal(session, key_id, table, row_id, field, data)


def unseal_json(
    session: Session, key_id: int, table: str, row_id: int, field: str, blob: bytes
) -> Any:
    return json.loads(unseal(session, key_id, table, row_id, field, blob))


# -- rotation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RotationResult:
    old_id: str
    new_id: str
    rewrapped: int


def status(session: Session, ring: Keyring | None = None) -> dict[str, Any]:
    """Which master key is current and how many data keys each known key id wraps."""
    ring = ring or keyring()
    counts = dict(
        session.execute(
            select(DataKey.master_key_id, func.count()).group_by(DataKey.master_key_id)
        ).all()
    )
    return {
        "current": ring.current_id,
        "rotation_in_progress": (ring.folder / NEXT).exists() or (ring.folder / PREV).exists(),
        "data_keys": {str(k): int(v) for k, v in counts.items()},
    }


def _rewrap_all(db: Database, ring: Keyring, new_id: str, batch: int,
                progress: Callable[[int], None] | None) -> int:
    done = 0
    while True:
        with db.transaction() as session:
            rows = session.scalars(
                select(DataKey).where(DataKey.master_key_id != new_id).order_by(DataKey.id)
                .limit(batch)
            ).all()
            for row in rows:
                aad = _aad(DataKey.__tablename__, row.id, "key")
                raw = ring.unwrap(row.master_key_id, row.wrapped, aad)
                row.wrapped = encrypt(ring.key(new_id), raw, aad)
                row.master_key_id = new_id
                row.rotated_at = utcnow()
        done += len(rows)
        if progress is not None and rows:
            progress(len(rows))
        if len(rows) < batch:
            return done


def count_pending(db: Database, new_id: str) -> int:
    with db.session() as session:
        return int(session.scalar(
            select(func.count()).select_from(DataKey).where(DataKey.master_key_id != new_id)
        ) or 0)


def rotate(db: Database, settings: Settings, *, batch: int = 200,
           progress: Callable[[int], None] | None = None) -> RotationResult:
    """Re-wrap every data key under a new master key; safe to run again after a crash."""
    ring = keyring(settings)
    folder = ring.folder
    ring.refresh()
    if (folder / PREV).exists():
        # Interrupted after the swap: master_key is already the new key.
        old = ring._read(PREV)
        new = ring._read(MASTER)
    else:
        old = ring._read(MASTER)
        new = instance_secret(settings, NEXT, KEY_BYTES)
        if len(new) != KEY_BYTES or new == old:
            raise CryptoError(f"{folder / NEXT} is not a usable new master key; remove it")
    new_id, old_id = master_key_id(new), master_key_id(old)
    ring.refresh()
    rewrapped = _rewrap_all(db, ring, new_id, batch, progress)
    if not (folder / PREV).exists():
        if write_secret_once(folder / PREV, old) != old:
            raise CryptoError(f"{folder / PREV} appeared during the rotation; remove it and "
                              "run the rotation again")
        os.replace(folder / NEXT, folder / MASTER)
        _fsync_dir(folder)
        ring.refresh()
    # Keys a process wrapped under the old key before it noticed the new one.
    while True:
        rewrapped += _rewrap_all(db, ring, new_id, batch, progress)
        if count_pending(db, new_id) == 0:
            break
    (folder / PREV).unlink()
    _fsync_dir(folder)
    ring.refresh()
    return RotationResult(old_id=old_id, new_id=new_id, rewrapped=rewrapped)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
