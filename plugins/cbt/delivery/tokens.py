"""The session token: six characters the proctor shows, candidates type to start.

Time is cut into 15-minute windows (:data:`WINDOW_S`); each session has one token per
window, stored in ``cbt_session_tokens`` with a unique ``(session_id, window)``. Whichever
process first needs a window's token inserts it; the database lets exactly one insert
through and everyone else reads the winner, so every server process and the proctor's
screen agree on the token without talking to each other. The previous window's token is
still accepted for :data:`GRACE_S` after the change, for a candidate who was typing it.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from core.db import Database, utcnow
from core.rooms.kiosks import CODE_ALPHABET, normalise_code
from plugins.cbt.delivery.models import SessionToken

__all__ = ["GRACE_S", "LENGTH", "WINDOW_S", "check", "current", "purge", "token_for", "window_of"]

WINDOW_S = 15 * 60
GRACE_S = 120
LENGTH = 6


def window_of(now: datetime) -> int:
    return int(now.timestamp() // WINDOW_S)


def window_end(window: int) -> datetime:
    return datetime.fromtimestamp((window + 1) * WINDOW_S, UTC)


def _read(db: Database, session_id: int, window: int) -> str | None:
    with db.session() as s:
        return s.scalar(select(SessionToken.token).where(
            SessionToken.session_id == session_id, SessionToken.window_no == window))


def token_for(db: Database, session_id: int, window: int) -> str:
    """The token of ``session_id`` for ``window``, made now if nobody made it yet."""
    found = _read(db, session_id, window)
    if found is not None:
        return found
    token = "".join(secrets.choice(CODE_ALPHABET) for _ in range(LENGTH))
    try:
        with db.transaction() as s:
            s.add(SessionToken(session_id=session_id, window_no=window, token=token))
    except IntegrityError:
        pass  # another process made this window's token first: use theirs
    found = _read(db, session_id, window)
    assert found is not None
    return found


def current(db: Database, session_id: int, now: datetime | None = None) -> tuple[str, datetime]:
    """The token to show now and when it changes."""
    now = now or utcnow()
    window = window_of(now)
    return token_for(db, session_id, window), window_end(window)


def check(db: Database, session_id: int, typed: str, now: datetime | None = None) -> bool:
    """Whether ``typed`` is the session's token now (or was, moments ago)."""
    now = now or utcnow()
    given = normalise_code(typed)
    if len(given) != LENGTH:
        return False
    window = window_of(now)
    candidates = [token_for(db, session_id, window)]
    if now - timedelta(seconds=GRACE_S) < datetime.fromtimestamp(window * WINDOW_S, UTC):
        previous = _read(db, session_id, window - 1)
        if previous:
            candidates.append(previous)
    return any(hmac.compare_digest(given, t) for t in candidates)


def purge(db: Database, now: datetime | None = None) -> int:
    """Forget tokens of windows that ended more than a day ago."""
    now = now or utcnow()
    oldest = window_of(now - timedelta(days=1))
    with db.transaction() as s:
        result = s.execute(delete(SessionToken).where(SessionToken.window_no < oldest))
    return int(getattr(result, "rowcount", 0) or 0)
