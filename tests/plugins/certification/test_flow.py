"""A certification from the proposal to a checked certificate, through the pages.

BPTI staff draft a proposal; WR II returns it with comments, then approves it; staff
publish it; a member of the university and two outsiders (who confirm their e-mail
through a real SMTP server) register for a field of two seats, the third waits; a
cancellation offers the freed seat, which is accepted; attendance, results, a
certificate whose QR code decodes to a verification URL that says "valid", and after
revocation "revoked"; a forged number is "not found".
"""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from core.accounts.models import User
from core.notify.service import deliver_due
from core.rooms import service as rooms
from plugins.certification.clock import now
from plugins.certification.models import (
    Certificate,
    CertProgramme,
    CertRegistration,
    CertSession,
)
from tests.plugins.certification.conftest import local_text


@pytest.fixture
def settings(mail_settings: Any) -> Any:
    return mail_settings


def _id_from(resp: Any, pattern: str) -> int:
    assert resp.status_code in (302, 303), resp.get_data(as_text=True)[:2000]
    m = re.search(pattern, resp.headers["Location"])
    assert m, resp.headers["Location"]
    return int(m.group(1))


def _flash(resp: Any) -> str:
    return " ".join(re.findall(r'<div class="flash [a-z]+"[^>]*>.*?<span>(.*?)</span>',
                               resp.get_data(as_text=True), re.S))


def _link_from(mail: Any) -> str:
    m = re.search(r"https?://[^/\s]+(/certification/portal/link/\S+)", mail.text())
    assert m, mail.text()
    return m.group(1)


def _qr_url(pdf_bytes: bytes) -> str:
    import zxingcpp
    from PIL import Image

    page = PdfReader(BytesIO(pdf_bytes)).pages[0]
    images = list(page.images)
    assert images, "the certificate has no image (QR code)"
    for image in images:
        picture = Image.open(BytesIO(image.data)).convert("L")
        found = zxingcpp.read_barcodes(picture)
        if found:
            return str(found[0].text)
    raise AssertionError("no QR code could be decoded from the certificate")


