"""Socket.IO: the plugins' event handlers, each behind the same three gates, and the
client manager (:func:`client_manager`) that keeps each client's rooms indexed.

A handler runs only if its plugin is enabled, the caller holds its permission, and the
payload validates against its schema. Otherwise the acknowledgement says why, in a shape
clients can act on: ``{"ok": false, "error": "not_found" | "forbidden" | "invalid"}``.
"""

from __future__ import annotations

from typing import Any

import socketio
from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import current_user
from flask_socketio import SocketIO
from pydantic import BaseModel, ValidationError

from core.contracts import SocketHandler
from core.plugins import PluginHost


class ConnectionSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, opened once per Socket.IO connection.

    Flask-SocketIO pushes a request context over the handshake's environ for every event,
    and Flask opens the session on every push: it builds the signing serializer and checks
    the cookie again, a twentieth of a busy server's time. The cookie of a connection cannot
    change (with ``manage_session=False`` the session is the one of the handshake), so the
    first opening is kept in that environ. An HTTP request has an environ of its own.
    """

    environ_key = "ruang.session"

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        found: SecureCookieSession | None = request.environ.get(self.environ_key)
        if found is None:
            found = super().open_session(app, request)
            if found is not None:
                request.environ[self.environ_key] = found
        return found


def _error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": code, "message": message, **extra}


def _gate(host: PluginHost, plugin: str, spec: SocketHandler) -> Any:
    from core.accounts.access import can

    # A refused ``connect`` must return False (Flask-SocketIO's way to reject the client).
    refuse_with_false = spec.event == "connect"

    def handler(data: Any = None) -> Any:
        if not host.is_enabled(plugin):
            return False if refuse_with_false else _error(
                "not_found", f"the {plugin} plugin is disabled")
        if spec.permission is not None and not can(current_user, spec.permission):
            return False if refuse_with_false else _error(
                "forbidden", f"{spec.event} needs permission {spec.permission}")
        payload: Any = data
        if spec.schema is not None:
            try:
                payload = spec.schema.model_validate(data if data is not None else {})
            except ValidationError as exc:
                if refuse_with_false:
                    return False
                problems = [
                    {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                    for e in exc.errors(include_url=False, include_input=False)
                ]
                return _error("invalid", "the message does not match its schema", problems=problems)
        result = spec.handler(payload)
        if isinstance(result, BaseModel):
            return result.model_dump(mode="json")
        return result

    handler.__name__ = f"{plugin}_{spec.event}"
    return handler


def register_socket_handlers(app: Flask, socketio: SocketIO, host: PluginHost) -> None:
    """Register every installed plugin's handlers (the gate hides disabled ones)."""
    seen: set[tuple[str, str]] = set()
    for plugin, spec in host.collect_by_plugin("ruang_socket_handlers", enabled_only=False):
        key = (spec.namespace, spec.event)
        if key in seen:
            raise RuntimeError(f"two handlers for {spec.event!r} on namespace {spec.namespace!r}")
        seen.add(key)
        socketio.on_event(spec.event, _gate(host, plugin, spec), namespace=spec.namespace)
    app.extensions["ruang.socket_events"] = sorted(seen)


# -- the Socket.IO client manager ----------------------------------------------------------


class _RoomIndex:
    """Keeps, next to python-socketio's room -> members map, each client's rooms.

    python-socketio (5.18) finds a client's rooms by scanning, and copying, every room of
    the namespace: on every disconnect (``basic_disconnect``) and every ``rooms()`` call.
    Each kiosk adds rooms of its own (its sid, its attempt, its kiosk), so with n kiosks a
    reconnect storm cost O(n^2). With the index both are O(rooms of that client).
    """

    rooms: dict[str, dict[Any, Any]]
    callbacks: dict[str, Any]
    pending_connect: dict[str, list[str]]
    pending_disconnect: dict[str, list[str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # namespace -> sid -> rooms (a dict for insertion order, as the scan gave)
        self.rooms_of: dict[str, dict[str, dict[Any, None]]] = {}

    def basic_enter_room(self, sid: str, namespace: str, room: Any,
                         eio_sid: str | None = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        self.rooms_of.setdefault(namespace, {}).setdefault(sid, {})[room] = None

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        by_sid = self.rooms_of.get(namespace)
        if by_sid is None:
            return
        mine = by_sid.get(sid)
        if mine is not None:
            mine.pop(room, None)
            if not mine:
                del by_sid[sid]
                if not by_sid:
                    del self.rooms_of[namespace]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        # BaseManager.basic_disconnect of python-socketio 5.18, minus the scan of all rooms.
        if namespace not in self.rooms:
            return
        for room in list(self.rooms_of.get(namespace, {}).get(sid, {})):
            self.basic_leave_room(sid, namespace, room)
        if sid in self.callbacks:
            del self.callbacks[sid]
        for pending in (self.pending_connect, self.pending_disconnect):
            if namespace in pending and sid in pending[namespace]:
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        return [room for room in self.rooms_of.get(namespace, {}).get(sid, {})
                if room is not None]


class IndexedManager(_RoomIndex, socketio.Manager):
    """The in-process manager (one server process)."""


def client_manager(message_queue: str | None) -> socketio.Manager | socketio.PubSubManager:
    """The manager the app's Socket.IO server uses: the in-process one, or for several
    processes the message-queue one Flask-SocketIO would pick for ``message_queue``, each
    with the per-client room index."""
    if not message_queue:
        return IndexedManager()
    queue_class: type[socketio.PubSubManager]
    if message_queue.startswith(("redis://", "rediss://")):
        queue_class = socketio.RedisManager
    elif message_queue.startswith("kafka://"):
        queue_class = socketio.KafkaManager
    elif message_queue.startswith("zmq"):
        queue_class = socketio.ZmqManager
    else:
        queue_class = socketio.KombuManager
    indexed = type(f"Indexed{queue_class.__name__}", (_RoomIndex, queue_class), {})
    # Flask-SocketIO's default channel name, so that processes of a mixed deployment
    # (or emitters set up with plain Flask-SocketIO) still hear each other.
    manager: socketio.PubSubManager = indexed(message_queue, channel="flask-socketio",
                                              write_only=False)
    return manager
