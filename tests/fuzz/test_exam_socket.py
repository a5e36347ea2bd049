"""Every message handler of the kiosk's ``/exam`` namespace under random payloads.

Whatever arrives (any JSON, or a message shaped like the real one with wrong values), the
acknowledgement is an answer of the protocol: ``{"ok": true, ...}`` or a refusal with one
of its error codes, never an exception; and a connection handshake with random ``auth`` is
either accepted or refused, never a crash. Runs in process (Flask-SocketIO's test client)
on the real SQLite database of a started exam.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from plugins.cbt.delivery import tokens
from plugins.cbt.delivery.push import NAMESPACE
from plugins.cbt.delivery.signin import sign_in
from tests.fuzz.strategies import handshake_payloads, json_values, shaped
from tests.plugins.cbt.delivery.conftest import Room, enrol, exam_room
from tests.plugins.cbt.delivery.test_socket import Kiosk

# docs/protocol.md, section 11.
CODES = {"invalid", "wrong_attempt", "version", "not_enrolled", "logged_out", "not_signed_in",
         "rate_limited", "unavailable", "not_running", "late", "paused", "locked",
         "needs_admission", "refused", "submitted", "bad_token", "throttled", "closed"}

ints = st.integers(-5, 20) | st.integers()
MESSAGES: dict[str, st.SearchStrategy[Any]] = {
    "hello": shaped({"v": ints}),
    "start": shaped({"token": st.text(max_size=25)}),
    "answer": shaped({"a": ints, "s": ints, "q": ints, "v": json_values,
                      "f": st.booleans()}),
    "time": shaped({"t": ints}),
    "signal": shaped({"k": st.sampled_from(["focus_lost", "copy", "nope"]), "n": ints,
                      "d": st.text(max_size=250)}),
    "submit": shaped({"s": st.integers(-1, 2**40)}),
}


def check_ack(event: str, ack: Any) -> None:
    assert isinstance(ack, dict), f"{event}: acknowledgement {ack!r}"
    assert isinstance(ack.get("ok"), bool), f"{event}: {ack!r}"
    if not ack["ok"]:
        assert ack.get("error") in CODES, f"{event}: unknown refusal {ack!r}"


class Connection:
    """One kiosk connection that is opened again when the server cut it off (after 20
    malformed messages, as the protocol says)."""

    def __init__(self, app: Any, token: str, attempt: int, login: str) -> None:
        self.args = (app, token, attempt, login)
        self.kiosk = Kiosk(*self.args)

    def call(self, event: str, payload: Any) -> Any:
        if not self.kiosk.connected:
            self.kiosk = Kiosk(*self.args)
            assert self.kiosk.connected
        return self.kiosk.client.emit(event, payload, namespace=NAMESPACE, callback=True)


def signed_in(app: Any, db: Any, room: Room) -> tuple[Connection, Any, str]:
    number = room.numbers[0]
    token = enrol(db, room.seats[number])
    done = sign_in(db, token, number, room.passwords[number])
    return Connection(app, token, done.attempt_id, done.login), done, token


def test_random_messages_get_protocol_answers_only(app, db):
    room = exam_room(db, 2)
    conn, done, _token = signed_in(app, db, room)
    token, _ = tokens.current(db, room.session_id)
    assert conn.call("start", {"token": token})["ok"]
    events = sorted(set(MESSAGES) - {"submit"})

    @given(st.sampled_from(events).flatmap(
        lambda e: st.tuples(st.just(e), MESSAGES[e] | json_values)))
    def prop(case: tuple[str, Any]) -> None:
        event, payload = case
        check_ack(event, conn.call(event, payload))

    prop()
    # The attempt is still usable after all of it.
    ack = conn.call("answer", {"a": done.attempt_id, "s": 2**31 - 1, "q": 1, "v": None})
    assert ack.get("ok"), ack


def test_random_submits_and_handshakes_never_crash(app, db):
    room = exam_room(db, 2)
    conn, done, kiosk_token = signed_in(app, db, room)
    socketio = app.extensions["ruang"].socketio

    @given(MESSAGES["submit"] | json_values)
    def submits(payload: Any) -> None:
        check_ack("submit", conn.call("submit", payload))

    submits()

    @given(shaped({"v": ints, "kiosk": st.just(kiosk_token) | st.text(max_size=20),
                   "attempt": st.just(done.attempt_id) | ints,
                   "login": st.just(done.login) | st.text(max_size=120),
                   "seb_url": st.text(max_size=20), "seb_key": st.text(max_size=20)})
           | handshake_payloads)
    def handshakes(auth: Any) -> None:
        client = socketio.test_client(app, namespace=NAMESPACE, auth=auth)
        if client.is_connected(NAMESPACE):
            client.disconnect(namespace=NAMESPACE)

    handshakes()
