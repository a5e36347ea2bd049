"""``ruang records ...``: list record types, change their number format, list issued numbers."""

from __future__ import annotations

import click

from core.instance import ruang
from core.records import service


@click.group("records")
def records() -> None:
    """Numbered quality records (tickets, letters, minutes)."""


@records.command("list")
def list_cmd() -> None:
    """Each record type with its format and the number it would issue next."""
    with ruang().db.session() as session:
        try:
            infos = service.type_infos(session)
        except service.RecordError as exc:
            raise click.ClickException(str(exc)) from None
    if not infos:
        click.echo("no record types: no installed plugin declares any")
        return
    click.echo(f"{'CODE':<14} {'RESET':<8} {'FORMAT':<34} {'NEXT':<24} DESCRIPTION")
    for t in infos:
        fmt = t.fmt + (" *" if t.overridden else "")
        nxt = t.example or f"(error: {t.error})"
        click.echo(f"{t.code:<14} {t.reset:<8} {fmt:<34} {nxt:<24} {t.description}")
    if any(t.overridden for t in infos):
        click.echo("* format set by staff (ruang records reset-format CODE goes back to default)")


@records.command("set-format")
@click.argument("code")
@click.argument("fmt", metavar="FORMAT")
def set_format_cmd(code: str, fmt: str) -> None:
    """Set the number format of CODE, e.g. 'BA-{seq:02d}/{unit}/{year}'.

    Fields: seq, year, month, roman_month, unit; {seq} is required.
    """
    r = ruang()
    try:
        with r.db.transaction() as session:
            stored = service.set_format(session, code, fmt)
            example = service.preview(session, code)
    except service.RecordError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{code} format is now {stored!r}; next number: {example}")


@records.command("reset-format")
@click.argument("code")
def reset_format_cmd(code: str) -> None:
    """Go back to the default format of CODE that its plugin declares."""
    r = ruang()
    try:
        with r.db.transaction() as session:
            fmt = service.clear_format(session, code)
    except service.RecordError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{code} uses its default format {fmt!r}")


@records.command("issued")
@click.option("--type", "code", default=None, help="Only numbers of this record type")
@click.option("-n", "--limit", default=50, type=click.IntRange(1, 100000), show_default=True)
def issued_cmd(code: str | None, limit: int) -> None:
    """The newest issued numbers."""
    with ruang().db.session() as session:
        if code:
            try:
                service.record_type(code)
            except service.RecordError as exc:
                raise click.ClickException(str(exc)) from None
        rows = list(reversed(service.issued(session, code, limit=limit)))
    if not rows:
        click.echo("no numbers issued" + (f" of type {code}" if code else ""))
        return
    for row in rows:
        ref = f"{row.ref_type}:{row.ref_id}" if row.ref_type else "-"
        when = service.as_local(row.issued_at)
        click.echo(f"{when:%Y-%m-%d %H:%M} {row.code:<14} {row.number:<28} {ref}")
