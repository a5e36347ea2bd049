"""``ruang training ...``: trainings from the command line (lists, reports, imports)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.instance import ruang
from plugins.training import clock, participants, report, summary
from plugins.training.errors import TrainingError
from plugins.training.flow import STATES
from plugins.training.models import Training


@click.group("training")
def training() -> None:
    """Diklat: list trainings, import participants, write reports and the yearly summary."""


@training.command("list")
@click.option("--year", type=click.IntRange(2000, 2100), default=None)
@click.option("--state", type=click.Choice(sorted(STATES)), default=None)
def list_trainings(year: int | None, state: str | None) -> None:
    """List trainings, newest first."""
    with ruang().db.session() as session:
        stmt = select(Training).order_by(Training.starts_at.desc()).limit(500)
        if state:
            stmt = stmt.where(Training.state == state)
        for tr in session.scalars(stmt):
            if year and clock.local(tr.starts_at).year != year:
                continue
            click.echo(f"{tr.code}  {clock.fmt(tr.starts_at)}  {tr.state:<11}  "
                       f"{tr.letter_number or '-':<24}  {tr.title}")


def _training(session: Session, ident: str) -> Training:
    raw = ident.upper().removeprefix("DKL-")
    if not raw.isdigit():
        raise click.ClickException(f"{ident!r} is not a training id (e.g. 7 or DKL-0007)")
    found = session.get(Training, int(raw))
    if found is None:
        raise click.ClickException(f"there is no training {ident}")
    return found


@training.command("import")
@click.argument("ident")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--register", is_flag=True, help="Register them at once instead of inviting.")
def import_people(ident: str, file: Path, register: bool) -> None:
    """Invite (or register) the people listed in FILE (CSV or XLSX: name, email, kind,
    identifier, unit). One bad row refuses the whole file."""
    try:
        with ruang().db.transaction() as session:
            tr = _training(session, ident)
            result = participants.import_file(session, tr, file.name, file.read_bytes(), "cli",
                                              mode="register" if register else "invite")
    except participants.ImportRefused as exc:
        for problem in exc.problems:
            click.echo(f"line {problem.line}: {problem.message}", err=True)
        click.echo("nothing was imported", err=True)
        sys.exit(1)
    except TrainingError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(result.invited)} added, {len(result.skipped)} already listed")


@training.command("report")
@click.argument("ident")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def write_report(ident: str, out: Path) -> None:
    """Write the numbered report of a documented training to OUT."""
    with ruang().db.session() as session:
        tr = _training(session, ident)
    try:
        data = report.report_bytes(ruang().db, tr, "cli")
    except TrainingError as exc:
        raise click.ClickException(str(exc)) from None
    out.write_bytes(data)
    click.echo(f"{tr.report_number}: {len(data)} bytes written to {out}")


@training.command("summary")
@click.option("--year", type=click.IntRange(2000, 2100), default=None)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write CSV (.csv) or a workbook (.xlsx) instead of printing.")
def year_summary(year: int | None, out: Path | None) -> None:
    """The yearly summary across trainings."""
    year = year or clock.today().year
    with ruang().db.session() as session:
        s = summary.year_summary(session, year)
        if out is not None:
            data = summary.to_xlsx(s) if out.suffix.lower() == ".xlsx" else summary.to_csv(s)
            out.write_bytes(data)
            click.echo(f"{len(s.rows)} trainings of {year} written to {out}")
            return
        rate = f"{s.attendance_rate:.0%}" if s.attendance_rate is not None else "-"
        rating = f"{s.rating:.2f}" if s.rating is not None else "-"
        gain = f"{s.gain:.2f}" if s.gain is not None else "-"
        click.echo(f"{year}: {s.proposed} proposed, {s.approved} approved, {len(s.held)} held, "
                   f"{s.documented} documented; {s.participants} participants "
                   f"(attendance {rate}); rating {rating}; gain {gain}")


@training.command("remind")
def remind() -> None:
    """Queue the reminders that are due now (the background job does this every 10 min)."""
    from plugins.training.jobs import due_reminders

    with ruang().db.transaction() as session:
        n = due_reminders(session)
    click.echo(f"{n} reminder(s) queued")