def test_proposal_to_revoked_certificate(app, db, login, guest, smtp_server):
    staff, wr2 = login("add"), login("wr2")
    with db.transaction() as s:  # the demo accounts' addresses cannot receive mail
        for account in s.scalars(select(User).where(User.username.in_(("add", "wr2")))):
            account.email = f"{account.username}@kampus.example"

    # -- the proposal ----------------------------------------------------------------------
    day = (now() + timedelta(days=100)).date()
    resp = staff.post("/certification/programmes/new", {
        "title": "Sertifikasi Jaringan 2026", "description": "Bersama LSP mitra.",
        "starts_on": day.isoformat(), "ends_on": day.isoformat(),
        "registration_opens_at": local_text(now() - timedelta(hours=1)),
        "registration_closes_at": local_text(now() + timedelta(days=2)),
        "offer_hours": "12", "min_attendance": "100", "validity_months": "24"})
    prog_id = _id_from(resp, r"/programmes/(\d+)")
    staff.post(f"/certification/programmes/{prog_id}/costs",
               {"item": "Honor asesor", "amount": "5000000", "funded_by": "university"})
    resp = staff.post(f"/certification/programmes/{prog_id}/fields", {
        "code": "net", "name": "Jaringan Komputer", "quota": "2", "fee": "0",
        "pass_mark": "70", "audience": "all"})
    field_id = _id_from(resp, r"/fields/(\d+)")
    with db.session() as s:
        lab = rooms.lab_by_code(s, "LAB-1")
        assert lab is not None
    # Far enough ahead to clear the demo data's own bookings of LAB-1 (weekly for eight
    # weeks, and the demo programmes' sessions three weeks out).
    start = now() + timedelta(days=100)
    resp = staff.post(f"/certification/fields/{field_id}/sessions", {
        "title": "Uji kompetensi", "kind": "exam", "starts_at": local_text(start),
        "ends_at": local_text(start + timedelta(hours=3)), "lab_id": str(lab.id)})
    assert resp.status_code == 302
    with db.session() as s:
        sess = s.scalar(select(CertSession).where(CertSession.field_id == field_id))
        assert sess is not None and sess.reservation_ref, "the lab was not reserved"

    resp = staff.post(f"/certification/programmes/{prog_id}/workflow", {"action": "submit"})
    assert resp.status_code == 302
    with db.session() as s:
        prog = s.get(CertProgramme, prog_id)
        assert prog is not None and prog.state == "submitted"
        assert re.fullmatch(r"\d{3}/SP-SERT/BPTI/[IVX]+/\d{4}", prog.letter_number or "")
    letter = prog.letter_number

    # WR II must say why a proposal goes back; without a comment nothing changes.
    page = wr2.get(f"/certification/programmes/{prog_id}").get_data(as_text=True)
    assert 'value="approve"' in page and 'value="return"' in page
    resp = wr2.post(f"/certification/programmes/{prog_id}/workflow", {"action": "return"},
                    follow_redirects=True)
    assert "comment" in _flash(resp).lower() or "komentar" in _flash(resp).lower()
    wr2.post(f"/certification/programmes/{prog_id}/workflow",
             {"action": "return", "comment": "Rincikan biaya konsumsi."})
    page = staff.get(f"/certification/programmes/{prog_id}").get_data(as_text=True)
    assert "Rincikan biaya konsumsi." in page
    staff.post(f"/certification/programmes/{prog_id}/costs",
               {"item": "Konsumsi 2 x 40 orang", "amount": "2400000"})
    staff.post(f"/certification/programmes/{prog_id}/workflow", {"action": "submit"})
    staff_cannot = staff.post(f"/certification/programmes/{prog_id}/workflow",
                              {"action": "approve"}, follow_redirects=True)
    assert "approver" in _flash(staff_cannot)
    wr2.post(f"/certification/programmes/{prog_id}/workflow",
             {"action": "approve", "comment": "Setuju."})
    staff.post(f"/certification/programmes/{prog_id}/workflow", {"action": "publish"})
    with db.session() as s:
        prog = s.get(CertProgramme, prog_id)
        assert prog is not None and prog.state == "published"
        assert prog.letter_number == letter, "a resubmission keeps its letter number"

    # WR II was told by e-mail of each submission.
    deliver_due()
    to_wr2 = [m.subject for m in smtp_server.messages if m.rcpt_tos == ("wr2@kampus.example",)]
    assert len([subj for subj in to_wr2 if "Sertifikasi Jaringan 2026" in subj]) == 2, to_wr2
    to_staff = [m for m in smtp_server.messages if m.rcpt_tos == ("add@kampus.example",)]
    assert any("Rincikan biaya konsumsi." in m.text() for m in to_staff)

    # -- the portal ------------------------------------------------------------------------
    catalogue = guest.get("/certification/portal/").get_data(as_text=True)
    assert "Sertifikasi Jaringan 2026" in catalogue
    seats = guest.client.get(f"/certification/portal/seats.json?programme={prog_id}").json
    assert seats["fields"][0]["remaining"] == 2 and seats["open"] is True

    peserta = login("peserta")
    resp = peserta.post(f"/certification/portal/fields/{field_id}/register", {})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/portal/me")

    def outsider(name: str, email: str) -> Any:
        client = type(guest)(app.test_client())
        resp = client.post(f"/certification/portal/fields/{field_id}/register",
                           {"full_name": name, "email": email, "phone": "0812 3456 789",
                            "institution": "PT Contoh"})
        assert resp.status_code == 200 and email in resp.get_data(as_text=True)
        sent = len(smtp_server.messages)
        deliver_due()
        mail = smtp_server.wait_for(sent + 1)[-1]
        assert mail.rcpt_tos == (email,)
        resp = client.get(_link_from(mail))
        assert resp.status_code == 302
        reused = type(guest)(app.test_client()).get(_link_from(mail), follow_redirects=True)
        assert "sudah digunakan" in reused.get_data(as_text=True) or \
            "already been used" in reused.get_data(as_text=True)
        return client

    budi = outsider("Budi Santoso", "budi@contoh.example")
    resp = budi.post_json(f"/certification/portal/fields/{field_id}/register", {})
    assert resp.status_code == 200 and resp.json["status"] == "confirmed"
    sari = outsider("Sari Wulandari", "sari@contoh.example")
    resp = sari.post_json(f"/certification/portal/fields/{field_id}/register", {})
    assert resp.json == {"ok": True, "registration": resp.json["registration"],
                         "status": "waitlisted", "seat": None, "position": 1}
    sari_code = resp.json["registration"]
    seats = guest.client.get(f"/certification/portal/seats.json?programme={prog_id}").json
    assert (seats["fields"][0]["remaining"], seats["fields"][0]["waiting"]) == (0, 1)

    # Budi cancels; the seat is offered to Sari, by e-mail, with a deadline.
    with db.session() as s:
        budi_code = s.scalar(select(CertRegistration.code).join(CertRegistration.participant)
                             .where(CertRegistration.field_id == field_id,
                                    CertRegistration.status == "confirmed")
                             .order_by(CertRegistration.id.desc()))
    resp = budi.post(f"/certification/portal/registrations/{budi_code}/cancel", {})
    assert resp.status_code == 302
    sent = len(smtp_server.messages)
    deliver_due()
    offer = [m for m in smtp_server.wait_for(sent + 1) if m.rcpt_tos == ("sari@contoh.example",)]
    assert any("kursi" in m.subject.lower() or "seat" in m.subject.lower() for m in offer)
    page = sari.get("/certification/portal/me").get_data(as_text=True)
    assert f"/certification/portal/registrations/{sari_code}/accept" in page
    resp = sari.post(f"/certification/portal/registrations/{sari_code}/accept", {})
    assert resp.status_code == 302
    with db.session() as s:
        regs = {r.code: r for r in s.scalars(select(CertRegistration)
                                              .where(CertRegistration.field_id == field_id))}
    assert regs[sari_code].status == "confirmed" and regs[budi_code].status == "cancelled"
    assert sorted(r.seat_no for r in regs.values() if r.seat_no) == [1, 2]

    # -- delivery --------------------------------------------------------------------------
    confirmed = [r for r in regs.values() if r.status == "confirmed"]
    resp = staff.post(f"/certification/sessions/{sess.id}/attendance",
                      {"present": [str(r.id) for r in confirmed]})
    assert resp.status_code == 302
    peserta_reg = next(r for r in confirmed if r.code != sari_code)
    sari_reg = regs[sari_code]
    resp = staff.post(f"/certification/fields/{field_id}/results",
                      {f"score-{peserta_reg.id}": "85", f"score-{sari_reg.id}": "55"})
    assert resp.status_code == 302
    resp = staff.post(f"/certification/fields/{field_id}/certificates", {},
                      follow_redirects=True)
    text = resp.get_data(as_text=True)
    assert "Sari Wulandari" in text  # told why she got none (she did not pass)
    with db.session() as s:
        certs = list(s.scalars(select(Certificate)))
    mine = [c for c in certs if c.registration_id == peserta_reg.id]
    assert len(mine) == 1 and not [c for c in certs if c.registration_id == sari_reg.id]
    cert = mine[0]
    assert re.fullmatch(r"SERT-\d{5}/BPTI/\d{4}", cert.number)

    # -- the certificate and its check -----------------------------------------------------
    resp = peserta.get(f"/certification/certificates/{cert.id}.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert guest.get(f"/certification/certificates/{cert.id}.pdf").status_code == 302
    assert budi.get(f"/certification/certificates/{cert.id}.pdf").status_code == 403
    url = _qr_url(resp.data)
    assert url == f"http://localhost/verify/{cert.verify_code}", url
    path = url.removeprefix("http://localhost")
    # The address printed before the check moved to the core still leads there.
    old = guest.get(f"/certification/verify/{cert.verify_code}")
    assert old.status_code == 301 and old.headers["Location"].endswith(path)
    page = guest.get(path)
    assert page.status_code == 200 and 'data-status="valid"' in page.get_data(as_text=True)
    assert guest.client.get(path + "?format=json").json["status"] == "valid"

    resp = staff.post(f"/certification/certificates/{cert.id}/revoke",
                      {"reason": "Data peserta tidak benar."})
    assert resp.status_code == 302
    page = guest.get(path).get_data(as_text=True)
    assert 'data-status="revoked"' in page
    assert guest.client.get(path + "?format=json").json["status"] == "revoked"

    forged = guest.get("/certification/verify?number=SERT-99999/BPTI/2026",
                       follow_redirects=True)
    assert forged.status_code == 404
    assert 'data-status="unknown"' in forged.get_data(as_text=True)
    assert guest.client.get("/verify/Forged-Code-123?format=json").json == {
        "status": "unknown",
        "message": guest.client.get("/verify/x?format=json").json["message"]}
