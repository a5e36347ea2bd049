"""Background jobs: every enabled plugin's ``ruang_background_jobs``, once per interval.

``ruang serve`` calls :func:`start_scheduler`, which runs a loop in a Socket.IO background
task (a greenlet under gevent or eventlet, a thread otherwise). Every server process runs
that loop, so a run must be claimed before it happens: the claim moves the job's
``next_run_at`` in the ``job_leases`` table (:class:`core.scheduler.models.JobLease`)
forward with an UPDATE that only matches while the old value is due, or INSERTs the row
for a job's first run. The database lets exactly one claim through per interval, whichever
process asks first, and SQLite and PostgreSQL behave the same way.

Runs are laid on a fixed grid (``next_run_at`` advances by the interval, not from when the
run happened), so a job does not drift; after a pause longer than an interval the grid
restarts from now instead of running the missed intervals in a burst. The processes'
clocks should agree (NTP): a clock that runs ahead claims a little early.

A job runs inside an app context; what it raises is logged and recorded on its lease row
and never stops the loop. Jobs run one after another in a process, so keep each run short
and do slow I/O outside database transactions. Jobs of disabled plugins are skipped.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from core.contracts import BackgroundJob
from core.db import Database, utcnow
from core.instance import ruang
from core.scheduler.models import JobLease

log = logging.getLogger("ruang.jobs")

TICK_S = 0.5
"""How often the loop looks for due jobs; a job's interval is never shorter in practice."""


@dataclass(frozen=True)
class RegisteredJob:
    key: str
    plugin: str
    job: BackgroundJob


def job_key(plugin: str, job: BackgroundJob) -> str:
    """The lease name of ``job``: ``<plugin>.<job name>``, unique across plugins."""
    return job.name if job.name.startswith(plugin + ".") else f"{plugin}.{job.name}"


def declared_jobs() -> list[RegisteredJob]:
    """The jobs of every installed plugin (inside an app context).

    A plugin whose hook fails is logged and left out; the others' jobs still run.
    """
    out: dict[str, RegisteredJob] = {}
    host = ruang().plugins
    for impl in host.all_hook.ruang_background_jobs.get_hookimpls():
        try:
            jobs = list(impl.function() or ())
        except Exception:
            log.exception("plugin %s failed to list its background jobs; they are not run",
                          impl.plugin_name)
            continue
        for job in jobs:
            key = job_key(impl.plugin_name, job)
            if not job.interval_s or job.interval_s <= 0:
                log.error("background job %s has interval_s=%r; it is not run", key,
                          job.interval_s)
            elif key in out:
                log.error("background job %s is declared twice; the second is ignored", key)
            else:
                out[key] = RegisteredJob(key, impl.plugin_name, job)
    return sorted(out.values(), key=lambda r: r.key)


def registered_jobs(declared: list[RegisteredJob] | None = None) -> list[RegisteredJob]:
    """The jobs of enabled plugins, from ``declared`` (default: ask the plugins now)."""
    host = ruang().plugins
    enabled = set(host.enabled_names())
    return [r for r in (declared if declared is not None else declared_jobs())
            if r.plugin in enabled]


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_due_jobs(now: datetime | None = None, *, holder: str | None = None,
                 declared: list[RegisteredJob] | None = None) -> list[str]:
    """Claim and run every job that is due; returns the keys of the jobs this call ran.

    Call inside an app context. ``now`` fixes the clock (tests); without it each claim
    uses the current time. ``declared`` is the scheduler's list from start-up.
    """
    r = ruang()
    jobs = registered_jobs(declared)
    if not jobs:
        return []
    holder = holder or default_holder()
    # A plain read first: most ticks find nothing due and never take the write lock.
    with r.db.session() as s:
        rows = s.execute(select(JobLease.name, JobLease.next_run_at)
                         .where(JobLease.name.in_([j.key for j in jobs]))).all()
    due_at: dict[str, datetime] = {name: at for name, at in rows}
    ran: list[str] = []
    for reg in jobs:
        moment = now or utcnow()
        seen = due_at.get(reg.key)
        if seen is not None and seen > moment:
            continue
        if not _claim(r.db, reg, moment, holder, seen):
            continue
        _run(r.db, reg)
        ran.append(reg.key)
    return ran


