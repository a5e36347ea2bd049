"""Background jobs of the lab plugin; the scheduler runs each inside an app context."""

from __future__ import annotations

import logging

from core.instance import ruang
from plugins.lab import repairs, requests

log = logging.getLogger("ruang.lab")


def reconcile_faults() -> None:
    """Open a repair for PCs marked faulty outside the lab pages (helpdesk, core pages)."""
    with ruang().db.transaction() as session:
        opened = repairs.reconcile(session)
    if opened:
        log.info("opened %d repair request(s) for PCs marked faulty elsewhere", len(opened))


def no_shows() -> None:
    """No-shows, forgotten check-outs and requests nobody decided on in time."""
    with ruang().db.transaction() as session:
        count = requests.mark_no_shows(session)
        forgotten = requests.close_forgotten(session)
        expired = requests.expire_undecided(session)
    if count or forgotten or expired:
        log.info("lab sessions: %d no-show(s), %d checked out automatically, %d request(s) "
                 "expired", count, forgotten, expired)


def reminders() -> None:
    with ruang().db.transaction() as session:
        requests.send_reminders(session)
