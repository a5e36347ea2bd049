"""``ruang notify ...``: send a test message, see what waits in the outbox, retry, deliver."""

from __future__ import annotations

import click
from email_validator import EmailNotValidError, validate_email

from core.contracts import Notification
from core.db import utcnow
from core.instance import ruang
from core.notify import service
from core.notify.models import SENT, OutboxMessage


def _email(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise click.BadParameter(f"{value!r} is not an e-mail address: {exc}") from None


def _describe(row: OutboxMessage) -> str:
    when = ""
    if row.status == "pending":
        when = f" next {row.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
    error = f"  {row.last_error.splitlines()[0][:100]}" if row.last_error else ""
    return (f"#{row.id:<6} {row.channel:<8} {row.status:<8} {row.attempts:>2}x "
            f"{row.recipient:<32}{when}{error}")


@click.group("notify")
def notify() -> None:
    """Notifications: the outbox of e-mail and WhatsApp-gateway messages."""


@notify.command("test")
@click.option("--to", "to", callback=_email, help="E-mail address to send a test message to")
@click.option("--phone", default=None, help="Phone number for the webhook (WhatsApp) channel")
def test_cmd(to: str | None, phone: str | None) -> None:
    """Send a test message now through every channel that can reach TO / PHONE."""
    if not to and not phone:
        raise click.UsageError("give --to EMAIL, --phone NUMBER, or both")
    r = ruang()
    at = utcnow().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    note = Notification(
        subject="Ruang: test message",
        body=(f"This is a test message from Ruang, sent at {at}.\n"
              "If you can read it, notifications reach you.\n\n"
              "Ini pesan uji dari Ruang. Jika Anda dapat membacanya, notifikasi sampai."),
        email=to or "", phone=phone or "", topic="notify.test",
    )
    with r.db.transaction() as session:
        ids = service.queue(session, note)
    if not ids:
        raise click.ClickException("no channel can deliver this (is notify.webhook_url set "
                                   "for --phone?)")
    service.deliver_due(limit=len(ids), ids=ids)
    with r.db.session() as session:
        rows = [session.get(OutboxMessage, i) for i in ids]
    failed = False
    for row in rows:
        assert row is not None
        if row.status == SENT:
            click.echo(f"sent by {row.channel} to {row.recipient}")
        else:
            failed = True
            click.echo(f"NOT sent by {row.channel} to {row.recipient} ({row.status}): "
                       f"{row.last_error}", err=True)
    if failed:
        raise click.ClickException("some test messages were not sent; the outbox retries "
                                   "them (see: ruang notify pending)")


@notify.command("pending")
@click.option("-n", "--limit", default=100, type=click.IntRange(1, 100000), show_default=True)
def pending_cmd(limit: int) -> None:
    """Messages not sent yet: waiting, being sent, or failed (oldest first)."""
    with ruang().db.session() as session:
        rows = service.unsent(session, limit=limit)
        counts = service.counts(session)
    summary = ", ".join(f"{n} {status}" for status, n in counts.items())
    if not rows:
        click.echo(f"nothing waits in the outbox ({summary})")
        return
    for row in rows:
        click.echo(_describe(row))
    click.echo(f"({summary})")


@notify.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Retry every failed message")
def retry_cmd(ids: tuple[int, ...], all_failed: bool) -> None:
    """Send failed (or waiting) messages IDS again at the next delivery round."""
    if not ids and not all_failed:
        raise click.UsageError("give message ids, or --all-failed")
    r = ruang()
    try:
        with r.db.transaction() as session:
            count = service.retry_failed(session) if all_failed else 0
            for message_id in ids:
                service.retry(session, message_id)
                count += 1
    except service.OutboxError as exc:
        raise click.ClickException(f"{exc}; nothing was changed") from None
    click.echo(f"{count} message(s) will be sent again")


@notify.command("deliver")
@click.option("-n", "--limit", default=200, type=click.IntRange(1, 100000), show_default=True)
def deliver_cmd(limit: int) -> None:
    """Send the messages that are due now, in this process (the server does this by itself)."""
    sent = service.deliver_due(limit=limit)
    click.echo(f"{sent} message(s) sent")
