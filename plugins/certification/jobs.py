"""Background jobs of the certification plugin; the scheduler runs each in an app context."""

from __future__ import annotations

import logging

from core.instance import ruang
from plugins.certification import registrations

log = logging.getLogger("ruang.certification")


def expire_offers() -> None:
    """Hand seats whose offer ran out to the next person on the waiting list."""
    with ruang().db.transaction() as session:
        count = registrations.expire_offers(session)
    if count:
        log.info("%d seat offer(s) expired and passed on", count)
