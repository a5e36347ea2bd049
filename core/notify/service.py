"""Notifications: "notify this person", for every plugin, through a transactional outbox.

:func:`queue` writes one outbox row per channel that can reach the person, in the caller's
transaction: a change that rolls back sends nothing. :func:`deliver_due` (the notify
plugin runs it every 2 s as a background job) leases due rows, sends them OUTSIDE any
database transaction (so SQLite's write lock is never held during SMTP or HTTP I/O), and
then marks each one sent, due again later (exponential backoff), or failed.

A channel tells temporary from permanent trouble by what it raises: :class:`Undeliverable`
means retrying cannot help (a malformed address, a recipient the server refuses);
:class:`ChannelDown` means nothing can go through that channel right now (server down,
bad credentials), so the rest of its batch waits for the next round instead of each
message paying for a timeout; :class:`Deferred`, or any other exception, is a temporary
failure of that one message.
Delivery is at least once: a process that dies after sending but before marking the row
sends it again when the lease runs out, with the same :func:`delivery_key`. Rows for a
channel whose plugin is disabled wait, untouched, until it is enabled again.
"""

from __future__ import annotations

import contextvars
import json
import logging
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.contracts import Notification, NotificationChannel
from core.db import Database, utcnow
from core.instance import ruang
from core.notify.models import FAILED, PENDING, SENDING, SENT, STATUSES, OutboxMessage

log = logging.getLogger("ruang.notify")

LEASE_S = 300.0
"""How long a deliverer holds the rows it claimed; after that another process may send them."""
MAX_BACKOFF_S = 6 * 3600.0
DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_RETRY_BASE_S = 30
DEFAULT_KEEP_DAYS = 90

_delivery_key: contextvars.ContextVar[str] = contextvars.ContextVar("ruang_delivery_key")


class Undeliverable(Exception):
    """Raised by a channel when retrying cannot help; the message is marked failed at once."""


class ChannelDown(Exception):
    """Raised by a channel when nothing can go through it right now (server unreachable)."""


class Deferred(Exception):
    """Raised by a channel when this message should be tried again later (4xx answers)."""


class NotificationError(ValueError):
    """A notification is malformed; the message names the field and the reason."""


class OutboxError(ValueError):
    """An outbox message cannot be retried in its state, or a filter is unknown."""


class UnknownMessage(OutboxError, LookupError):
    """No outbox message has that id."""


def delivery_key() -> str:
    """The stable identity of the message being delivered (channels put it in headers).

    Outside a delivery it returns a fresh random key.
    """
    try:
        return _delivery_key.get()
    except LookupError:
        return uuid.uuid4().hex


# -- queueing -----------------------------------------------------------------------------


class _CheckedNotification(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(max_length=200_000)
    email: str = Field(default="", max_length=320)
    phone: str = Field(default="", max_length=40)
    user_id: int | None = None
    html: str = Field(default="", max_length=500_000)
    topic: str = Field(default="", max_length=80)
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("subject", mode="before")
    @classmethod
    def _one_line(cls, value: Any) -> Any:
        # A line break in a subject would start a new mail header.
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("data")
    @classmethod
    def _json(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"must hold JSON values only ({exc})") from None
        return value


def check(notification: Notification) -> Notification:
    """``notification`` cleaned (whitespace, one-line subject), or :class:`NotificationError`."""
    try:
        ok = _CheckedNotification.model_validate(notification.__dict__)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'notification'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise NotificationError(f"notification not queued: {problems}") from None
    return Notification(**ok.model_dump())


def available_channels() -> dict[str, NotificationChannel]:
    """The channels of enabled plugins, by name (the first plugin to claim a name wins).

    A plugin whose hook fails is logged and left out: one broken plugin must not make
    every change that notifies someone fail.
    """
    host = ruang().plugins
    enabled = set(host.enabled_names())
    out: dict[str, NotificationChannel] = {}
    for impl in host.all_hook.ruang_notification_channels.get_hookimpls():
        if impl.plugin_name not in enabled:
            continue
        try:
            channels = list(impl.function() or ())
        except Exception:
            log.exception("plugin %s failed to list its notification channels",
                          impl.plugin_name)
            continue
        for channel in channels:
            if channel.name in out:
                log.warning("notification channel %r of plugin %s is ignored: the name is "
                            "taken", channel.name, impl.plugin_name)
                continue
            out[channel.name] = channel
    return out


def queue(session: Session, notification: Notification) -> list[int]:
    """Queue ``notification`` for every channel that can deliver it; returns the row ids.

    Runs inside the caller's write transaction (``session``), so it is sent only if that
    transaction commits. An empty list means no channel can reach the person.
    """
    n = check(notification)
    now = utcnow()
    rows: list[OutboxMessage] = []
    for name, channel in available_channels().items():
        try:
            reachable = channel.can_deliver(n)
        except Exception:
            log.exception("channel %s failed to say whether it can deliver; skipped", name)
            continue
        if not reachable:
            continue
        row = OutboxMessage(
            key=uuid.uuid4().hex, channel=name, status=PENDING, subject=n.subject, body=n.body,
            html=n.html, email=n.email, phone=n.phone, user_id=n.user_id, topic=n.topic,
            data=dict(n.data), attempts=0, next_attempt_at=now, created_at=now, last_error="",
            lease_holder="",
        )
        session.add(row)
        rows.append(row)
    if not rows:
        log.info("notification %r (topic %r) reaches nobody: no channel can deliver it",
                 n.subject, n.topic)
        return []
    session.flush()
    return [row.id for row in rows]


# -- delivering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    id: int
    key: str
    channel: str
    attempts: int
    notification: Notification


@dataclass(frozen=True)
class _Outcome:
    sent: bool = False
    permanent: bool = False
    channel_down: bool = False
    error: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_s: float

    def delay(self, attempts: int) -> timedelta:
        """Wait before attempt ``attempts + 1``: base, 2x base, 4x base... with 10% jitter."""
        raw = min(self.base_s * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S)
        return timedelta(seconds=raw * random.uniform(0.9, 1.1))  # noqa: S311 - not crypto


def retry_policy(session: Session) -> RetryPolicy:
    from core import settings_store

    host = ruang().plugins
    attempts = int(settings_store.get(session, host, "notify.max_attempts"))
    base = float(settings_store.get(session, host, "notify.retry_base_s"))
    return RetryPolicy(max_attempts=min(max(attempts, 1), 100), base_s=min(max(base, 1.0), 86400))


def _due(names: Sequence[str], now: datetime) -> Any:
    return and_(
        OutboxMessage.channel.in_(list(names)),
        or_(
            and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now),
            # A deliverer that died while sending: its lease ran out.
            and_(OutboxMessage.status == SENDING, OutboxMessage.lease_until <= now),
        ),
    )


