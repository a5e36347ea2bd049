"""The running instance as services see it: settings, database, plugins, Socket.IO."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_socketio import SocketIO

from core.config import Settings
from core.db import Database
from core.plugins import PluginHost


@dataclass
class Ruang:
    settings: Settings
    db: Database
    plugins: PluginHost
    socketio: SocketIO


def ruang() -> Ruang:
    """The instance of the current Flask app (inside a request or ``app.app_context()``)."""
    ruang_obj: Ruang = current_app.extensions["ruang"]
    return ruang_obj
