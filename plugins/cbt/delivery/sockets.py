"""Socket.IO namespace ``/exam``: a signed-in kiosk's connection for one attempt.

The protocol (version :data:`PROTOCOL`) is written down in ``docs/protocol.md``; this
module implements it. Handlers are registered with ``permission=None``: the core's gates
keep the plugin switch, and every handler here checks the kiosk and the attempt itself.
They validate their own payloads (pydantic, strict types, size limits) instead of giving
the core a schema, so that a malformed message is not only refused but also logged,
counted against the connection and answered with a ``refused`` event.

A connection is authenticated once, on connect (kiosk token + attempt + login secret, and
the SEB key where the lab requires it); what it may do is then kept in memory per socket
(:class:`Conn`). Whether the login is still current is checked by the database on every
write (see ``answers``), so a proctor's reset takes effect in every process at once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from flask import request
from flask_socketio import ConnectionRefusedError, emit, join_room
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError
from sqlalchemy import select

from core.contracts import SocketHandler
from core.db import utcnow
from core.instance import ruang
from core.rooms import kiosks
from plugins.cbt.delivery import answers, attempts, integrity, texts
from plugins.cbt.delivery.attempts import DeliveryError, login_hash, same_login
from plugins.cbt.delivery.models import DeliveryAttempt
from plugins.cbt.delivery.push import NAMESPACE, attempt_room, ms, session_room
from plugins.cbt.delivery.seatmap import note_online

__all__ = ["NAMESPACE", "PROTOCOL", "handlers"]

log = logging.getLogger(__name__)

PROTOCOL = 1
# A kiosk sends a change per answer and re-sends what it kept after a disconnect; this is
# generous for that and still stops a runaway loop from costing the others their share.
BUCKET_SIZE = 120
BUCKET_RATE = 30.0  # messages per second
MAX_BAD = 20  # malformed messages before the connection is dropped


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ConnectAuth(_Msg):
    v: StrictInt = Field(default=PROTOCOL, ge=1, le=99)
    kiosk: StrictStr = Field(default="", max_length=kiosks.TOKEN_MAX_LEN)
    attempt: StrictInt = Field(ge=1)
    login: StrictStr = Field(min_length=20, max_length=100)
    seb_url: StrictStr = Field(default="", max_length=2000)
    seb_key: StrictStr = Field(default="", max_length=128)


class Hello(_Msg):
    v: StrictInt = Field(default=PROTOCOL, ge=1, le=99)


Value = StrictBool | StrictInt | Annotated[str, Field(max_length=answers.MAX_ESSAY)] | list[
    StrictInt | None] | None


class AnswerIn(_Msg):
    a: StrictInt = Field(ge=1)
    s: StrictInt = Field(ge=1, le=answers.MAX_SEQ)
    q: StrictInt = Field(ge=1, le=10_000)
    v: Value = None
    f: StrictBool = False


class StartIn(_Msg):
    token: StrictStr = Field(min_length=1, max_length=20)


class TimeIn(_Msg):
    t: StrictInt | None = None


class SignalIn(_Msg):
    k: Literal["focus_lost", "fullscreen_exit", "reload", "copy", "paste", "cut",
               "contextmenu"]
    n: StrictInt = Field(default=1, ge=1, le=1000)
    d: StrictStr = Field(default="", max_length=200)


class SubmitIn(_Msg):
    s: StrictInt = Field(default=0, ge=0, le=answers.MAX_SEQ)


@dataclass
class Conn:
    """What an authenticated connection may do, kept per socket in this process."""

    attempt_id: int
    kiosk_id: int
    login_hash: str
    shape: list[dict[str, Any]]
    tokens: float = BUCKET_SIZE
    stamp: float = field(default_factory=time.monotonic)
    bad: int = 0
    db_key: int = 0  # which instance (tests run several in one process)

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(BUCKET_SIZE, self.tokens + (now - self.stamp) * BUCKET_RATE)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


_conns: dict[str, Conn] = {}
_conns_lock = threading.Lock()


def _sid() -> str:
    sid: str = request.sid  # type: ignore[attr-defined]
    return sid


def _conn() -> Conn | None:
    return _conns.get(_sid())


def _refuse(code: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": code, "message": texts.error(code, extra.pop("detail", "")),
            **extra}


def _problems(exc: ValidationError) -> list[dict[str, str]]:
    return [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)][:5]


def _bad(conn: Conn | None, event: str, code: str, **extra: Any) -> dict[str, Any]:
    """A malformed or out-of-attempt message: refuse it, tell, log, count, record."""
    answer = _refuse(code, **extra)
    emit("refused", {"event": event, **answer})
    log.warning("refused %s from %s (%s): %s", event, request.remote_addr, code,
                extra.get("problems") or extra.get("detail") or "")
    if conn is not None:
        conn.bad += 1
        integrity.record(ruang().db, conn.attempt_id, "bad_message", kiosk_id=conn.kiosk_id,
                         detail=f"{event}: {code}")
        if conn.bad > MAX_BAD:
            _cut_off()
    return answer


def _cut_off() -> None:
    """Close the whole connection, not just the namespace: what the kiosk still has in
    flight is then dropped by the network instead of being parsed message by message."""
    server = ruang().socketio.server
    sid = _sid()
    eio_sid = server.manager.eio_sid_from_sid(sid, NAMESPACE)
    server.disconnect(sid, namespace=NAMESPACE)
    if eio_sid is not None:
        server.eio.disconnect(eio_sid)


def _parse(model: type[BaseModel], data: Any, conn: Conn | None, event: str) -> Any:
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        return _bad(conn, event, "invalid", problems=_problems(exc))


# -- connect / disconnect ------------------------------------------------------------------


def on_connect(data: Any) -> None:
    try:
        auth = ConnectAuth.model_validate(data or {})
    except ValidationError:
        raise ConnectionRefusedError({"error": "invalid",
                                      "message": texts.error("invalid")}) from None
    if auth.v > PROTOCOL:
        raise ConnectionRefusedError({"error": "version", "message": texts.error("version")})
    r = ruang()
    token = auth.kiosk or request.cookies.get(kiosks.TOKEN_COOKIE, "")
    secret_hash = login_hash(auth.login)
    with r.db.session() as s:
        kiosk = kiosks.authenticate_token(s, token)
        if kiosk is None:
            raise ConnectionRefusedError({"error": "not_enrolled",
                                          "message": texts.error("not_enrolled")})
        lab, _seat = kiosks.kiosk_place(s, kiosk)
        d = s.get(DeliveryAttempt, auth.attempt)
        if d is None or d.kiosk_id != kiosk.id or not same_login(d.login_hash, secret_hash):
            raise ConnectionRefusedError({"error": "logged_out",
                                          "message": texts.error("logged_out")})
        seb_ok = integrity.seb_ok(s, lab.id, (auth.seb_url, auth.seb_key))
        shape = list(d.shape or [])
        session_id = d.session_id
    if not seb_ok:
        integrity.record(r.db, auth.attempt, "seb_failed", kiosk_id=kiosk.id)
        raise ConnectionRefusedError({"error": "seb_required",
                                      "message": texts.error("seb_required")})
    kiosks.heartbeat(r.db, kiosk.id, ip=request.remote_addr or "",
                     user_agent=request.headers.get("User-Agent", ""))
    join_room(attempt_room(auth.attempt))
    if session_id is not None:
        join_room(session_room(session_id))
    with _conns_lock:
        _conns[_sid()] = Conn(auth.attempt, kiosk.id, secret_hash, shape, db_key=id(r.db))
    _set_online(auth.attempt, True)


def _set_online(attempt_id: int, online: bool) -> None:
    """For the seat map: whether a kiosk of the attempt is connected (to any process)."""
    try:
        note_online(attempt_id, online)
    except Exception:  # the seat map falls back on the kiosk's heartbeat
        log.exception("could not note attempt %s online=%s", attempt_id, online)


def on_disconnect(_reason: Any = None) -> None:
    with _conns_lock:
        conn = _conns.pop(_sid(), None)
        others = conn is not None and any(
            c.attempt_id == conn.attempt_id and c.db_key == conn.db_key for c in _conns.values())
    if conn is not None and not others:
        _set_online(conn.attempt_id, False)


def _guard(event: str) -> tuple[Conn | None, dict[str, Any] | None]:
    conn = _conn()
    if conn is None:
        return None, _bad(None, event, "not_signed_in")
    if not conn.take():
        return conn, _refuse("rate_limited", retry_ms=1000)
    return conn, None


# -- messages ------------------------------------------------------------------------------


def on_hello(data: Any) -> dict[str, Any]:
    """Where the attempt stands: state, clock, the key while running, every stored answer."""
    conn, refused = _guard("hello")
    if refused is not None or conn is None:
        return refused or {}
    msg = _parse(Hello, data, conn, "hello")
    if isinstance(msg, dict):
        return msg
    if msg.v > PROTOCOL:
        return _refuse("version")
    r = ruang()
    with r.db.session() as s:
        d = s.get(DeliveryAttempt, conn.attempt_id)
        if d is None or not same_login(d.login_hash, conn.login_hash):
            return _refuse("logged_out")
        out: dict[str, Any] = {"ok": True, "v": PROTOCOL, "state": d.state,
                               "now": ms(utcnow()), "deadline": ms(d.deadline_at),
                               "locked": bool(d.locked), "paused_at": ms(d.paused_at)}
        if d.state in ("running", "paused"):
            key_id = attempts.data_key_of(s, d.attempt_id)
            if key_id is not None:
                out["key"] = attempts.key_b64(s, key_id, d)
        current = attempts.current_answers(s, conn.attempt_id)
        out["answers"] = [[q, v, f, seq] for q, (v, f, seq) in sorted(current.items())]
        out["last_seq"] = attempts.last_seq(s, conn.attempt_id)
    return out


def on_start(data: Any) -> dict[str, Any]:
    conn, refused = _guard("start")
    if refused is not None or conn is None:
        return refused or {}
    msg = _parse(StartIn, data, conn, "start")
    if isinstance(msg, dict):
        return msg
    tries_key = (str(ruang().settings.instance), conn.attempt_id)
    if not _token_tries.allow(tries_key):
        return _refuse("throttled", detail="60")
    try:
        started = attempts.start_by_token(ruang().db, conn.attempt_id, conn.login_hash,
                                          msg.token)
    except DeliveryError as exc:
        if exc.code == "bad_token":
            _token_tries.fail(tries_key)
        return _refuse(exc.code, detail=exc.detail)
    return {"ok": True, "key": started.key, "deadline": ms(started.deadline),
            "now": ms(utcnow())}


def on_answer(data: Any) -> dict[str, Any]:
    conn, refused = _guard("answer")
    if refused is not None or conn is None:
        return refused or {}
    msg = _parse(AnswerIn, data, conn, "answer")
    if isinstance(msg, dict):
        return msg
    if msg.a != conn.attempt_id:
        return _bad(conn, "answer", "wrong_attempt", s=msg.s)
    problem = answers.check_value(conn.shape, msg.q, msg.v)
    if problem is not None:
        return _bad(conn, "answer", "invalid", s=msg.s, detail=problem)
    result = answers.writer(ruang().db).submit(answers.Pending(
        attempt_id=msg.a, seq=msg.s, position=msg.q, value=msg.v, flagged=msg.f,
        login_hash=conn.login_hash))
    if not result.get("ok"):
        result["message"] = texts.error(str(result.get("error")))
    return result


def on_time(data: Any) -> dict[str, Any]:
    """Clock sync (every ~20 s from the kiosk); doubles as the kiosk's heartbeat."""
    conn, refused = _guard("time")
    if refused is not None or conn is None:
        return refused or {}
    msg = _parse(TimeIn, data, conn, "time")
    if isinstance(msg, dict):
        return msg
    r = ruang()
    kiosks.heartbeat(r.db, conn.kiosk_id, ip=request.remote_addr or "")
    # The four columns the answer needs, not the attempt's row: every kiosk sends this
    # every 20 s, a hundred a second on a campus.
    da = DeliveryAttempt
    with r.db.session() as s:
        d = s.execute(select(da.login_hash, da.deadline_at, da.state, da.locked)
                      .where(da.attempt_id == conn.attempt_id)).first()
    if d is None or not same_login(d.login_hash, conn.login_hash):
        return _refuse("logged_out")
    return {"ok": True, "now": ms(utcnow()), "deadline": ms(d.deadline_at), "state": d.state,
            "locked": bool(d.locked), "t": msg.t}


