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
