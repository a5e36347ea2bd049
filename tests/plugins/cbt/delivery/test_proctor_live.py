"""Done-when of live proctoring: two real Socket.IO clients against ``ruang serve``.

A kiosk (python-socketio on ``/exam``) and a proctor (python-socketio on ``/proctor``,
signed in through the real login form) talk to a real server process. The kiosk's answer
reaches the proctor's seat map as a delta within 2 s; the proctor's extend, lock, reset and
force-submit (HTTP actions with CSRF and a reason) reach the kiosk as events at once; a
locked kiosk's answer is refused, and after the reset the old login is refused.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest
import requests
import socketio

from plugins.cbt.delivery import tokens
from tests.conftest import DEMO_PASSWORDS
from tests.plugins.cbt.delivery.conftest import enrol, exam_room
from tests.plugins.cbt.delivery.pykiosk import PyKiosk

pytestmark = [pytest.mark.live]

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def wait_for(predicate: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


class Proctor:
    """The proctor's page, minus the browser: a signed-in session and the /proctor socket."""

    def __init__(self, base: str, username: str, session_id: int) -> None:
        self.base, self.session_id = base, session_id
        self.http = requests.Session()
        page = self.http.get(base + "/login", timeout=10)
        token = CSRF.search(page.text)
        assert token
        resp = self.http.post(base + "/login", data={
            "username": username, "password": DEMO_PASSWORDS[username],
            "csrf_token": token.group(1)}, allow_redirects=False, timeout=30)
        assert resp.status_code in (302, 303)
        home = self.http.get(f"{base}/", timeout=10)
        found = CSRF.search(home.text)
        assert found
        self.csrf = found.group(1)
        self.events: list[tuple[float, str, Any]] = []
        self.lock = threading.Lock()
        self.sio = socketio.Client(reconnection=False, http_session=self.http)
        for name in ("snapshot", "seats"):
            self.sio.on(name, self._recorder(name), namespace="/proctor")
        self.sio.connect(base, namespaces=["/proctor"], transports=["websocket"],
                         auth={"session": session_id}, wait_timeout=10,
                         # The signed-in session is bound to the browser that made it.
                         headers={"User-Agent": str(self.http.headers["User-Agent"])})

    def _recorder(self, name: str) -> Any:
        def record(data: Any) -> None:
            with self.lock:
                self.events.append((time.monotonic(), name, data))
        return record

    def seat(self, attempt_id: int, since: float = 0.0) -> list[tuple[float, dict[str, Any]]]:
        """Every row of ``attempt_id`` received after ``since`` (monotonic), in order."""
        with self.lock:
            return [(at, row) for at, _n, data in self.events if at >= since
                    for row in data["seats"] if row["a"] == attempt_id]

    def act(self, action: str, attempt: int | None, **body: Any) -> dict[str, Any]:
        resp = self.http.post(f"{self.base}/cbt/exam-rooms/{self.session_id}/actions",
                              json={"action": action, "attempt": attempt, **body},
                              headers={"X-CSRFToken": self.csrf}, timeout=30)
        data: dict[str, Any] = resp.json()
        return data


