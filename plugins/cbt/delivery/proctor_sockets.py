"""Socket.IO namespace ``/proctor``: a proctor's live seat map of one session.

The proctor's page connects with ``auth = {"session": <id>}`` and its signed-in browser
session. Connect needs ``cbt.proctor`` (the core's gate) and, for that session, the same
rule as the exam room page (:func:`~plugins.cbt.delivery.proctor.may_proctor`): a proctor
not assigned to the session is refused. An accepted connection joins
``proctor:session:<id>`` and gets a ``snapshot`` (every seat); from then on ``seats``
messages carry only the seats that changed, batched (see
:mod:`~plugins.cbt.delivery.seatmap`). ``snapshot`` can also be asked for again (after a
reconnect, the page does). Actions go over HTTP (``POST /cbt/exam-rooms/<id>/actions``),
where the CSRF token and the form's reason are checked like every other form.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, emit, join_room
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from core.contracts import SocketHandler
from core.instance import ruang
from plugins.cbt.delivery import seatmap
from plugins.cbt.delivery.proctor import may_proctor
from plugins.cbt.delivery.seatmap import NAMESPACE, proctor_room
from plugins.cbt.models import CbtSession

log = logging.getLogger(__name__)

__all__ = ["NAMESPACE", "handlers"]


class ProctorAuth(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    session: StrictInt = Field(ge=1)


class SnapshotIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


_watching: dict[str, int] = {}  # socket id -> session id
_lock = threading.Lock()


def _sid() -> str:
    sid: str = request.sid  # type: ignore[attr-defined]
    return sid


def _snapshot(session_id: int) -> dict[str, Any]:
    try:  # the connects and disconnects this process noted but has not written yet
        seatmap.flusher().write_presence()
    except Exception:  # a snapshot without them beats none; the next delta brings them
        log.exception("could not write kiosk presence before a snapshot")
    with ruang().db.session() as s:
        return seatmap.snapshot(s, session_id)


def on_connect(data: Any) -> None:
    try:
        auth = ProctorAuth.model_validate(data or {})
    except ValidationError:
        raise ConnectionRefusedError({"error": "invalid"}) from None
    with ruang().db.session() as s:
        cbt_session = s.get(CbtSession, auth.session)
    if cbt_session is None:
        raise ConnectionRefusedError({"error": "not_found"})
    if not may_proctor(current_user, cbt_session):
        raise ConnectionRefusedError({"error": "forbidden"})
    join_room(proctor_room(auth.session))
    with _lock:
        _watching[_sid()] = auth.session
    emit("snapshot", _snapshot(auth.session))


def on_disconnect(_reason: Any = None) -> None:
    with _lock:
        _watching.pop(_sid(), None)


def on_snapshot(data: Any) -> dict[str, Any]:
    try:
        SnapshotIn.model_validate(data or {})
    except ValidationError:
        return {"ok": False, "error": "invalid"}
    session_id = _watching.get(_sid())
    if session_id is None:
        return {"ok": False, "error": "forbidden"}
    return {"ok": True, **_snapshot(session_id)}


def handlers() -> list[SocketHandler]:
    return [
        SocketHandler("connect", on_connect, namespace=NAMESPACE, permission="cbt.proctor"),
        SocketHandler("disconnect", on_disconnect, namespace=NAMESPACE),
        SocketHandler("snapshot", on_snapshot, namespace=NAMESPACE, permission="cbt.proctor"),
    ]
