"""``ruang audit ...``: verify and read the audit log."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.audit.service import verify
from core.instance import ruang


@click.group("audit")
def audit() -> None:
    """Verify and read the audit log."""


@audit.command("verify")
def verify_cmd() -> None:
    """Exit 0 if the hash chain is intact; otherwise name the first bad entry and exit 1."""
    with ruang().db.session() as session:
        problem = verify(session)
        count = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
        head = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    if problem is not None:
        click.echo(f"audit log BROKEN: {problem}", err=True)
        raise SystemExit(1)
    click.echo(f"audit log intact: {count} entries, head {head or '-'}")


@audit.command("tail")
@click.option("-n", "count", default=20, type=click.IntRange(1, 10000))
def tail(count: int) -> None:
    """Print the newest entries."""
    with ruang().db.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(count))
        for e in reversed(list(rows)):
            click.echo(f"{e.id:>7} {e.at:%Y-%m-%d %H:%M:%S} {e.actor_name or '-':<14} "
                       f"{e.action:<24} {e.object_type}:{e.object_id} {e.ip}")
