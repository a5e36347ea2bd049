"""Background jobs run once per interval across processes, survive their own errors, and
stop with their plugin. Several apps on one database stand in for several server
processes: each app has its own ``Database`` (its own engine and connections)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from flask import current_app
from sqlalchemy import select

from core.app import create_app
from core.contracts import BackgroundJob
from core.db import utcnow
from core.jobs import job_key, run_due_jobs, start_scheduler
from core.plugins import hookimpl
from core.scheduler.models import JobLease
from tests.conftest import make_settings, point_cli_at, prepare_test_app


class Clock:
    """Records every run of a job: when, and in which app (standing for a process)."""

    def __init__(self) -> None:
        self.runs: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def record(self) -> None:
        app_name = current_app.config["TEST_NAME"]
        with self.lock:
            self.runs.append((time.monotonic(), app_name))


class JobsPlugin:
    """A third-party-style plugin with periodic jobs."""

    RUANG_PLUGIN_NAME = "ticker"

    def __init__(self, interval_s: float = 10.0) -> None:
        self.interval_s = interval_s
        self.tick = Clock()
        self.broken_runs = 0

    @hookimpl
    def ruang_background_jobs(self) -> Sequence[BackgroundJob]:
        return [BackgroundJob("tick", self.interval_s, self.tick.record),
                BackgroundJob("broken", self.interval_s, self._broken)]

    def _broken(self) -> None:
        self.broken_runs += 1
        raise RuntimeError(f"disk full (run {self.broken_runs})")


def make_app(instance: Any, plugin: JobsPlugin, name: str, **overrides: Any) -> Any:
    app = prepare_test_app(create_app(make_settings(instance, **overrides),
                                      extra_plugins=[plugin]))
    app.config["TEST_NAME"] = name
    return app


@pytest.fixture
def plugin() -> JobsPlugin:
    return JobsPlugin()


@pytest.fixture
def apps(instance, plugin) -> Iterator[list[Any]]:
    made = [make_app(instance, plugin, f"process-{i}") for i in (1, 2)]
    yield made
    for app in made:
        app.extensions["ruang"].db.dispose()


def run_in(app: Any, now: Any = None) -> list[str]:
    with app.app_context():
        return run_due_jobs(now)


def lease(app: Any, key: str) -> JobLease:
    with app.app_context(), app.extensions["ruang"].db.session() as s:
        found = s.get(JobLease, key)
    assert found is not None
    return found


def test_hook_ruang_background_jobs(apps, plugin):
    """A plugin's job runs on the first call and then once per interval; while the plugin
    is disabled it does not run; enabled again, it resumes."""
    a, _ = apps
    t0 = utcnow()
    assert "ticker.tick" in run_in(a, t0)
    assert "notify.deliver" in run_in(a, t0 + timedelta(seconds=30))  # the core's own job
    assert len(plugin.tick.runs) == 2

    r = a.extensions["ruang"]
    with r.db.transaction() as s:
        r.plugins.set_enabled(s, "ticker", False, actor=None)
    assert "ticker.tick" not in run_in(a, t0 + timedelta(minutes=5))
    assert len(plugin.tick.runs) == 2
    with r.db.transaction() as s:
        r.plugins.set_enabled(s, "ticker", True, actor=None)
    assert "ticker.tick" in run_in(a, t0 + timedelta(minutes=6))
    assert len(plugin.tick.runs) == 3


def test_job_keys_are_unique_per_plugin():
    job = BackgroundJob("deliver", 2, lambda: None)
    assert job_key("notify", job) == "notify.deliver"
    assert job_key("notify", BackgroundJob("notify.deliver", 2, lambda: None)) == "notify.deliver"


def test_two_processes_take_turns_once_per_interval(apps, plugin):
    """Both processes look every 2.5 s for a 10 s job over 60 s: 6 runs, never two per slot."""
    a, b = apps
    t0 = utcnow()
    for step in range(24):
        now = t0 + timedelta(seconds=2.5 * step)
        # Both ask at the same moment; which asks first changes every interval.
        first, second = (a, b) if (step // 4) % 2 else (b, a)
        run_in(first, now)
        run_in(second, now)
    assert len(plugin.tick.runs) == 6
    assert {who for _, who in plugin.tick.runs} == {"process-1", "process-2"}
    stored = lease(a, "ticker.tick")
    assert stored.runs == 6
    assert stored.next_run_at == t0 + timedelta(seconds=60)  # on the grid, no drift


def test_concurrent_claims_let_exactly_one_run(apps, plugin):
    """Eight threads in two processes race for the same moments: one run per interval."""
    a, b = apps
    t0 = utcnow()
    moments = [t0 + timedelta(seconds=10 * k) for k in range(5)]
    errors: list[BaseException] = []

    def worker(app: Any, barrier: threading.Barrier, now: Any) -> None:
        try:
            barrier.wait(10)
            run_in(app, now)
        except BaseException as exc:
            errors.append(exc)

    for now in moments:
        barrier = threading.Barrier(8)
        threads = [threading.Thread(target=worker, args=(app, barrier, now))
                   for app in (a, b) * 4]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert not errors, errors
    assert len(plugin.tick.runs) == len(moments)


def test_a_failing_job_is_logged_and_recorded_and_the_others_still_run(apps, plugin, caplog):
    a, _ = apps
    t0 = utcnow()
    ran = run_in(a, t0)
    assert "ticker.broken" in ran and "ticker.tick" in ran
    assert "background job ticker.broken failed" in caplog.text
    assert "disk full (run 1)" in caplog.text
    broken = lease(a, "ticker.broken")
    assert broken.failures == 1 and broken.last_error == "RuntimeError: disk full (run 1)"

    # It is tried again at its next interval, and a success clears the error.
    assert "ticker.broken" not in run_in(a, t0 + timedelta(seconds=5))
    assert "ticker.broken" in run_in(a, t0 + timedelta(seconds=10))
    assert plugin.broken_runs == 2 and lease(a, "ticker.broken").failures == 2
    assert lease(a, "ticker.tick").last_error == ""


def test_after_a_long_pause_missed_intervals_are_not_replayed(apps, plugin):
    a, _ = apps
    t0 = utcnow()
    run_in(a, t0)
    run_in(a, t0 + timedelta(hours=1))  # 359 intervals missed
    assert len(plugin.tick.runs) == 2
    assert lease(a, "ticker.tick").next_run_at == t0 + timedelta(hours=1, seconds=10)
    assert "ticker.tick" not in run_in(a, t0 + timedelta(hours=1, seconds=5))


def test_real_schedulers_in_two_processes_run_each_interval_once(instance):
    """Two running schedulers (background tasks, as ``ruang serve`` starts them) on one
    SQLite file, a 0.3 s job, for about 3 s."""
    interval = 0.3
    plugin = JobsPlugin(interval_s=interval)
    apps = [make_app(instance, plugin, f"process-{i}") for i in (1, 2)]
    started = time.monotonic()
    schedulers = [start_scheduler(app, tick_s=0.02) for app in apps]
    try:
        assert start_scheduler(apps[0]) is schedulers[0]  # once per app
        time.sleep(3.0)
    finally:
        for scheduler in schedulers:
            assert scheduler.stop(timeout=10)
        for app in apps:
            app.extensions["ruang"].db.dispose()
    runs = sorted(plugin.tick.runs)
    # Run k (from 0) cannot start before k intervals have passed since the start, however
    # the two loops interleave; one extra run per interval would break this bound at once.
    last = runs[-1][0]
    assert len(runs) <= int((last - started) / interval) + 1, runs
    assert len(runs) >= 4, "the loops should have run the job every 0.3 s for 3 s"


class BrokenPlugin:
    """A plugin whose hook itself fails."""

    RUANG_PLUGIN_NAME = "broken"

    @hookimpl
    def ruang_background_jobs(self) -> Sequence[BackgroundJob]:
        raise ImportError("cannot import name 'tasks' from 'broken'")


def test_a_plugin_whose_hook_fails_does_not_stop_the_others(instance, plugin, caplog):
    app = prepare_test_app(create_app(make_settings(instance),
                                      extra_plugins=[BrokenPlugin(), plugin]))
    app.config["TEST_NAME"] = "process-1"
    try:
        ran = run_in(app)
    finally:
        app.extensions["ruang"].db.dispose()
    assert {"notify.deliver", "ticker.tick"} <= set(ran)
    assert "plugin broken failed to list its background jobs" in caplog.text


def test_the_loop_survives_database_trouble(instance, caplog):
    """The lease table vanishes for a while (a restore, a migration): the loop logs it once,
    keeps going, and runs the job again as soon as the table is back."""
    plugin = JobsPlugin(interval_s=0.1)
    app = make_app(instance, plugin, "process-1")
    db = app.extensions["ruang"].db
    with db.transaction() as s:
        s.connection().exec_driver_sql("ALTER TABLE job_leases RENAME TO job_leases_away")
    scheduler = start_scheduler(app, tick_s=0.02)
    try:
        time.sleep(0.5)
        assert plugin.tick.runs == []
        with db.transaction() as s:
            s.connection().exec_driver_sql("ALTER TABLE job_leases_away RENAME TO job_leases")
        deadline = time.monotonic() + 10
        while not plugin.tick.runs and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert scheduler.stop(timeout=10)
        db.dispose()
    assert plugin.tick.runs, "the job should run once the table is back"
    assert caplog.text.count("the background job loop hit an error") == 1


@pytest.mark.postgres
def test_postgres_claims_once_per_interval(request, instance):
    from core import migrate

    try:
        url = request.getfixturevalue("postgres_db")
    except pytest.FixtureLookupError:
        pytest.skip("no postgres_db fixture (tests/fixtures/databases.py) in this checkout")
    plugin = JobsPlugin()
    apps = [make_app(instance, plugin, f"process-{i}", database_url=url) for i in (1, 2)]
    try:
        migrate.upgrade(apps[0].extensions["ruang"].plugins, url)
        t0 = utcnow()
        errors: list[BaseException] = []

        def worker(app: Any, barrier: threading.Barrier, now: Any) -> None:
            try:
                barrier.wait(10)
                run_in(app, now)
            except BaseException as exc:
                errors.append(exc)

        for k in range(4):
            barrier = threading.Barrier(6)
            threads = [threading.Thread(target=worker,
                                        args=(app, barrier, t0 + timedelta(seconds=10 * k)))
                       for app in apps * 3]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
        assert not errors, errors
        assert len(plugin.tick.runs) == 4
    finally:
        for app in apps:
            app.extensions["ruang"].db.dispose()


def test_jobs_command_lists_jobs_and_their_last_run(instance, apps, plugin, monkeypatch):
    from core import app as app_module
    from core.cli import cli

    a, _ = apps
    point_cli_at(instance, monkeypatch)
    original = app_module.create_app

    def make(settings: Any = None, **kw: Any) -> Any:
        kw.setdefault("extra_plugins", [JobsPlugin()])
        return original(settings, **kw)

    monkeypatch.setattr(app_module, "create_app", make)
    cli._app = None
    try:
        ran = CliRunner().invoke(cli, ["jobs", "run"])
        again = CliRunner().invoke(cli, ["jobs", "run"])
        result = CliRunner().invoke(cli, ["jobs", "list"])
    finally:
        cli._app = None
    assert ran.exit_code == 0, ran.output
    assert ran.output.startswith("ran: ")
    assert set(ran.output[5:].strip().split(", ")) >= {
        "notify.deliver", "notify.purge", "ticker.broken", "ticker.tick"}
    assert again.output.strip() == "nothing was due"
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[1:]}
    assert set(lines) >= {"notify.deliver", "notify.purge", "ticker.tick", "ticker.broken"}
    assert "10s" in lines["ticker.tick"] and "2s" in lines["notify.deliver"]
    assert "RuntimeError: disk full" in lines["ticker.broken"]
    with a.app_context(), a.extensions["ruang"].db.session() as s:
        assert {row.name for row in s.scalars(select(JobLease))} >= {"ticker.tick",
                                                                      "notify.deliver"}
