"""The capacity is a promise: people registering at the same moment, each in their own
connection, never take more seats than there are; the rest wait, in order. On SQLite and
on real PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from core import migrate
from core.app import create_app
from core.db import Database
from plugins.training import participants, service
from plugins.training.models import Participant
from tests.conftest import make_settings, prepare_test_app
from tests.plugins.training.conftest import MAIL_DOMAIN, build


@pytest.fixture(scope="module")
def pg_app(postgres_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    url = postgres_server.create_database()
    settings = make_settings(tmp_path_factory.mktemp("pg-training"), database_url=url)
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
    if request.param == "sqlite":
        yield request.getfixturevalue("app")
        return
    app = request.getfixturevalue("pg_app")
    with app.app_context():
        yield app


def test_simultaneous_registrations_never_exceed_the_capacity(engine_app):
    r = engine_app.extensions["ruang"]
    tid = build(r.db, state="preparation", capacity=3)
    people = 8
    start = threading.Barrier(people)
    errors: list[BaseException] = []

    def register(n: int) -> None:
        db = Database(r.settings.sqlalchemy_url)
        try:
            with engine_app.app_context():
                start.wait()
                with db.transaction() as s:
                    participants.register(s, service.get(s, tid), {
                        "name": f"Serentak {n}", "email": f"serentak{n}@{MAIL_DOMAIN}"},
                        "test")
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=register, args=(n,)) for n in range(people)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    with r.db.session() as s:
        rows = list(s.scalars(select(Participant).where(Participant.training_id == tid)
                              .order_by(Participant.registered_at, Participant.id)))
    assert len(rows) == people
    assert sum(1 for p in rows if p.status == "registered") == 3
    assert sum(1 for p in rows if p.status == "waitlisted") == people - 3
    # Two seats free up: the two who waited longest move up.
    waiting = sorted((p for p in rows if p.status == "waitlisted"),
                     key=lambda p: (p.created_at, p.id))
    with r.db.transaction() as s:
        tr = service.get(s, tid)
        seated = [p for p in participants.of_training(s, tid) if p.status == "registered"]
        for p in seated[:2]:
            participants.cancel(s, tr, p, "test")
    with r.db.session() as s:
        status = {p.id: p.status for p in participants.of_training(s, tid)}
    assert [status[p.id] for p in waiting[:3]] == ["registered", "registered", "waitlisted"]