def on_signal(data: Any) -> dict[str, Any]:
    conn, refused = _guard("signal")
    if refused is not None or conn is None:
        return refused or {}
    msg = _parse(SignalIn, data, conn, "signal")
    if isinstance(msg, dict):
        return msg
    integrity.record(ruang().db, conn.attempt_id, msg.k, kiosk_id=conn.kiosk_id, count=msg.n,
                     detail=msg.d)
    return {"ok": True}


def on_submit(data: Any) -> dict[str, Any]:
    conn, refused = _guard("submit")
    if refused is not None or conn is None:
        return refused or {}
    msg = _parse(SubmitIn, data, conn, "submit")
    if isinstance(msg, dict):
        return msg
    try:
        at, answered, already = attempts.submit(ruang().db, conn.attempt_id, conn.login_hash)
    except DeliveryError as exc:
        return _refuse(exc.code, detail=exc.detail)
    return {"ok": True, "at": ms(at), "answered": answered, "already": already}


class _Tries:
    """Wrong session tokens per attempt: five a minute, then a pause."""

    def __init__(self, limit: int = 5, window_s: float = 60.0) -> None:
        self.limit, self.window_s = limit, window_s
        self._fails: dict[tuple[str, int], list[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: tuple[str, int]) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._fails.get(key, []) if now - t < self.window_s]
            if recent:
                self._fails[key] = recent
            else:
                self._fails.pop(key, None)
            return len(recent) < self.limit

    def fail(self, key: tuple[str, int]) -> None:
        with self._lock:
            self._fails.setdefault(key, []).append(time.monotonic())


_token_tries = _Tries()


def handlers() -> list[SocketHandler]:
    from plugins.cbt.delivery import proctor_sockets

    return [*proctor_sockets.handlers(),
        SocketHandler("connect", on_connect, namespace=NAMESPACE),
        SocketHandler("disconnect", on_disconnect, namespace=NAMESPACE),
        SocketHandler("hello", on_hello, namespace=NAMESPACE),
        SocketHandler("start", on_start, namespace=NAMESPACE),
        SocketHandler("answer", on_answer, namespace=NAMESPACE),
        SocketHandler("time", on_time, namespace=NAMESPACE),
        SocketHandler("signal", on_signal, namespace=NAMESPACE),
        SocketHandler("submit", on_submit, namespace=NAMESPACE),
    ]

