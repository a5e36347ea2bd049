"""Fixtures of the lab plugin's tests: apps that mail a real SMTP server, dates far enough
ahead that the demo bookings never get in the way, and short-cuts to the demo labs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from core.config import Settings
from core.rooms import service as rooms
from core.rooms.models import Lab


@pytest.fixture
def settings(mail_settings: Settings) -> Settings:
    return mail_settings


def monday(weeks_ahead: int = 60) -> date:
    """A Monday about ``weeks_ahead`` weeks from now: clear of the demo data's bookings."""
    start = date.today() + timedelta(weeks=weeks_ahead)
    return start - timedelta(days=start.weekday())


def lab(db: Any, code: str = "LAB-1") -> Lab:
    with db.session() as session:
        found = rooms.lab_by_code(session, code)
    assert found is not None, f"demo lab {code} is missing"
    return found


def user(db: Any, username: str) -> Any:
    from sqlalchemy import select

    from core.accounts.models import User

    with db.session() as session:
        found = session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found