def test_answers_reach_the_seat_map_and_actions_reach_the_kiosk(live_server, db):
    server = live_server()
    room = exam_room(db, 2, duration_min=30)
    number = room.numbers[0]
    token = enrol(db, room.seats[number])
    kiosk = PyKiosk(server.url, token)
    assert kiosk.sign_in(number, room.passwords[number])["ok"]
    kiosk.connect()
    attempt = kiosk.attempt

    # A proctor of another session is refused; the session's proctor gets the snapshot.
    with pytest.raises(socketio.exceptions.ConnectionError):
        Proctor(server.url, "pengawas", 999999)
    proctor = Proctor(server.url, "pengawas", room.session_id)
    snap = wait_for(lambda: [d for _a, n, d in proctor.events if n == "snapshot"])[0]
    rows = {r["n"]: r for r in snap["seats"]}
    assert rows[number]["s"] == "ready" and rows[number]["on"] is True
    assert rows[room.numbers[1]]["s"] == "absent"

    # The start and the answer show on the seat map within 2 s, as small batched deltas.
    session_token, _ = tokens.current(db, room.session_id)
    t0 = time.monotonic()
    assert kiosk.call("start", {"token": session_token})["ok"]
    wait_for(lambda: [r for _a, r in proctor.seat(attempt, t0) if r["s"] == "running"], 2.0)
    t1 = time.monotonic()
    for seq in range(1, 7):  # quick changes of two items; the last one marks item 1
        assert kiosk.answer(seq, 1 + seq % 2, None, flagged=seq == 6)["ok"]
    t2 = time.monotonic()
    seen = wait_for(lambda: [(at, r) for at, r in proctor.seat(attempt, t1) if r["f"] == 1], 2.0)
    latency = seen[0][0] - t2
    assert latency < 2.0, latency
    batches = [d for at, n, d in proctor.events if n == "seats" and at >= t1]
    assert len(batches) <= 6  # batched: not one message per change
    assert all(len(b["seats"]) == 1 for b in batches)  # only the seat that changed

    # Extend: the kiosk hears the new deadline at once.
    before = kiosk.call("time", {})["deadline"]
    assert proctor.act("extend", attempt, minutes=5, reason="PC lambat")["ok"]
    time_event = wait_for(lambda: kiosk.got("time"), 2.0)[-1]
    assert time_event["deadline"] == before + 5 * 60 * 1000

    # Lock: the kiosk is told, its answers are refused until unlocked.
    assert proctor.act("lock", attempt, reason="melihat ponsel")["done"] == [attempt]
    wait_for(lambda: kiosk.got("locked"), 2.0)
    refused = kiosk.answer(7, 1, None)
    assert refused["ok"] is False and refused["error"] == "locked"
    wait_for(lambda: [r for _a, r in proctor.seat(attempt, t2) if r["lk"]], 2.0)
    assert proctor.act("unlock", attempt, reason="ponsel disimpan")["ok"]
    wait_for(lambda: kiosk.got("unlocked"), 2.0)
    assert kiosk.answer(7, 1, None)["ok"]

    # Reset: the old kiosk is told and refused; the candidate signs in again.
    assert proctor.act("reset", attempt, reason="pindah PC")["ok"]
    assert wait_for(lambda: kiosk.got("logged_out"), 2.0)[-1] == {"reason": "reset"}
    assert kiosk.answer(8, 1, None)["error"] == "logged_out"
    kiosk.close()
    again = PyKiosk(server.url, token)
    assert again.sign_in(number, room.passwords[number])["ok"]
    again.connect()
    hello = again.call("hello", {"v": 1})
    assert hello["state"] == "running" and hello["last_seq"] == 7
    assert hello["answers"] == [[1, None, False, 7], [2, None, False, 5]]  # all kept

    # Force-submit: the kiosk hears it was the proctor, and answers are refused.
    assert proctor.act("force_submit", attempt, reason="menyontek")["done"] == [attempt]
    assert wait_for(lambda: again.got("submitted"), 2.0)[-1]["by"] == "proctor"
    assert again.answer(9, 1, None)["error"] == "submitted"
    wait_for(lambda: [r for _a, r in proctor.seat(attempt, t2) if r["s"] == "submitted"], 2.0)
    print(f"answer -> proctor seat map: {latency * 1000:.0f} ms; "
          f"{len(batches)} seats message(s) for the changes")
    again.close()
    proctor.sio.disconnect()


def test_the_seat_map_and_actions_cross_server_processes(live_server, instance, redis_url, db):
    """Kiosk on one process, proctor on another, the message queue between them."""
    env = {"RUANG_MESSAGE_QUEUE": redis_url}
    a = live_server(instance=instance, env=env)
    b = live_server(instance=instance, env=env)
    room = exam_room(db, 1, duration_min=30)
    number = room.numbers[0]
    kiosk = PyKiosk(a.url, enrol(db, room.seats[number]))
    assert kiosk.sign_in(number, room.passwords[number])["ok"]
    kiosk.connect()
    proctor = Proctor(b.url, "pengawas", room.session_id)
    wait_for(lambda: [d for _a, n, d in proctor.events if n == "snapshot"])
    session_token, _ = tokens.current(db, room.session_id)
    assert kiosk.call("start", {"token": session_token})["ok"]
    t0 = time.monotonic()
    assert kiosk.answer(1, 1, None, flagged=True)["ok"]
    seen = wait_for(lambda: [at for at, r in proctor.seat(kiosk.attempt, t0) if r["f"] == 1],
                    2.0)
    assert seen[0] - t0 < 2.0
    assert proctor.act("lock", kiosk.attempt, reason="diperiksa")["ok"]
    wait_for(lambda: kiosk.got("locked"), 2.0)
    assert kiosk.answer(2, 1, None)["error"] == "locked"
    kiosk.close()
    proctor.sio.disconnect()
