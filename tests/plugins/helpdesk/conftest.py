"""Helpdesk tests: every app mails to a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image

from core.config import Settings


@pytest.fixture
def settings(mail_settings: Settings) -> Settings:
    return mail_settings


def png_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def deliver() -> int:
    from core.notify.service import deliver_due

    return deliver_due(limit=500)


def file_as_guest(client: Any, **overrides: Any) -> Any:
    data: dict[str, Any] = {
        "name": "Budi Santoso", "email": "budi@kampus.ac.id", "phone": "",
        "subject": "Wi-Fi di gedung C putus", "category_id": "",
        "description": "Sejak pagi Wi-Fi di lantai 2 gedung C tidak bisa tersambung.",
    }
    data.update(overrides)
    return client.post("/helpdesk/new", data, content_type="multipart/form-data")


def number_in(html: str) -> str:
    m = re.search(r'id="ticket-number">([^<]+)<', html)
    assert m, "the page shows no ticket number"
    return m.group(1).strip()


def category_id(app: Any, code: str) -> int:
    from sqlalchemy import select

    from plugins.helpdesk.models import Category

    with app.extensions["ruang"].db.session() as s:
        return int(s.scalar(select(Category.id).where(Category.code == code)))


def ticket(app: Any, number: str) -> Any:
    from plugins.helpdesk.service import by_number

    with app.extensions["ruang"].db.session() as s:
        return by_number(s, number)


STAFF_DOMAIN = "bpti.kampus.ac.id"


@pytest.fixture(autouse=True)
def deliverable_staff(app: Any) -> None:
    """Demo accounts have ``.local`` addresses, which mail refuses; give them real-looking ones."""
    from sqlalchemy import update

    from core.accounts.models import User

    with app.extensions["ruang"].db.transaction() as s:
        for user in s.scalars(__import__("sqlalchemy").select(User)):
            s.execute(update(User).where(User.id == user.id)
                      .values(email=f"{user.username}@{STAFF_DOMAIN}"))


def staff_mail(username: str) -> str:
    return f"{username}@{STAFF_DOMAIN}"
