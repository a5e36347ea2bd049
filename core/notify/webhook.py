"""The webhook channel: notifications with a phone number, POSTed as JSON to a gateway.

Meant for WhatsApp (or SMS) gateways: staff set ``notify.webhook_url`` and
``notify.webhook_secret`` on the settings page (or ``ruang settings set``). Each request
carries:

* ``X-Ruang-Delivery``: the message's stable key (the same on a repeated delivery, so the
  gateway can drop duplicates);
* ``X-Ruang-Timestamp``: Unix seconds when it was sent;
* ``X-Ruang-Signature``: ``sha256=`` and the hex HMAC-SHA256, keyed with the secret, of
  ``<timestamp>.`` followed by the raw request body. A gateway recomputes it (see
  :func:`verify_signature`) and refuses a mismatch or a stale timestamp.

A 2xx answer means delivered. 400, 410, 413 and 422 mean the gateway refuses this message
(a bad number): it fails for good. 3xx, 401, 403 and 404 mean the channel is set up wrong,
and a 5xx, 408, 429 or a network error means the gateway is unwell: those are retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import requests
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from core.contracts import Notification
from core.instance import ruang
from core.notify.service import ChannelDown, Deferred, Undeliverable, delivery_key

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0
SIGNATURE_HEADER = "X-Ruang-Signature"
TIMESTAMP_HEADER = "X-Ruang-Timestamp"
DELIVERY_HEADER = "X-Ruang-Delivery"
REFUSED = {400, 410, 413, 422}
MISCONFIGURED = {401, 403, 404, 405}


class WebhookUrl(str):
    """A setting value that is empty (channel off) or an http(s) URL."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler
                                     ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls._check, core_schema.str_schema(strip_whitespace=True, max_length=2000))

    @classmethod
    def _check(cls, value: str) -> WebhookUrl:
        if value and not re.match(r"^https?://[^\s/?#]+[^\s]*$", value):
            raise ValueError("must be empty or an http:// or https:// URL")
        return cls(value)


class CountryCode(str):
    """A country calling code without ``+``, e.g. ``62`` for Indonesia."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler
                                     ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls._check, core_schema.str_schema(strip_whitespace=True))

    @classmethod
    def _check(cls, value: str) -> CountryCode:
        value = value.lstrip("+")
        if not re.fullmatch(r"[1-9]\d{0,2}", value):
            raise ValueError("must be 1 to 3 digits, like 62")
        return cls(value)


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret: str
    country_code: str


def config() -> WebhookConfig:
    from core import settings_store

    r = ruang()
    with r.db.session() as s:
        values = {key: settings_store.get(s, r.plugins, f"notify.webhook_{key}")
                  for key in ("url", "secret", "country_code")}
    return WebhookConfig(url=str(values["url"] or ""), secret=str(values["secret"] or ""),
                         country_code=str(values["country_code"] or "62"))


def international(phone: str, country_code: str) -> str:
    """``phone`` as ``+<country><number>``; a leading 0 is a national number.

    ``0812-3456-7890`` with country code 62 gives ``+6281234567890``.
    """
    raw = re.sub(r"[\s\-.()/]", "", phone)
    if raw.startswith("+"):
        digits = raw[1:]
    elif raw.startswith("00"):
        digits = raw[2:]
    elif raw.startswith("0"):
        digits = country_code + raw[1:]
    else:
        digits = raw
    if not re.fullmatch(r"[1-9]\d{7,14}", digits):
        raise Undeliverable(f"invalid phone number {phone!r}: expected 8 to 15 digits, "
                            "like 0812 3456 7890 or +62 812 3456 7890")
    return "+" + digits


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, headers: Any, body: bytes, max_age_s: float = 300.0,
                     now: float | None = None) -> bool:
    """What a gateway does: check ``X-Ruang-Signature`` and that the timestamp is fresh."""
    timestamp = str(headers.get(TIMESTAMP_HEADER, ""))
    given = str(headers.get(SIGNATURE_HEADER, ""))
    if not timestamp.isdigit() or not given:
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > max_age_s:
        return False
    return hmac.compare_digest(given, signature(secret, timestamp, body))


def payload(notification: Notification, to: str, key: str) -> dict[str, Any]:
    text = notification.subject
    if notification.body:
        text = f"{notification.subject}\n\n{notification.body}"
    return {
        "id": key,
        "to": to,
        "subject": notification.subject,
        "body": notification.body,
        "text": text,
        "topic": notification.topic,
        "user_id": notification.user_id,
        "data": notification.data,
    }


class WebhookChannel:
    """Delivers notifications that carry a phone number, once a webhook URL is set."""

    name = "webhook"

    def can_deliver(self, notification: Notification) -> bool:
        return bool(notification.phone) and bool(config().url)

    def deliver(self, notification: Notification) -> None:
        cfg = config()
        if not cfg.url:
            raise ChannelDown("notify.webhook_url is not set")
        to = international(notification.phone, cfg.country_code)
        key = delivery_key()
        body = json.dumps(payload(notification, to, key), ensure_ascii=False,
                          separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Ruang",
                   DELIVERY_HEADER: key, TIMESTAMP_HEADER: timestamp}
        if cfg.secret:
            headers[SIGNATURE_HEADER] = signature(cfg.secret, timestamp, body)
        try:
            resp = requests.post(cfg.url, data=body, headers=headers, allow_redirects=False,
                                 timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
        except requests.ConnectTimeout as exc:
            raise ChannelDown(f"cannot reach the gateway {cfg.url}: {exc}") from None
        except requests.Timeout as exc:
            # It may have got the message: the same delivery key lets it drop a repeat.
            raise Deferred(f"the gateway did not answer in time: {exc}") from None
        except requests.RequestException as exc:
            raise ChannelDown(f"cannot reach the gateway {cfg.url}: {exc}") from None
        status = resp.status_code
        if 200 <= status < 300:
            return
        answer = f"HTTP {status} {resp.text[:300]}".strip()
        if status in REFUSED:
            raise Undeliverable(f"the gateway refused the message for {to}: {answer}")
        if status in MISCONFIGURED or 300 <= status < 400:
            raise ChannelDown(f"the gateway at {cfg.url} answered {answer}; "
                              "check notify.webhook_url and notify.webhook_secret")
        raise Deferred(f"the gateway answered {answer}")
