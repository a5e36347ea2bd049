"""The JSON API a WhatsApp gateway uses: status by number and the sender's phone, filing."""

from __future__ import annotations

from sqlalchemy import select

from core.accounts.models import User
from core.api import tokens


def _token(app, username, scopes):
    with app.extensions["ruang"].db.transaction() as s:
        user = s.scalar(select(User).where(User.username == username))
        return tokens.create_token(s, user, name="gateway WA", scopes=scopes).secret


def test_a_gateway_files_a_complaint_and_asks_its_status(app):
    client = app.test_client()
    secret = _token(app, "yansi", ["helpdesk.file", "helpdesk.status"])
    auth = {"Authorization": f"Bearer {secret}"}
    resp = client.post("/api/v1/helpdesk/tickets", headers=auth, json={
        "name": "Rudi", "phone": "0819 5555 4444", "subject": "Wi-Fi asrama putus",
        "description": "Pesan WhatsApp: Wi-Fi asrama putra putus sejak subuh.",
        "category": "jaringan"})
    assert resp.status_code == 201, resp.get_json()
    number = resp.get_json()["number"]
    resp = client.post("/api/v1/helpdesk/status", headers=auth,
                       json={"number": number, "contact": "+62 819-5555-4444"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["state"] == "forwarded" and body["state_label"] == "Diteruskan"
    assert body["division"] == "JDS"
    # The number alone, or someone else's phone, gets nothing.
    resp = client.post("/api/v1/helpdesk/status", headers=auth,
                       json={"number": number, "contact": "0811 0000 0000"})
    assert resp.status_code == 404
    bad = client.post("/api/v1/helpdesk/tickets", headers=auth, json={
        "name": "R", "subject": "x", "description": "pendek"})
    assert bad.status_code == 422
    # A token without the filing scope may only ask.
    other = _token(app, "jds", ["helpdesk.status"])
    resp = client.post("/api/v1/helpdesk/tickets", headers={"Authorization": f"Bearer {other}"},
                       json={"name": "Rudi", "phone": "081955554444",
                             "subject": "Wi-Fi asrama putus", "description": "x" * 20})
    assert resp.status_code == 403
