"""The records tests run against the real core plus a plugin that declares record types."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.core.records.toy_types import make_app


@pytest.fixture
def app(instance: Path) -> Iterator[Flask]:
    """Overrides the suite's ``app`` so ``db``, ``login`` and ``guest`` see the record types."""
    app = make_app(instance)
    with app.app_context():
        yield app
    app.extensions["ruang"].db.dispose()
