"""``ruang helpdesk``: service-level check, search index, holiday import, export, look-up."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import click

from core.instance import ruang


@click.group()
def helpdesk() -> None:
    """Pengaduan ICT (helpdesk): tickets, service levels, reports."""


@helpdesk.command("sla-check")
def sla_check() -> None:
    """Warn about and escalate tickets near or past their service-level targets now."""
    from plugins.helpdesk import sla

    with ruang().db.transaction() as session:
        result = sla.check(session)
    click.echo(f"warned: {len(result.warned)} {' '.join(result.warned)}".rstrip())
    click.echo(f"escalated: {len(result.escalated)} {' '.join(result.escalated)}".rstrip())


@helpdesk.command("auto-close")
def auto_close() -> None:
    """Close resolved tickets whose users did not reopen them in time."""
    from plugins.helpdesk import service

    with ruang().db.transaction() as session:
        closed = service.auto_close(session)
    click.echo(f"closed: {len(closed)}")


@helpdesk.command("reindex")
def reindex() -> None:
    """Rebuild the search index of every ticket."""
    from plugins.helpdesk import search

    with ruang().db.transaction() as session:
        count = search.reindex(session)
    click.echo(f"indexed {count} tickets")


@helpdesk.command("import-holidays")
@click.argument("ics", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_holidays(ics: Path) -> None:
    """Add the all-day events of an iCalendar file as holidays."""
    from plugins.helpdesk import admin
    from plugins.helpdesk.forms import FormError

    try:
        with ruang().db.transaction() as session:
            added = admin.import_holidays(session, ics.read_bytes(), "cli")
    except FormError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added {added} holidays")


@helpdesk.command("export")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="first day (default: 30 days ago)")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="last day (default: today)")
def export(out: Path, start: object, end: object) -> None:
    """Write the report and every ticket of a period to an XLSX file."""
    from sqlalchemy import select

    from plugins.helpdesk import reports, sla
    from plugins.helpdesk.models import Ticket

    last = end.date() if end is not None else date.today()  # type: ignore[attr-defined]
    first = start.date() if start is not None else last - timedelta(days=29)  # type: ignore[attr-defined]
    period = reports.Period(first, last)
    lo, hi = period.bounds(sla._tz())
    with ruang().db.session() as session:
        report = reports.build(session, period)
        tickets = session.scalars(select(Ticket).where(Ticket.created_at >= lo,
                                                       Ticket.created_at < hi)
                                  .order_by(Ticket.created_at)).all()
        out.write_bytes(reports.export_xlsx(session, tickets, report=report))
    click.echo(f"{report.total} tickets written to {out}")


@helpdesk.command("status")
@click.argument("number")
def status(number: str) -> None:
    """Show a ticket's status (for staff answering the phone)."""
    from plugins.helpdesk import service
    from plugins.helpdesk.flow import TICKET

    with ruang().db.session() as session:
        ticket = service.by_number(session, number)
        if ticket is None:
            raise click.ClickException(f"no ticket {number}")
        click.echo(f"{ticket.number}  {TICKET.label(ticket.state)}  {ticket.division or '-'}  "
                   f"{ticket.subject}")
