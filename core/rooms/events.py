"""Socket.IO namespace ``/kiosk``: enrolled kiosks connect with their token and send heartbeats.

Connecting takes ``auth={"token": ...}`` (or the kiosk cookie, sent with the handshake);
an unknown or revoked token is refused. A connected kiosk joins its own room and its lab's
room (``core.rooms.kiosks.kiosk_room`` / ``lab_room``), where plugins reach it.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_socketio import join_room, rooms
from pydantic import BaseModel, ConfigDict, Field

from core.contracts import SocketHandler
from core.instance import ruang
from core.rooms import kiosks


class KioskAuth(BaseModel):
    model_config = ConfigDict(extra="ignore")

    token: str = Field(default="", max_length=kiosks.TOKEN_MAX_LEN)


class Heartbeat(BaseModel):
    """What a kiosk says about itself; the server only needs to hear from it."""

    model_config = ConfigDict(extra="ignore")

    page: str = Field(default="", max_length=40)


def _client() -> tuple[str, str, str]:
    sid: str = request.sid  # type: ignore[attr-defined]
    ip = request.remote_addr or ""
    ua = request.headers.get("User-Agent", "")
    return sid, ip, ua


def on_connect(auth: KioskAuth) -> bool | None:
    r = ruang()
    token = auth.token or request.cookies.get(kiosks.TOKEN_COOKIE, "")
    with r.db.session() as session:
        kiosk = kiosks.authenticate_token(session, token)
        if kiosk is None:
            return False
        lab, _seat = kiosks.kiosk_place(session, kiosk)
    _sid, ip, ua = _client()
    if not kiosks.heartbeat(r.db, kiosk.id, ip=ip, user_agent=ua, check=True):
        return False
    # The rooms are the connection's memory of who it is (see _kiosk_id): no per-process
    # table to clean up, and the socket's rooms go when it does.
    join_room(kiosks.kiosk_room(kiosk.id))
    join_room(kiosks.lab_room(lab.id))
    return None


def _kiosk_id() -> int | None:
    """The kiosk of this connection, from the room it joined on connect."""
    for room in rooms():
        if room.startswith("kiosk:") and room[6:].isdigit():
            return int(room[6:])
    return None


def on_heartbeat(_payload: Heartbeat) -> dict[str, Any]:
    r = ruang()
    _sid, ip, ua = _client()
    kiosk_id = _kiosk_id()
    if kiosk_id is None:
        return {"ok": False, "error": "not_enrolled"}
    if not kiosks.heartbeat(r.db, kiosk_id, ip=ip, user_agent=ua):
        return {"ok": False, "error": "revoked"}
    return {"ok": True}


def handlers() -> list[SocketHandler]:
    return [
        SocketHandler("connect", on_connect, namespace=kiosks.NAMESPACE, schema=KioskAuth),
        SocketHandler("heartbeat", on_heartbeat, namespace=kiosks.NAMESPACE, schema=Heartbeat),
    ]
