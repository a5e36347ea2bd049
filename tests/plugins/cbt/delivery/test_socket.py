"""The ``/exam`` namespace, message by message, with Flask-SocketIO's in-process client:
authentication, the start (token and proctor), answers made durable and acknowledged,
duplicates and stale sequence numbers, refusals, the clock and the deadline job."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from core.audit.models import AuditEntry
from core.db import utcnow
from plugins.cbt.delivery import attempts, integrity, tokens
from plugins.cbt.delivery.models import Answer, DeliveryAttempt, IntegrityEvent
from plugins.cbt.delivery.push import NAMESPACE
from plugins.cbt.delivery.signin import sign_in
from plugins.cbt.models import Attempt, CbtSession
from tests.plugins.cbt.delivery.conftest import enrol


class Kiosk:
    """A signed-in kiosk's socket, as the kiosk page holds it."""

    def __init__(self, app, token: str, attempt: int, login: str, **extra: Any) -> None:
        socketio = app.extensions["ruang"].socketio
        self.attempt = attempt
        self.client = socketio.test_client(app, namespace=NAMESPACE, auth={
            "v": 1, "kiosk": token, "attempt": attempt, "login": login, **extra})

    @property
    def connected(self) -> bool:
        return self.client.is_connected(NAMESPACE)

    def call(self, event: str, data: Any = None) -> Any:
        return self.client.emit(event, data if data is not None else {}, namespace=NAMESPACE,
                                callback=True)

    def answer(self, seq: int, position: int, value: Any, flagged: bool = False) -> Any:
        return self.call("answer", {"a": self.attempt, "s": seq, "q": position, "v": value,
                                    "f": flagged})

    def received(self, name: str) -> list[Any]:
        return [e["args"][0] for e in self.client.get_received(NAMESPACE) if e["name"] == name]


def signed_in(app, db, room, index: int = 0) -> tuple[Kiosk, Any]:
    number = room.numbers[index]
    token = enrol(db, room.seats[number])
    done = sign_in(db, token, number, room.passwords[number])
    return Kiosk(app, token, done.attempt_id, done.login), done


def start_all(db, room) -> None:
    with db.transaction() as s:
        attempts.start_session(s, s.get(CbtSession, room.session_id))


def shape(db, attempt_id: int) -> list[dict[str, Any]]:
    with db.session() as s:
        return s.get(DeliveryAttempt, attempt_id).shape


def position_of(db, attempt_id: int, kind: str) -> int:
    return next(i for i, e in enumerate(shape(db, attempt_id), start=1) if e["t"] == kind)


def stored(db, attempt_id: int) -> list[tuple[int, int, Any, bool]]:
    with db.session() as s:
        return [tuple(r) for r in s.execute(
            select(Answer.seq, Answer.position, Answer.value, Answer.flagged)
            .where(Answer.attempt_id == attempt_id).order_by(Answer.seq))]


def test_a_connection_needs_the_kiosk_and_the_current_login(app, db, room):
    number = room.numbers[0]
    token = enrol(db, room.seats[number])
    done = sign_in(db, token, number, room.passwords[number])
    assert not Kiosk(app, token, done.attempt_id, "x" * 43).connected
    assert not Kiosk(app, "not-a-kiosk", done.attempt_id, done.login).connected
    other = enrol(db, "E8")
    assert not Kiosk(app, other, done.attempt_id, done.login).connected
    assert Kiosk(app, token, done.attempt_id, done.login).connected


def test_start_by_token_sends_the_key_and_the_server_deadline(app, db, room):
    kiosk, done = signed_in(app, db, room)
    hello = kiosk.call("hello", {"v": 1})
    assert hello["ok"] and hello["state"] == "ready" and "key" not in hello
    assert hello["deadline"] is None and hello["answers"] == []
    bad = kiosk.call("start", {"token": "ZZZZZZ"})
    assert bad == {"ok": False, "error": "bad_token", "message": bad["message"]}
    assert "Token" in bad["message"]  # Indonesian: "Token tidak tepat..."
    token, _changes = tokens.current(db, room.session_id)
    before = utcnow()
    ack = kiosk.call("start", {"token": token.lower()})
    assert ack["ok"] and len(ack["key"]) == 44
    deadline_s = ack["deadline"] / 1000 - before.timestamp()
    assert 30 * 60 - 2 <= deadline_s <= 30 * 60 + 2
    assert abs(ack["now"] / 1000 - utcnow().timestamp()) < 2
    # A second start (another tab, a re-sent message) changes nothing.
    again = kiosk.call("start", {"token": token})
    assert again["deadline"] == ack["deadline"] and again["key"] == ack["key"]
    assert kiosk.call("hello", {"v": 1})["key"] == ack["key"]
    with db.session() as s:
        assert s.get(Attempt, done.attempt_id).status == "in_progress"
        assert s.get(DeliveryAttempt, done.attempt_id).started_by == "token"


