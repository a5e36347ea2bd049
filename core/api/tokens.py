"""Personal API tokens: create, list, revoke, and authenticate a bearer secret.

A secret is ``ruang_`` followed by 43 random URL-safe characters (256 bits). It is shown
once; the database keeps its SHA-256, which is enough for a secret that long (no salt or
slow hash is needed when nobody can guess the input). Every change is audited in the same
transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.api.models import ApiToken
from core.audit.service import record as audit
from core.db import Database, utcnow

SECRET_PREFIX = "ruang_"  # noqa: S105 - a public marker, not a secret
PREFIX_LENGTH = len(SECRET_PREFIX) + 8
MAX_DAYS = 3650
# A token's last use is written at most this often, so a busy integration does not turn
# every read into a write.
TOUCH_INTERVAL = timedelta(seconds=60)
SCOPE_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]*(:[a-z0-9_.-]+)*$")
PERMISSION = "api.tokens"


class TokenError(ValueError):
    """A token cannot be created or revoked as asked; the message says why."""


FailureReason = Literal["missing", "malformed", "invalid", "expired", "revoked", "inactive"]


class AuthFailure(Exception):
    """A bearer secret was refused; ``reason`` says which check failed."""

    def __init__(self, reason: FailureReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class NewToken:
    """A token just created, with the secret that is never shown again."""

    token: ApiToken
    secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def clean_scopes(scopes: Iterable[str], known: Collection[str] | None = None) -> list[str]:
    """Scopes sorted and without duplicates; refuses an empty list and unknown scopes."""
    out = sorted({s.strip() for s in scopes if s.strip()})
    if not out:
        raise TokenError("choose at least one scope")
    for scope in out:
        if not SCOPE_PATTERN.match(scope):
            raise TokenError(f"{scope!r} is not a valid scope name")
    if known is not None:
        unknown = [s for s in out if s not in known]
        if unknown:
            listed = ", ".join(sorted(known)) or "(none)"
            raise TokenError(f"unknown scope {', '.join(unknown)}; known scopes: {listed}")
    return out


def may_own_tokens(user: User) -> bool:
    from core.accounts.access import can

    return bool(user.active and can(user, PERMISSION))


def create_token(
    session: Session,
    user: User,
    *,
    name: str,
    scopes: Iterable[str],
    days: int | None = None,
    known_scopes: Collection[str] | None = None,
    actor: Any = None,
    now: datetime | None = None,
) -> NewToken:
    """Create a token for ``user`` valid for ``days`` (``None``: until revoked)."""
    now = now or utcnow()
    name = " ".join(name.split())
    if not name:
        raise TokenError("give the token a name that says what uses it")
    if len(name) > 100:
        raise TokenError("the name is longer than 100 characters")
    clean = clean_scopes(scopes, known_scopes)
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise TokenError(f"a token is valid for 1 to {MAX_DAYS} days")
    if not may_own_tokens(user):
        raise TokenError(f"{user.username} may not hold API tokens (needs {PERMISSION})")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        token_hash=hash_secret(secret),
        scopes=clean,
        created_at=now,
        created_by=getattr(actor, "id", None),
        expires_at=now + timedelta(days=days) if days is not None else None,
    )
    session.add(token)
    session.flush()
    audit(session, "api.token.create", actor=actor, object_type="api_token",
          object_id=token.id,
          details={"user": user.username, "name": name, "prefix": token.prefix,
                   "scopes": clean,
                   "expires_at": token.expires_at.isoformat() if token.expires_at else None})
    return NewToken(token, secret)


def revoke_token(
    session: Session,
    token_id: int,
    *,
    actor: Any = None,
    owner_id: int | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, bool]:
    """Revoke token ``token_id`` (only if ``owner_id`` owns it, when given).

    Returns the token and whether it changed: revoking twice is not an error.
    """
    token = session.get(ApiToken, token_id)
    if token is None or (owner_id is not None and token.user_id != owner_id):
        raise TokenError(f"no API token with id {token_id}")
    if token.revoked_at is not None:
        return token, False
    token.revoked_at = now or utcnow()
    token.revoked_by = getattr(actor, "id", None)
    session.flush()
    audit(session, "api.token.revoke", actor=actor, object_type="api_token",
          object_id=token.id, details={"name": token.name, "prefix": token.prefix})
    return token, True


def list_tokens(session: Session, user_id: int | None = None) -> list[tuple[ApiToken, User]]:
    """Tokens with their owners, newest first; only ``user_id``'s when given."""
    query = select(ApiToken, User).join(User, User.id == ApiToken.user_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    rows = session.execute(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    return [(token, user) for token, user in rows]


def parse_authorization(header: str | None) -> str:
    """The secret of an ``Authorization: Bearer <secret>`` header."""
    if not header:
        raise AuthFailure("missing", "send a token in the header Authorization: Bearer <token>")
    scheme, _, secret = header.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret or " " in secret:
        raise AuthFailure("malformed", "the Authorization header must be: Bearer <token>")
    return secret


def authenticate(db: Database, secret: str, *, now: datetime | None = None
                 ) -> tuple[ApiToken, User]:
    """The token and user a secret belongs to, or :class:`AuthFailure`."""
    now = now or utcnow()
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        raise AuthFailure("invalid", "the token is not valid")
    with db.session() as session:
        row = session.execute(
            select(ApiToken, User).join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == hash_secret(secret))
        ).first()
    if row is None:
        raise AuthFailure("invalid", "the token is not valid")
    token, user = row
    if token.revoked_at is not None:
        raise AuthFailure("revoked", f"the token {token.prefix}… was revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise AuthFailure("expired", f"the token {token.prefix}… expired on "
                                     f"{token.expires_at:%Y-%m-%d %H:%M} UTC")
    if not user.active:
        raise AuthFailure("inactive", f"the account {user.username} is deactivated")
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
        _touch(db, token.id, now)
        token.last_used_at = now
    return token, user


def _touch(db: Database, token_id: int, now: datetime) -> None:
    # Conditional, so that two processes racing within the same minute write once.
    with db.transaction() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id,
                   or_(ApiToken.last_used_at.is_(None),
                       ApiToken.last_used_at <= now - TOUCH_INTERVAL))
            .values(last_used_at=now)
        )