def _claim(db: Database, names: Sequence[str], limit: int, now: datetime, holder: str,
           ids: Sequence[int] | None) -> list[_Claimed]:
    condition = _due(names, now)
    if ids is not None:
        condition = and_(condition, OutboxMessage.id.in_(list(ids)))
    # Most rounds find nothing: look before taking the write lock.
    with db.session() as s:
        if s.scalar(select(OutboxMessage.id).where(condition).limit(1)) is None:
            return []
    with db.transaction() as s:
        # On PostgreSQL, rows another deliverer is claiming are skipped, not waited for;
        # on SQLite the transaction already holds the write lock and the clause is omitted.
        chosen = s.scalars(
            select(OutboxMessage.id).where(condition)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit).with_for_update(skip_locked=True)
        ).all()
        if not chosen:
            return []
        s.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(chosen))
            .values(status=SENDING, lease_holder=holder,
                    lease_until=now + timedelta(seconds=LEASE_S),
                    attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(chosen))
                         .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)).all()
        return [
            _Claimed(row.id, row.key, row.channel, row.attempts, Notification(
                subject=row.subject, body=row.body, email=row.email, phone=row.phone,
                user_id=row.user_id, html=row.html, topic=row.topic, data=dict(row.data or {})))
            for row in rows
        ]


def _send(channel: NotificationChannel, msg: _Claimed) -> _Outcome:
    token = _delivery_key.set(msg.key)
    try:
        channel.deliver(msg.notification)
    except Undeliverable as exc:
        return _Outcome(permanent=True, error=str(exc)[:4000] or type(exc).__name__)
    except ChannelDown as exc:
        return _Outcome(channel_down=True, error=str(exc)[:4000] or type(exc).__name__)
    except Deferred as exc:
        return _Outcome(error=str(exc)[:4000] or type(exc).__name__)
    except Exception as exc:
        return _Outcome(error=f"{type(exc).__name__}: {exc}"[:4000])
    finally:
        _delivery_key.reset(token)
    return _Outcome(sent=True)


def _settle(db: Database, msg: _Claimed, holder: str, outcome: _Outcome, policy: RetryPolicy,
            now: datetime) -> None:
    values: dict[str, Any] = {"lease_until": None, "lease_holder": ""}
    if outcome.sent:
        values.update(status=SENT, sent_at=now, last_error="")
        log.info("notification %s sent by %s", msg.id, msg.channel)
    elif outcome.permanent or msg.attempts >= policy.max_attempts:
        values.update(status=FAILED, last_error=outcome.error)
        log.warning("notification %s by %s failed for good after %d attempt(s): %s",
                    msg.id, msg.channel, msg.attempts, outcome.error)
    else:
        values.update(status=PENDING, last_error=outcome.error,
                      next_attempt_at=now + policy.delay(msg.attempts))
        # A retry is routine (the outbox page shows it); only giving up is a warning, so a
        # mail server that is down does not flood the log with one line per message.
        log.info("notification %s by %s not sent (attempt %d of %d), retried at %s: %s",
                    msg.id, msg.channel, msg.attempts, policy.max_attempts,
                    values["next_attempt_at"], outcome.error)
    try:
        with db.transaction() as s:
            result = s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == msg.id, OutboxMessage.lease_holder == holder,
                       OutboxMessage.status == SENDING)
                .values(**values).execution_options(synchronize_session=False)
            )
            if not getattr(result, "rowcount", 0):
                log.warning("the lease on notification %s ran out before it was settled", msg.id)
    except SQLAlchemyError:
        # The row stays leased and is sent again once the lease runs out.
        log.exception("could not record the outcome of notification %s", msg.id)