def test_wrong_tokens_are_throttled_per_attempt(app, db, room):
    kiosk, _done = signed_in(app, db, room)
    for _ in range(5):
        assert kiosk.call("start", {"token": "AAAAAA"})["error"] == "bad_token"
    token, _ = tokens.current(db, room.session_id)
    assert kiosk.call("start", {"token": token})["error"] == "throttled"


def test_the_proctors_start_reaches_every_waiting_kiosk(app, db, room):
    a, _ = signed_in(app, db, room, 0)
    b, _ = signed_in(app, db, room, 1)
    a.received("started")
    b.received("started")
    start_all(db, room)
    got_a, got_b = a.received("started"), b.received("started")
    assert len(got_a) == 1 and len(got_b) == 1
    assert got_a[0]["key"] != got_b[0]["key"]  # each kiosk only its own key
    assert set(got_a[0]) == {"key", "deadline", "now"}
    with db.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "cbt.session.started"))
        assert len(entry.details["attempts"]) == 2


def test_answers_are_stored_then_acknowledged_and_resends_are_harmless(app, db, room):
    kiosk, done = signed_in(app, db, room)
    start_all(db, room)
    single = position_of(db, done.attempt_id, "single")
    essay = position_of(db, done.attempt_id, "essay")
    assert kiosk.answer(1, single, 2) == {"ok": True, "s": 1}
    assert kiosk.answer(2, essay, "Ketuhanan Yang Maha Esa") == {"ok": True, "s": 2}
    assert kiosk.answer(3, single, 0, flagged=True) == {"ok": True, "s": 3}
    # The same change again (a re-send after a reconnect): acknowledged, stored once.
    assert kiosk.answer(2, essay, "Ketuhanan Yang Maha Esa") == {"ok": True, "s": 2, "dup": True}
    # A change that arrives late with an older sequence number loses to the newer one.
    assert kiosk.answer(4, single, 3)["ok"]
    assert stored(db, done.attempt_id)[-1] == (4, single, 3, False)
    hello = kiosk.call("hello", {"v": 1})
    answers = {q: (v, f, s) for q, v, f, s in hello["answers"]}
    assert answers[single] == (3, False, 4) and answers[essay][0].startswith("Ketuhanan")
    assert hello["last_seq"] == 4
    assert len(stored(db, done.attempt_id)) == 4


BAD_VALUES = [
    ("single", 4), ("single", "a"), ("single", True), ("single", [0]),
    ("multiple", [0, 0]), ("multiple", [7]), ("truefalse", 1), ("short", "x" * 1001),
    ("essay", "x" * 50_001), ("matching", [0]), ("matching", [0, 5]),
]
MALFORMED = [
    None, "teks", [1, 2], {"a": 1}, {"a": "1", "s": 1, "q": 1, "v": 0},
    {"a": 1, "s": 0, "q": 1, "v": 0}, {"a": 1, "s": 1, "q": 1, "v": 0, "x": 1},
    {"a": 1, "s": 2**31, "q": 1, "v": 0}, {"a": 1, "s": 1, "q": 99, "v": None},
]


def test_values_an_item_cannot_take_and_malformed_messages_are_refused(app, db, room):
    kiosk, done = signed_in(app, db, room)
    start_all(db, room)
    kiosk.received("refused")
    for seq, (kind, value) in enumerate(BAD_VALUES, start=1):
        ack = kiosk.answer(seq, position_of(db, done.attempt_id, kind), value)
        assert ack["ok"] is False and ack["error"] == "invalid", (kind, value, ack)
    for message in MALFORMED:
        if isinstance(message, dict) and message.get("a") == 1:
            message = {**message, "a": done.attempt_id}
        ack = kiosk.call("answer", message)
        assert ack["ok"] is False and ack["error"] == "invalid", (message, ack)
    refusals = kiosk.received("refused")
    assert len(refusals) == len(BAD_VALUES) + len(MALFORMED)
    assert all(r["event"] == "answer" and r["message"] for r in refusals)
    assert stored(db, done.attempt_id) == []
    with db.session() as s:
        kinds = list(s.scalars(select(IntegrityEvent.kind).where(
            IntegrityEvent.attempt_id == done.attempt_id)))
    assert set(kinds) == {"bad_message"}  # recorded, repeats folded
    # A kiosk that keeps sending garbage is cut off (the page reconnects afresh).
    for _ in range(10):
        if not kiosk.connected:
            break
        kiosk.call("answer", "garbage")
    assert not kiosk.connected


