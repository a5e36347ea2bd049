"""One lab PC's kiosk as the load generator plays it: the exam protocol of docs/protocol.md.

A :class:`Kiosk` does what the kiosk page does, over the same HTTP routes and the same
Socket.IO namespace (websocket transport only, as lab browsers use it):

1. opens the exam page with its enrolment token (for the page's CSRF token), signs the
   candidate in (``POST /cbt/kiosk/signin``) and downloads the encrypted paper;
2. connects to ``/exam`` with ``{v, kiosk, attempt, login}`` and says ``hello``;
3. waits for ``started`` (the proctor's start) and decrypts the paper with the key
   (AES-256-GCM, the envelope's nonce and associated data): "question 1 is shown";
4. answers: every change gets the next per-attempt sequence number and stays in a local
   queue until the server acknowledges it; after any disconnect the queue is re-sent;
   ``time`` every :attr:`heartbeat_s` seconds is the clock sync and the heartbeat;
5. when dropped, comes back with jittered exponential backoff (0.5 s doubling to 5 s,
   +-50%, as the kiosk's Socket.IO client), says ``hello`` and re-sends what was not
   acknowledged, up to 8 changes on their way at a time;
6. at the end drains its queue, compares its answers with the server's ``hello``, and
   submits.

Every call is timed here (socket acknowledgements are not timed by locust) and recorded
in the :class:`~loadtests.metrics.Recorder` by event name; what the kiosk sent and what was
acknowledged is kept per sequence number, for the count against the database.
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import re
import socket
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import gevent
import requests
import socketio
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from gevent.event import Event

from loadtests.metrics import Recorder

NAMESPACE = "/exam"
PROTOCOL = 1
BASELINE_EVENT = "loadtest_ack"
CALL_TIMEOUT_S = 10.0  # protocol 8: no acknowledgement within 10 s -> send again
FINAL_TIMEOUT_S = 30.0  # the closing check and the submission wait longer: they are sent once
OUTBOX_INFLIGHT = 8  # protocol 8: at most 8 changes awaiting acknowledgement at a time
HTTP_TIMEOUT_S = 60.0
CSRF_RE = re.compile(r'name="csrf[-_]token"\s+(?:content|value)="([^"]+)"')
# Protocol 10: the Socket.IO client's jittered backoff, 0.5 s up to 5 s, randomisation 0.5.
RECONNECT_BASE_S, RECONNECT_MAX_S, RECONNECT_JITTER = 0.5, 5.0, 0.5
HTTP_TRIES = 4  # a candidate whose sign-in page does not answer presses again


class Dropped(Exception):
    """The connection went away while a call waited for its acknowledgement."""


class Kiosk:
    """A kiosk and the candidate seated at it. ``info`` is one entry of the seed file."""

    def __init__(self, info: dict[str, Any], base_url: str, rec: Recorder, *,
                 heartbeat_s: float, rng: random.Random,
                 on_disconnect: Callable[[Kiosk], None] | None = None) -> None:
        self.info = info
        self.base = base_url
        self.rec = rec
        self.heartbeat_s = heartbeat_s
        self.rng = rng
        self.on_disconnect = on_disconnect
        self.http = requests.Session()
        self.http.headers["X-Kiosk-Token"] = info["token"]
        self.http.headers["User-Agent"] = "ruang-loadtest-kiosk"
        self.sio: socketio.Client | None = None
        self.attempt = 0
        self.login = ""
        self.envelope: dict[str, Any] = {}
        self.key: bytes | None = None
        self.paper: dict[str, Any] | None = None
        self.options: list[int] = []  # options per item, from the decrypted paper
        self.key_at = 0.0  # perf_counter when the key arrived
        self.shown_at = 0.0  # ... and when question 1 could be shown
        self.got_key = Event()
        self.online = Event()
        self.wake = Event()
        self.stopping = False
        self.expect_drop = False
        self.dropped_client: socketio.Client | None = None  # the client of the last drop
        self.seq = 0
        self.pending: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self.sending: set[int] = set()  # sequence numbers waiting for their acknowledgement
        self.sent: dict[int, tuple[int, Any, bool]] = {}  # seq -> (item, value, flagged)
        self.acked: set[int] = set()
        self.tries: dict[int, int] = {}
        self.dup_acks = 0
        self.throttled = 0
        self.refused: list[str] = []
        self.disconnects = 0
        self.reconnects = 0
        self.sync_marks: set[int] = set()  # seqs that must be acknowledged to be "in sync"
        self.synced_at = 0.0
        self._inflight: set[Event] = set()
        self._held: list[socket.socket] = []
        self.submitted = False
        self.server_answers: list[Any] = []
        self.state_mismatches = 0

    # -- HTTP -------------------------------------------------------------------------------

    def _http(self, name: str, method: str, path: str, **kw: Any) -> requests.Response | None:
        """One request, tried again (with backoff) when the server does not answer in time
        or answers 5xx, as a candidate would press again; a refusal (4xx) is final."""
        for n in range(HTTP_TRIES):
            if n:
                gevent.sleep(self._backoff(n))
            last = n == HTTP_TRIES - 1
            t = time.perf_counter()
            try:
                resp = self.http.request(method, self.base + path, timeout=HTTP_TIMEOUT_S,
                                         allow_redirects=False, **kw)
            except requests.RequestException as exc:
                self.rec.record(name, t, False, error=str(exc)[:200], kind="http",
                                count_error=last)
                continue
            ok = resp.status_code < 400
            final = ok or resp.status_code < 500 or last
            self.rec.record(name, t, ok, size=len(resp.content), kind="http",
                            count_error=final,
                            error=None if ok else f"HTTP {resp.status_code} {resp.text[:160]}")
            if final:
                return resp if ok else None
        return None

    def sign_in(self) -> bool:
        page = self._http("http:exam_page", "GET", "/cbt/kiosk/")
        if page is None:
            return False
        found = CSRF_RE.search(page.text)
        if found is None:
            self.rec.error("http:exam_page: no CSRF token on the page")
            return False
        resp = self._http("http:signin", "POST", "/cbt/kiosk/signin",
                          json={"number": self.info["participant"],
                                "password": self.info["password"]},
                          headers={"X-CSRFToken": found.group(1)})
        if resp is None:
            return False
        body = resp.json()
        self.attempt, self.login = int(body["attempt"]), str(body["login"])
        paper = self._http("http:paper", "GET", body["paper"],
                           headers={"X-Attempt-Login": self.login})
        if paper is None:
            return False
        self.envelope = paper.json()
        return True

    # -- the socket -------------------------------------------------------------------------

    def _new_client(self) -> socketio.Client:
        # 20 s to open the websocket, like the browser client's default ``timeout``.
        sio = socketio.Client(reconnection=False, handle_sigint=False, request_timeout=20)
        sio.on("started", self._on_started, namespace=NAMESPACE)
        sio.on("refused", self._on_refused, namespace=NAMESPACE)
        sio.on("logged_out", self._on_logged_out, namespace=NAMESPACE)
        sio.on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        return sio

    def connect(self, name: str = "connect", tries: int = 1) -> bool:
        """Open the exam socket and say hello; like the browser's client, a failed attempt
        is retried with backoff (``tries`` in all). Failed attempts show in the round-trip
        table as failures of ``name`` but are not errors unless the last one fails."""
        for n in range(tries):
            if n:
                gevent.sleep(self._backoff(n - 1))
            if self._connect_once(name, last=n == tries - 1):
                return self.hello()
        return False

    def _backoff(self, n: int) -> float:
        delay = min(RECONNECT_MAX_S, RECONNECT_BASE_S * 2 ** n)
        return delay * self.rng.uniform(1 - RECONNECT_JITTER, 1 + RECONNECT_JITTER)

    def _connect_once(self, name: str, last: bool) -> bool:
        sio = self._new_client()
        t = time.perf_counter()
        try:
            sio.connect(self.base, namespaces=[NAMESPACE], transports=["websocket"],
                        auth={"v": PROTOCOL, "kiosk": self.info["token"],
                              "attempt": self.attempt, "login": self.login},
                        headers={"User-Agent": "ruang-loadtest-kiosk"},
                        wait_timeout=CALL_TIMEOUT_S)
        except socketio.exceptions.ConnectionError as exc:
            self.rec.record(name, t, False, error=str(exc)[:200], count_error=last)
            with contextlib.suppress(Exception):
                sio.disconnect()
            return False
        self.rec.record(name, t)
        self.sio = sio
        return True

    def hello(self, tries: int = 3) -> bool:
        """``hello`` on the open connection; a slow server is asked again on the same
        connection (a new connection would only add to its work)."""
        ack: dict[str, Any] = {}
        for _ in range(tries):
            try:
                ack = self.call("hello", {"v": PROTOCOL})
                break
            except Dropped:
                if self.sio is None or not self.sio.connected:
                    return False
        else:
            return False
        if not ack.get("ok"):
            self.rec.error(f"hello refused: {ack.get('error')}")
            return False
        if ack.get("key") and self.key is None:
            self._have_key(str(ack["key"]))
        self.server_answers = ack.get("answers") or []
        self.online.set()
        self.wake.set()
        return True

    def call(self, event: str, data: Any, name: str | None = None,
             timeout: float = CALL_TIMEOUT_S) -> dict[str, Any]:
        """Emit and wait for the acknowledgement, timed under ``name`` (default ``event``).
        Raises :class:`Dropped` when the connection goes first (not recorded as a failure:
        the caller re-sends)."""
        sio = self.sio
        if sio is None or not sio.connected:
            raise Dropped(event)
        done = Event()
        box: list[Any] = []

        def callback(*args: Any) -> None:
            box.append(args[0] if args else None)
            done.set()

        t = time.perf_counter()
        self._inflight.add(done)
        try:
            sio.emit(event, data, namespace=NAMESPACE, callback=callback)
            done.wait(timeout)
        except Exception as exc:  # the socket broke under the emit
            raise Dropped(event) from exc
        finally:
            self._inflight.discard(done)
        if not box:
            if done.is_set():
                raise Dropped(event)
            self.rec.record(name or event, t, False, error="timeout")
            raise Dropped(event)
        ack = box[0] if isinstance(box[0], dict) else {"ok": False, "error": repr(box[0])}
        ok = bool(ack.get("ok")) or ack.get("error") == "rate_limited"
        self.rec.record(name or event, t, ok, error=None if ok else str(ack.get("error")))
        return ack

    def _on_started(self, data: Any) -> None:
        if isinstance(data, dict) and data.get("key") and self.key is None:
            self._have_key(str(data["key"]))

    def _have_key(self, key_b64: str) -> None:
        self.key_at = time.perf_counter()
        self.key = base64.b64decode(key_b64)
        env = self.envelope
        try:
            plain = AESGCM(self.key).decrypt(base64.b64decode(env["iv"]),
                                             base64.b64decode(env["data"]),
                                             str(env["aad"]).encode())
            self.paper = json.loads(plain)
        except Exception as exc:
            self.rec.error(f"kiosk {self.info['kiosk_id']}: paper does not decrypt: {exc}")
            return
        items = self.paper.get("items") or []
        self.options = [len(i.get("options") or []) for i in items]
        if items:
            self.shown_at = time.perf_counter()  # question 1 is on the screen
        self.got_key.set()

    def _on_refused(self, data: Any) -> None:
        code = data.get("error") if isinstance(data, dict) else str(data)
        self.refused.append(str(code))
        self.rec.error(f"refused event: {data}")

    def _on_logged_out(self, data: Any) -> None:
        self.rec.error(f"kiosk {self.info['kiosk_id']} logged out: {data}")

    def _on_disconnect(self, *_args: Any) -> None:
        self.online.clear()
        for ev in list(self._inflight):
            ev.set()
        if self.stopping:
            return
        self.disconnects += 1
        if not self.expect_drop:
            self.rec.error(f"kiosk {self.info['kiosk_id']}: unexpected disconnect")
        if self.on_disconnect is not None:
            self.on_disconnect(self)
        gevent.spawn(self._reconnect)

    def drop(self, silent: bool) -> bool:
        """The network goes: ``silent`` leaves the server no FIN (a switch losing power);
        otherwise the connection closes as when a cable is pulled on the kiosk's side.
        False when there was no open websocket to drop (said as an error)."""
        sio = self.sio
        ws = getattr(getattr(sio, "eio", None), "ws", None)
        sock = getattr(ws, "sock", None)
        if sock is None:
            self.rec.error(f"kiosk {self.info['kiosk_id']}: no open websocket to drop")
            return False
        self.expect_drop = True
        self.dropped_client = sio
        self.sync_marks = set(self.pending)
        self.synced_at = 0.0
        with contextlib.suppress(OSError):
            if silent:
                self._held.append(sock.dup())  # keeps the TCP connection open, unanswered
                sock.shutdown(socket.SHUT_RD)
            else:
                sock.shutdown(socket.SHUT_RDWR)
        return True

    def notice_drop(self) -> bool:
        """Make sure the client knows its network went: True when it had not noticed.

        Its read loop normally ends at once on the shut socket. Now and then (3 kiosks of
        2,000 in a campus storm) the client does not, and would only find out from its
        ping timeout, 45 s later, as a browser would: the storm's figure would then time
        that timeout, not the server. The driver calls this a moment after the drop."""
        sio = self.dropped_client
        if sio is None or self.sio is not sio or not self.online.is_set():
            return False
        engine = getattr(sio, "eio", None)
        with contextlib.suppress(Exception):
            if engine is not None:
                engine.disconnect(abort=True)
        if self.sio is sio and self.online.is_set():
            self._on_disconnect()  # the engine was not "connected": tell the kiosk directly
        return True

    def release_held(self) -> None:
        for s in self._held:
            with contextlib.suppress(OSError):
                s.close()
        self._held.clear()

    def _reconnect(self) -> None:
        n = 0
        while not self.stopping:
            gevent.sleep(self._backoff(n))
            n += 1
            if self.stopping:
                return
            old = self.sio
            if old is not None:
                with contextlib.suppress(Exception):
                    old.disconnect()
            if self._connect_once("reconnect", last=False) and self.hello():
                self.reconnects += 1
                self.sync_marks |= set(self.pending)
                self._check_synced()
                return

    def _check_synced(self) -> None:
        if self.expect_drop and self.online.is_set() and not (self.sync_marks & set(self.pending)):
            self.synced_at = time.perf_counter()
            self.expect_drop = False

    # -- answering --------------------------------------------------------------------------

    def answer(self) -> int:
        """The candidate changes an answer: it goes into the queue (returns its sequence
        number, 0 before the paper is open), and the sender sends it."""
        if not self.options:
            return 0
        q = self.rng.randrange(1, len(self.options) + 1)
        n = self.options[q - 1]
        value: Any = self.rng.randrange(n) if n and self.rng.random() > 0.05 else None
        flagged = self.rng.random() < 0.1
        self.seq += 1
        msg = {"a": self.attempt, "s": self.seq, "q": q, "v": value, "f": flagged}
        self.pending[self.seq] = msg
        self.sent[self.seq] = (q, value, flagged)
        self.wake.set()
        return self.seq

    def send_pending(self, name: str = "answer") -> bool:
        """Send the oldest unacknowledged change not already on its way; False when there
        was none or it failed."""
        if not self.online.is_set():
            return False
        seq = next((s for s in self.pending if s not in self.sending), 0)
        return self.send(seq, name) if seq else False

    def flush_outbox(self) -> int:
        """Start sending waiting changes, oldest first, up to :data:`OUTBOX_INFLIGHT` on
        their way at once (each in its own greenlet); returns how many were started."""
        if not self.online.is_set():
            return 0
        room = OUTBOX_INFLIGHT - len(self.sending)
        todo = [s for s in self.pending if s not in self.sending][:max(room, 0)]
        for seq in todo:
            self.sending.add(seq)  # taken now, so the next flush does not pick it again
            gevent.spawn(self._send_taken, seq)
        return len(todo)

    def _send_taken(self, seq: int) -> None:
        self.sending.discard(seq)
        self.send(seq)

    def send(self, seq: int, name: str = "answer") -> bool:
        """Send change ``seq`` and wait for its acknowledgement."""
        msg = self.pending.get(seq)
        if msg is None or seq in self.sending:
            return False
        tries = self.tries.get(seq, 0)
        self.tries[seq] = tries + 1
        self.sending.add(seq)
        try:
            ack = self.call("answer", msg, name="answer_resend" if tries else name)
        except Dropped:
            return False
        finally:
            self.sending.discard(seq)
            self.wake.set()
        if ack.get("ok"):
            self.pending.pop(seq, None)
            self.acked.add(seq)
            if ack.get("dup"):
                self.dup_acks += 1
            if self.sync_marks:
                self.sync_marks.discard(seq)
                self._check_synced()
            return True
        code = str(ack.get("error"))
        if code == "rate_limited":
            self.throttled += 1
            gevent.sleep(float(ack.get("retry_ms", 1000)) / 1000.0)
            return False
        if code == "unavailable":
            gevent.sleep(0.2)
            return False
        # Refused for good (late, submitted, logged out, invalid): it will never be stored.
        self.pending.pop(seq, None)
        self.refused.append(code)
        return False

    def baseline_call(self) -> bool:
        """The acknowledge-only handler, with an answer-shaped payload."""
        try:
            ack = self.call(BASELINE_EVENT, {"a": self.attempt, "s": self.seq + 1, "q": 1,
                                             "v": 0, "f": False, "seq": self.seq + 1},
                            name="ack_only")
        except Dropped:
            return False
        return bool(ack.get("ok"))

    def time_sync(self) -> None:
        with contextlib.suppress(Dropped):
            self.call("time", {"t": int(time.time() * 1000)})

    # -- the end ----------------------------------------------------------------------------

    def check_state(self) -> None:
        """Compare the server's view (``hello``) with the answers this kiosk had acknowledged."""
        try:
            ack = self.call("hello", {"v": PROTOCOL}, name="hello_final", timeout=FINAL_TIMEOUT_S)
        except Dropped:
            return
        mine: dict[int, tuple[Any, bool, int]] = {}
        for seq in sorted(self.acked):
            q, v, f = self.sent[seq]
            mine[q] = (v, f, seq)
        theirs = {int(q): (v, bool(f), int(s)) for q, v, f, s in ack.get("answers") or []}
        if mine != theirs:
            self.state_mismatches += 1
            self.rec.error(f"kiosk {self.info['kiosk_id']}: server's answers differ from the "
                           f"kiosk's ({len(theirs)} vs {len(mine)} items)")

    def submit(self) -> None:
        try:
            ack = self.call("submit", {"s": self.seq}, timeout=FINAL_TIMEOUT_S)
        except Dropped:
            self.rec.error(f"kiosk {self.info['kiosk_id']}: submit dropped")
            return
        self.submitted = bool(ack.get("ok"))

    def close(self) -> None:
        self.stopping = True
        self.online.clear()
        if self.sio is not None:
            with contextlib.suppress(Exception):
                self.sio.disconnect()
        self.release_held()
        self.http.close()
