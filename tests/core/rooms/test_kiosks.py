"""Kiosk enrolment over HTTP, heartbeats (HTTP and Socket.IO), online state, revocation."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.db import utcnow
from core.rooms import kiosks, service
from core.rooms.models import EnrolmentCode, Kiosk, Lab


@pytest.fixture
def lab1(db) -> Lab:
    with db.session() as session:
        lab = service.lab_by_code(session, "LAB-1")
    assert lab is not None, "the demo lab LAB-1 is missing"
    return lab


def _code(db, lab, minutes_ago: float = 0) -> str:
    now = utcnow() - timedelta(minutes=minutes_ago)
    with db.transaction() as session:
        return kiosks.new_code(session, session.get(Lab, lab.id), now=now).code


def _enrol(guest, code, seat="A1", **extra):
    return guest.post_json("/kiosk/enrol", {"code": code, "seat": seat, **extra})


def _kiosk(db, kiosk_id) -> Kiosk:
    with db.session() as session:
        return session.get(Kiosk, kiosk_id)


def _seen(kiosk: Kiosk) -> datetime:
    seen = kiosk.last_seen_at
    assert seen is not None, "an enrolled kiosk has no last-seen time"
    return seen


# -- enrolment -----------------------------------------------------------------------------


def test_staff_show_a_code_and_a_pc_enrols_at_the_seat_it_picks(app, db, login, guest, lab1):
    staff = login("wdm")
    page = staff.post(f"/rooms/{lab1.id}/enrol", follow_redirects=True)
    assert page.status_code == 200
    shown = re.search(r'id="enrol-code"[^>]*>([A-Z0-9]{6})<', page.get_data(as_text=True))
    assert shown is not None, "the enrolment screen shows no code"
    code = shown.group(1)
    assert not set(code) & set("IO01")

    # The PC: the page shows the enrolment screen, the code opens the seat map.
    screen = guest.get("/kiosk")
    assert 'data-state="enrol"' in screen.get_data(as_text=True)
    found = guest.post_json("/kiosk/code", {"code": code.lower()[:3] + " " + code.lower()[3:]})
    assert found.status_code == 200, found.get_data(as_text=True)[:3000]
    assert found.json["lab"]["code"] == "LAB-1"
    assert len(found.json["seats"]) == 40
    b3 = next(s for s in found.json["seats"] if s["label"] == "B3")

    done = guest.post_json("/kiosk/enrol", {"code": code, "seat_id": b3["id"]})
    assert done.status_code == 200, done.json
    token = done.json["token"]
    assert len(token) >= 40
    assert done.json["kiosk"]["seat"]["label"] == "B3"
    cookie = guest.client.get_cookie(kiosks.TOKEN_COOKIE)
    assert cookie is not None and cookie.value == token and cookie.http_only

    # Only the token's hash is stored, and the enrolment is audited.
    with db.session() as session:
        kiosk = session.get(Kiosk, done.json["kiosk"]["id"])
        assert kiosk.token_hash != token and len(kiosk.token_hash) == 64
        known = kiosks.authenticate_token(session, token)
        assert known is not None and known.id == kiosk.id
        audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "kiosk.enrol"))
    assert audit.details["seat"] == "B3"

    # The page now says where this PC sits and that it waits for an exam.
    page = guest.get("/kiosk").get_data(as_text=True)
    assert 'data-state="enrolled"' in page
    assert "Lab Komputer 1" in page and ">B3<" in page
    assert "Menunggu ujian" in page


def test_a_seat_label_can_be_typed_instead_of_picked(app, db, guest, lab1):
    code = _code(db, lab1)
    done = _enrol(guest, code, seat="e8")
    assert done.status_code == 200
    assert done.json["kiosk"]["seat"]["label"] == "E8"
    missing = _enrol(guest, code, seat="F1")
    assert missing.status_code == 400
    assert missing.json["message"] == "Lab LAB-1 tidak memiliki kursi F1."


def test_enrolling_a_seat_again_revokes_the_previous_kiosk(app, db, guest, login, lab1):
    code = _code(db, lab1)
    first = _enrol(guest, code, seat="A1").json
    second_pc = login("peserta")  # any other browser
    second = _enrol(second_pc, code, seat="A1").json
    assert second["replaced"] == [first["kiosk"]["id"]]
    with db.session() as session:
        assert kiosks.authenticate_token(session, first["token"]) is None
        assert kiosks.authenticate_token(session, second["token"]) is not None
        code_row = session.scalar(select(EnrolmentCode).where(EnrolmentCode.code == code))
    assert code_row.uses == 2


def test_wrong_codes_are_throttled_per_address(app, db, guest, lab1):
    code = _code(db, lab1)
    wrong = "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY"
    for _ in range(kiosks.MAX_FAILURES):
        resp = guest.post_json("/kiosk/code", {"code": wrong})
        assert resp.status_code == 400
        assert resp.json["message"] == "Kode itu tidak berlaku. Periksa kode di layar."
    # Now even the right code waits: a guesser learns nothing more.
    blocked = guest.post_json("/kiosk/code", {"code": code})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Terlalu banyak kode salah" in blocked.json["message"]
    assert _enrol(guest, code).status_code == 429
    # Another address is not affected.
    other = guest.client.post("/kiosk/code", json={"code": code},
                              environ_base={"REMOTE_ADDR": "10.0.0.7"},
                              headers={"X-CSRFToken": guest.csrf})
    assert other.status_code == 200


def test_expired_code_is_refused_and_asks_for_a_new_one(app, db, guest, lab1):
    code = _code(db, lab1, minutes_ago=16)
    resp = guest.post_json("/kiosk/code", {"code": code})
    assert resp.status_code == 410
    assert resp.json["error"] == "expired"
    assert _enrol(guest, code).status_code == 410


def test_a_new_code_replaces_the_old_one_and_staff_can_close_enrolment(app, db, login, guest,
                                                                        lab1):
    old = _code(db, lab1)
    new = _code(db, lab1)
    assert guest.post_json("/kiosk/code", {"code": old}).status_code == 410
    staff = login("yansi")
    assert staff.post(f"/rooms/{lab1.id}/enrol/end").status_code == 302
    assert guest.post_json("/kiosk/code", {"code": new}).status_code == 410


def test_bad_enrolment_input_is_refused_with_a_message(app, guest):
    resp = guest.post_json("/kiosk/code", {"code": ""})
    assert resp.status_code == 400 and resp.json["problems"][0]["field"] == "code"
    resp = guest.post_json("/kiosk/enrol", {"code": "ABCDEF"})
    assert resp.status_code == 400 and resp.json["field"] == "seat"


def test_enrolment_needs_the_csrf_token_of_the_kiosk_page(app, guest):
    resp = guest.client.post("/kiosk/code", json={"code": "ABCDEF"},
                             headers={"Accept": "application/json"})
    assert resp.status_code == 400
    assert resp.json["error"] == "csrf"


# -- heartbeats and online -----------------------------------------------------------------


def test_http_heartbeat_marks_the_kiosk_online(app, db, guest, client, lab1):
    code = _code(db, lab1)
    done = _enrol(guest, code, seat="C2").json
    with db.transaction() as session:  # pretend the PC has been off for a minute
        kiosk = session.get(Kiosk, done["kiosk"]["id"])
        kiosk.last_seen_at = utcnow() - timedelta(minutes=1)
        kiosks._forget(kiosk.id)
    assert not kiosks.is_online(_kiosk(db, done["kiosk"]["id"]))

    # A fresh client (no cookie, no CSRF): the header alone authenticates the heartbeat.
    resp = client.post("/kiosk/heartbeat", headers={kiosks.TOKEN_HEADER: done["token"]})
    assert resp.status_code == 200, resp.json
    assert resp.json["kiosk"]["seat"]["label"] == "C2"
    assert kiosks.is_online(_kiosk(db, done["kiosk"]["id"]))
    # The browser lost its cookie: the heartbeat gives it back.
    assert client.get_cookie(kiosks.TOKEN_COOKIE).value == done["token"]

    unknown = client.post("/kiosk/heartbeat", headers={kiosks.TOKEN_HEADER: "nope"})
    assert unknown.status_code == 401


def test_heartbeats_reach_last_seen_in_one_write_after_the_flush(app, db, guest, lab1):
    code = _code(db, lab1)
    kiosk_id = _enrol(guest, code, seat="C3").json["kiosk"]["id"]
    r = app.extensions["ruang"]
    with db.transaction() as session:
        session.get(Kiosk, kiosk_id).last_seen_at = utcnow() - timedelta(minutes=5)
    kiosks._forget(kiosk_id)
    for _ in range(5):
        assert kiosks.heartbeat(r.db, kiosk_id, ip="10.0.0.7", user_agent="Kiosk/2")
    # Not written yet, but this process already counts the kiosk as online.
    stored = _kiosk(db, kiosk_id)
    assert utcnow() - _seen(stored) > timedelta(minutes=4)
    assert kiosks.is_online(stored)
    assert kiosks.flush_seen(r.db) == 1
    stored = _kiosk(db, kiosk_id)
    assert utcnow() - _seen(stored) < timedelta(seconds=2)
    assert (stored.last_ip, stored.user_agent) == ("10.0.0.7", "Kiosk/2")
    # A heartbeat that does not say where it comes from keeps the stored address.
    assert kiosks.heartbeat(r.db, kiosk_id)
    assert kiosks.flush_seen(r.db) == 1
    assert _kiosk(db, kiosk_id).last_ip == "10.0.0.7"
    assert kiosks.flush_seen(r.db) == 0  # nothing heard since


def test_the_background_writer_flushes_by_itself(app, db, guest, lab1, monkeypatch):
    monkeypatch.setattr(kiosks, "FLUSH_EVERY", 0.05)
    kiosk_id = _enrol(guest, _code(db, lab1), seat="C4").json["kiosk"]["id"]
    with db.transaction() as session:
        session.get(Kiosk, kiosk_id).last_seen_at = utcnow() - timedelta(minutes=5)
    kiosks._forget(kiosk_id)
    assert kiosks.heartbeat(app.extensions["ruang"].db, kiosk_id)
    deadline = time.monotonic() + 5
    while utcnow() - _seen(_kiosk(db, kiosk_id)) > timedelta(seconds=2):
        assert time.monotonic() < deadline, "the heartbeat never reached the database"
        time.sleep(0.02)


def test_a_revocation_by_another_process_is_noticed_at_the_next_flush(app, db, guest, lab1):
    kiosk_id = _enrol(guest, _code(db, lab1), seat="C5").json["kiosk"]["id"]
    r = app.extensions["ruang"]
    assert kiosks.heartbeat(r.db, kiosk_id)
    # Another server process revokes it: this one is not told through _forget.
    with db.transaction() as session:
        session.get(Kiosk, kiosk_id).revoked_at = utcnow()
    assert kiosks.heartbeat(r.db, kiosk_id)  # still believed valid until the next round
    kiosks.flush_seen(r.db)
    assert not kiosks.heartbeat(r.db, kiosk_id)
    assert not kiosks.is_online(_kiosk(db, kiosk_id))


def test_online_means_heard_from_within_thirty_seconds(app, db, guest, lab1):
    done = _enrol(guest, _code(db, lab1), seat="D1").json
    kiosk = _kiosk(db, done["kiosk"]["id"])
    now = kiosk.last_seen_at
    assert now is not None
    assert kiosks.is_online(kiosk, now + timedelta(seconds=30))
    assert not kiosks.is_online(kiosk, now + timedelta(seconds=31))


# -- Socket.IO -----------------------------------------------------------------------------


def _socket(app, token=None, **kw):
    sio = app.extensions["ruang"].socketio
    auth = {"token": token} if token is not None else None
    return sio.test_client(app, namespace=kiosks.NAMESPACE, auth=auth, **kw)


def test_socket_connect_is_refused_for_a_bad_token_and_accepted_for_a_good_one(app, db, guest,
                                                                               lab1):
    done = _enrol(guest, _code(db, lab1), seat="A5").json
    assert not _socket(app, "not-a-token").is_connected(kiosks.NAMESPACE)
    assert not _socket(app).is_connected(kiosks.NAMESPACE)
    assert not _socket(app, "x" * 500).is_connected(kiosks.NAMESPACE)
    good = _socket(app, done["token"])
    assert good.is_connected(kiosks.NAMESPACE)
    assert good.emit("heartbeat", {"page": "waiting"}, namespace=kiosks.NAMESPACE,
                     callback=True) == {"ok": True}
    good.disconnect(namespace=kiosks.NAMESPACE)


def test_socket_accepts_the_kiosk_cookie_when_no_token_is_given(app, db, guest, lab1):
    _enrol(guest, _code(db, lab1), seat="A6")
    sock = _socket(app, flask_test_client=guest.client)
    assert sock.is_connected(kiosks.NAMESPACE)


def test_socket_heartbeat_marks_the_kiosk_online(app, db, guest, lab1):
    done = _enrol(guest, _code(db, lab1), seat="A7").json
    kiosk_id = done["kiosk"]["id"]
    with db.transaction() as session:
        session.get(Kiosk, kiosk_id).last_seen_at = utcnow() - timedelta(minutes=5)
    kiosks._forget(kiosk_id)
    sock = _socket(app, done["token"])
    assert sock.is_connected(kiosks.NAMESPACE)
    assert kiosks.is_online(_kiosk(db, kiosk_id))  # connecting counts as being heard from
    with db.transaction() as session:
        session.get(Kiosk, kiosk_id).last_seen_at = utcnow() - timedelta(minutes=5)
    kiosks._forget(kiosk_id)
    ack = sock.emit("heartbeat", {}, namespace=kiosks.NAMESPACE, callback=True)
    assert ack == {"ok": True}
    assert kiosks.is_online(_kiosk(db, kiosk_id))


def test_kiosks_of_a_lab_hear_what_plugins_send_them(app, db, guest, lab1):
    done = _enrol(guest, _code(db, lab1), seat="B1").json
    sock = _socket(app, done["token"])
    sock.get_received(kiosks.NAMESPACE)
    kiosks.open_page("/cbt/kiosk", lab_id=lab1.id)
    got = sock.get_received(kiosks.NAMESPACE)
    assert [(m["name"], m["args"][0]) for m in got] == [("open", {"path": "/cbt/kiosk"})]
    with pytest.raises(ValueError):
        kiosks.open_page("https://elsewhere.example/", lab_id=lab1.id)


# -- revocation ----------------------------------------------------------------------------


def test_revoking_a_kiosk_refuses_it_everywhere(app, db, login, guest, client, lab1):
    done = _enrol(guest, _code(db, lab1), seat="B2").json
    token, kiosk_id = done["token"], done["kiosk"]["id"]
    sock = _socket(app, token)
    assert sock.emit("heartbeat", {}, namespace=kiosks.NAMESPACE, callback=True)["ok"]
    sock.get_received(kiosks.NAMESPACE)

    staff = login("jds")
    listing = staff.get(f"/rooms/{lab1.id}/kiosks").get_data(as_text=True)
    assert f'data-kiosk="{kiosk_id}"' in listing
    resp = staff.post(f"/rooms/kiosks/{kiosk_id}/revoke", {"reason": "PC diganti"})
    assert resp.status_code == 302

    # The connected PC is told at once, and its next heartbeat is refused.
    got = sock.get_received(kiosks.NAMESPACE)
    assert ("revoked", {"reason": "PC diganti"}) in [(m["name"], m["args"][0]) for m in got]
    ack = sock.emit("heartbeat", {}, namespace=kiosks.NAMESPACE, callback=True)
    assert ack == {"ok": False, "error": "revoked"}
    # Reconnecting, the HTTP heartbeat, the page and other plugins all refuse the token.
    assert not _socket(app, token).is_connected(kiosks.NAMESPACE)
    assert client.post("/kiosk/heartbeat",
                       headers={kiosks.TOKEN_HEADER: token}).status_code == 401
    assert 'data-state="enrol"' in guest.get("/kiosk").get_data(as_text=True)
    assert guest.client.get_cookie(kiosks.TOKEN_COOKIE) is None
    with db.session() as session:
        assert kiosks.authenticate_token(session, token) is None
        revoked = session.get(Kiosk, kiosk_id)
        audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "kiosk.revoke"))
    assert revoked.revoked_at is not None
    assert audit.actor_name == "jds" and audit.details["reason"] == "PC diganti"
