"""The token service without HTTP: what is stored, what is refused, what is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.accounts.models import User
from core.api import tokens
from core.api.models import ApiToken
from core.audit.models import AuditEntry
from core.audit.service import verify
from core.db import utcnow


def _user(session, name: str) -> User:
    user = session.scalar(select(User).where(User.username == name))
    assert user is not None
    return user


def test_lifecycle_create_authenticate_revoke(db):
    with db.transaction() as session:
        admin = _user(session, "admin")
        created = tokens.create_token(session, _user(session, "yansi"), name="  SIAKAD   sync ",
                                      scopes=["profile", "results:read", "profile"], days=30,
                                      actor=admin)
    secret = created.secret
    assert secret.startswith("ruang_") and len(secret) == 6 + 43
    with db.session() as session:
        row = session.get(ApiToken, created.token.id)
    assert row.name == "SIAKAD sync"
    assert row.scopes == ["profile", "results:read"]
    assert row.prefix == secret[:14] and secret not in (row.token_hash, row.prefix)
    assert row.token_hash == tokens.hash_secret(secret)
    assert timedelta(days=29, hours=23) < row.expires_at - utcnow() <= timedelta(days=30)
    assert row.created_by == admin.id

    token, user = tokens.authenticate(db, secret)
    assert user.username == "yansi" and token.id == row.id

    with db.transaction() as session:
        _, changed = tokens.revoke_token(session, row.id, actor=admin)
        assert changed
        _, again = tokens.revoke_token(session, row.id, actor=admin)
        assert not again
    with pytest.raises(tokens.AuthFailure) as info:
        tokens.authenticate(db, secret)
    assert info.value.reason == "revoked"

    with db.session() as session:
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "api_token").order_by(AuditEntry.id)).all()
        assert verify(session) is None
    assert [e.action for e in entries] == ["api.token.create", "api.token.revoke"]
    assert all(e.actor_name == "admin" for e in entries)
    assert secret not in str([e.details for e in entries])


def test_secrets_are_unique_and_a_lookalike_is_refused(db):
    with db.transaction() as session:
        user = _user(session, "wdm")
        secrets = {tokens.create_token(session, user, name=f"t{i}", scopes=["profile"]).secret
                   for i in range(5)}
    assert len(secrets) == 5
    one = next(iter(secrets))
    for wrong in (one[:-1], one + "x", one.upper(), "ruang_", "x" * 300):
        with pytest.raises(tokens.AuthFailure) as info:
            tokens.authenticate(db, wrong)
        assert info.value.reason == "invalid"


def test_expiry(db):
    start = utcnow() - timedelta(days=7)
    with db.transaction() as session:
        secret = tokens.create_token(session, _user(session, "jds"), name="weekly",
                                     scopes=["profile"], days=7, now=start).secret
    tokens.authenticate(db, secret, now=start + timedelta(days=6, hours=23))
    with pytest.raises(tokens.AuthFailure) as info:
        tokens.authenticate(db, secret, now=start + timedelta(days=7))
    assert info.value.reason == "expired"
    with db.session() as session:
        (token, _), = tokens.list_tokens(session)
    assert token.state(utcnow()) == "expired"


def test_last_use_is_written_at_most_once_a_minute(db):
    with db.transaction() as session:
        secret = tokens.create_token(session, _user(session, "add"), name="busy",
                                     scopes=["profile"]).secret
    t0 = utcnow()

    def last_used():
        with db.session() as session:
            return session.scalar(select(ApiToken.last_used_at))

    tokens.authenticate(db, secret, now=t0)
    assert last_used() == t0
    tokens.authenticate(db, secret, now=t0 + timedelta(seconds=59))
    assert last_used() == t0
    tokens.authenticate(db, secret, now=t0 + timedelta(seconds=61))
    assert last_used() == t0 + timedelta(seconds=61)


def test_inactive_account(db):
    with db.transaction() as session:
        user = _user(session, "yansi")
        secret = tokens.create_token(session, user, name="x", scopes=["profile"]).secret
        user.active = False
    with pytest.raises(tokens.AuthFailure) as info:
        tokens.authenticate(db, secret)
    assert info.value.reason == "inactive"
    with db.transaction() as session, pytest.raises(tokens.TokenError, match="may not hold"):
        tokens.create_token(session, _user(session, "yansi"), name="y", scopes=["profile"])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "   "}, "name"),
    ({"name": "x" * 101}, "100 characters"),
    ({"scopes": []}, "at least one scope"),
    ({"scopes": ["Profile!"]}, "not a valid scope"),
    ({"scopes": ["exams:delete"]}, "unknown scope exams:delete"),
    ({"days": 0}, "1 to 3650 days"),
    ({"days": 5000}, "1 to 3650 days"),
    ({"username": "peserta"}, "may not hold API tokens"),
    ({"username": "pemohon"}, "may not hold API tokens"),
    ({"username": "wr2"}, "may not hold API tokens"),
])
def test_refused_tokens_store_nothing(db, kwargs, message):
    args = {"name": "ok", "scopes": ["profile"], "days": 30, **kwargs}
    username = args.pop("username", "yansi")
    with pytest.raises(tokens.TokenError, match=message), db.transaction() as session:
        tokens.create_token(session, _user(session, username), known_scopes={"profile"},
                            **args)
    with db.session() as session:
        assert session.scalar(select(ApiToken.id)) is None
        assert session.scalar(select(AuditEntry.id).where(
            AuditEntry.action == "api.token.create")) is None


def test_owner_check_on_revoke(db):
    with db.transaction() as session:
        token = tokens.create_token(session, _user(session, "yansi"), name="x",
                                    scopes=["profile"]).token
    with db.transaction() as session, pytest.raises(tokens.TokenError, match="no API token"):
        tokens.revoke_token(session, token.id, owner_id=_user(session, "wdm").id)
    with db.transaction() as session, pytest.raises(tokens.TokenError, match="no API token"):
        tokens.revoke_token(session, 9999)


@pytest.mark.parametrize(("header", "reason"), [
    (None, "missing"), ("", "missing"), ("Bearer", "malformed"), ("Bearer  ", "malformed"),
    ("Basic abc", "malformed"), ("Bearer a b", "malformed"),
])
def test_authorization_header_parsing(header, reason):
    with pytest.raises(tokens.AuthFailure) as info:
        tokens.parse_authorization(header)
    assert info.value.reason == reason
    assert tokens.parse_authorization("bearer ruang_abc") == "ruang_abc"
