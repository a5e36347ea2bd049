"""The audit log's hash chain finds altered, deleted and reordered rows."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from core.audit.service import record, verify
from core.cli import cli


@pytest.fixture
def entries(db):
    with db.transaction() as s:
        for i in range(5):
            record(s, "test.event", actor="tester", object_type="thing", object_id=i,
                   details={"n": i, "text": "ä ünïcode"})
    with db.session() as s:
        assert verify(s) is None
    return db


def _raw(instance):
    return sqlite3.connect(instance / "ruang.db")


def _last_ids(conn, n=5):
    return [r[0] for r in conn.execute(
        "SELECT id FROM audit_log WHERE action='test.event' ORDER BY id")][:n]


def test_intact_log_verifies(entries):
    with entries.session() as s:
        assert verify(s) is None


def test_hand_edited_row_is_found(entries, instance):
    conn = _raw(instance)
    target = _last_ids(conn)[2]
    conn.execute("UPDATE audit_log SET actor_name='someone else' WHERE id=?", (target,))
    conn.commit()
    with entries.session() as s:
        problem = verify(s)
    assert problem is not None and problem.entry_id == target
    assert "altered" in str(problem)


def test_deleted_row_is_found(entries, instance):
    conn = _raw(instance)
    target = _last_ids(conn)[1]
    conn.execute("DELETE FROM audit_log WHERE id=?", (target,))
    conn.commit()
    with entries.session() as s:
        problem = verify(s)
    assert problem is not None and problem.entry_id == target
    assert "missing" in str(problem)


def test_rewritten_row_with_recomputed_hash_breaks_the_next_link(entries, instance):
    from sqlalchemy import select

    from core.audit.models import AuditEntry
    from core.audit.service import compute_hash

    conn = _raw(instance)
    target = _last_ids(conn)[2]
    with entries.transaction() as s:
        e = s.scalar(select(AuditEntry).where(AuditEntry.id == target))
        e.details = {"n": 999}
        e.hash = compute_hash(e)
    with entries.session() as s:
        problem = verify(s)
    assert problem is not None and problem.entry_id == target + 1


def test_cli_verify_exit_codes(entries, instance, monkeypatch):
    monkeypatch.setenv("RUANG_INSTANCE", str(instance))
    monkeypatch.setenv("RUANG_ASYNC_MODE", "threading")
    cli._app = None
    out = CliRunner().invoke(cli, ["audit", "verify"])
    assert out.exit_code == 0 and "intact" in out.output
    conn = _raw(instance)
    target = _last_ids(conn)[0]
    conn.execute("UPDATE audit_log SET action='edited' WHERE id=?", (target,))
    conn.commit()
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
