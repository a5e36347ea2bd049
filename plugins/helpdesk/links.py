"""Links sent to requesters: the ticket page with a key that stands for its e-mail or phone.

The key is an HMAC of the ticket's id and number under the instance's secret, so it needs
no storage, cannot be derived from the number, and opens only that ticket.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from flask import current_app, has_request_context, request

from plugins.helpdesk.models import Ticket


def access_key(ticket_id: int, number: str) -> str:
    secret = current_app.config["SECRET_KEY"]
    if isinstance(secret, str):
        secret = secret.encode()
    msg = f"helpdesk-ticket:{ticket_id}:{number}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()[:32]


def key_matches(ticket: Ticket, key: str) -> bool:
    return bool(key) and hmac.compare_digest(access_key(ticket.id, ticket.number), key)


def base_url() -> str:
    from core.instance import ruang

    settings = ruang().settings
    if settings.public_url:
        return settings.public_url.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return f"http://{settings.host}:{settings.port}"


def ticket_url(ticket: Ticket) -> str:
    key = access_key(ticket.id, ticket.number)
    return f"{base_url()}/helpdesk/t/{quote(ticket.number)}?k={key}"


def rating_url(ticket: Ticket, score: int) -> str:
    key = access_key(ticket.id, ticket.number)
    return f"{base_url()}/helpdesk/t/{quote(ticket.number)}/rate/{score}?k={key}"


def desk_url(ticket: Ticket) -> str:
    return f"{base_url()}/helpdesk/desk/t/{quote(ticket.number)}"
