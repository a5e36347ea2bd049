"""The workflow tests: the real core, a listener plugin, and the toy proposals table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, g
from sqlalchemy import select

from core.app import create_app
from core.config import Settings
from tests.conftest import prepare_test_app
from tests.core.workflow.toy import Listener, ToyBase


@pytest.fixture
def listener() -> Listener:
    return Listener()


@pytest.fixture
def app(settings: Settings, listener: Listener) -> Iterator[Flask]:
    """Overrides the suite's ``app``: adds the listener plugin and creates the toy table."""
    app = prepare_test_app(create_app(settings, extra_plugins=[listener]))

    @app.before_request
    def _forget_csrf() -> None:
        # Flask-WTF caches the token in ``g``, which the long-lived test app context shares
        # between test clients: a second signed-in client would post the first one's token.
        g.pop("csrf_token", None)

    db = app.extensions["ruang"].db
    ToyBase.metadata.create_all(db.engine)
    with app.app_context():
        yield app
    db.dispose()


@pytest.fixture
def users(db: Any) -> dict[str, Any]:
    """Demo users by user name, plus ``wdm2``: WDM staff who is not the division head."""
    from core.accounts.models import User

    with db.transaction() as s:
        if s.scalar(select(User).where(User.username == "wdm2")) is None:
            s.add(User(username="wdm2", full_name="Staf WDM", role="staff", division="WDM"))
    with db.session() as s:
        return {u.username: u for u in s.scalars(select(User))}
