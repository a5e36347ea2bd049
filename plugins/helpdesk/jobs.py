"""Background jobs: the service-level check, auto-closing, and forgetting old throttle rows."""

from __future__ import annotations

import logging

from core.contracts import BackgroundJob
from core.instance import ruang

log = logging.getLogger("ruang.helpdesk")


def run_sla_check() -> None:
    from plugins.helpdesk import sla

    with ruang().db.transaction() as session:
        result = sla.check(session)
    if result:
        log.info("helpdesk SLA: warned %s, escalated %s", result.warned, result.escalated)


def run_auto_close() -> None:
    from plugins.helpdesk import service

    with ruang().db.transaction() as session:
        closed = service.auto_close(session)
    if closed:
        log.info("helpdesk: closed %d resolved ticket(s) automatically", len(closed))


def run_purge() -> None:
    from plugins.helpdesk import service

    with ruang().db.transaction() as session:
        service.purge_throttle(session)


JOBS: list[BackgroundJob] = [
    BackgroundJob("sla", 60.0, run_sla_check),
    BackgroundJob("autoclose", 3600.0, run_auto_close),
    BackgroundJob("purge", 3600.0, run_purge),
]
