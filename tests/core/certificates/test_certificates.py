"""The core's certificate register and its public check, as a stranger holding a paper
certificate would use them: scan the QR code, or type the number."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from core.certificates import qr, service
from core.certificates.models import IssuedCertificate
from core.db import utcnow
from core.records.service import as_local


def _issue(db: Any, object_id: int = 1, **kw: Any) -> IssuedCertificate:
    values: dict[str, Any] = dict(
        owner="tests", object_id=object_id, kind="training", number=f"SRT-{object_id:04d}/T/2026",
        holder_name="Ani Lestari", title="Keamanan Web", subtitle="Pelatihan · 2 hari",
        issuer="BPTI Universitas Contoh")
    values.update(kw)
    with db.transaction() as s:
        return service.issue(s, **values)


def _revoke(db: Any, code: str, reason: str = "Nama salah ketik.") -> None:
    with db.transaction() as s:
        cert = service.find(s, code=code)
        assert cert is not None
        service.revoke(s, cert, reason=reason, actor=None)


def test_issued_certificate_checks_valid_by_code_and_by_number(app, db, guest):
    cert = _issue(db)
    page = guest.get(f"/verify/{cert.code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-status="valid"' in html
    assert "Sertifikat sah" in html  # Indonesian by default
    assert "Ani Lestari" in html and "Keamanan Web" in html and cert.number in html
    assert "BPTI Universitas Contoh" in html
    # A number typed from the paper, in any case and spacing.
    typed = guest.get("/verify", query_string={"number": "  " + cert.number.lower() + " "})
    assert typed.status_code == 200 and 'data-status="valid"' in typed.get_data(as_text=True)
    body = guest.client.get(f"/verify/{cert.code}?format=json").json
    assert body["status"] == "valid" and body["holder"] == "Ani Lestari"
    assert body["number"] == cert.number and body["revoked"] is None
    # The empty page offers the form only.
    empty = guest.get("/verify").get_data(as_text=True)
    assert 'id="verify-form"' in empty and 'id="verdict"' not in empty


def test_page_in_english(app, db, guest):
    cert = _issue(db)
    guest.post("/lang/en", {"next": "/"})
    html = guest.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert "Valid certificate" in html and "Sertifikat sah" not in html


def test_revoked_certificate_says_so_with_the_date(app, db, guest):
    cert = _issue(db)
    _revoke(db, cert.code)
    day = as_local(utcnow()).strftime("%d-%m-%Y")
    html = guest.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert 'data-status="revoked"' in html and "Sertifikat dicabut" in html
    assert f"dicabut pada {day}" in html
    body = guest.client.get(f"/verify?number={cert.number}&format=json").json
    assert body["status"] == "revoked" and body["revoked"] == as_local(utcnow()).date().isoformat()
    # Revoking needs a reason, and happens once.
    other = _issue(db, 2)
    with db.transaction() as s:
        found = service.find(s, code=other.code)
        assert found is not None
        with pytest.raises(service.CertificateError) as no_reason:
            service.revoke(s, found, reason="  ", actor=None)
        assert no_reason.value.kind == "reason_needed"
    with pytest.raises(service.CertificateError) as twice:
        _revoke(db, cert.code)
    assert twice.value.kind == "revoked"


def test_expired_and_unknown(app, db, guest):
    old = _issue(db, valid_until=date.today() - timedelta(days=400))
    html = guest.get(f"/verify/{old.code}").get_data(as_text=True)
    assert 'data-status="expired"' in html
    missing = guest.get("/verify/NoSuchCode123")
    assert missing.status_code == 404
    assert 'data-status="unknown"' in missing.get_data(as_text=True)
    assert guest.get("/verify?number=SRT-9999/T/1999").status_code == 404
    assert guest.client.get("/verify/x?format=json").json["status"] == "unknown"
    # A code far too long is not looked up at all.
    assert guest.get("/verify/" + "A" * 300).status_code == 404


def test_one_certificate_per_owned_object(app, db):
    _issue(db)
    with pytest.raises(service.CertificateError) as again:
        _issue(db, number="SRT-OTHER")
    assert again.value.kind == "duplicate"


def test_guessing_is_throttled_by_address(app, db, guest):
    cert = _issue(db)
    for i in range(service.MISS_LIMIT):
        assert guest.get(f"/verify/guess-{i}").status_code == 404
    refused = guest.get(f"/verify/{cert.code}")  # even a real code: the guesser learns nothing
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    html = refused.get_data(as_text=True)
    assert 'data-status="throttled"' in html and "Ani Lestari" not in html
    assert guest.client.get(f"/verify/{cert.code}?format=json").json["status"] == "throttled"
    # Someone else, at another address, still checks theirs.
    other = guest.client.get(f"/verify/{cert.code}", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200
    # Checking real certificates does not count against anyone.
    for _ in range(service.MISS_LIMIT + 5):
        ok = guest.client.get(f"/verify/{cert.code}", environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert ok.status_code == 200


def _decode(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(BytesIO(png)).convert("L"))
    assert found, "no QR code in the image"
    return str(found[0].text)


def test_qr_code_leads_to_the_verify_page(app, db, guest):
    cert = _issue(db)
    url = service.verify_url(cert.code)
    assert url == f"http://localhost/verify/{cert.code}"
    assert _decode(qr.png(url)) == url
    page = guest.get(url.removeprefix("http://localhost"))
    assert 'data-status="valid"' in page.get_data(as_text=True)


def test_verify_url_uses_the_public_address(instance):
    from core.app import create_app
    from tests.conftest import make_settings, prepare_test_app

    app = prepare_test_app(create_app(make_settings(
        instance, public_url="https://ruang.kampus.example/")))
    with app.app_context():
        assert service.verify_url("abc") == "https://ruang.kampus.example/verify/abc"
        with app.test_request_context("/", base_url="http://10.0.0.5:8080/"):
            assert service.verify_url("abc") == "https://ruang.kampus.example/verify/abc"
    app.extensions["ruang"].db.dispose()
