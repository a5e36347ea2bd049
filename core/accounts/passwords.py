"""Password hashing with argon2id (argon2-cffi), and the rules for a new password."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_LENGTH = 8
# Verifying against this when the user does not exist keeps the timing the same, so the
# response time does not reveal which user names exist.
_DUMMY_HASH = _hasher.hash("ruang-dummy-password")


class PasswordError(ValueError):
    """A new password breaks a rule; the message says which."""


def check_new_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"password must have at least {MIN_LENGTH} characters")
    if password.strip() != password:
        raise PasswordError("password must not start or end with a space")


def hash_password(password: str) -> str:
    check_new_password(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