def test_the_candidate_resumes_on_another_kiosk_after_a_login_reset(app, db, room):
    number = room.numbers[0]
    first_token = enrol(db, room.seats[number])
    done = sign_in(db, first_token, number, room.passwords[number])
    first = Kiosk(app, first_token, done.attempt_id, done.login)
    start_all(db, room)
    started = first.call("hello", {"v": 1})
    assert first.answer(1, 1, None, flagged=True)["ok"]
    assert first.answer(2, 2, None)["ok"]
    with db.transaction() as s:
        attempts.reset_login(s, done.attempt_id, None, "PC mati")
    spare_token = enrol(db, "E8")
    moved = sign_in(db, spare_token, number, room.passwords[number])
    assert moved.attempt_id == done.attempt_id and moved.state == "running"
    spare = Kiosk(app, spare_token, moved.attempt_id, moved.login)
    hello = spare.call("hello", {"v": 1})
    assert hello["key"] == started["key"] and hello["deadline"] == started["deadline"]
    assert [row[:3] for row in hello["answers"]] == [[1, None, True], [2, None, False]]
    assert hello["last_seq"] == 2
    assert spare.answer(3, 3, None)["ok"]
    # The old kiosk's late re-send of a change is refused, and cannot reconnect.
    assert first.answer(4, 3, None)["error"] == "logged_out"
    assert not Kiosk(app, first_token, done.attempt_id, done.login).connected


def test_a_message_for_another_attempt_is_refused(app, db, room):
    kiosk, _done = signed_in(app, db, room, 0)
    _other, other_done = signed_in(app, db, room, 1)
    start_all(db, room)
    ack = kiosk.call("answer", {"a": other_done.attempt_id, "s": 1, "q": 1, "v": None})
    assert ack["error"] == "wrong_attempt"
    assert stored(db, other_done.attempt_id) == []


def test_answers_before_the_start_after_submit_and_after_a_reset_are_refused(app, db, room):
    kiosk, done = signed_in(app, db, room)
    assert kiosk.answer(1, 1, None)["error"] == "not_running"
    start_all(db, room)
    assert kiosk.answer(2, 1, None)["ok"]
    with db.transaction() as s:
        attempts.reset_login(s, done.attempt_id, None, "pindah PC")
    assert kiosk.received("logged_out") == [{"reason": "reset"}]
    refused = kiosk.answer(3, 1, None)
    assert refused["error"] == "logged_out" and "pengawas" in refused["message"]
    assert kiosk.call("hello", {"v": 1})["error"] == "logged_out"

    kiosk2, _done2 = signed_in(app, db, room, 1)
    start_all(db, room)
    ack = kiosk2.call("submit", {"s": 0})
    assert ack["ok"] and ack["answered"] == 0 and not ack["already"]
    assert kiosk2.received("submitted")[0]["by"] == "candidate"
    assert kiosk2.answer(1, 1, None)["error"] == "submitted"
    assert kiosk2.call("submit", {})["already"] is True


def test_the_deadline_is_the_servers_and_the_server_submits_by_itself(app, db, room):
    kiosk, done = signed_in(app, db, room)
    start_all(db, room)
    assert kiosk.answer(1, 1, None)["ok"]
    # Move the deadline into the past: inside the grace an answer still counts...
    with db.transaction() as s:
        s.execute(update(DeliveryAttempt).where(DeliveryAttempt.attempt_id == done.attempt_id)
                  .values(deadline_at=utcnow() - timedelta(seconds=attempts.GRACE_S / 2)))
    assert kiosk.answer(2, 1, None)["ok"]
    with db.transaction() as s:
        s.execute(update(DeliveryAttempt).where(DeliveryAttempt.attempt_id == done.attempt_id)
                  .values(deadline_at=utcnow() - timedelta(seconds=attempts.GRACE_S + 1)))
    late = kiosk.answer(3, 1, None)
    assert late["error"] == "late" and "batas waktu" in late["message"]
    time = kiosk.call("time", {"t": 1})
    assert time["ok"] and time["state"] == "running" and time["t"] == 1
    assert attempts.auto_submit_due(db) == [done.attempt_id]
    assert attempts.auto_submit_due(db) == []
    assert kiosk.received("submitted") == [{"by": "deadline", "at": pytest.approx(
        utcnow().timestamp() * 1000, abs=5000)}]
    with db.session() as s:
        d = s.get(DeliveryAttempt, done.attempt_id)
        assert d.state == "submitted" and d.submitted_by == "deadline"
        assert s.get(Attempt, done.attempt_id).status == "submitted"
    assert [r[0] for r in stored(db, done.attempt_id)] == [1, 2]