def _claim(db: Database, reg: RegisteredJob, now: datetime, holder: str,
           seen: datetime | None) -> bool:
    step = timedelta(seconds=reg.job.interval_s)
    try:
        with db.transaction() as s:
            if seen is None:
                # The job's first run anywhere: the primary key lets one INSERT win.
                s.add(JobLease(name=reg.key, next_run_at=now + step, interval_s=reg.job.interval_s,
                               holder=holder, started_at=now, runs=1))
                s.flush()
                return True
            following = seen + step
            if following <= now:
                following = now + step
            result = s.execute(
                update(JobLease)
                .where(JobLease.name == reg.key, JobLease.next_run_at <= now)
                .values(next_run_at=following, interval_s=reg.job.interval_s, holder=holder,
                        started_at=now, runs=JobLease.runs + 1)
            )
            return int(getattr(result, "rowcount", 0) or 0) == 1
    except IntegrityError:
        return False  # another process inserted the first lease a moment earlier


def _run(db: Database, reg: RegisteredJob) -> None:
    started = time.monotonic()
    error = ""
    try:
        reg.job.run()
    except Exception as exc:
        log.exception("background job %s failed", reg.key)
        error = f"{type(exc).__name__}: {exc}"[:4000]
    elapsed_ms = int((time.monotonic() - started) * 1000)
    values: dict[str, Any] = {"finished_at": utcnow(), "last_duration_ms": elapsed_ms,
                              "last_error": error}
    if error:
        values["failures"] = JobLease.failures + 1
    try:
        with db.transaction() as s:
            s.execute(update(JobLease).where(JobLease.name == reg.key).values(**values))
    except SQLAlchemyError:
        log.exception("could not record the end of background job %s", reg.key)


class Scheduler:
    """The loop of one process. :meth:`stop` ends it after the current tick."""

    def __init__(self, app: Flask, tick_s: float = TICK_S) -> None:
        self.app = app
        self.tick_s = tick_s
        self.holder = f"{default_holder()}:{id(self):x}"
        self._stopping = threading.Event()
        self._declared: list[RegisteredJob] | None = None
        self.stopped = threading.Event()

    def start(self) -> Scheduler:
        socketio = self.app.extensions["ruang"].socketio
        socketio.start_background_task(self._loop)
        return self

    def stop(self, timeout: float | None = 10.0) -> bool:
        """Ask the loop to end; returns whether it did within ``timeout`` seconds."""
        self._stopping.set()
        return self.stopped.wait(timeout)

    def _loop(self) -> None:
        socketio = self.app.extensions["ruang"].socketio
        log.info("background jobs start in %s", self.holder)
        last_problem, last_logged = "", 0.0
        try:
            while not self._stopping.is_set():
                try:
                    with self.app.app_context():
                        if self._declared is None:
                            # Asked once, as the hook promises: "fires when the scheduler
                            # starts". Enabling a plugin later needs no restart: its jobs
                            # are in the list already, skipped while it is disabled.
                            self._declared = declared_jobs()
                        run_due_jobs(holder=self.holder, declared=self._declared)
                    last_problem = ""
                except Exception as exc:
                    # The database may be briefly unreachable; the next tick tries again.
                    # The same trouble is logged once a minute, not on every tick.
                    problem = f"{type(exc).__name__}: {exc}"
                    if problem != last_problem or time.monotonic() - last_logged > 60:
                        log.exception("the background job loop hit an error; it goes on")
                        last_problem, last_logged = problem, time.monotonic()
                socketio.sleep(self.tick_s)
        finally:
            self.stopped.set()


def start_scheduler(app: Flask, tick_s: float = TICK_S) -> Scheduler:
    """Start the periodic job runner in this process (once per app)."""
    existing: Scheduler | None = app.extensions.get("ruang.scheduler")
    if existing is not None and not existing.stopped.is_set():
        return existing
    scheduler = Scheduler(app, tick_s=tick_s)
    app.extensions["ruang.scheduler"] = scheduler
    return scheduler.start()
