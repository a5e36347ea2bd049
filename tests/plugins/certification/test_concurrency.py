"""No overbooking, ever: concurrent registrations from several processes and threads on
SQLite and on a real PostgreSQL server, and the database's own guards when code tries to
overbook behind the service's back. The rush against a live ``ruang serve`` is in
test_rush.py."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from core.app import create_app
from core.audit.service import verify
from plugins.certification import registrations, seats
from plugins.certification.clock import now
from plugins.certification.errors import CertError
from plugins.certification.models import CertField, CertParticipant, CertRegistration
from tests.conftest import make_settings
from tests.plugins.certification.conftest import publish

PEOPLE = 60
QUOTA = 10
PROCESSES = 3
THREADS = 8


def _app(instance: str, url: str) -> Any:
    overrides = {"database_url": url} if url else {}
    return create_app(make_settings(Path(instance), **overrides))


@pytest.fixture
def instance(sqlite_instance: Path) -> Path:
    """These tests choose their engine themselves (``database``); the folder is the SQLite
    one whatever ``--database`` says."""
    return sqlite_instance


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, instance: Path) -> str:
    if request.param == "sqlite":
        return ""
    from core import migrate

    url: str = request.getfixturevalue("postgres_db")
    app = _app(str(instance), url)
    r = app.extensions["ruang"]
    migrate.upgrade(r.plugins, url)
    with app.app_context(), r.db.transaction() as s:
        r.plugins.hook.ruang_demo_data(session=s)
    r.db.dispose()
    return url


def _setup(instance: Path, url: str, people: int, quota: int) -> tuple[int, list[int]]:
    app = _app(str(instance), url)
    db = app.extensions["ruang"].db
    try:
        with app.app_context():
            prog = publish(db, fields=[{"code": "RACE", "name": "Balapan", "quota": quota}],
                           title="Balapan kursi")
            with db.transaction() as s:
                rows = [CertParticipant(email=f"p{n}@race.example", full_name=f"P {n}",
                                        email_verified_at=now()) for n in range(people)]
                s.add_all(rows)
                s.flush()
                ids = [p.id for p in rows]
        return prog.fields[0].id, ids
    finally:
        db.dispose()


def _register_all(app: Any, field_id: int, ids: list[int], start: Any) -> list[str]:
    db = app.extensions["ruang"].db
    out = []
    with app.app_context():
        start.wait(timeout=120)
        for pid in ids:
            out.append(registrations.register_now(db, field_id, pid).status)
            # The same person again, at once: refused, never a second seat.
            try:
                registrations.register_now(db, field_id, pid)
                out.append("DUPLICATE ACCEPTED")
            except CertError as exc:
                assert exc.kind == "duplicate"
    return out


def _worker(instance: str, url: str, field_id: int, ids: list[int], start: Any, out: Any
            ) -> None:
    app = _app(instance, url)
    try:
        out.put(_register_all(app, field_id, ids, start))
    except BaseException as exc:  # the parent must hear about it rather than wait
        out.put(repr(exc))
    finally:
        app.extensions["ruang"].db.dispose()


def _check(instance: Path, url: str, field_id: int, statuses: list[str]) -> None:
    assert "DUPLICATE ACCEPTED" not in statuses
    assert statuses.count("confirmed") == QUOTA
    assert statuses.count("waitlisted") == PEOPLE - QUOTA
    app = _app(str(instance), url)
    db = app.extensions["ruang"].db
    try:
        with app.app_context(), db.session() as s:
            held = sorted(s.scalars(select(CertRegistration.seat_no).where(
                CertRegistration.field_id == field_id, CertRegistration.seat_no.is_not(None))))
            assert held == list(range(1, QUOTA + 1))
            assert s.scalar(select(func.count()).select_from(CertRegistration).where(
                CertRegistration.field_id == field_id)) == PEOPLE
            assert seats.counts(s, field_id) == (QUOTA, QUOTA)
            assert seats.drift(s) == []
            assert verify(s) is None, "the audit chain forked under the rush"
            # The waiting list is in the order the database took the registrations.
            waiting = list(s.scalars(select(CertRegistration).where(
                CertRegistration.field_id == field_id,
                CertRegistration.status == "waitlisted").order_by(CertRegistration.id)))
            assert [registrations.position(s, r) for r in waiting] == list(
                range(1, PEOPLE - QUOTA + 1))
    finally:
        db.dispose()


@pytest.mark.slow
def test_processes_never_overbook(database: str, instance: Path) -> None:
    field_id, ids = _setup(instance, database, PEOPLE, QUOTA)
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(PROCESSES)
    out = ctx.Queue()
    chunks = [ids[i::PROCESSES] for i in range(PROCESSES)]
    procs = [ctx.Process(target=_worker, args=(str(instance), database, field_id, chunk,
                                                start, out)) for chunk in chunks]
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
    _check(instance, database, field_id, [s for batch in batches for s in batch])


def test_threads_never_overbook(database: str, instance: Path) -> None:
    field_id, ids = _setup(instance, database, PEOPLE, QUOTA)
    app = _app(str(instance), database)
    start = threading.Barrier(THREADS)
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(_register_all, app, field_id, ids[i::THREADS], start)
                       for i in range(THREADS)]
            statuses = [s for f in futures for s in f.result(timeout=240)]
    finally:
        app.extensions["ruang"].db.dispose()
    _check(instance, database, field_id, statuses)


def test_the_database_refuses_overbooking_behind_the_service(database: str,
                                                             instance: Path) -> None:
    """Code that skips the service (a bug, a hand-written script) still cannot overbook."""
    field_id, ids = _setup(instance, database, 4, 2)
    app = _app(str(instance), database)
    db = app.extensions["ruang"].db
    try:
        with app.app_context():
            for pid in ids[:2]:
                registrations.register_now(db, field_id, pid)
            attempts = [
                # the counter past the quota
                update(CertField).where(CertField.id == field_id)
                .values(seats_held=CertField.quota + 1),
                # a seat number someone already holds
                update(CertRegistration).where(CertRegistration.participant_id == ids[0])
                .values(seat_no=2),
                # a waiting registration that holds a seat, or a confirmed one without
                update(CertRegistration).where(CertRegistration.participant_id == ids[1])
                .values(status="waitlisted"),
                update(CertRegistration).where(CertRegistration.participant_id == ids[1])
                .values(seat_no=None),
            ]
            for stmt in attempts:
                with pytest.raises(IntegrityError), db.transaction() as s:
                    s.execute(stmt)
            # two active registrations of one person for one field
            with pytest.raises(IntegrityError), db.transaction() as s:
                s.execute(text("INSERT INTO cert_registrations (code, field_id, participant_id,"
                               " status, created_at, fee, payment_status, paid_amount, source,"
                               " end_reason) VALUES ('R-DUP', :f, :p, 'waitlisted', :t, 0,"
                               " 'none', 0, 'portal', '')"),
                          {"f": field_id, "p": ids[0], "t": now()})
            with db.session() as s:
                assert seats.counts(s, field_id) == (2, 2)
                assert seats.drift(s) == []
    finally:
        db.dispose()
