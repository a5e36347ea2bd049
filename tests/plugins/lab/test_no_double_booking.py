"""No double booking, enforced by the database: overlapping holds are refused by SQLite's
triggers and PostgreSQL's exclusion constraint even when Python's check is bypassed, and of
two concurrent approvals of overlapping bookings exactly one wins, on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError

from core import migrate
from core.app import create_app
from core.db import Database
from plugins.lab import requests as lab_requests
from plugins.lab.errors import SlotTaken
from plugins.lab.models import Hold, LabRequest
from tests.conftest import make_settings, prepare_test_app
from tests.plugins.lab.conftest import lab, monday, user


@pytest.fixture(scope="module")
def pg_app(postgres_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One migrated PostgreSQL database with the demo data for this module's tests (each
    test books its own dates, so they do not meet)."""
    url = postgres_server.create_database()
    settings = make_settings(tmp_path_factory.mktemp("pg-instance"), database_url=url)
    app = prepare_test_app(create_app(settings))
    r = app.extensions["ruang"]
    migrate.upgrade(r.plugins, url)
    with app.app_context(), r.db.transaction() as session:
        r.plugins.hook.ruang_demo_data(session=session)
    yield app
    r.db.dispose()
    postgres_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_app(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A migrated instance with the demo users and labs, on SQLite or on real PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("app")
        return
    app = request.getfixturevalue("pg_app")
    with app.app_context():
        yield app


def _insert_hold(conn: Any, lab_id: int, start: datetime, end: datetime, ref: str) -> None:
    conn.execute(text(
        "INSERT INTO lab_holds (reference, lab_id, starts_at, ends_at, kind, source, source_ref,"
        " title, created_at) VALUES (:ref, :lab, :start, :end, 'booking', 'test', '', :ref,"
        " :start)"), {"ref": ref, "lab": lab_id, "start": start, "end": end})


def test_database_refuses_overlapping_holds_without_python(engine_app):
    """Raw SQL, no service code: the guard lives in the schema the migration made."""
    r = engine_app.extensions["ruang"]
    lab1 = lab(r.db, "LAB-1")
    base = datetime(2031, 3, 3, 1, 0, tzinfo=UTC)
    engine = r.db.engine
    with engine.begin() as conn:
        _insert_hold(conn, lab1.id, base, base + timedelta(hours=2), "raw-a")
        # Touching ends are fine: [01:00, 03:00) and [03:00, 04:00).
        _insert_hold(conn, lab1.id, base + timedelta(hours=2), base + timedelta(hours=3), "raw-b")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        _insert_hold(conn, lab1.id, base + timedelta(hours=1), base + timedelta(hours=4),
                     "raw-c")
    # Moving a hold onto another is refused too.
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE lab_holds SET starts_at = :s WHERE reference = 'raw-b'"),
                     {"s": base + timedelta(minutes=30)})
    # Another lab at the same time is fine.
    lab2 = lab(r.db, "LAB-2")
    with engine.begin() as conn:
        _insert_hold(conn, lab2.id, base, base + timedelta(hours=2), "raw-d")
    with r.db.session() as s:
        refs = sorted(s.scalars(select(Hold.reference).where(Hold.reference.like("raw-%"))))
    assert refs == ["raw-a", "raw-b", "raw-d"]


def _two_requests(db: Any) -> tuple[int, int]:
    lab1 = lab(db, "LAB-1")
    day = monday(80).isoformat()
    pemohon = user(db, "pemohon")
    ids = []
    for start, end, purpose in (("08:00", "10:00", "Kelas A"), ("09:00", "11:00", "Kelas B")):
        with db.transaction() as s:
            req, _ = lab_requests.submit(s, lab_requests.parse_form({
                "lab_id": lab1.id, "first_day": day, "start_time": start, "end_time": end,
                "purpose": purpose, "participants": 10}), pemohon)
            ids.append(req.id)
    return ids[0], ids[1]


def test_concurrent_approvals_exactly_one_wins(engine_app):
    """Two approvers press "approve" at once on overlapping requests, each in its own
    connection. The first holds its transaction open after placing its hold, so the second
    checks while the first has not committed (on PostgreSQL it sees nothing and must be
    stopped by the exclusion constraint; on SQLite it waits for the write lock)."""
    r = engine_app.extensions["ruang"]
    db_a, db_b = Database(r.settings.sqlalchemy_url), Database(r.settings.sqlalchemy_url)
    first, second = _two_requests(r.db)
    head = user(r.db, "kabpti")
    a_placed = threading.Event()
    b_started = threading.Event()
    results: dict[str, str] = {}

    def approve(name: str, db: Database, request_id: int) -> None:
        with engine_app.app_context():
            if name == "b":
                b_started.set()
            try:
                with db.transaction() as s:
                    req = s.get(LabRequest, request_id)
                    assert req is not None
                    lab_requests.approve(s, req, head, delegate=False)
                    if name == "a":
                        a_placed.set()
                        # Keep the transaction open while B runs into the same span.
                        b_started.wait(10)
                        threading.Event().wait(0.8)
                results[name] = "won"
            except SlotTaken as exc:
                results[name] = f"refused: {exc}"

    thread_a = threading.Thread(target=approve, args=("a", db_a, first))
    thread_b = threading.Thread(target=approve, args=("b", db_b, second))
    thread_a.start()
    assert a_placed.wait(20)
    thread_b.start()
    thread_a.join(30)
    thread_b.join(30)
    db_a.dispose()
    db_b.dispose()
    assert sorted(results.values(), key=lambda v: v != "won")[0] == "won"
    assert list(results.values()).count("won") == 1, results
    assert results["a"] == "won"
    if r.db.engine.dialect.name == "postgresql":
        # B checked before A committed and saw a free lab: the exclusion constraint, not
        # Python, refused its hold.
        assert "a moment ago" in results["b"], results["b"]
    with r.db.session() as s:
        states = {rid: s.get_one(LabRequest, rid).state for rid in (first, second)}
        holds = s.scalars(select(Hold).where(Hold.source_ref.in_(
            [f"lab_request:{first}", f"lab_request:{second}"]))).all()
    assert states == {first: "approved", second: "submitted"}
    assert len(holds) == 1


def test_many_parallel_approvals_of_one_slot(engine_app):
    """Six overlapping requests approved from six threads at once: one lab, one winner."""
    r = engine_app.extensions["ruang"]
    lab2 = lab(r.db, "LAB-2")
    day = monday(81).isoformat()
    pemohon, head = user(r.db, "pemohon"), user(r.db, "kabpti")
    ids = []
    for n in range(6):
        with r.db.transaction() as s:
            req, _ = lab_requests.submit(s, lab_requests.parse_form({
                "lab_id": lab2.id, "first_day": day, "start_time": f"{8 + n % 3:02d}:00",
                "end_time": f"{10 + n % 3:02d}:30", "purpose": f"Kelas {n}",
                "participants": 5}), pemohon)
            ids.append(req.id)
    barrier = threading.Barrier(len(ids))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(request_id: int) -> None:
        db = Database(r.settings.sqlalchemy_url)
        with engine_app.app_context():
            barrier.wait(10)
            try:
                with db.transaction() as s:
                    lab_requests.approve(s, s.get_one(LabRequest, request_id), head,
                                         delegate=False)
                outcome = "won"
            except SlotTaken:
                outcome = "refused"
        db.dispose()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["refused"] * 5 + ["won"]
    with create_engine(r.settings.sqlalchemy_url).connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM lab_holds WHERE lab_id = :lab AND "
                                  "source_ref LIKE 'lab_request:%'"), {"lab": lab2.id}).scalar()
    assert count == 1
