"""Socket.IO: the plugins' event handlers, each behind the same three gates.

A handler runs only if its plugin is enabled, the caller holds its permission, and the
payload validates against its schema. Otherwise the acknowledgement says why, in a shape
clients can act on: ``{"ok": false, "error": "not_found" | "forbidden" | "invalid"}``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_login import current_user
from flask_socketio import SocketIO
from pydantic import BaseModel, ValidationError

from core.contracts import SocketHandler
from core.plugins import PluginHost


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
