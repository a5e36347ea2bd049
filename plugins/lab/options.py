"""Settings staff change for the lab plugin (admin page or ``ruang settings``)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from core.contracts import SettingSpec

# Stored data, not UI text: staff edit it in their own words (Indonesian by default).
DEFAULT_CHECKLIST = [
    "Nyalakan semua PC dan pastikan semuanya berjalan",
    "Periksa jaringan dan koneksi internet",
    "Periksa proyektor, pengeras suara dan AC",
    "Rapikan ruangan dan kursi",
]

SETTINGS: list[SettingSpec] = [
    SettingSpec("lab.asset_office_email", str, "",
                "E-mail address of Biro Aset, which receives repair requests"),
    SettingSpec("lab.checklist", list[str], DEFAULT_CHECKLIST,
                "Preparation checklist every approved lab request starts with"),
    SettingSpec("lab.min_notice_hours", int, 24,
                "How many hours ahead a requester must ask for a lab on the portal"),
    SettingSpec("lab.no_show_minutes", int, 30,
                "Minutes after the start without a check-in before a session is a no-show"),
    SettingSpec("lab.reminder_hours", int, 24,
                "Hours before a session when the requester and the preparing staff get a "
                "reminder"),
]


def setting(session: Session, key: str) -> Any:
    from core import settings_store
    from core.instance import ruang

    value = settings_store.get(session, ruang().plugins, key)
    # The admin page (at the time of writing) stores a text value JSON-encoded, quotes
    # included; read "x@y" as x@y so an address typed there still works.
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return decoded if isinstance(decoded, str) else value
    return value
