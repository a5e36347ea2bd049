"""``ruang jobs ...``: what the background jobs are and when they last ran."""

from __future__ import annotations

import click
from sqlalchemy import select

from core.instance import ruang
from core.scheduler.models import JobLease


@click.group("jobs")
def jobs() -> None:
    """Background jobs (each runs once per interval across all server processes)."""


@jobs.command("list")
def list_cmd() -> None:
    """Each job of an enabled plugin, its interval, last run and next run."""
    from core.jobs import registered_jobs

    registered = registered_jobs()
    with ruang().db.session() as session:
        leases = {row.name: row for row in session.scalars(select(JobLease))}
    if not registered:
        click.echo("no background jobs: no enabled plugin declares any")
        return
    click.echo(f"{'JOB':<32} {'EVERY':>8} {'RUNS':>7} {'LAST RUN (UTC)':<20} "
               f"{'NEXT (UTC)':<20} ERROR")
    for reg in registered:
        lease = leases.get(reg.key)
        every = f"{reg.job.interval_s:g}s"
        if lease is None:
            click.echo(f"{reg.key:<32} {every:>8} {0:>7} {'never':<20} {'at start':<20}")
            continue
        last = f"{lease.started_at:%Y-%m-%d %H:%M:%S}" if lease.started_at else "never"
        nxt = f"{lease.next_run_at:%Y-%m-%d %H:%M:%S}"
        error = lease.last_error.splitlines()[0][:60] if lease.last_error else ""
        click.echo(f"{reg.key:<32} {every:>8} {lease.runs:>7} {last:<20} {nxt:<20} {error}")


@jobs.command("run")
def run_cmd() -> None:
    """Run the jobs that are due now, in this process, and say which ran."""
    from core.jobs import run_due_jobs

    ran = run_due_jobs(holder="cli")
    click.echo("ran: " + ", ".join(ran) if ran else "nothing was due")
