"""``ruang lab ...``: what an operator does with labs from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from core.instance import ruang
from core.rooms import service as rooms
from plugins.lab import catalog, importer, repairs, requests
from plugins.lab.errors import LabError
from plugins.lab.flows import LAB_REQUEST


@click.group("lab")
def lab() -> None:
    """ICT labs: import PCs, list requests, open repairs, calendar addresses."""


@lab.command("import-pcs")
@click.argument("code")
@click.argument("xlsx", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and store nothing.")
def import_pcs(code: str, xlsx: Path, dry_run: bool) -> None:
    """Import the PCs of lab CODE from an XLSX sheet (seat, asset_number, hostname...)."""
    r = ruang()
    try:
        with r.db.transaction() as session, xlsx.open("rb") as fh:
            found = rooms.lab_by_code(session, code)
            if found is None:
                raise click.ClickException(f"no lab with code {code}")
            report = importer.import_pcs(session, found, fh, "cli", dry_run=dry_run)
    except LabError as exc:
        raise click.ClickException(str(exc)) from None
    for row in report.errors:
        click.echo(f"line {row.line}: {row.seat or '?'} {row.asset_number}: {row.message}",
                   err=True)
    verb = "would import" if dry_run else "imported"
    click.echo(f"{verb}: {report.count('created')} new, {report.count('updated')} updated, "
               f"{report.count('unchanged')} unchanged, {len(report.errors)} with errors")
    if report.errors:
        sys.exit(1)


@lab.command("requests")
@click.option("--state", type=click.Choice(sorted(str(s) for s in LAB_REQUEST.states)),
              default=None)
def list_requests(state: str | None) -> None:
    """List lab requests, newest first."""
    from sqlalchemy import select

    from plugins.lab.models import LabRequest

    with ruang().db.session() as session:
        stmt = select(LabRequest).order_by(LabRequest.created_at.desc()).limit(200)
        if state:
            stmt = stmt.where(LabRequest.state == state)
        codes = {lab_.id: lab_.code for lab_ in rooms.labs(session)}
        for req in session.scalars(stmt):
            when = f"{req.first_day:%Y-%m-%d}"
            if req.weekly:
                when += f"..{req.last_day:%Y-%m-%d}"
            click.echo(f"{req.number:<22} {req.state:<10} {codes.get(req.lab_id, '?'):<8} "
                       f"{when:<22} {req.start_time:%H:%M}-{req.end_time:%H:%M} {req.purpose}")


@lab.command("reconcile-faults")
def reconcile_faults() -> None:
    """Open a repair request for every PC marked faulty without one."""
    with ruang().db.transaction() as session:
        opened = repairs.reconcile(session, actor="cli")
        numbers = [r.number for r in opened]
    click.echo(f"opened {len(numbers)} repair request(s)" + (f": {', '.join(numbers)}"
                                                            if numbers else ""))


@lab.command("no-shows")
def no_shows() -> None:
    """Mark booked sessions nobody checked in as no-shows (the job does it every 2 min)."""
    with ruang().db.transaction() as session:
        count = requests.mark_no_shows(session)
    click.echo(f"{count} session(s) marked as no-show")


@lab.command("feed-url")
@click.argument("code")
def feed_url(code: str) -> None:
    """Print the iCal address of lab CODE (needs RUANG_PUBLIC_URL for a full address)."""
    r = ruang()
    with r.db.transaction() as session:
        found = rooms.lab_by_code(session, code)
        if found is None:
            raise click.ClickException(f"no lab with code {code}")
        key = catalog.feed_key(session, found.id)
    base = r.settings.public_url.rstrip("/")
    click.echo(f"{base}/lab/ical/{key}.ics")