def test_the_deadline_job_is_declared_and_runs_with_the_scheduler(app, db, room):
    from core.jobs import declared_jobs, run_due_jobs

    keys = {j.key for j in declared_jobs()}
    assert {"cbt.delivery.deadlines", "cbt.delivery.tokens"} <= keys
    _kiosk, done = signed_in(app, db, room)
    start_all(db, room)
    with db.transaction() as s:
        s.execute(update(DeliveryAttempt).where(DeliveryAttempt.attempt_id == done.attempt_id)
                  .values(deadline_at=utcnow() - timedelta(seconds=10)))
    assert "cbt.delivery.deadlines" in run_due_jobs()
    with db.session() as s:
        assert s.get(DeliveryAttempt, done.attempt_id).state == "submitted"


def test_integrity_signals_are_recorded_and_repeats_folded(app, db, room):
    kiosk, done = signed_in(app, db, room)
    for _ in range(30):
        assert kiosk.call("signal", {"k": "focus_lost"}) == {"ok": True}
    assert kiosk.call("signal", {"k": "paste", "n": 2})["ok"]
    assert kiosk.call("signal", {"k": "screenshot"})["error"] == "invalid"
    with db.session() as s:
        rows = s.execute(select(IntegrityEvent.kind, IntegrityEvent.count).where(
            IntegrityEvent.attempt_id == done.attempt_id)).all()
    kinds = {k for k, _c in rows}
    assert {"focus_lost", "paste"} <= kinds
    assert sum(1 for k, _c in rows if k == "focus_lost") == 1  # thirty folded into one row


def test_a_flooding_kiosk_is_rate_limited(app, db, room):
    kiosk, _done = signed_in(app, db, room)
    start_all(db, room)
    results = [kiosk.call("time", {}) for _ in range(200)]
    limited = [r for r in results if r.get("error") == "rate_limited"]
    assert limited and all(r["retry_ms"] > 0 for r in limited)


def test_tokens_rotate_per_window_are_made_once_and_the_last_one_has_a_grace(db, room):
    t0 = utcnow().replace(microsecond=0)
    window = tokens.window_of(t0)
    first = tokens.token_for(db, room.session_id, window)
    assert tokens.token_for(db, room.session_id, window) == first
    assert len(first) == 6 and first.isalnum() and not set(first) & set("01IO")
    start_next = tokens.window_end(window)
    nxt = tokens.token_for(db, room.session_id, window + 1)
    assert tokens.check(db, room.session_id, first, start_next + timedelta(seconds=30))
    assert not tokens.check(db, room.session_id, first,
                            start_next + timedelta(seconds=tokens.GRACE_S + 5))
    assert tokens.check(db, room.session_id, nxt.lower(), start_next + timedelta(seconds=30))
    assert not tokens.check(db, room.session_id, "", t0)


def test_seb_config_key_is_checked_on_sign_in_and_on_the_socket(app, db, room):
    key = "ab" * 32
    with db.transaction() as s:
        integrity.set_policy(s, room.lab_id, True, [key.upper()])
    number = room.numbers[0]
    token = enrol(db, room.seats[number])
    url = "https://exam.lab/cbt/kiosk/signin"
    with pytest.raises(attempts.DeliveryError) as info:
        sign_in(db, token, number, room.passwords[number], seb=(url, "00" * 32))
    assert info.value.code == "seb_required"
    done = sign_in(db, token, number, room.passwords[number],
                   seb=(url, integrity.config_key_hash(url, key)))
    page = "https://exam.lab/cbt/kiosk/"
    assert not Kiosk(app, token, done.attempt_id, done.login).connected
    assert not Kiosk(app, token, done.attempt_id, done.login, seb_url="https://x/other",
                     seb_key=integrity.config_key_hash("https://x/other", key)).connected
    assert Kiosk(app, token, done.attempt_id, done.login, seb_url=page,
                 seb_key=integrity.config_key_hash(page, key)).connected
    with db.session() as s:
        assert "seb_failed" in s.scalars(select(IntegrityEvent.kind)).all()
    with db.transaction() as s, pytest.raises(ValueError):
        integrity.set_policy(s, room.lab_id, True, ["not-a-key"])
