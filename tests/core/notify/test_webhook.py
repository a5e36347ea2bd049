"""The webhook channel against a real local HTTP server standing in for a WhatsApp gateway."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from core import settings_store
from core.contracts import Notification
from core.notify import service, webhook
from core.notify.models import FAILED, PENDING, SENT, OutboxMessage
from tests.core.notify.test_outbox import queue, row, set_setting

SECRET = "rahasia-gateway-123"


@pytest.fixture
def gateway(app, webhook_receiver):
    set_setting(app, "notify.webhook_url", webhook_receiver.url)
    set_setting(app, "notify.webhook_secret", SECRET)
    return webhook_receiver


def wa(phone: str = "0812-3456-7890", **kw: Any) -> Notification:
    return Notification(subject="Tiket T-0007 selesai", body="Keluhan Anda sudah ditangani.",
                        phone=phone, **kw)


def webhook_row(db: Any, ids: list[int]) -> OutboxMessage:
    [found] = [r for r in (row(db, i) for i in ids) if r.channel == "webhook"]
    return found


def test_a_signed_json_post_reaches_the_gateway(app, db, gateway, smtp_server):
    ids = queue(db, wa(email="pemohon@example.ac.id", topic="helpdesk.ticket", user_id=9,
                       data={"ticket": "T-0007"}))
    assert sorted(row(db, i).channel for i in ids) == ["email", "webhook"]
    assert service.deliver_due() == 2
    [req] = gateway.wait_for(1)
    sent = webhook_row(db, ids)
    assert sent.status == SENT

    assert req.path == "/hook"
    assert req.headers["Content-Type"].startswith("application/json")
    body = json.loads(req.body)
    assert body == {
        "id": sent.key, "to": "+6281234567890", "subject": "Tiket T-0007 selesai",
        "body": "Keluhan Anda sudah ditangani.",
        "text": "Tiket T-0007 selesai\n\nKeluhan Anda sudah ditangani.",
        "topic": "helpdesk.ticket", "user_id": 9, "data": {"ticket": "T-0007"},
    }
    assert req.headers["X-Ruang-Delivery"] == sent.key

    # What the gateway does, with nothing but the shared secret and the standard library.
    timestamp = req.headers["X-Ruang-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + req.body,
                        hashlib.sha256).hexdigest()
    assert req.headers["X-Ruang-Signature"] == f"sha256={expected}"
    assert webhook.verify_signature(SECRET, req.headers, req.body)
    assert not webhook.verify_signature("salah", req.headers, req.body)
    assert not webhook.verify_signature(SECRET, req.headers, req.body.replace(b"T-0007", b"T-0008"))
    assert not webhook.verify_signature(SECRET, req.headers, req.body, now=time.time() + 3600)

    # The e-mail went too, through its own row.
    assert smtp_server.wait_for(1)[0].subject == "Tiket T-0007 selesai"


def test_without_a_secret_nothing_is_signed(app, db, webhook_receiver):
    set_setting(app, "notify.webhook_url", webhook_receiver.url)
    queue(db, wa())
    assert service.deliver_due() == 1
    [req] = webhook_receiver.wait_for(1)
    assert "X-Ruang-Signature" not in req.headers


@pytest.mark.parametrize(("phone", "expected"), [
    ("0812 3456 7890", "+6281234567890"),
    ("+62 812-3456-7890", "+6281234567890"),
    ("6281234567890", "+6281234567890"),
    ("0062 (812) 3456.7890", "+6281234567890"),
])
def test_phone_numbers_become_international(phone, expected):
    assert webhook.international(phone, "62") == expected


def test_a_bad_phone_number_fails_without_a_request(app, db, gateway):
    [message_id] = queue(db, wa(phone="12ab"))
    assert service.deliver_due() == 0
    failed = row(db, message_id)
    assert failed.status == FAILED and "invalid phone number '12ab'" in failed.last_error
    assert gateway.requests == []


def test_the_gateway_refusing_a_message_fails_it_for_good(app, db, gateway):
    gateway.replies.append(422)
    [message_id] = queue(db, wa())
    assert service.deliver_due() == 0
    failed = row(db, message_id)
    assert failed.status == FAILED and failed.attempts == 1
    assert "HTTP 422" in failed.last_error and "refused" in failed.last_error


def test_a_gateway_error_is_retried_with_the_same_delivery_key(app, db, gateway):
    gateway.replies.extend([503, 429])
    [message_id] = queue(db, wa())
    assert service.deliver_due() == 0
    first = row(db, message_id)
    assert first.status == PENDING and "HTTP 503" in first.last_error
    assert service.deliver_due(now=first.next_attempt_at) == 0
    second = row(db, message_id)
    assert "HTTP 429" in second.last_error
    assert second.next_attempt_at - first.next_attempt_at > (first.next_attempt_at
                                                              - first.created_at)
    assert service.deliver_due(now=second.next_attempt_at) == 1
    keys = {r.headers["X-Ruang-Delivery"] for r in gateway.wait_for(3)}
    assert keys == {first.key}  # the gateway can tell the three are one message
    assert row(db, message_id).status == SENT


def test_a_gateway_that_is_down_or_slow_is_retried(app, db, webhook_receiver, monkeypatch):
    from tests.fixtures.servers import free_port

    set_setting(app, "notify.webhook_url", f"http://127.0.0.1:{free_port()}/hook")
    [down] = queue(db, wa())
    assert service.deliver_due() == 0
    assert row(db, down).status == PENDING
    assert "cannot reach the gateway" in row(db, down).last_error

    set_setting(app, "notify.webhook_url", webhook_receiver.url)
    monkeypatch.setattr(webhook, "READ_TIMEOUT_S", 0.3)
    webhook_receiver.delay_s = 1.0
    assert service.deliver_due(ids=[down], now=row(db, down).next_attempt_at) == 0
    assert "did not answer in time" in row(db, down).last_error
    assert row(db, down).status == PENDING


def test_a_misconfigured_gateway_holds_the_whole_channel(app, db, gateway):
    gateway.replies.append(401)
    ids = queue(db, wa(), wa(phone="0813 1111 2222"))
    assert service.deliver_due() == 0
    rows = sorted((row(db, i) for i in ids), key=lambda r: r.attempts)
    assert [r.attempts for r in rows] == [0, 1]
    assert "HTTP 401" in rows[1].last_error and "notify.webhook_secret" in rows[1].last_error
    assert len(gateway.requests) == 1


def test_webhook_settings_are_checked(app):
    r = app.extensions["ruang"]
    with r.db.transaction() as s:
        for bad in ("ftp://gateway.example.id/hook", "gateway.example.id", "http://"):
            with pytest.raises(settings_store.SettingError, match=r"notify\.webhook_url"):
                settings_store.set_value(s, r.plugins, "notify.webhook_url", bad)
        with pytest.raises(settings_store.SettingError, match=r"notify\.webhook_country_code"):
            settings_store.set_value(s, r.plugins, "notify.webhook_country_code", "indonesia")
        with pytest.raises(settings_store.SettingError, match=r"notify\.max_attempts"):
            settings_store.set_value(s, r.plugins, "notify.max_attempts", "0")
        stored = settings_store.set_value(s, r.plugins, "notify.webhook_url",
                                          "  https://wa.example.ac.id/kirim  ")
    assert stored == "https://wa.example.ac.id/kirim"
