"""Signed tokens: a participant's personal link and the QR code they show at the door.

Both are signed with the instance's secret (itsdangerous), so they need no storage and
cannot be forged or guessed from a participant's number. They use different salts: the QR
code a staff member scans checks a person in and nothing more, while the personal link
opens their page (tests, feedback, certificate). A token names its training too, so one
scanned at the wrong training is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

PAGE_SALT = "ruang.training.participant"
CHECKIN_SALT = "ruang.training.checkin"
MAX_TOKEN = 200


@dataclass(frozen=True)
class TokenData:
    participant_id: int
    training_id: int


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _dump(salt: str, participant_id: int, training_id: int) -> str:
    return str(_serializer(salt).dumps([participant_id, training_id]))


def _load(salt: str, token: str) -> TokenData | None:
    token = (token or "").strip()
    if not token or len(token) > MAX_TOKEN:
        return None
    try:
        value = _serializer(salt).loads(token)
    except BadSignature:
        return None
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        return None
    return TokenData(participant_id=value[0], training_id=value[1])


def page_token(participant_id: int, training_id: int) -> str:
    return _dump(PAGE_SALT, participant_id, training_id)


def read_page_token(token: str) -> TokenData | None:
    return _load(PAGE_SALT, token)


def checkin_token(participant_id: int, training_id: int) -> str:
    return _dump(CHECKIN_SALT, participant_id, training_id)


def read_checkin_token(token: str) -> TokenData | None:
    """The participant a scanned code names, or ``None`` for anything else. A scanner that
    read the whole check-in address gives the token at its end."""
    token = (token or "").strip()
    if "/" in token:
        token = token.rstrip("/").rsplit("/", 1)[-1]
    return _load(CHECKIN_SALT, token)


def base_url() -> str:
    from core.notify.letters import base_url as instance_url

    return instance_url()


def page_url(participant_id: int, training_id: int) -> str:
    return f"{base_url()}/training/p/{page_token(participant_id, training_id)}"


def checkin_url(participant_id: int, training_id: int) -> str:
    return f"{base_url()}/training/checkin/{checkin_token(participant_id, training_id)}"


def qr_svg(text: str) -> str:
    """The QR code as inline SVG markup (no image request, prints sharply)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    return image.to_string(encoding="unicode")
