"""Integrity signals from kiosks, and the Safe Exam Browser check a lab may require.

Signals (focus lost, full screen left, a reload, a copy or paste attempt) are facts for a
proctor to weigh, not verdicts. They are written to ``cbt_integrity_events``, folding
repeats of one kind from one attempt within :data:`FOLD_S` seconds into the next row's
``count``, so a kiosk that fires hundreds of events cannot flood the database.

Safe Exam Browser: a lab whose :class:`~plugins.cbt.delivery.models.LabPolicy` requires it
lists the Config Keys (hex SHA-256 of an SEB configuration) allowed there. SEB sends, with
every HTTP request, ``X-SafeExamBrowser-ConfigKeyHash = SHA256(absolute URL + Config
Key)``; it adds no header to the websocket upgrade, so the kiosk also sends the JavaScript
API's ``SafeExamBrowser.security.configKey`` (the same hash for the page's URL) with its
socket handshake. Both are checked against every allowed key.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import weakref
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from core.db import Database, utcnow
from plugins.cbt.delivery.models import IntegrityEvent, LabPolicy

__all__ = ["FOLD_S", "KINDS", "config_key_hash", "record", "seb_ok", "set_policy"]

KINDS = ("focus_lost", "fullscreen_exit", "reload", "copy", "paste", "cut", "contextmenu",
         "seb_failed", "bad_message")
FOLD_S = 5.0
HEADER = "X-SafeExamBrowser-ConfigKeyHash"
EXAM_PATH = "/cbt/kiosk/"

_lock = threading.Lock()
# Per database (tests run many instances in one process): (attempt id, kind) -> (monotonic
# time of the last row written, events folded since).
_folds: weakref.WeakKeyDictionary[Database, dict[tuple[int, str], tuple[float, int]]] = \
    weakref.WeakKeyDictionary()


def config_key_hash(url: str, config_key: str) -> str:
    """What SEB sends for ``url``: hex SHA-256 of the URL (without fragment) + Config Key."""
    return hashlib.sha256((url.split("#", 1)[0] + config_key.strip().lower()).encode()).hexdigest()


def _policy(session: Session, lab_id: int) -> LabPolicy | None:
    return session.get(LabPolicy, lab_id)


def seb_ok(session: Session, lab_id: int, seb: tuple[str, str] | None) -> bool:
    """Whether a request from ``lab_id`` passes the lab's SEB rule.

    ``seb`` is (URL the hash was made for, the hash). A lab that does not require SEB
    passes everything.
    """
    policy = _policy(session, lab_id)
    if policy is None or not policy.seb_required:
        return True
    if not seb or not seb[0] or not seb[1]:
        return False
    url, given = seb
    if not urlsplit(url).path.startswith(EXAM_PATH):
        return False  # a hash made for another page is not a proof for this one
    given = given.strip().lower()
    return any(hmac.compare_digest(config_key_hash(url, key), given)
               for key in policy.seb_config_keys or [])


def set_policy(session: Session, lab_id: int, required: bool, keys: list[str],
               actor: Any = None) -> LabPolicy:
    from core.audit.service import record as audit
    from plugins.cbt.delivery.texts import t

    clean: list[str] = []
    for key in keys:
        k = key.strip().lower()
        if not k:
            continue
        if len(k) != 64 or any(c not in "0123456789abcdef" for c in k):
            raise ValueError(t("%(key)s is not a Config Key (64 hexadecimal characters).",
                               key=key.strip()[:80]))
        if k not in clean:
            clean.append(k)
    if required and not clean:
        raise ValueError(t("Give at least one Config Key when Safe Exam Browser is required."))
    policy = _policy(session, lab_id)
    if policy is None:
        policy = LabPolicy(lab_id=lab_id)
        session.add(policy)
    policy.seb_required = required
    policy.seb_config_keys = clean
    policy.updated_at = utcnow()
    policy.updated_by = getattr(actor, "id", None)
    audit(session, "cbt.lab.seb_policy", actor=actor, object_type="lab", object_id=lab_id,
          details={"required": required, "keys": len(clean)})
    return policy


def record(db: Database, attempt_id: int, kind: str, *, kiosk_id: int | None = None,
           count: int = 1, detail: str = "") -> bool:
    """Write a signal, or fold it into the next one; returns whether a row was written."""
    now_m = time.monotonic()
    key = (attempt_id, kind)
    with _lock:
        _last = _folds.setdefault(db, {})
        last, folded = _last.get(key, (-FOLD_S * 2, 0))
        if now_m - last < FOLD_S:
            _last[key] = (last, folded + count)
            return False
        _last[key] = (now_m, 0)
        if len(_last) > 50_000:  # forget the oldest half rather than grow without end
            for stale in sorted(_last, key=lambda k: _last[k][0])[:25_000]:
                _last.pop(stale, None)
    with db.transaction() as s:
        s.add(IntegrityEvent(attempt_id=attempt_id, kiosk_id=kiosk_id, kind=kind,
                             count=count + folded, detail=detail[:200]))
    from plugins.cbt.delivery.seatmap import mark_dirty

    mark_dirty([attempt_id])
    return True
