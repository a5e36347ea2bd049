"""Kiosks for fault tests: the Python kiosk with the exam page's outbox.

The exam page keeps every change in an outbox until the server acknowledges it, and sends
the outbox again, in order, after a reconnect; ``OutboxKiosk`` does the same so that a test
can check that nothing a candidate typed is lost whatever fails in between.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from plugins.cbt.delivery import tokens
from tests.plugins.cbt.delivery.conftest import Room, enrol, exam_room
from tests.plugins.cbt.delivery.pykiosk import PyKiosk


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting{': ' + what if what else ''}")


@dataclass
class Change:
    seq: int
    position: int
    value: Any
    flagged: bool = False


@dataclass
class OutboxKiosk:
    kiosk: PyKiosk
    outbox: list[Change] = field(default_factory=list)
    acked: dict[int, Change] = field(default_factory=dict)
    refusals: list[Any] = field(default_factory=list)
    next_seq: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def attempt(self) -> int:
        return self.kiosk.attempt

    def type(self, position: int, value: Any, flagged: bool = False) -> Change:
        """The candidate changes an answer: it goes into the outbox first."""
        with self.lock:
            change = Change(self.next_seq, position, value, flagged)
            self.next_seq += 1
            self.outbox.append(change)
        return change

    def flush(self, timeout: float = 2.0) -> int:
        """Send the outbox in order; stop at the first change not acknowledged."""
        sent = 0
        while True:
            with self.lock:
                if not self.outbox:
                    return sent
                change = self.outbox[0]
            try:
                ack = self.kiosk.answer(change.seq, change.position, change.value,
                                       flagged=change.flagged, timeout=timeout)
            except Exception:
                return sent
            if not (isinstance(ack, dict) and ack.get("ok")):
                self.refusals.append(ack)
                return sent
            with self.lock:
                self.outbox.pop(0)
                self.acked[change.seq] = change
            sent += 1


def started_kiosks(db: Any, base: str, count: int, **room_args: Any) -> tuple[Room,
                                                                            list[OutboxKiosk]]:
    """An exam room of ``count`` candidates, each signed in on a kiosk and started."""
    room = exam_room(db, count, **room_args)
    kiosks = []
    for number in room.numbers:
        k = PyKiosk(base, enrol(db, room.seats[number]))
        assert k.sign_in(number, room.passwords[number])["ok"]
        kiosks.append(k.connect())
    token, _ = tokens.current(db, room.session_id)
    for k in kiosks:
        ack = k.call("start", {"token": token})
        assert ack["ok"], ack
    return room, [OutboxKiosk(k) for k in kiosks]


class Staff:
    """A signed-in staff browser over plain HTTP (requests), for the proctor's actions."""

    def __init__(self, base: str, username: str) -> None:
        import re

        import requests

        from tests.conftest import DEMO_PASSWORDS

        self.base = base
        self.http = requests.Session()
        page = self.http.get(base + "/login", timeout=10).text
        m = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert m, "no CSRF token on /login"
        self.csrf = m.group(1)
        resp = self.http.post(base + "/login", data={
            "username": username, "password": DEMO_PASSWORDS[username],
            "csrf_token": self.csrf}, allow_redirects=False, timeout=10)
        assert resp.status_code == 302, resp.text[:300]

    def action(self, session_id: int, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.http.post(f"{self.base}/cbt/exam-rooms/{session_id}/actions", json=body,
                              headers={"X-CSRFToken": self.csrf}, timeout=10)
        data: dict[str, Any] = resp.json()
        return data


def keep_answering(kiosks: list[OutboxKiosk], stop: threading.Event,
                   pause_s: float = 0.02) -> list[threading.Thread]:
    """Each kiosk's candidate changes an answer every ``pause_s`` and the kiosk flushes."""

    def run(k: OutboxKiosk) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            k.type(1 + n % 7, None, flagged=n % 2 == 0)
            k.flush()
            time.sleep(pause_s)

    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in kiosks]
    for t in threads:
        t.start()
    return threads


def drain(kiosks: list[OutboxKiosk], timeout: float = 30.0) -> None:
    """Flush every outbox until it is empty (the kiosk's re-send after a fault)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for k in kiosks:
            k.flush()
        if all(not k.outbox for k in kiosks):
            return
        time.sleep(0.2)
    left = {k.attempt: len(k.outbox) for k in kiosks}
    raise AssertionError(f"outboxes not emptied within {timeout}s: {left}")


def stored_seqs(db: Any, attempt_id: int) -> set[int]:
    from sqlalchemy import select

    from plugins.cbt.delivery.models import Answer

    with db.session() as s:
        return set(s.scalars(select(Answer.seq).where(Answer.attempt_id == attempt_id)))
