"""The helpdesk's run-time settings (admin page), with their types and defaults."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, conint
from sqlalchemy.orm import Session

from core.contracts import SettingSpec

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def parse_windows(text: str) -> list[tuple[int, int]]:
    """``"08:00-12:00,13:00-16:00"`` as minutes of the day: ``[(480, 720), (780, 960)]``.

    Raises ``ValueError`` naming the part that is wrong.
    """
    out: list[tuple[int, int]] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        m = _WINDOW.match(part)
        if not m:
            raise ValueError(f"{part!r} is not a time span like 08:00-16:00")
        start = int(m.group(1)) * 60 + int(m.group(2))
        end = int(m.group(3)) * 60 + int(m.group(4))
        if end > 24 * 60 or end <= start:
            raise ValueError(f"{part!r}: the end must come after the start, by 24:00")
        if out and start < out[-1][1]:
            raise ValueError(f"{part!r} overlaps or comes before the span before it")
        out.append((start, end))
    return out


def _check_hours(value: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(value) - set(WEEKDAYS))
    if unknown:
        raise ValueError(f"unknown day {', '.join(unknown)}; days are {', '.join(WEEKDAYS)}")
    clean: dict[str, str] = {}
    for day in WEEKDAYS:
        text = (value.get(day) or "").strip()
        try:
            parse_windows(text)
        except ValueError as exc:
            raise ValueError(f"{day}: {exc}") from None
        clean[day] = text
    return clean


BusinessHours = Annotated[dict[str, str], AfterValidator(_check_hours)]

DEFAULT_HOURS: dict[str, str] = {
    "mon": "08:00-12:00,13:00-16:00", "tue": "08:00-12:00,13:00-16:00",
    "wed": "08:00-12:00,13:00-16:00", "thu": "08:00-12:00,13:00-16:00",
    "fri": "08:00-11:30,13:30-16:30", "sat": "", "sun": "",
}

SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("helpdesk.business_hours", BusinessHours, DEFAULT_HOURS,
                "Business hours per weekday for service levels, e.g. "
                "{\"mon\": \"08:00-12:00,13:00-16:00\", ..., \"sun\": \"\"}"),
    SettingSpec("helpdesk.warn_percent", conint(ge=10, le=99), 75,
                "Warn the assignee when this share of a service-level target has passed"),
    SettingSpec("helpdesk.auto_close_days", conint(ge=0, le=365), 7,
                "Days after which a resolved ticket the user did not reopen is closed "
                "(0: never)"),
    SettingSpec("helpdesk.max_file_mb", conint(ge=1, le=50), 10,
                "Largest attachment accepted, in megabytes"),
    SettingSpec("helpdesk.max_files", conint(ge=1, le=20), 5,
                "Most attachments accepted with one complaint or reply"),
    SettingSpec("helpdesk.lookup_max_failures", conint(ge=1, le=1000), 5,
                "Wrong status look-ups allowed from one address within the window"),
    SettingSpec("helpdesk.lookup_window_s", conint(ge=10, le=86400), 900,
                "Window for counting wrong status look-ups and guest complaints, in seconds"),
    SettingSpec("helpdesk.guest_max_tickets", conint(ge=1, le=1000), 10,
                "Complaints a guest may file from one address within the window"),
    SettingSpec("helpdesk.notify_triage", bool, True,
                "E-mail Kabag. YANSI about every new complaint waiting for triage"),
)


def get(session: Session, key: str) -> Any:
    from core import settings_store
    from core.instance import ruang

    return settings_store.get(session, ruang().plugins, key)
