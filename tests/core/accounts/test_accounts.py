"""Accounts: creation rules, sign-in throttling, the users command."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.accounts.models import User
from core.accounts.passwords import PasswordError
from core.accounts.service import AccountError, LoginRefused, authenticate, create_user
from core.cli import cli
from tests.conftest import point_cli_at


def test_password_is_hashed_with_argon2(db):
    with db.transaction() as s:
        u = create_user(s, username="dosen1", password="rahasia-123", role="requester")
    assert u.password_hash.startswith("$argon2id$")
    assert "rahasia" not in u.password_hash


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"username": "with space", "role": "staff", "division": "WDM"}, "no spaces"),
        ({"username": "x1", "role": "wizard"}, "unknown role 'wizard'"),
        ({"username": "x2", "role": "staff"}, "staff need a division"),
        ({"username": "x3", "role": "staff", "division": "HR"}, "unknown division 'HR'"),
        ({"username": "admin", "role": "staff", "division": "WDM"}, "is taken"),
    ],
)
def test_bad_account_data_is_refused_and_nothing_is_stored(db, kwargs, message):
    with db.session() as s:
        before = s.query(User).count()
    with pytest.raises(AccountError, match=message), db.transaction() as s:
        create_user(s, password="password-ok", **kwargs)
    with db.session() as s:
        assert s.query(User).count() == before


def test_short_password_refused(db):
    with pytest.raises(PasswordError, match="at least 8"), db.transaction() as s:
        create_user(s, username="shorty", password="short", role="requester")


def test_login_is_throttled_after_repeated_failures(db):
    for _ in range(5):
        with db.transaction() as s:
            with pytest.raises(LoginRefused) as exc:
                authenticate(s, "kabpti", "wrong-password", "10.0.0.9")
            assert not exc.value.throttled
    with db.transaction() as s, pytest.raises(LoginRefused) as exc:
        # Even the right password is refused while throttled.
        authenticate(s, "kabpti", "kabpti-ruang", "10.0.0.9")
    assert exc.value.throttled and exc.value.retry_after_s > 0


def test_throttled_sign_in_page_answers_429(guest):
    for _ in range(5):
        guest.post("/login", {"username": "wdm", "password": "nope-nope"})
    resp = guest.post("/login", {"username": "wdm", "password": "wdm-ruang-demo"})
    assert resp.status_code == 429
    assert "Retry-After" in resp.headers


def test_open_redirect_after_sign_in_is_refused(guest):
    guest.get("/login")
    resp = guest.post("/login", {"username": "admin", "password": "admin-ruang",
                                 "next": "https://evil.example/phish"})
    assert resp.headers["Location"] == "/"


@pytest.fixture
def runner(instance, monkeypatch):
    point_cli_at(instance, monkeypatch)
    cli._app = None
    yield CliRunner()
    cli._app = None


def test_cli_users_create_reads_password_from_stdin(runner, db):
    out = runner.invoke(cli, ["users", "create", "--role", "staff", "--division", "jds",
                              "--username", "teknisi1", "--password-stdin"],
                        input="kabel-jaringan-1\n")
    assert out.exit_code == 0, out.output
    with db.transaction() as s:
        user = authenticate(s, "teknisi1", "kabel-jaringan-1", "127.0.0.1")
        assert user.division == "JDS"


def test_cli_users_create_bad_input_exits_non_zero(runner, db):
    out = runner.invoke(cli, ["users", "create", "--role", "staff", "--username", "t2",
                              "--password-stdin"], input="kabel-jaringan-1\n")
    assert out.exit_code != 0 and "staff need a division" in out.output
    out = runner.invoke(cli, ["users", "create", "--role", "requester", "--username", "t3",
                              "--password-stdin"], input="short\n")
    assert out.exit_code != 0 and "at least 8" in out.output
    with db.session() as s:
        assert s.scalar(select(User).where(User.username.in_(["t2", "t3"]))) is None


def test_malformed_environment_setting_is_named(monkeypatch):
    from core.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="RUANG_PORT"):
        load_settings(environ={"RUANG_PORT": "eighty"})
    with pytest.raises(ConfigError, match="RUANG_ASYNC_MODE"):
        load_settings(environ={"RUANG_ASYNC_MODE": "twisted"})


def test_relative_instance_folder_means_the_working_directory(tmp_path, monkeypatch):
    from core.config import load_settings

    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={"RUANG_INSTANCE": "instance"})
    assert settings.instance == tmp_path / "instance"
    assert load_settings(environ={}).instance == tmp_path / "instance"  # the default too


def test_pages_are_indonesian_by_default_with_a_relative_instance(template_instance, tmp_path,
                                                                 monkeypatch):
    import shutil

    from core.app import create_app
    from core.config import load_settings

    shutil.copytree(template_instance, tmp_path / "instance")
    monkeypatch.chdir(tmp_path)
    app = create_app(load_settings(environ={"RUANG_INSTANCE": "instance",
                                            "RUANG_ASYNC_MODE": "threading"}))
    html = app.test_client().get("/login").get_data(as_text=True)
    assert "Masuk" in html
    app.extensions["ruang"].db.dispose()
