"""HTTP side of delivery: the kiosk's page, sign-in and paper; the proctor's exam room; a
lab's Safe Exam Browser rule. Who may open what, and what they get."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from core.audit.models import AuditEntry
from plugins.cbt.delivery import integrity
from plugins.cbt.delivery.models import DeliveryAttempt, LabPolicy
from plugins.cbt.delivery.signin import MAX_FAILURES
from tests.plugins.cbt.delivery.conftest import csrf_of, enrol


class KioskHttp:
    def __init__(self, app, token: str) -> None:
        self.client = app.test_client()
        self.token = token
        self.client.set_cookie("ruang_kiosk", token)
        page = self.client.get("/cbt/kiosk/")
        assert page.status_code == 200
        self.html = page.get_data(as_text=True)
        self.csrf = csrf_of(self.html)

    def sign_in(self, number: str, password: str, **headers: str):
        return self.client.post("/cbt/kiosk/signin", json={"number": number, "password": password},
                                headers={"X-CSRFToken": self.csrf, "X-Kiosk-Token": self.token,
                                         **headers})


def test_the_exam_page_is_for_enrolled_kiosks_and_has_no_inline_script(app, db, room):
    anonymous = app.test_client()
    resp = anonymous.get("/cbt/kiosk/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/kiosk")
    kiosk = KioskHttp(app, enrol(db, "A1"))
    assert "Kursi" in kiosk.html and "A1" in kiosk.html
    for tag in re.findall(r"<script[^>]*>", kiosk.html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "/assets/katex/" in kiosk.html and "/assets/socket.io-client/" in kiosk.html
    found = re.search(r'id="exam-texts">(.*?)</script>', kiosk.html, re.S)
    assert found is not None
    texts = json.loads(found.group(1))
    # Indonesian (the catalogue's words win over texts.py's; either is Indonesian here).
    assert texts["saved"] == "Tersimpan"
    assert texts["offline"].split(":")[0] in ("Offline", "Luring")
    assert "komputer ini" in texts["offline"]


def test_sign_in_over_http(app, db, room):
    number = room.numbers[0]
    kiosk = KioskHttp(app, enrol(db, room.seats[number]))
    no_csrf = kiosk.client.post("/cbt/kiosk/signin", json={"number": number, "password": "x"},
                                headers={"X-Kiosk-Token": kiosk.token})
    assert no_csrf.status_code == 400
    wrong = kiosk.sign_in(number, "SALAH")
    assert wrong.status_code == 401 and wrong.json["error"] == "wrong"
    assert wrong.json["message"] == "Nomor peserta atau kata sandi salah."
    assert kiosk.sign_in("", "").json["error"] == "wrong"
    ok = kiosk.sign_in(number, room.passwords[number])
    assert ok.status_code == 200 and ok.headers["Cache-Control"] == "no-store"
    body = ok.json
    assert body["ok"] and body["state"] == "ready" and body["candidate"]["number"] == number
    assert body["exam"]["duration_min"] == 30 and body["paper"].endswith(str(body["attempt"]))
    assert body["session"]["starts_at"] < body["now"] < body["session"]["ends_at"]
    # The paper: only for this kiosk and this login.
    url = body["paper"]
    paper = kiosk.client.get(url, headers={"X-Kiosk-Token": kiosk.token,
                                           "X-Attempt-Login": body["login"]})
    assert paper.status_code == 200 and paper.json["aad"].endswith(str(body["attempt"]))
    assert paper.headers["Cache-Control"] == "no-store"
    assert kiosk.client.get(url, headers={"X-Kiosk-Token": kiosk.token,
                                          "X-Attempt-Login": "x" * 43}).status_code == 401
    other = KioskHttp(app, enrol(db, "E8"))
    assert other.client.get(url, headers={"X-Kiosk-Token": other.token,
                                          "X-Attempt-Login": body["login"]}).status_code == 401


def test_a_paused_kiosk_is_told_when_to_try_again(app, db, room):
    number = room.numbers[0]
    kiosk = KioskHttp(app, enrol(db, room.seats[number]))
    for _ in range(MAX_FAILURES):
        kiosk.sign_in(number, "SALAH")
    resp = kiosk.sign_in(number, room.passwords[number])
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    assert "detik" in resp.json["message"]


def test_seb_header_is_checked_at_sign_in(app, db, room):
    key = "cd" * 32
    with db.transaction() as s:
        integrity.set_policy(s, room.lab_id, True, [key])
    number = room.numbers[0]
    kiosk = KioskHttp(app, enrol(db, room.seats[number]))
    assert kiosk.sign_in(number, room.passwords[number]).json["error"] == "seb_required"
    good = integrity.config_key_hash("http://localhost/cbt/kiosk/signin", key)
    resp = kiosk.sign_in(number, room.passwords[number],
                         **{"X-SafeExamBrowser-ConfigKeyHash": good})
    assert resp.json["ok"], resp.json


def test_the_exam_room_is_for_the_sessions_proctors_and_staff(app, db, room, login):
    number = room.numbers[0]
    kiosk = KioskHttp(app, enrol(db, room.seats[number]))
    attempt = kiosk.sign_in(number, room.passwords[number]).json["attempt"]
    url = f"/cbt/exam-rooms/{room.session_id}"
    assert login("pemohon").get(url).status_code == 403
    assert login("peserta").get(url).status_code == 403
    assert login("wdm").get(url).status_code == 200
    proctor = login("pengawas")
    listing = proctor.get("/cbt/exam-rooms").get_data(as_text=True)
    assert f'data-session="{room.session_id}"' in listing and "Ruang ujian" in listing
    page = proctor.get(url).get_data(as_text=True)
    assert "Token sesi" in page and "Menunggu" in page and "Belum masuk" in page
    status = proctor.get(url + "/status").json
    assert len(status["token"]) == 6 and status["started"] is None
    assert [c["state"] for c in status["candidates"]] == ["ready", "absent", "absent"]
    resp = proctor.post(url + "/start")
    assert resp.status_code == 302
    status = proctor.get(url + "/status").json
    assert status["started"] and status["candidates"][0]["state"] == "running"
    assert 29 * 60 < status["candidates"][0]["remaining_s"] <= 30 * 60
    proctor.post(f"{url}/reset/{attempt}", {"reason": "PC mati"})
    with db.session() as s:
        d = s.get(DeliveryAttempt, attempt)
        assert d.login_hash == "" and d.resets == 1 and d.state == "running"
        entry = s.scalar(select(AuditEntry).where(
            AuditEntry.action == "cbt.attempt.login_reset"))
        assert entry.details["reason"] == "PC mati" and entry.actor_name
    assert proctor.get(url + "/status").json["candidates"][0]["state"] == "signed_out"
    assert proctor.post(url + "/open").status_code == 302


def test_staff_set_a_labs_safe_exam_browser_rule(app, db, room, login):
    url = f"/cbt/labs/{room.lab_id}/exam-policy"
    assert login("pengawas").get(url).status_code == 403
    staff = login("wdm")
    assert re.search(r"Wajib(kan)? Safe Exam Browser", staff.get(url).get_data(as_text=True))
    bad = staff.post(url, {"required": "1", "keys": "bukan-kunci"})
    assert "bukan Config Key" in bad.get_data(as_text=True)
    staff.post(url, {"required": "1", "keys": ("ab" * 32) + "\n" + ("AB" * 32)})
    with db.session() as s:
        policy = s.get(LabPolicy, room.lab_id)
        assert policy.seb_required and policy.seb_config_keys == ["ab" * 32]
