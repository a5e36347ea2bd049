"""An acknowledged answer survives ``kill -9`` of the server, and so does the clock.

Three kiosks answer as fast as acknowledgements come back while the server process is
killed with SIGKILL (no shutdown, no flush). After a restart on the same port every kiosk
reconnects by itself; every answer that was acknowledged before the kill is in the
database and comes back in ``hello``, and the deadline is exactly the one fixed at the
start, so the remaining time has gone down by the wall-clock time that passed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import select

from core.db import utcnow
from plugins.cbt.delivery import tokens
from plugins.cbt.delivery.models import Answer
from tests.plugins.cbt.delivery.conftest import enrol, exam_room
from tests.plugins.cbt.delivery.pykiosk import PyKiosk

pytestmark = [pytest.mark.live]


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


@pytest.mark.parametrize("async_mode", ["gevent", "eventlet"])
def test_acknowledged_answers_and_the_deadline_survive_sigkill(live_server, db, async_mode):
    server = live_server(async_mode=async_mode)
    room = exam_room(db, 3, duration_min=45)
    kiosks: list[PyKiosk] = []
    for number in room.numbers:
        k = PyKiosk(server.url, enrol(db, room.seats[number]))
        assert k.sign_in(number, room.passwords[number])["ok"]
        kiosks.append(k.connect())
    token, _ = tokens.current(db, room.session_id)
    deadlines = []
    for k in kiosks:
        ack = k.call("start", {"token": token})
        assert ack["ok"], ack
        deadlines.append(ack["deadline"])
    before = kiosks[0].call("time", {})
    measured_before = time.monotonic()
    remaining_before = before["deadline"] - before["now"]

    acked: dict[int, set[int]] = {k.attempt: set() for k in kiosks}
    stop = threading.Event()

    def answer_fast(k: PyKiosk) -> None:
        seq = 0
        while not stop.is_set():
            seq += 1
            try:
                ack = k.answer(seq, 1 + seq % 7, None, flagged=seq % 2 == 0, timeout=2)
            except Exception:
                time.sleep(0.05)  # the server is gone; the kiosk keeps the change
                continue
            if ack and ack.get("ok"):
                acked[k.attempt].add(seq)

    threads = [threading.Thread(target=answer_fast, args=(k,), daemon=True) for k in kiosks]
    for t in threads:
        t.start()
    wait_for(lambda: all(len(s) >= 50 for s in acked.values()))
    server.kill()
    stop.set()
    for t in threads:
        t.join(5)
    snapshot = {a: set(s) for a, s in acked.items()}
    assert sum(len(s) for s in snapshot.values()) >= 150

    time.sleep(1.5)  # the exam clock runs on while the server is down
    server.restart()
    for k in kiosks:
        wait_for(lambda k=k: k.connected, timeout=30)

    with db.session() as s:
        for attempt, seqs in snapshot.items():
            in_db = set(s.scalars(select(Answer.seq).where(Answer.attempt_id == attempt)))
            missing = seqs - in_db
            assert not missing, f"acknowledged but lost after SIGKILL: {sorted(missing)[:10]}"

    for k, deadline in zip(kiosks, deadlines, strict=True):
        hello = k.call("hello", {"v": 1})
        assert hello["ok"] and hello["state"] == "running" and hello["key"]
        assert hello["deadline"] == deadline  # the same instant, fixed at the start
        assert hello["last_seq"] >= max(snapshot[k.attempt])
        assert {row[0] for row in hello["answers"]} == {1 + s % 7 for s in snapshot[k.attempt]}
    after = kiosks[0].call("time", {})
    elapsed_ms = (time.monotonic() - measured_before) * 1000
    remaining_after = after["deadline"] - after["now"]
    # Down by exactly the time that passed (answers, kill, restart, reconnect), within a
    # second for the round trips of the two measurements.
    assert abs((remaining_before - remaining_after) - elapsed_ms) < 1000
    assert 40 * 60 * 1000 < remaining_after < remaining_before
    assert abs(after["now"] / 1000 - utcnow().timestamp()) < 2
    # The kiosks go on answering where they stopped.
    for k in kiosks:
        nxt = max(snapshot[k.attempt]) + 1000
        assert k.answer(nxt, 1, None) == {"ok": True, "s": nxt}
        k.close()
