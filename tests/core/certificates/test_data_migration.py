"""Certificates issued before the core register existed keep their codes and their state:
the certification and training branches copy them into the register and drop the moved
columns, and going back restores them."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from core import migrate
from core.certificates import service

OLD = {"certification": "12618b7cae33", "training": "8b748155b3d7"}


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


@pytest.mark.sqlite_only
def test_old_certificates_move_into_the_register_and_back(app, guest):
    r = app.extensions["ruang"]
    url, path = r.settings.sqlalchemy_url, r.settings.sqlalchemy_url.removeprefix("sqlite:///")
    r.db.dispose()
    for target in OLD.values():
        migrate.downgrade(r.plugins, url, target)
    conn = sqlite3.connect(path)
    with conn:
        assert "verify_code" in _columns(conn, "cert_certificates")
        conn.execute(
            "INSERT INTO cert_certificates (id, number, verify_code, registration_id, holder_name,"
            " programme_title, field_name, vendor_name, score, issued_at, issued_by,"
            " valid_until, revoked_at, revoked_by, revoke_reason) VALUES (7,"
            " 'SERT-00001/BPTI/2026', 'CertCodeOld1', 70, 'Budi Santoso',"
            " 'Sertifikasi Jaringan 2026', 'Jaringan', 'Vendor X', 88,"
            " '2026-03-01 02:00:00.000000', NULL, '2029-03-01', NULL, NULL, '')")
        conn.execute(
            "INSERT INTO training_certificates (id, number, verify_code, participant_id,"
            " training_id, holder_name, training_title, training_theme, held_on, hours,"
            " issued_at, issued_by, revoked_at, revoked_by, revoke_reason) VALUES (3,"
            " 'SRT-DIKLAT/2026/0001', 'TrainCodeOld', 30, 40, 'Ani Lestari', 'Keamanan Web',"
            " 'Keamanan', '2-3 Maret 2026', 12, '2026-03-03 02:00:00.000000', NULL,"
            " '2026-04-01 03:00:00.000000', NULL, 'Nama salah ketik.')")
    conn.close()

    migrate.upgrade(r.plugins, url)
    conn = sqlite3.connect(path)
    assert not {"verify_code", "revoked_at"} & _columns(conn, "cert_certificates")
    assert not {"verify_code", "revoked_at"} & _columns(conn, "training_certificates")
    conn.close()
    valid = guest.client.get("/verify/CertCodeOld1?format=json").json
    assert valid["status"] == "valid" and valid["holder"] == "Budi Santoso"
    assert valid["title"] == "Jaringan" and valid["valid_until"] == "2029-03-01"
    assert "Vendor X" in valid["subtitle"]
    revoked: dict[str, Any] = guest.client.get("/verify/TrainCodeOld?format=json").json
    assert revoked["status"] == "revoked" and revoked["revoked"] == "2026-04-01"
    # The old address printed in the training certificate's QR code leads to the same answer.
    old = guest.get("/training/verify/TrainCodeOld", follow_redirects=True)
    assert 'data-status="revoked"' in old.get_data(as_text=True)
    from plugins.training.models import Certificate

    with r.db.session() as s:
        cert = s.get(Certificate, 3)
        assert cert is not None and cert.verify_code == "TrainCodeOld"
        assert cert.revoke_reason == "Nama salah ketik."
        assert service.find(s, number="sert-00001/bpti/2026") is not None

    # And back: the plugins' own columns get their codes and revocations again.
    r.db.dispose()
    for target in OLD.values():
        migrate.downgrade(r.plugins, url, target)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT verify_code, revoke_reason FROM training_certificates"
                        " WHERE id = 3").fetchone() == ("TrainCodeOld", "Nama salah ketik.")
    assert conn.execute("SELECT verify_code FROM cert_certificates").fetchone() == (
        "CertCodeOld1",)
    assert conn.execute("SELECT count(*) FROM certificates").fetchone() == (0,)
    conn.close()
    migrate.upgrade(r.plugins, url)
    assert migrate.check(r.plugins, url) == []
