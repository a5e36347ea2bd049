"""SIGKILL of a server node mid-exam: its kiosks move to the other node and lose nothing.

Two nodes on PostgreSQL and Redis; two kiosks on node A, two on node B, the proctor on A.
Every kiosk answers without pause, as a candidate clicking through, keeping each change in
its outbox until the server acknowledges it. Node A is killed with SIGKILL (no clean
shutdown) while changes are in flight. Its kiosks notice, go to node B (what nginx's
upstream failover or a lab's second address does for the browser kiosk), say ``hello``,
re-send their outbox and carry on; node B's kiosks never stop. Then: every acknowledged
change is in the database exactly once, the deadlines did not move, the attempts are still
running and can be submitted, and the audit chain is intact.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.cluster.conftest import ITEMS, ExamCluster
from tests.fixtures.servers import run_ruang
from tests.plugins.cbt.delivery.pykiosk import PyKiosk

pytestmark = [pytest.mark.live, pytest.mark.postgres]

ACK_TIMEOUT_S = 3.0


class Candidate:
    """A candidate at a kiosk: changes go to the outbox first and leave it only when
    acknowledged (docs/protocol.md, section 8)."""

    def __init__(self, info: dict[str, Any], base: str) -> None:
        self.info = info
        self.kiosk = PyKiosk(base, info["token"])
        self.seq = 0
        self.outbox: dict[int, tuple[int, int]] = {}
        self.acked: set[int] = set()
        self.dups: set[int] = set()
        self.offline = threading.Event()
        self.stop = threading.Event()
        self.errors: list[str] = []

    def sign_in(self) -> None:
        signed = self.kiosk.sign_in(self.info["participant"], self.info["password"])
        assert signed.get("ok"), signed
        self.kiosk.paper()
        self.kiosk.connect(reconnection=False)
        assert self.kiosk.call("hello", {"v": 1})["ok"]

    def change(self) -> None:
        self.seq += 1
        self.outbox[self.seq] = (self.seq % ITEMS + 1, self.seq % 5)

    def flush(self) -> None:
        """Send the outbox in order; raises when the connection is gone."""
        for seq, (position, value) in sorted(self.outbox.items()):
            ack = self.kiosk.answer(seq, position, value, timeout=ACK_TIMEOUT_S)
            if not ack.get("ok"):
                self.errors.append(f"seq {seq}: {ack}")
                continue
            self.acked.add(seq)
            if ack.get("dup"):
                self.dups.add(seq)
            del self.outbox[seq]

    def answer_until_stopped(self) -> None:
        while not self.stop.is_set():
            self.change()
            try:
                self.flush()
            except Exception as exc:  # the node went away under the call
                self.errors.append(f"offline: {type(exc).__name__}")
                self.offline.set()
                return
            time.sleep(0.02)

    def move_to(self, base: str) -> dict[str, Any]:
        """What the kiosk does when its node is gone: connect elsewhere with the same
        kiosk token and attempt login, ``hello``, then the outbox goes first."""
        old = self.kiosk
        moved = PyKiosk(base, self.info["token"])
        moved.attempt, moved.login = old.attempt, old.login
        moved.connect(reconnection=False)
        hello: dict[str, Any] = moved.call("hello", {"v": 1})
        self.kiosk = moved
        self.flush()
        return hello


def test_kiosks_move_to_the_other_node_when_theirs_is_killed(exam_cluster):
    c: ExamCluster = exam_cluster()
    a, b = c.nodes
    infos = c.seed["kiosks"]
    on_a = [Candidate(info, a.url) for info in infos[:2]]
    on_b = [Candidate(info, b.url) for info in infos[2:]]
    everyone = on_a + on_b
    for cand in everyone:
        cand.sign_in()

    # The proctor on node A starts the session; node B's kiosks hear it through Redis.
    c.proctor(a).start(c.session_id)
    deadline = time.monotonic() + 10
    while not all(any(n == "started" for n, _ in k.kiosk.events) for k in everyone):
        assert time.monotonic() < deadline, [k.kiosk.events for k in everyone]
        time.sleep(0.05)
    attempts = {cand.kiosk.attempt: cand for cand in everyone}
    deadlines = dict(c.sql("SELECT attempt_id, deadline_at FROM cbt_delivery_attempts"))
    assert set(deadlines) == set(attempts) and all(deadlines.values())

    threads = [threading.Thread(target=cand.answer_until_stopped) for cand in everyone]
    for t in threads:
        t.start()
    time.sleep(2.0)
    before_kill = {cand.kiosk.attempt: len(cand.acked) for cand in everyone}
    assert all(n > 5 for n in before_kill.values()), before_kill

    a.kill()  # SIGKILL to the whole process group: no shutdown, no flushing
    killed_at = time.monotonic()
    for cand in on_a:
        assert cand.offline.wait(ACK_TIMEOUT_S + 5), "a kiosk of node A never noticed"
    # The candidates at A's kiosks keep answering while their kiosks reconnect.
    for cand in on_a:
        for _ in range(3):
            cand.change()
    assert all(cand.outbox for cand in on_a)
    acked_on_a = {cand.kiosk.attempt: max(cand.acked) for cand in on_a}
    hellos = [cand.move_to(b.url) for cand in on_a]
    moved_after = time.monotonic() - killed_at
    for cand, hello in zip(on_a, hellos, strict=True):
        assert hello["ok"] and hello["state"] == "running", hello
        assert not cand.outbox, cand.errors
    for cand in on_a:  # and the exam goes on, on node B
        t = threading.Thread(target=cand.answer_until_stopped)
        t.start()
        threads.append(t)
    time.sleep(1.5)
    for cand in everyone:
        cand.stop.set()
    for t in threads:
        t.join(10)

    # Node B's kiosks never noticed anything.
    for cand in on_b:
        assert not cand.offline.is_set() and not cand.errors, cand.errors
        assert len(cand.acked) > before_kill[cand.kiosk.attempt]
    for cand in on_a:
        assert [e for e in cand.errors if not e.startswith("offline")] == []
        assert not cand.outbox

    # The database: every acknowledged change exactly once, nothing the kiosks never sent.
    rows = c.sql("SELECT attempt_id, seq, position, value FROM cbt_answers")
    seen: dict[tuple[int, int], int] = {}
    for attempt_id, seq, position, value in rows:
        cand = attempts[int(attempt_id)]
        assert (int(position), value) == (seq % ITEMS + 1, seq % 5)
        seen[(int(attempt_id), int(seq))] = seen.get((int(attempt_id), int(seq)), 0) + 1
    acked = {(cand.kiosk.attempt, s) for cand in everyone for s in cand.acked}
    assert acked - set(seen) == set(), "acknowledged answers were lost"
    assert all(n == 1 for n in seen.values()), "an answer was stored twice"
    assert set(seen) == acked  # the outboxes are empty: everything sent was acknowledged
    # ``hello`` on node B already knew every change node A had acknowledged before dying.
    last = {cand.kiosk.attempt: hello["last_seq"] for cand, hello in zip(on_a, hellos, strict=True)}
    assert all(last[a] >= acked_on_a[a] for a in last), (last, acked_on_a)
    # The deadlines did not move, and the exam goes on to a normal end.
    assert dict(c.sql("SELECT attempt_id, deadline_at FROM cbt_delivery_attempts")) == deadlines
    for cand in everyone:
        done = cand.kiosk.call("submit", {"s": cand.seq})
        assert done["ok"] and not done["already"], done
    states = c.sql("SELECT state, submitted_by FROM cbt_delivery_attempts")
    assert states == [("submitted", "candidate")] * 4
    for cand in everyone:
        cand.kiosk.close()
    verified = run_ruang("audit", "verify", instance=c.instance,
                         env={"RUANG_DATABASE_URL": c.database_url}).stdout
    assert "intact" in verified, verified
    print(f"node A killed after {sum(before_kill.values())} acknowledged answers; its 2 kiosks "
          f"re-sent their outboxes on node B {moved_after:.1f} s later; "
          f"{len(acked)} acknowledged answers, all stored once")
