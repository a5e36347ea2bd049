"""The Socket.IO client manager keeps each client's rooms indexed (no scan of every room
on disconnect), and behaves as python-socketio's own manager does."""

from __future__ import annotations

import time

import socketio

from core.db import utcnow
from core.realtime import IndexedManager, client_manager
from core.rooms import kiosks, service


def _enrol(db, guest, seat: str) -> str:
    with db.transaction() as session:
        lab = service.lab_by_code(session, "LAB-1")
        assert lab is not None
        code = kiosks.new_code(session, lab, now=utcnow()).code
    done = guest.post_json("/kiosk/enrol", {"code": code, "seat": seat})
    assert done.status_code == 200, done.json
    return str(done.json["token"])


def test_rooms_of_a_client_are_found_and_dropped_without_scanning(app, db, guest):
    sio = app.extensions["ruang"].socketio
    manager = sio.server.manager
    assert isinstance(manager, IndexedManager)
    ns = kiosks.NAMESPACE
    socks = [sio.test_client(app, namespace=ns, auth={"token": _enrol(db, guest, seat)})
             for seat in ("A1", "A2", "A3")]
    sids = [manager.sid_from_eio_sid(s.eio_sid, ns) for s in socks]
    for sid in sids:
        rooms = manager.get_rooms(sid, ns)
        assert sid in rooms and any(r.startswith("kiosk:") for r in rooms)
        assert any(r.startswith("lab:") for r in rooms)
    # A scan of the real room map gives the same answer as the index.
    for sid in sids:
        scanned = {name for name, members in manager.rooms[ns].items()
                   if name is not None and sid in members}
        assert scanned == set(manager.get_rooms(sid, ns))

    socks[0].disconnect(namespace=ns)
    gone = sids[0]
    assert all(gone not in members for members in manager.rooms[ns].values())
    assert gone not in manager.rooms_of.get(ns, {})
    # The lab room is still there for the others, and they still hear the lab.
    kiosks.open_page("/cbt/kiosk", lab_id=1)
    for s in socks[1:]:
        assert [m["name"] for m in s.get_received(ns)] == ["open"]
        s.disconnect(namespace=ns)
    assert ns not in manager.rooms_of


def test_the_index_follows_rooms_closed_and_left():
    manager = IndexedManager()
    manager.set_server(socketio.Server(async_mode="threading"))
    for sid, eio in (("s1", "e1"), ("s2", "e2")):
        manager.basic_enter_room(sid, "/", None, eio_sid=eio)
        manager.basic_enter_room(sid, "/", sid)
        manager.basic_enter_room(sid, "/", "attempt:1")
    manager.basic_enter_room("s1", "/", "lab:1")
    assert manager.get_rooms("s1", "/") == ["s1", "attempt:1", "lab:1"]
    manager.basic_close_room("attempt:1", "/")
    assert manager.get_rooms("s1", "/") == ["s1", "lab:1"]
    manager.basic_leave_room("s1", "/", "lab:1")
    assert manager.get_rooms("s1", "/") == ["s1"]
    manager.basic_disconnect("s1", "/")
    assert manager.get_rooms("s1", "/") == []
    assert "s1" not in manager.rooms["/"][None]
    assert manager.get_rooms("s2", "/") == ["s2"]


def test_a_message_queue_gets_the_indexed_manager_of_its_kind():
    redis_manager = client_manager("redis://127.0.0.1:6399/0")
    assert isinstance(redis_manager, socketio.RedisManager)
    assert redis_manager.channel == "flask-socketio"
    assert hasattr(redis_manager, "rooms_of")
    assert isinstance(client_manager(None), IndexedManager)


def test_through_redis_a_kiosk_on_one_process_hears_what_another_sends(
        app, db, guest, settings, redis_url, live_server):
    """The indexed manager keeps the message-queue mode: a kiosk connected to a real
    ``ruang serve`` (gevent, with Redis) hears what another process sends its lab, through a
    real redis-server, and reconnects after a drop."""
    from core.app import create_app
    from tests.conftest import make_settings

    token = _enrol(db, guest, "A4")
    with db.session() as session:
        lab = service.lab_by_code(session, "LAB-1")
        assert lab is not None
        lab_id = lab.id
    server = live_server(env={"RUANG_MESSAGE_QUEUE": redis_url})
    heard: list[dict] = []
    for _round in range(2):  # the second round: after a disconnect, on a new socket
        client = socketio.Client(reconnection=False)
        client.on("open", heard.append, namespace=kiosks.NAMESPACE)
        client.connect(server.url, namespaces=[kiosks.NAMESPACE], transports=["websocket"],
                       auth={"token": token}, wait_timeout=20)
        ack = client.call("heartbeat", {"page": "waiting"}, namespace=kiosks.NAMESPACE,
                          timeout=20)
        assert ack == {"ok": True}
        sender = create_app(make_settings(settings.instance, message_queue=redis_url))
        try:
            with sender.app_context():
                kiosks.open_page("/cbt/kiosk", lab_id=lab_id)
        finally:
            sender.extensions["ruang"].db.dispose()
        deadline = time.monotonic() + 10
        while len(heard) <= _round and time.monotonic() < deadline:
            time.sleep(0.05)
        client.disconnect()
    assert heard == [{"path": "/cbt/kiosk"}] * 2
