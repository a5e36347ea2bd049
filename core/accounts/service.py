"""Creating users and signing them in, with throttling of failed attempts."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.accounts.models import LoginFailure, User
from core.accounts.passwords import hash_password, needs_rehash, verify_password
from core.accounts.roles import Division, Role
from core.audit.service import record as audit
from core.db import utcnow

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,80}$")


class AccountError(ValueError):
    """Bad account data; the message says what to change."""


class LoginRefused(PermissionError):
    """Sign-in refused. ``throttled`` tells "too many attempts" from "wrong credentials"."""

    def __init__(self, message: str, throttled: bool = False, retry_after_s: int = 0) -> None:
        super().__init__(message)
        self.throttled = throttled
        self.retry_after_s = retry_after_s


def create_user(
    session: Session,
    *,
    username: str,
    password: str | None,
    role: str,
    full_name: str = "",
    email: str = "",
    phone: str = "",
    division: str | None = None,
    is_division_head: bool = False,
    unit: str = "",
    actor: User | None = None,
) -> User:
    """Create a user after checking every field; raises :class:`AccountError` on bad input."""
    if not USERNAME_RE.match(username):
        raise AccountError(
            f"user name {username!r} must be 2-80 letters, digits or . _ @ - (no spaces)"
        )
    try:
        role_value = Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise AccountError(f"unknown role {role!r}; choose one of: {allowed}") from None
    if division is not None:
        try:
            division = Division(division.upper()).value
        except ValueError:
            allowed = ", ".join(d.value for d in Division)
            raise AccountError(f"unknown division {division!r}; choose one of: {allowed}") from None
    if role_value == Role.STAFF and division is None:
        raise AccountError("staff need a division (YANSI, WDM, JDS or ADD)")
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise AccountError(f"user name {username!r} is taken")
    user = User(
        username=username,
        full_name=full_name,
        email=email,
        phone=phone,
        role=role_value.value,
        division=division,
        is_division_head=is_division_head,
        unit=unit,
        password_hash=hash_password(password) if password else "",
    )
    session.add(user)
    session.flush()
    audit(session, "user.create", actor=actor, object_type="user", object_id=user.id,
          details={"username": username, "role": role_value.value, "division": division})
    return user


def set_password(session: Session, user: User, password: str, actor: User | None = None) -> None:
    user.password_hash = hash_password(password)
    audit(session, "user.password", actor=actor, object_type="user", object_id=user.id)


def authenticate(
    session: Session,
    username: str,
    password: str,
    ip: str,
    *,
    max_failures: int = 5,
    window_s: int = 900,
) -> User:
    """Return the user for these credentials, or raise :class:`LoginRefused`.

    Failures are counted per user name and per address within ``window_s``; past
    ``max_failures`` of either, sign-in is refused without checking the password, so a
    guessing script learns nothing and costs us no argon2 work.
    """
    now = utcnow()
    since = now - timedelta(seconds=window_s)
    keys = [f"user:{username.lower()}", f"ip:{ip}"]
    for key in keys:
        stmt = select(func.count(), func.min(LoginFailure.at)).where(
            LoginFailure.key == key, LoginFailure.at >= since
        )
        count, oldest = session.execute(stmt).one()
        limit = max_failures if key.startswith("user:") else max_failures * 4
        if count >= limit:
            retry = int((oldest + timedelta(seconds=window_s) - now).total_seconds()) + 1
            raise LoginRefused(
                f"too many failed sign-ins; try again in {max(retry // 60, 1)} minute(s)",
                throttled=True,
                retry_after_s=max(retry, 1),
            )
    user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        for key in keys:
            session.add(LoginFailure(key=key, at=now))
        audit(session, "login.failed", object_type="user", object_id=username[:100], ip=ip)
        raise LoginRefused("wrong user name or password")
    session.execute(delete(LoginFailure).where(LoginFailure.key == keys[0]))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit(session, "login", actor=user, object_type="user", object_id=user.id, ip=ip)
    return user
