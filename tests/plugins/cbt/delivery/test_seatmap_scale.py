"""The seat map of a thousand candidates stays a few aggregate queries.

A session of 1,000 running attempts with 40 items each and 60,000 answer changes (1.5 per
item, a papers' worth of encrypted bytes per attempt) is written straight into the tables.
The full snapshot must come in well under a second, and a delta of 50 dirty seats in a
small fraction of that; both are printed. The counts must match the answer log.
"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import insert

from core.db import utcnow
from plugins.cbt.delivery import seatmap
from plugins.cbt.delivery.models import Answer, DeliveryAttempt
from plugins.cbt.models import Attempt, Candidate
from tests.plugins.cbt.delivery.conftest import exam_room

N = 1000
ITEMS = 40


def test_a_thousand_seats_in_a_few_queries(db):
    room = exam_room(db, 1)
    now = utcnow()
    shape = [{"t": "single", "o": 4}] * ITEMS
    with db.transaction() as s:
        s.execute(insert(Candidate), [{
            "id": 10_000 + i, "exam_id": room.exam_id, "student_number": f"S{i:05d}",
            "name": f"Peserta Skala {i}", "participant_number": f"SKALA-{i:05d}",
            "seat": f"{chr(65 + i // 40)}{i % 40 + 1}", "session_id": room.session_id,
        } for i in range(N)])
        s.execute(insert(Attempt), [{
            "id": 10_000 + i, "exam_id": room.exam_id, "candidate_id": 10_000 + i,
            "number": 1, "seed": "x", "status": "in_progress"} for i in range(N)])
        s.execute(insert(DeliveryAttempt), [{
            "attempt_id": 10_000 + i, "session_id": room.session_id,
            "candidate_id": 10_000 + i, "state": "running", "paper_key_enc": b"k" * 60,
            "paper_enc": b"p" * 40_000, "shape": shape, "duration_s": 3600,
            "started_at": now, "deadline_at": now + timedelta(hours=1),
            "login_hash": "h" * 64, "online": True} for i in range(N)])
        rows = []
        for i in range(N):
            seq = 0
            for q in range(1, ITEMS + 1):
                for change in range(1 + (q % 2)):
                    seq += 1
                    # The second change of every even item takes the answer back.
                    value = None if change == 1 else q % 4
                    rows.append({"attempt_id": 10_000 + i, "seq": seq, "position": q,
                                 "value": value, "flagged": q % 10 == 0, "at": now})
        s.execute(insert(Answer), rows)
    with db.session() as s:
        t = time.perf_counter()
        snap = seatmap.snapshot(s, room.session_id)
        full = time.perf_counter() - t
        t = time.perf_counter()
        delta = seatmap.seats(s, room.session_id, range(10_000, 10_050))
        part = time.perf_counter() - t
        # What the live flusher sends: the same rows, keyed by their session.
        assert seatmap.seats_by_session(s, range(10_000, 10_050), now=None) == {
            room.session_id: delta}
        assert seatmap.seats_by_session(s, []) == {}
    print(f"\nseat map of {N} candidates, {len(rows)} answer rows: snapshot {full * 1000:.0f} ms, "
          f"50 dirty seats {part * 1000:.0f} ms")
    seats = [r for r in snap["seats"] if r["n"].startswith("SKALA")]
    assert len(seats) == N and len(delta) == 50
    # Odd items answered once (kept); even items answered then taken back: 20 of 40.
    assert {r["q"] for r in seats} == {ITEMS // 2} and {r["f"] for r in seats} == {4}
    assert {r["t"] for r in seats} == {ITEMS}
    assert full < 1.5 and part < 0.3
