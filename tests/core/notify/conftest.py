"""Every app in the notify tests mails the real local SMTP server of ``smtp_server``."""

from __future__ import annotations

import pytest

from core.config import Settings


@pytest.fixture
def settings(mail_settings: Settings) -> Settings:
    return mail_settings
