"""Background jobs of delivery: the server submits attempts at their deadline, and session
tokens are made ahead of their window and forgotten a day after it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.contracts import BackgroundJob
from core.db import utcnow
from core.instance import ruang
from plugins.cbt.delivery import attempts, tokens
from plugins.cbt.models import CbtSession

DEADLINE_EVERY_S = 1.0
TOKENS_EVERY_S = 60.0


def submit_due() -> None:
    """Submit every attempt whose time is up; the kiosk may be offline or switched off."""
    attempts.auto_submit_due(ruang().db)


def rotate_tokens() -> None:
    """Make the current and next window's token of every session open now, so the first
    kiosk to ask after a change does not have to; drop tokens older than a day."""
    db = ruang().db
    now = utcnow()
    with db.session() as s:
        open_now = [int(i) for i in s.scalars(select(CbtSession.id).where(
            CbtSession.status != "cancelled",
            CbtSession.starts_at <= now + timedelta(hours=1), CbtSession.ends_at >= now))]
    window = tokens.window_of(now)
    for session_id in open_now:
        tokens.token_for(db, session_id, window)
        tokens.token_for(db, session_id, window + 1)
    tokens.purge(db, now)


def jobs() -> list[BackgroundJob]:
    return [BackgroundJob("delivery.deadlines", DEADLINE_EVERY_S, submit_due),
            BackgroundJob("delivery.tokens", TOKENS_EVERY_S, rotate_tokens)]
