"""Small helpers the lab tests share (fixtures are in conftest.py)."""

from __future__ import annotations

import re
from typing import Any

from core.notify.service import deliver_due
from tests.fixtures.mail import ReceivedMail


def deliver_all() -> int:
    """Send every due message of the outbox through the real SMTP server."""
    total = 0
    while True:
        sent = deliver_due(limit=200)
        total += sent
        if not sent:
            return total


def mails(smtp_server: Any, needle: str) -> list[ReceivedMail]:
    """Messages received so far whose subject or text mentions ``needle``."""
    deliver_all()
    return [m for m in smtp_server.messages if needle in m.subject or needle in m.text()]


def to(found: list[ReceivedMail], address: str) -> list[ReceivedMail]:
    return [m for m in found if address in m.rcpt_tos]


def request_id_from(location: str) -> int:
    match = re.search(r"/lab/requests/(\d+)", location)
    assert match, location
    return int(match.group(1))
