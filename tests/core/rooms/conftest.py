"""Fixtures of the rooms tests.

These tests use several browsers at once (staff and lab PCs). The shared ``app`` fixture
keeps one app context open, so Flask-WTF's per-request CSRF token cache in ``g`` would leak
from one test client to the next; a real server gives every request a fresh ``g``.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, g


@pytest.fixture
def app(app: Flask) -> Any:
    @app.before_request
    def _fresh_csrf() -> None:
        g.pop("csrf_token", None)

    return app


def only_plugins(app: Flask, *keep: str) -> None:
    """Switch off every procedure plugin except ``keep``: the core's own behaviour is under
    test, and an installed plugin (the lab plugin books rooms) would answer in its place."""
    r = app.extensions["ruang"]
    with r.db.transaction() as session:
        for name, info in r.plugins.plugins.items():
            if info.switchable and name not in keep:
                r.plugins.set_enabled(session, name, False, actor=None)
