"""The proctor's actions and live seat map, in process: real SQLite, Flask-SocketIO's test
clients for the kiosks' ``/exam`` and the proctor's ``/proctor`` namespaces.

Pause and resume move the deadline by exactly the pause; every action needs a reason and
leaves an audit entry with it; paused and locked attempts refuse answers (and keep the
kiosk's change for later); late candidates wait for admission; a proctor not assigned to
the session is refused on the namespace; the seat map counts answers from the latest
change per item, in SQL, and sends only what changed.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.audit.models import AuditEntry
from core.db import utcnow
from plugins.cbt.delivery import attempts, proctor, seatmap, tokens
from plugins.cbt.delivery.models import DeliveryAttempt, Incident
from plugins.cbt.delivery.signin import sign_in
from plugins.cbt.models import CbtSession
from tests.plugins.cbt.delivery.conftest import enrol, exam_room, user
from tests.plugins.cbt.delivery.test_socket import Kiosk, position_of, signed_in, start_all


def proctor_client(app: Any, browser: Any, session_id: int) -> Any:
    socketio = app.extensions["ruang"].socketio
    return socketio.test_client(app, namespace=seatmap.NAMESPACE, auth={"session": session_id},
                                flask_test_client=browser.client)


def received(client: Any, name: str) -> list[Any]:
    return [e["args"][0] for e in client.get_received(seatmap.NAMESPACE) if e["name"] == name]


def got(kiosk: Kiosk, name: str) -> list[Any]:
    """Events ``name`` the kiosk received so far (the test client hands each out once)."""
    buf: list[dict[str, Any]] = kiosk.__dict__.setdefault("_events", [])
    buf.extend(kiosk.client.get_received("/exam"))
    out = []
    for e in buf:
        if e["name"] == name:
            args = e.get("args")
            out.append(args[0] if isinstance(args, list) and args else args)
    return out


def act(db: Any, room: Any, action: str, attempt: int | None, username: str = "pengawas",
        **kw: Any) -> proctor.Result:
    with db.transaction() as s:
        return proctor.act(s, room.session_id, action, user(s, username), attempt_id=attempt,
                           **kw)


def delivery(db: Any, attempt_id: int) -> DeliveryAttempt:
    with db.session() as s:
        d = s.get(DeliveryAttempt, attempt_id)
        assert d is not None
        return d


def audit_of(db: Any, action: str) -> list[AuditEntry]:
    with db.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_pause_stops_the_clock_and_resume_moves_the_deadline_by_the_pause(app, db, room):
    kiosk, done = signed_in(app, db, room)
    start_all(db, room)
    before = delivery(db, done.attempt_id).deadline_at
    assert before is not None
    t0 = utcnow()
    assert act(db, room, "pause", done.attempt_id, reason="listrik padam", now=t0).done == [
        done.attempt_id]
    d = delivery(db, done.attempt_id)
    assert d.state == "paused" and d.paused_at == t0
    assert [e["at"] for e in got(kiosk, "paused")]
    # Answers and submission are refused while paused: the kiosk keeps them for later.
    ack = kiosk.answer(1, position_of(db, done.attempt_id, "truefalse"), True)
    assert ack["ok"] is False and ack["error"] == "paused"
    assert kiosk.call("submit", {})["error"] == "paused"
    hello = kiosk.call("hello", {"v": 1})
    assert hello["state"] == "paused" and hello["key"] and hello["paused_at"]
    # The deadline job leaves a paused attempt alone, even past its deadline.
    assert attempts.auto_submit_due(db, now=before + timedelta(minutes=5)) == []

    act(db, room, "resume", None, reason="listrik menyala", now=t0 + timedelta(seconds=125))
    d = delivery(db, done.attempt_id)
    assert d.state == "running" and d.paused_at is None and d.paused_s == 125
    assert d.deadline_at == before + timedelta(seconds=125)
    resumed = got(kiosk, "resumed")
    assert resumed and resumed[-1]["paused_s"] == 125
    assert kiosk.answer(2, position_of(db, done.attempt_id, "truefalse"), True)["ok"]
    # An extension afterwards keeps the pause in the deadline.
    act(db, room, "extend", done.attempt_id, reason="PC lambat", minutes=5)
    assert delivery(db, done.attempt_id).deadline_at == before + timedelta(seconds=125 + 300)
    assert got(kiosk, "time")[-1]["deadline"] == seatmap.ms(before + timedelta(seconds=425))


@pytest.mark.parametrize("action", ["admit", "refuse", "extend", "pause", "resume", "lock",
                                    "unlock", "reset", "force_submit", "reopen", "message",
                                    "incident"])
def test_every_action_needs_a_reason_and_writes_nothing_without(app, db, room, action):
    _kiosk, done = signed_in(app, db, room)
    with db.session() as s:
        entries = s.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(proctor.ProctorError) as err:
        act(db, room, action, done.attempt_id, reason="  ", minutes=5)
    assert err.value.code == "reason_required"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == entries
        assert s.scalar(select(func.count()).select_from(Incident)) == 0


def test_actions_are_audited_with_their_reason_and_reach_the_kiosk(app, db, room):
    kiosk, done = signed_in(app, db, room)
    other, done2 = signed_in(app, db, room, 1)
    start_all(db, room)
    aid = done.attempt_id
    act(db, room, "lock", aid, reason="mencurigakan")
    assert got(kiosk, "locked") == [{}] and not got(other, "locked")
    ack = kiosk.answer(1, 1, None)
    assert ack["error"] == "locked"
    act(db, room, "unlock", aid, reason="sudah diperiksa")
    assert got(kiosk, "unlocked") == [{}]
    assert kiosk.answer(2, 1, None)["ok"]
    act(db, room, "extend", None, reason="mulai terlambat", minutes=10)
    assert got(kiosk, "time") and got(other, "time")
    act(db, room, "message", None, text="Sisa waktu 10 menit")
    assert got(kiosk, "message")[-1]["text"] == "Sisa waktu 10 menit"
    assert got(other, "message")[-1]["to"] == "room"
    act(db, room, "message", aid, text="Duduk tegak")
    last = got(kiosk, "message")[-1]
    assert last["text"] == "Duduk tegak" and last["to"] == "you"
    assert not [m for m in got(other, "message") if m["text"] == "Duduk tegak"]
    act(db, room, "force_submit", aid, reason="menyontek")
    assert got(kiosk, "submitted")[-1]["by"] == "proctor"
    assert kiosk.answer(3, 1, None)["error"] == "submitted"
    result = act(db, room, "reopen", aid, reason="salah tekan", minutes=15)
    d = delivery(db, aid)
    assert result.done == [aid] and d.state == "running" and d.submitted_at is None
    assert d.deadline_at is not None
    assert abs((d.deadline_at - (utcnow() + timedelta(minutes=15))).total_seconds()) < 5
    assert got(kiosk, "reopened")
    assert kiosk.answer(4, 1, None)["ok"]
    row = act(db, room, "incident", aid, text="Peserta sakit kepala", category="health")
    with db.session() as s:
        incident = s.get(Incident, row.done[0])
        assert incident.session_id == room.session_id and incident.attempt_id == aid
        assert incident.category == "health" and incident.by_name
    for action, reason in [("cbt.attempt.locked", "mencurigakan"),
                           ("cbt.attempt.unlocked", "sudah diperiksa"),
                           ("cbt.attempt.force_submitted", "menyontek"),
                           ("cbt.attempt.reopened", "salah tekan")]:
        entries = audit_of(db, action)
        assert entries and entries[-1].details["reason"] == reason, action
        assert entries[-1].actor_name == "pengawas"
    assert len(audit_of(db, "cbt.attempt.time_changed")) == 2
    assert audit_of(db, "cbt.session.incident")[-1].details["category"] == "health"
    assert done2.attempt_id != aid


def test_a_late_candidate_waits_for_admission(app, db):
    room = exam_room(db, 3, started_ago=timedelta(minutes=30))
    _first, _done = signed_in(app, db, room, 0)
    with db.transaction() as s:  # the room began 20 minutes ago
        attempts.start_session(s, s.get(CbtSession, room.session_id),
                               now=utcnow() - timedelta(minutes=20))
    late, done = signed_in(app, db, room, 1)
    token, _ = tokens.current(db, room.session_id)
    ack = late.call("start", {"token": token})
    assert ack["ok"] is False and ack["error"] == "needs_admission"
    with db.session() as s:
        row = next(r for r in seatmap.seats(s, room.session_id) if r["a"] == done.attempt_id)
        assert row["late"] and row["s"] == "ready"
    # The proctor's start for everyone skips them too.
    with db.transaction() as s:
        assert attempts.start_session(s, s.get(CbtSession, room.session_id)) == []
    act(db, room, "admit", done.attempt_id, reason="ban bocor")
    started = got(late, "started")
    assert started and started[-1]["key"]
    assert delivery(db, done.attempt_id).state == "running"

    refused, done3 = signed_in(app, db, room, 2)
    act(db, room, "refuse", done3.attempt_id, reason="terlambat 40 menit")
    assert got(refused, "logged_out") == [{"reason": "refused"}]
    # Signing in again does not get them past the refusal.
    number = room.numbers[2]
    token2 = enrol(db, room.seats[number])
    again = sign_in(db, token2, number, room.passwords[number])
    k = Kiosk(app, token2, again.attempt_id, again.login)
    assert k.call("start", {"token": token})["error"] == "refused"
    assert audit_of(db, "cbt.attempt.refused")[-1].details["reason"] == "terlambat 40 menit"


def test_reset_logs_the_old_kiosk_out_and_keeps_answers(app, db, room):
    kiosk, done = signed_in(app, db, room)
    start_all(db, room)
    q = position_of(db, done.attempt_id, "truefalse")
    assert kiosk.answer(1, q, True)["ok"]
    act(db, room, "reset", done.attempt_id, reason="PC rusak")
    assert got(kiosk, "logged_out") == [{"reason": "reset"}]
    assert kiosk.answer(2, q, False)["error"] == "logged_out"
    d = delivery(db, done.attempt_id)
    assert d.login_hash == "" and d.state == "running" and d.resets == 1
    with db.session() as s:
        row = next(r for r in seatmap.seats(s, room.session_id) if r["a"] == done.attempt_id)
        assert row["s"] == "signed_out" and row["q"] == 1


def test_the_seat_map_counts_the_latest_answer_of_each_item_in_sql(app, db, room):
    kiosk, done = signed_in(app, db, room)
    start_all(db, room)
    aid = done.attempt_id
    pos = {kind: position_of(db, aid, kind) for kind in
           ("single", "multiple", "truefalse", "short", "matching", "essay")}
    seq = 0

    def answer(kind: str, value: Any, flagged: bool = False) -> None:
        nonlocal seq
        seq += 1
        assert kiosk.answer(seq, pos[kind], value, flagged)["ok"]

    answer("single", 1)
    answer("single", None, True)       # taken back, but marked: flagged, not answered
    answer("multiple", [0, 1])
    answer("truefalse", False)         # false is an answer
    answer("short", "")                # empty text is not
    answer("matching", [None, None])   # nothing matched is not
    answer("essay", "null")            # the word is an answer
    answer("multiple", [])             # the last change wins: no longer answered
    answer("matching", [None, 1], True)
    # Connects and disconnects are written with the next round of seat updates.
    assert seatmap.flusher(app).write_presence() == 1
    with db.session() as s:
        assert seatmap.counts(s, [aid]) == {aid: (3, 2)}
        rows = {r["a"]: r for r in seatmap.seats(s, room.session_id)}
    assert rows[aid]["q"] == 3 and rows[aid]["f"] == 2 and rows[aid]["t"] == 7
    assert rows[aid]["s"] == "running" and rows[aid]["on"] is True
    with db.session() as s:
        states = [r["s"] for r in seatmap.seats(s, room.session_id)]
    assert sorted(states) == ["absent", "absent", "running"]
    with db.session() as s:
        assert attempts.answered_count(s, aid) == 3  # the Python reading agrees
    kiosk.call("signal", {"k": "focus_lost", "n": 2})
    kiosk.call("signal", {"k": "reload"})
    with db.session() as s:
        row = seatmap.seats(s, room.session_id, [aid])
    assert len(row) == 1 and row[0]["w"] == {"focus_lost": 2, "reload": 1}
    kiosk.client.disconnect(namespace="/exam")
    with db.session() as s:
        assert seatmap.seats(s, room.session_id, [aid])[0]["on"] is True  # not written yet
    seatmap.flusher(app).flush()
    with db.session() as s:
        assert seatmap.seats(s, room.session_id, [aid])[0]["on"] is False


def test_the_proctor_namespace_checks_the_session_and_sends_batched_deltas(app, db, room, login):
    kiosk, done = signed_in(app, db, room)
    start_all(db, room)
    assert not proctor_client(app, login("pemohon"), room.session_id).is_connected(
        seatmap.NAMESPACE)
    watcher = proctor_client(app, login("pengawas"), room.session_id)
    assert watcher.is_connected(seatmap.NAMESPACE)
    snap = received(watcher, "snapshot")
    assert len(snap) == 1 and len(snap[0]["seats"]) == 3
    assert snap[0]["session"] == room.session_id
    assert not proctor_client(app, login("pengawas"), 999999).is_connected(seatmap.NAMESPACE)
    staff = proctor_client(app, login("yansi"), room.session_id)
    assert staff.is_connected(seatmap.NAMESPACE)

    # Ten answers: a message or two (the flusher's rhythm), with only the seat that changed.
    q = position_of(db, done.attempt_id, "truefalse")
    received(watcher, "seats")  # what the start sent
    for seq in range(1, 11):
        assert kiosk.answer(seq, q, seq % 2 == 0)["ok"]
    batches: list[Any] = []
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and not any(
            r["q"] == 1 for b in batches for r in b["seats"]):
        time.sleep(0.05)
        batches += received(watcher, "seats")
    assert batches, "no delta within 2 s"
    assert len(batches) <= 3
    assert {r["a"] for b in batches for r in b["seats"]} == {done.attempt_id}
    assert batches[-1]["seats"][0]["q"] == 1
    flusher = seatmap.flusher(app)
    flusher.flush()
    assert flusher.flush() == 0  # nothing changed since

    # A proctor no longer assigned to the session is refused; staff still see every room.
    with db.transaction() as s:
        s.execute(update(CbtSession).where(CbtSession.id == room.session_id)
                  .values(proctor_ids=[]))
    assert not proctor_client(app, login("pengawas"), room.session_id).is_connected(
        seatmap.NAMESPACE)
    ack = staff.emit("snapshot", {}, namespace=seatmap.NAMESPACE, callback=True)
    assert ack["ok"] and len(ack["seats"]) == 3


def test_actions_over_http_need_a_reason_csrf_and_the_session(app, db, room, login):
    kiosk, done = signed_in(app, db, room)
    start_all(db, room)
    url = f"/cbt/exam-rooms/{room.session_id}/actions"
    desk = login("pengawas")
    resp = desk.post_json(url, {"action": "lock", "attempt": done.attempt_id, "reason": ""})
    assert resp.status_code == 400 and resp.json["error"] == "reason_required"
    assert "alasan" in resp.json["message"].lower()
    resp = desk.post_json(url, {"action": "explode", "reason": "x"})
    assert resp.status_code == 400 and resp.json["error"] == "invalid"
    resp = desk.client.post(url, json={"action": "lock", "attempt": done.attempt_id,
                                       "reason": "tanpa csrf"})
    assert resp.status_code in (400, 403)
    resp = desk.post_json(url, {"action": "lock", "attempt": 999999, "reason": "x"})
    assert resp.status_code == 404
    resp = desk.post_json(url, {"action": "lock", "attempt": done.attempt_id,
                                "reason": "melihat ponsel"})
    assert resp.status_code == 200 and resp.json["done"] == [done.attempt_id]
    assert got(kiosk, "locked") == [{}]
    # The same as a plain form.
    resp = desk.post(url, {"action": "unlock", "attempt": str(done.attempt_id),
                           "reason": "ponsel disimpan"})
    assert resp.status_code == 200 and resp.json["ok"]
    assert login("pemohon").post_json(url, {"action": "lock", "reason": "x"}).status_code == 403
    page = desk.get(f"/cbt/exam-rooms/{room.session_id}").get_data(as_text=True)
    assert 'id="seatmap"' in page and "Denah kursi" in page and "<script>" not in page
    project = desk.get(f"/cbt/exam-rooms/{room.session_id}/project").get_data(as_text=True)
    token, _ = tokens.current(db, room.session_id)
    assert token in project and "project-token" in project
