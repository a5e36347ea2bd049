"""``ruang certification``: seat counts, a consistency check, and expiring offers by hand."""

from __future__ import annotations

import click
from sqlalchemy import select

from core.instance import ruang
from plugins.certification import registrations, seats
from plugins.certification.models import CertField, CertProgramme


@click.group("certification", help="IT certification: programmes, seats, waiting lists.")
def certification() -> None:
    pass


@certification.command("status")
def status() -> None:
    """Every programme and its fields: quota, seats taken, people waiting."""
    with ruang().db.session() as s:
        for prog in s.scalars(select(CertProgramme).order_by(CertProgramme.id)):
            click.echo(f"#{prog.id} {prog.title} [{prog.state}] {prog.letter_number or ''}")
            for f in prog.fields:
                click.echo(f"    {f.code:<10} {f.seats_held:>5}/{f.quota:<5} taken, "
                           f"{registrations.waiting(s, f.id):>5} waiting, "
                           f"{'open' if f.open else 'closed'}")


@certification.command("check")
def check() -> None:
    """Compare each field's seat counter with the registrations that hold seats."""
    with ruang().db.session() as s:
        problems = seats.drift(s)
        over = list(s.scalars(select(CertField).where(CertField.seats_held > CertField.quota)))
    for field_id, counter, actual in problems:
        click.echo(f"field {field_id}: counter says {counter}, registrations hold {actual}",
                   err=True)
    for f in over:
        click.echo(f"field {f.id}: {f.seats_held} seats taken of a quota of {f.quota}", err=True)
    if problems or over:
        raise SystemExit(1)
    click.echo("seat counters agree with the registrations")


@certification.command("expire-offers")
def expire_offers() -> None:
    """End seat offers whose time is up now (the background job does it every minute)."""
    with ruang().db.transaction() as s:
        n = registrations.expire_offers(s)
    click.echo(f"{n} offer(s) expired")
