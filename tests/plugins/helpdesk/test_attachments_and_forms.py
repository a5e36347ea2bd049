"""Bad input is refused with clear errors and stores nothing: oversized files, files whose
content is not what their name says, and malformed forms."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from plugins.helpdesk import attachments
from plugins.helpdesk.attachments import AttachmentError, Upload
from plugins.helpdesk.models import Attachment, Ticket
from tests.plugins.helpdesk.conftest import file_as_guest, png_bytes


def _counts(app):
    with app.extensions["ruang"].db.session() as s:
        return (s.scalar(select(func.count()).select_from(Ticket)),
                s.scalar(select(func.count()).select_from(Attachment)))


def _stored_files(app):
    root = attachments.root(app.extensions["ruang"].settings.instance)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def test_content_is_checked_not_only_the_name():
    big = 1024 * 1024
    assert attachments.check(Upload("foto.png", png_bytes()), max_bytes=big).content_type == \
        "image/png"
    # A PNG called .jpg is still an image; its real type is kept.
    assert attachments.check(Upload("foto.jpg", png_bytes()), max_bytes=big).content_type == \
        "image/png"
    assert attachments.check(Upload("surat.docx", _docx()), max_bytes=big)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    assert attachments.check(Upload("../../etc/laporan.pdf", pdf), max_bytes=big).filename == \
        "laporan.pdf"
    bad = [
        (Upload("setup.exe", b"MZ\x90\x00"), "tidak diterima|not accepted"),
        (Upload("foto.png", b"MZ\x90\x00program"), "Windows program"),
        (Upload("surat.docx", b"PK\x03\x04 not really a zip"), "not a valid .docx"),
        (Upload("catatan.txt", b"<html><script>alert(1)</script></html>"), "HTML or XML"),
        (Upload("laporan.pdf", b"%PDF-1.4 cut short"), "not a valid .pdf"),
        (Upload("kosong.txt", b""), "empty"),
    ]
    for upload, message in bad:
        with pytest.raises(AttachmentError, match=message):
            attachments.check(upload, max_bytes=big)
    with pytest.raises(AttachmentError, match=r"more than the limit of 1\.0 MB"):
        attachments.check(Upload("besar.txt", b"a" * (big + 1)), max_bytes=big)


def test_an_oversized_attachment_is_refused_and_nothing_is_stored(app, guest):
    from core import settings_store

    r = app.extensions["ruang"]
    with r.db.transaction() as s:
        settings_store.set_value(s, r.plugins, "helpdesk.max_file_mb", 1)
    before = _counts(app)
    guest.get("/helpdesk/new")
    resp = file_as_guest(guest, files=[(io.BytesIO(png_bytes()), "bukti.png"),
                                       (io.BytesIO(b"x" * (1024 * 1024 + 10)), "log-besar.txt")])
    assert resp.status_code == 400
    text = resp.get_data(as_text=True)
    assert "log-besar.txt: 1.0 MB melebihi batas 1.0 MB" in text
    assert _counts(app) == before and _stored_files(app) == []
    # The form keeps what was typed.
    assert "Wi-Fi di gedung C putus" in text


def test_a_wrong_type_attachment_is_refused_with_the_file_named(app, guest):
    before = _counts(app)
    guest.get("/helpdesk/new")
    resp = file_as_guest(guest, files=[(io.BytesIO(b"MZ\x90\x00\x03"), "screenshot.png"),
                                       (io.BytesIO(b"#!/bin/sh\nrm -rf /"), "perbaiki.sh")])
    assert resp.status_code == 400
    text = resp.get_data(as_text=True)
    assert "screenshot.png: isinya bukan berkas .png yang sah (tampaknya program Windows)" in text
    assert "perbaiki.sh: berkas jenis .sh tidak diterima" in text
    assert _counts(app) == before and _stored_files(app) == []


def test_too_many_files_are_refused(app, guest):
    guest.get("/helpdesk/new")
    files = [(io.BytesIO(png_bytes()), f"f{i}.png") for i in range(6)]
    resp = file_as_guest(guest, files=files)
    assert resp.status_code == 400
    assert "6 berkas dikirim; paling banyak 5 yang diterima" in resp.get_data(as_text=True)


@pytest.mark.parametrize(("fields", "messages"), [
    ({"subject": "", "description": "pendek"},
     ["Judul: wajib diisi", "minimal 10 karakter"]),
    ({"email": "bukan-email", "phone": ""}, ["E-mail: bukan alamat e-mail"]),
    ({"email": "", "phone": ""}, ["isi e-mail atau nomor telepon"]),
    ({"phone": "08-abc-123"}, ["Telepon / WhatsApp: gunakan angka saja"]),
    ({"category_id": "999999"}, ["Kategori: kategori itu tidak ada"]),
    ({"category_id": "abc"}, ["Kategori: harus bilangan bulat"]),
    ({"lab_id": "999999"}, ["Lab: lab itu tidak ada"]),
])
def test_malformed_forms_are_refused_with_clear_errors(app, guest, fields, messages):
    before = _counts(app)
    guest.get("/helpdesk/new")
    resp = file_as_guest(guest, **fields)
    assert resp.status_code == 400
    text = resp.get_data(as_text=True)
    for message in messages:
        assert message in text
    assert 'aria-invalid="true"' in text or "isi e-mail" in text
    assert _counts(app) == before


def test_a_seat_that_does_not_exist_is_named(app, guest):
    from core.rooms.models import Lab

    with app.extensions["ruang"].db.session() as s:
        lab = s.scalar(select(Lab).where(Lab.code == "LAB-1"))
    guest.get("/helpdesk/new")
    resp = file_as_guest(guest, lab_id=str(lab.id), seat_label="z99")
    assert resp.status_code == 400
    assert "lab LAB-1 tidak punya kursi Z99" in resp.get_data(as_text=True)


def test_the_honeypot_and_csrf_stop_robots(app, guest):
    guest.get("/helpdesk/new")
    assert file_as_guest(guest, website="http://spam.example").status_code == 400
    raw = app.test_client().post("/helpdesk/new", data={"name": "x"})
    assert raw.status_code == 400  # no CSRF token


def test_guests_filing_many_complaints_are_throttled(app, guest):
    from core import settings_store

    r = app.extensions["ruang"]
    with r.db.transaction() as s:
        settings_store.set_value(s, r.plugins, "helpdesk.guest_max_tickets", 2)
    guest.get("/helpdesk/new")
    assert file_as_guest(guest).status_code == 303
    guest.get("/helpdesk/new")
    assert file_as_guest(guest).status_code == 303
    guest.get("/helpdesk/new")
    resp = file_as_guest(guest)
    assert resp.status_code == 429
    assert "Terlalu banyak pengaduan dari alamat Anda" in resp.get_data(as_text=True)


def test_staff_entry_refuses_an_unknown_channel_and_account(app, login):
    yansi = login("yansi")
    yansi.get("/helpdesk/desk/new")
    base = {"name": "Pak Joko", "phone": "081299990000", "subject": "Printer lab macet",
            "description": "Datang langsung ke meja YANSI, printer lab 2 macet."}
    resp = yansi.post("/helpdesk/desk/new", {**base, "channel": "pigeon"},
                      content_type="multipart/form-data")
    assert resp.status_code == 400 and "Saluran: bukan salah satu pilihan" in \
        resp.get_data(as_text=True)
    resp = yansi.post("/helpdesk/desk/new", {**base, "channel": "walk_in",
                                             "requester_username": "tidak.ada"},
                      content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "tidak ada akun dengan nama pengguna itu" in resp.get_data(as_text=True)
    resp = yansi.post("/helpdesk/desk/new", {**base, "channel": "letter",
                                             "requester_username": "pemohon"},
                      content_type="multipart/form-data")
    assert resp.status_code == 303
    number = resp.headers["Location"].rsplit("/", 1)[1]
    # The account's owner sees the ticket staff entered for them.
    assert login("pemohon").get(f"/helpdesk/t/{number}").status_code == 200
