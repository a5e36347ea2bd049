"""The app shell: sign-in, CSRF, security headers, 403 for the wrong role."""

from __future__ import annotations


def test_guest_is_sent_to_sign_in(client):
    resp = client.get("/")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


def test_sign_in_and_dashboard(login):
    admin = login("admin")
    page = admin.get("/").get_data(as_text=True)
    assert "Administrator Ruang" in page


def test_wrong_password_is_refused_and_changes_nothing(guest, app, db):
    guest.get("/login")
    resp = guest.post("/login", {"username": "admin", "password": "wrong-password"})
    assert resp.status_code == 401
    assert guest.get("/").status_code == 302


def test_forged_csrf_token_is_refused(guest):
    guest.get("/login")
    resp = guest.client.post("/login", data={"username": "admin", "password": "admin-ruang",
                                              "csrf_token": "forged"})
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)


def test_candidate_gets_403_on_staff_page(login):
    cand = login("peserta")
    assert cand.get("/admin/plugins").status_code == 403


def test_security_headers(client):
    resp = client.get("/login")
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]


def test_client_address_behind_a_trusted_proxy(settings):
    from core.app import create_app
    from core.config import load_settings

    proxied = create_app(load_settings(environ={}, **{**settings.model_dump(),
                                                      "trusted_proxies": 1}))
    client = proxied.test_client()
    seen = {}

    @proxied.route("/_ip")
    def _ip():
        from flask import request

        seen["ip"] = request.remote_addr
        return "ok"

    client.get("/_ip", headers={"X-Forwarded-For": "10.9.8.7"})
    assert seen["ip"] == "10.9.8.7"
