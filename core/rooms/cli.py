"""``ruang rooms ...``: labs, PCs and kiosks from the command line.

For operators without a browser at hand (setting up a lab over SSH, a projector that is
not there): list labs, add one, show an enrolment code, list and revoke kiosks, and mark
a PC faulty or working.
"""

from __future__ import annotations

import click
from sqlalchemy.orm import Session

from core.db import utcnow
from core.instance import ruang
from core.rooms import kiosks, service
from core.rooms.models import DeviceStatus, Kiosk, Lab

ACTOR = "cli"  # the audit log names the command line as the actor


def _lab(session: Session, code: str) -> Lab:
    lab = service.lab_by_code(session, code)
    if lab is None:
        raise click.ClickException(f"no lab with code {code.upper()!r}; see: ruang rooms list")
    return lab


@click.group("rooms")
def rooms() -> None:
    """Labs, their seats and PCs, and enrolled kiosks."""


@rooms.command("list")
def list_cmd() -> None:
    """Each lab with its seats, working PCs and kiosks online."""
    now = utcnow()
    with ruang().db.session() as session:
        labs = service.labs(session)
        rows = []
        for lab in labs:
            counts = service.lab_counts(session, lab.id)
            online = sum(1 for k, _s in kiosks.kiosks_of_lab(session, lab.id)
                         if kiosks.is_online(k, now))
            rows.append((lab, counts, online))
    if not rows:
        click.echo("no labs; add one with: ruang rooms add CODE NAME --rows 5 --cols 8")
        return
    click.echo(f"{'CODE':<12} {'GRID':<7} {'SEATS':>5} {'WORKING':>7} {'KIOSKS':>10}  NAME")
    for lab, counts, online in rows:
        grid = f"{lab.rows}x{lab.cols}"
        kiosk_col = f"{online}/{counts['kiosks']} on"
        state = "" if lab.active else "  (not in use)"
        click.echo(f"{lab.code:<12} {grid:<7} {counts['seats']:>5} {counts['working']:>7} "
                   f"{kiosk_col:>10}  {lab.name}{state}")


@rooms.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--rows", type=int, required=True, help="Rows of seats (A, B, C...), 1-26")
@click.option("--cols", type=int, required=True, help="Seats per row, 1-40")
@click.option("--building", default="")
@click.option("--floor", default="")
def add_cmd(code: str, name: str, rows: int, cols: int, building: str, floor: str) -> None:
    """Add lab CODE called NAME with a ROWS x COLS grid of seats."""
    try:
        with ruang().db.transaction() as session:
            lab = service.create_lab(session, code, name, rows, cols, building=building,
                                     floor=floor, actor=ACTOR)
    except service.RoomError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"lab {lab.code} added with {lab.rows * lab.cols} seats "
               f"(A1..{service.seat_label(lab.rows, lab.cols)})")


@rooms.command("code")
@click.argument("lab_code", metavar="LAB")
def code_cmd(lab_code: str) -> None:
    """Show a new enrolment code for LAB (valid 15 minutes); PCs type it at /kiosk."""
    r = ruang()
    try:
        with r.db.transaction() as session:
            lab = _lab(session, lab_code)
            code = kiosks.new_code(session, lab, actor=ACTOR)
    except service.RoomError as exc:
        raise click.ClickException(str(exc)) from None
    base = r.settings.public_url.rstrip("/") or f"http://{r.settings.host}:{r.settings.port}"
    minutes = int(kiosks.CODE_TTL.total_seconds() // 60)
    click.echo(f"enrolment code for {lab.code}: {code.code}")
    click.echo(f"on each PC open {base}/kiosk and type it; valid for {minutes} minutes")


@rooms.command("kiosks")
@click.argument("lab_code", metavar="LAB")
@click.option("--all", "show_all", is_flag=True, help="Revoked kiosks too")
def kiosks_cmd(lab_code: str, show_all: bool) -> None:
    """The kiosks of LAB, seat by seat, with their state."""
    now = utcnow()
    with ruang().db.session() as session:
        lab = _lab(session, lab_code)
        rows = kiosks.kiosks_of_lab(session, lab.id, include_revoked=show_all)
    if not rows:
        click.echo(f"no kiosks enrolled in {lab.code}; show a code with: ruang rooms code "
                   f"{lab.code}")
        return
    click.echo(f"{'ID':>5} {'SEAT':<5} {'STATE':<8} {'LAST SEEN (UTC)':<20} {'ADDRESS':<16} NAME")
    for k, s in rows:
        state = "revoked" if k.revoked_at else ("online" if kiosks.is_online(k, now)
                                                else "offline")
        seen = k.last_seen_at.strftime("%Y-%m-%d %H:%M:%S") if k.last_seen_at else "-"
        click.echo(f"{k.id:>5} {s.label:<5} {state:<8} {seen:<20} {k.last_ip or '-':<16} "
                   f"{k.name}")


@rooms.command("revoke")
@click.argument("kiosk_id", type=int)
@click.option("--reason", default="", help="Kept in the audit log")
def revoke_cmd(kiosk_id: int, reason: str) -> None:
    """Withdraw kiosk KIOSK_ID's credential; that PC must enrol again."""
    with ruang().db.transaction() as session:
        kiosk = session.get(Kiosk, kiosk_id)
        if kiosk is None:
            raise click.ClickException(f"no kiosk {kiosk_id}; see: ruang rooms kiosks LAB")
        lab, seat = kiosks.kiosk_place(session, kiosk)
        changed = kiosks.revoke(session, kiosk, actor=ACTOR, reason=reason)
    if changed:
        click.echo(f"kiosk {kiosk_id} ({lab.code} {seat.label}) revoked")
    else:
        click.echo(f"kiosk {kiosk_id} was already revoked")


@rooms.command("device")
@click.argument("lab_code", metavar="LAB")
@click.argument("seat_label", metavar="SEAT")
@click.argument("status", type=click.Choice([s.value for s in DeviceStatus]))
@click.option("--reason", default="", help="Kept in the audit log")
def device_cmd(lab_code: str, seat_label: str, status: str, reason: str) -> None:
    """Mark the PC at SEAT of LAB working, faulty or in_repair."""
    try:
        with ruang().db.transaction() as session:
            lab = _lab(session, lab_code)
            seat = service.seat_by_label(session, lab.id, seat_label)
            if seat is None:
                raise click.ClickException(f"{lab.code} has no seat {seat_label.upper()!r}")
            device = service.device_at(session, seat.id)
            if device is None:
                raise click.ClickException(f"no PC is registered at {lab.code} {seat.label}")
            changed = service.set_device_status(session, device, status, actor=ACTOR,
                                                reason=reason)
    except service.RoomError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{lab.code} {seat.label}: PC is {status}" + ("" if changed else " (unchanged)"))
