"""``ruang cbt ...`` (banks, imports, exports, rosters) and ``ruang keys ...`` (master key)."""

from __future__ import annotations

import json
import sys

import click

from core.instance import ruang


@click.group("cbt")
def cbt() -> None:
    """CBT: question banks, imports and exports, exams and candidates."""


# -- keys ----------------------------------------------------------------------------------


@click.group("keys")
def keys() -> None:
    """The instance master key that protects exam content at rest."""


@keys.command("status")
@click.option("--json", "as_json", is_flag=True)
def keys_status(as_json: bool) -> None:
    """The current master key id and how many data keys each key id wraps."""
    from plugins.cbt import crypto

    r = ruang()
    with r.db.session() as session:
        info = crypto.status(session, crypto.keyring(r.settings))
    if as_json:
        click.echo(json.dumps(info))
        return
    click.echo(f"current master key: {info['current']}")
    for kid, count in sorted(info["data_keys"].items()):
        click.echo(f"  {kid}: {count} data key(s)")
    if info["rotation_in_progress"]:
        click.echo("a rotation was interrupted: run `ruang keys rotate` again to finish it")


@keys.command("rotate")
def keys_rotate() -> None:
    """Re-wrap every data key under a new master key, while servers keep running.

    The old key stays beside the new one until every data key is re-wrapped; an
    interrupted rotation resumes when the command is run again. Back up the instance
    folder's master_key afterwards: without it the exam content cannot be read.
    """
    from core.audit.service import record as audit
    from plugins.cbt import crypto

    r = ruang()
    with r.db.session() as session:
        total = sum(crypto.status(session, crypto.keyring(r.settings))["data_keys"].values())
    with click.progressbar(length=total, label="re-wrapping data keys", file=sys.stderr) as bar:
        try:
            result = crypto.rotate(r.db, r.settings, progress=bar.update)
        except crypto.CryptoError as exc:
            raise click.ClickException(str(exc)) from None
    with r.db.transaction() as session:
        audit(session, "cbt.keys.rotated", actor="cli", object_type="master_key",
              object_id=result.new_id,
              details={"old": result.old_id, "new": result.new_id, "rewrapped": result.rewrapped})
    click.echo(f"master key {result.old_id} replaced by {result.new_id}; "
               f"{result.rewrapped} data key(s) re-wrapped")
