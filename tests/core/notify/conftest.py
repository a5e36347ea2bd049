"""Every app in the notify tests mails the real local SMTP server of ``smtp_server``, and
each test starts with an empty outbox (the demo data of other plugins queues messages)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete

from core.config import Settings
from core.notify.models import OutboxMessage


@pytest.fixture
def settings(mail_settings: Settings) -> Settings:
    return mail_settings


@pytest.fixture(autouse=True)
def empty_outbox(app: Any) -> None:
    with app.extensions["ruang"].db.transaction() as s:
        s.execute(delete(OutboxMessage))
