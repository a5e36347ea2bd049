"""Numbers stay unique and gap-free when many processes and threads ask at once.

Each worker process builds its own app, and so its own ``core.db.Database``, on the same
database (one SQLite file, or one PostgreSQL database); threads share one app. Some
transactions are rolled back on purpose while others run: their numbers must be reused.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.audit.service import record as audit
from core.audit.service import verify
from core.records import service
from core.records.models import IssuedRecord, RecordCounter
from tests.core.records.toy_types import make_app

AT = datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
TOTAL = 200
PROCESSES = 4
THREADS = 8


class Abandoned(Exception):
    pass


def _issue_many(app: Any, count: int, start: Any, abandon_every: int = 0) -> list[tuple[int, str]]:
    """Issue ``count`` committed numbers, one transaction each, after ``start`` opens."""
    db = app.extensions["ruang"].db
    got: list[tuple[int, str]] = []
    attempt = 0
    with app.app_context():
        service.record_types()  # read declarations before the race starts
        start.wait(timeout=120)
        while len(got) < count:
            attempt += 1
            try:
                with db.transaction() as s:
                    if attempt % 2:
                        # Callers often audit their own change before numbering it; that
                        # must not deadlock against callers who number first.
                        audit(s, "load.before_number", object_type="load", object_id=attempt)
                    rec = service.issue(s, "BA", ref_type="load", ref_id=attempt, at=AT)
                    if abandon_every and attempt % abandon_every == 0:
                        raise Abandoned
                    got.append((rec.seq, rec.number))
            except Abandoned:
                continue
    return got


def _process_worker(instance: str, url: str, count: int, start: Any, out: Any) -> None:
    app = make_app(instance, url)
    try:
        out.put(_issue_many(app, count, start, abandon_every=9))
    except BaseException as exc:  # the parent must hear about it, not wait for ever
        out.put(repr(exc))
    finally:
        app.extensions["ruang"].db.dispose()


@pytest.fixture
def instance(sqlite_instance: Path) -> Path:
    """These tests choose their engine themselves (``database``); the folder is the SQLite
    one whatever ``--database`` says."""
    return sqlite_instance


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, instance: Path) -> str:
    """The database URL to race on: "" for the instance's SQLite file, or a fresh, migrated
    PostgreSQL database (``postgres_db`` from tests/fixtures/databases.py)."""
    if request.param == "sqlite":
        return ""
    from core import migrate

    url: str = request.getfixturevalue("postgres_db")
    app = make_app(instance, url)
    r = app.extensions["ruang"]
    migrate.upgrade(r.plugins, url)
    r.db.dispose()
    return url


def _check(app: Any, results: list[tuple[int, str]]) -> None:
    seqs = sorted(seq for seq, _ in results)
    numbers = [number for _, number in results]
    assert seqs == list(range(1, TOTAL + 1)), "numbers are missing or repeated"
    assert len(set(numbers)) == TOTAL
    assert set(numbers) == {f"BA-{i:02d}/BPTI/2026" for i in range(1, TOTAL + 1)}
    db = app.extensions["ruang"].db
    with app.app_context(), db.session() as s:
        stored = s.scalars(select(IssuedRecord.number).where(IssuedRecord.code == "BA")).all()
        assert sorted(stored) == sorted(numbers)
        counter = s.get(RecordCounter, ("BA", "2026"))
        assert counter is not None and counter.value == TOTAL
        audited = s.scalar(select(func.count()).select_from(AuditEntry)
                           .where(AuditEntry.action == "record.issue",
                                  AuditEntry.object_id.in_(numbers)))
        assert audited == TOTAL
        assert verify(s) is None


def test_processes_get_distinct_gap_free_numbers(database: str, instance: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(PROCESSES)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_process_worker,
                    args=(str(instance), database, TOTAL // PROCESSES, start, out))
        for _ in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    try:
        batches = [out.get(timeout=240) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    errors = [b for b in batches if isinstance(b, str)]
    assert not errors, errors
    results = [item for batch in batches for item in batch]
    app = make_app(instance, database)
    try:
        _check(app, results)
    finally:
        app.extensions["ruang"].db.dispose()


def test_threads_get_distinct_gap_free_numbers(database: str, instance: Path) -> None:
    app = make_app(instance, database)
    start = threading.Barrier(THREADS)
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(_issue_many, app, TOTAL // THREADS, start, 7)
                       for _ in range(THREADS)]
            results = [item for f in futures for item in f.result(timeout=240)]
        _check(app, results)
    finally:
        app.extensions["ruang"].db.dispose()
