"""The audit log's hash chain finds altered, deleted and reordered rows."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from core.audit.service import record, verify
from core.cli import cli
from tests.conftest import point_cli_at


@pytest.fixture
def entries(db):
    with db.transaction() as s:
        for i in range(5):
            record(s, "test.event", actor="tester", object_type="thing", object_id=i,
                   details={"n": i, "text": "ä ünïcode"})
    with db.session() as s:
        assert verify(s) is None
    return db


def _tamper(db, statement: str, **params: Any) -> None:
    """Change the table behind the application's back, as someone with database access."""
    with db.engine.begin() as conn:
        conn.execute(text(statement), params)


def _last_ids(db, n=5):
    with db.engine.connect() as conn:
        return [r[0] for r in conn.execute(text(
            "SELECT id FROM audit_log WHERE action='test.event' ORDER BY id"))][:n]


def test_intact_log_verifies(entries):
    with entries.session() as s:
        assert verify(s) is None


def test_hand_edited_row_is_found(entries):
    target = _last_ids(entries)[2]
    _tamper(entries, "UPDATE audit_log SET actor_name='someone else' WHERE id=:id", id=target)
    with entries.session() as s:
        problem = verify(s)
    assert problem is not None and problem.entry_id == target
    assert "altered" in str(problem)


def test_deleted_row_is_found(entries):
    target = _last_ids(entries)[1]
    _tamper(entries, "DELETE FROM audit_log WHERE id=:id", id=target)
    with entries.session() as s:
        problem = verify(s)
    assert problem is not None and problem.entry_id == target
    assert "missing" in str(problem)


def test_rewritten_row_with_recomputed_hash_breaks_the_next_link(entries):
    from sqlalchemy import select

    from core.audit.models import AuditEntry
    from core.audit.service import compute_hash

    target = _last_ids(entries)[2]
    with entries.transaction() as s:
        e = s.scalar(select(AuditEntry).where(AuditEntry.id == target))
        e.details = {"n": 999}
        e.hash = compute_hash(e)
    with entries.session() as s:
        problem = verify(s)
    assert problem is not None and problem.entry_id == target + 1


def test_cli_verify_exit_codes(entries, instance, monkeypatch):
    point_cli_at(instance, monkeypatch)
    cli._app = None
    out = CliRunner().invoke(cli, ["audit", "verify"])
    assert out.exit_code == 0 and "intact" in out.output
    target = _last_ids(entries)[0]
    _tamper(entries, "UPDATE audit_log SET action='edited' WHERE id=:id", id=target)
    cli._app = None
    out = CliRunner().invoke(cli, ["audit", "verify"])
    assert out.exit_code == 1
    assert f"audit entry {target}" in out.output
    cli._app = None


def test_change_and_its_audit_entry_roll_back_together(db):
    from sqlalchemy import func, select

    from core.audit.models import AuditEntry

    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(RuntimeError), db.transaction() as s:
        record(s, "doomed")
        raise RuntimeError("boom")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before
