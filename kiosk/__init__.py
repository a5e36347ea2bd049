"""The kiosk: the page lab PCs open in a kiosk browser (``/kiosk``), its script and styles.

This package holds only the front end (``templates/kiosk/`` and ``static/``). The routes that
serve it, enrolment and heartbeats belong to the core's rooms area (``core.rooms``), which
registers a blueprint using these folders; plugins (CBT) send an enrolled kiosk to their own
pages with ``core.rooms.kiosks.open_page``.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
# Where the kiosk keeps its credential in the browser (the server also sets an HttpOnly
# cookie); pages of plugins read it from here to authenticate their socket.
TOKEN_STORAGE_KEY = "ruang.kiosk.token"  # noqa: S105 - a storage key, not a secret
