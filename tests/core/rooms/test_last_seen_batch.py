"""Kiosk heartbeats written in batches: many kiosks in one UPDATE, and at process exit."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, select

from core.db import utcnow
from core.rooms import kiosks, service
from core.rooms.models import Kiosk, Seat
from tests.fixtures import engines

REPO = Path(__file__).resolve().parents[3]


def _make_kiosks(db, count: int) -> list[int]:
    with db.transaction() as session:
        lab = service.lab_by_code(session, "LAB-1")
        assert lab is not None
        seats = list(session.scalars(select(Seat).where(Seat.lab_id == lab.id)
                                     .order_by(Seat.id).limit(count)))
        rows = [Kiosk(seat_id=seat.id, token_hash=f"batch-{seat.id}", name=f"K{seat.id}",
                      enrolled_at=utcnow(), last_seen_at=utcnow() - timedelta(hours=1))
                for seat in seats]
        session.add_all(rows)
        session.flush()
        return [k.id for k in rows]


def test_many_kiosks_are_written_in_one_update_statement(app, db):
    r = app.extensions["ruang"]
    ids = _make_kiosks(db, 30)
    for kiosk_id in ids:
        assert kiosks.heartbeat(r.db, kiosk_id, ip=f"10.1.0.{kiosk_id % 250}")
    statements: list[tuple[str, bool]] = []

    def _seen(_conn, _cursor, statement, _params, _context, executemany):
        statements.append((statement, executemany))

    event.listen(r.db.engine, "before_cursor_execute", _seen)
    try:
        assert kiosks.flush_seen(r.db) == 30
    finally:
        event.remove(r.db.engine, "before_cursor_execute", _seen)
    updates = [(sql, many) for sql, many in statements if sql.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1 and updates[0][1], statements
    with db.session() as session:
        seen = dict(session.execute(select(Kiosk.id, Kiosk.last_seen_at)
                                    .where(Kiosk.id.in_(ids))).all())
    assert all(utcnow() - at < timedelta(seconds=5) for at in seen.values())


_CHILD = """
import sys
from core.app import create_app
from core.config import load_settings
from core.rooms import kiosks
app = create_app(load_settings())
with app.app_context():
    db = app.extensions["ruang"].db
    assert kiosks.heartbeat(db, int(sys.argv[1]), ip="10.9.9.9")
print("heard", flush=True)
"""


def test_heartbeats_not_yet_written_are_flushed_when_the_process_exits(app, db, settings):
    kiosk_id = _make_kiosks(db, 1)[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUANG_")}
    env.update({"RUANG_INSTANCE": str(settings.instance), "RUANG_JOBS": "false",
                "RUANG_ASYNC_MODE": "threading",
                "PYTHONPATH": str(REPO), **engines.engine_env(settings.instance)})
    done = subprocess.run([sys.executable, "-c", _CHILD, str(kiosk_id)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    with db.session() as session:
        row = session.get(Kiosk, kiosk_id)
    assert row.last_ip == "10.9.9.9"
    assert utcnow() - row.last_seen_at < timedelta(seconds=60)
