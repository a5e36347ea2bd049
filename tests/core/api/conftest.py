"""The API tests run against the real core plus a plugin that declares API routes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from core.accounts.models import User
from core.api import tokens
from tests.core.api.toy_api import ToyApiPlugin, make_app


@pytest.fixture
def toy() -> ToyApiPlugin:
    return ToyApiPlugin()


@pytest.fixture
def app(instance: Path, toy: ToyApiPlugin) -> Iterator[Flask]:
    """Overrides the suite's ``app`` so ``db``, ``login`` and ``guest`` see the toy routes."""
    app = make_app(instance, toy)
    with app.app_context():
        yield app
    app.extensions["ruang"].db.dispose()


@pytest.fixture
def make_token(app: Flask) -> Callable[..., str]:
    """``make_token("yansi", ["profile"], days=None, now=None)`` -> the bearer secret."""
    from sqlalchemy import select

    db = app.extensions["ruang"].db

    def _make(username: str = "yansi", scopes: list[str] | None = None,
              days: int | None = None, now: datetime | None = None,
              name: str = "test integration") -> str:
        with db.transaction() as session:
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None
            created = tokens.create_token(session, user, name=name,
                                          scopes=scopes or ["profile"], days=days, now=now)
        return created.secret

    return _make


def bearer(secret: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {secret}"}
