"""Of several people pressing "approve" at the same moment, exactly one moves the object."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from core.app import create_app
from core.audit.service import record as audit
from core.workflow.engine import WorkflowError, history
from tests.conftest import make_settings, prepare_test_app
from tests.core.workflow.toy import PROPOSAL, Listener, Proposal, ToyBase

RACERS = 8


@pytest.fixture(params=["sqlite", "postgres"])
def race_app(request: pytest.FixtureRequest, instance: Path) -> Iterator[Flask]:
    # PostgreSQL: a fresh database per test (``postgres_db``, tests/fixtures/databases.py).
    url = request.getfixturevalue("postgres_db") if request.param == "postgres" else ""
    overrides = {"database_url": url} if url else {}
    app = prepare_test_app(create_app(make_settings(instance, **overrides),
                                      extra_plugins=[Listener()]))
    r = app.extensions["ruang"]
    if url:
        from core import migrate
        from core.demo import ensure_demo_users

        migrate.upgrade(r.plugins, url)
        with app.app_context(), r.db.transaction() as s:
            ensure_demo_users(s)
    ToyBase.metadata.create_all(r.db.engine)
    try:
        yield app
    finally:
        r.db.dispose()


def test_only_one_of_simultaneous_approvals_wins(race_app: Flask) -> None:
    from core.accounts.models import User

    db = race_app.extensions["ruang"].db
    with race_app.app_context():
        with db.session() as s:
            head = s.scalar(select(User).where(User.username == "kabpti"))
            owner = s.scalar(select(User).where(User.username == "pemohon"))
        with db.transaction() as s:
            p = Proposal(title="UAS Jaringan", created_by=owner.id)
            PROPOSAL.start(s, p, owner)
            PROPOSAL.apply(s, p, "submit", owner)
            pid = p.id
    start = threading.Barrier(RACERS)

    def approve(i: int) -> str:
        with race_app.app_context():
            start.wait(timeout=30)
            try:
                with db.transaction() as s:
                    obj = s.get(Proposal, pid)
                    if i % 2:
                        # Audit something first, as views often do: no deadlock either way.
                        audit(s, "toy.looked", actor=head, object_type="toy", object_id=pid)
                    PROPOSAL.apply(s, obj, "approve", head)
            except WorkflowError as exc:
                return exc.kind
            return "approved"

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = list(pool.map(approve, range(RACERS)))

    assert outcomes.count("approved") == 1, outcomes
    assert set(outcomes) <= {"approved", "state", "conflict"}
    with race_app.app_context(), db.session() as s:
        steps: list[Any] = history(s, "proposal", pid)
        assert [h.action for h in steps] == ["start", "submit", "approve"]
        assert s.get(Proposal, pid).state == "approved"