def _release(db: Database, msgs: Sequence[_Claimed], holder: str) -> None:
    """Give back claimed rows that were not tried, without counting an attempt."""
    if not msgs:
        return
    with db.transaction() as s:
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([m.id for m in msgs]),
                   OutboxMessage.lease_holder == holder, OutboxMessage.status == SENDING)
            .values(status=PENDING, lease_until=None, lease_holder="",
                    attempts=OutboxMessage.attempts - 1)
            .execution_options(synchronize_session=False)
        )


def deliver_due(limit: int = 50, *, now: datetime | None = None,
                ids: Sequence[int] | None = None) -> int:
    """Send up to ``limit`` due messages (only ``ids`` if given); returns how many were sent.

    Call inside an app context. ``now`` fixes the clock (tests): rows due by then are sent
    and retries are scheduled from it.
    """
    r = ruang()
    channels = available_channels()
    if not channels or limit < 1:
        return 0
    from core.jobs import default_holder

    holder = f"{default_holder()}:{uuid.uuid4().hex[:8]}"
    claimed = _claim(r.db, list(channels), limit, now or utcnow(), holder, ids)
    if not claimed:
        return 0
    with r.db.session() as s:
        policy = retry_policy(s)
    started = time.monotonic()
    down: set[str] = set()
    sent = 0
    for index, msg in enumerate(claimed):
        if time.monotonic() - started > LEASE_S / 2:
            # Slow servers: hand the rest back long before their lease could run out.
            _release(r.db, claimed[index:], holder)
            break
        if msg.channel in down:
            _release(r.db, [msg], holder)
            continue
        outcome = _send(channels[msg.channel], msg)
        if outcome.channel_down:
            down.add(msg.channel)
        _settle(r.db, msg, holder, outcome, policy, now or utcnow())
        sent += outcome.sent
    return sent


# -- the outbox, as staff see it -------------------------------------------------------------


def messages(session: Session, status: str | None = None, limit: int = 200
             ) -> list[OutboxMessage]:
    """The newest messages, optionally only those in ``status``."""
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        if status not in STATUSES:
            raise OutboxError(f"unknown status {status!r}; one of: {', '.join(STATUSES)}")
        stmt = stmt.where(OutboxMessage.status == status)
    return list(session.scalars(stmt))


def unsent(session: Session, limit: int = 200) -> list[OutboxMessage]:
    """Messages not sent yet (pending, being sent, failed), oldest first."""
    stmt = (select(OutboxMessage).where(OutboxMessage.status != SENT)
            .order_by(OutboxMessage.id).limit(limit))
    return list(session.scalars(stmt))


def counts(session: Session) -> dict[str, int]:
    found = {status: count for status, count in session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))}
    return {status: int(found.get(status, 0)) for status in STATUSES}


def retry(session: Session, message_id: int, actor: Any = None) -> OutboxMessage:
    """Send a failed (or waiting) message again as soon as possible, with a fresh budget."""
    from core.audit.service import record as audit

    row = session.get(OutboxMessage, message_id)
    if row is None:
        raise UnknownMessage(f"no outbox message {message_id}")
    if row.status in (SENT, SENDING):
        raise OutboxError(f"message {message_id} is {row.status}; only pending or failed "
                          "messages can be retried")
    before = row.status
    row.status = PENDING
    row.attempts = 0
    row.next_attempt_at = utcnow()
    audit(session, "notify.retry", actor=actor, object_type="notification", object_id=row.id,
          details={"channel": row.channel, "status_before": before})
    return row


def retry_failed(session: Session, actor: Any = None) -> int:
    """Retry every failed message; returns how many."""
    ids = session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == FAILED)).all()
    for message_id in ids:
        retry(session, message_id, actor=actor)
    return len(ids)


def purge_old(now: datetime | None = None) -> int:
    """Delete sent and failed messages older than ``notify.keep_days``; returns how many."""
    from core import settings_store

    r = ruang()
    with r.db.session() as s:
        days = int(settings_store.get(s, r.plugins, "notify.keep_days"))
    if days < 1:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    with r.db.transaction() as s:
        result = s.execute(
            delete(OutboxMessage)
            .where(OutboxMessage.status.in_([SENT, FAILED]), OutboxMessage.created_at < cutoff)
            .execution_options(synchronize_session=False)
        )
    return int(getattr(result, "rowcount", 0) or 0)
