"""Shared fixtures: a migrated instance per test, an app, a client, signed-in users.

Migrating takes a second, so the suite migrates one template database per session and
copies the file for every test; each test still gets a private, fully migrated instance.
"""

from __future__ import annotations

import ast
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.app import create_app
from core.config import Settings, load_settings
from tests.fixtures import engines

if sys.version_info < (3, 11, 8):
    # CPython 3.11.0-3.11.7 keep the AST builder's recursion counter per interpreter, and a
    # garbage collection inside ``ast.parse`` may switch threads: two threads parsing at
    # once (pytest rewriting an import while a live server's thread compiles a template or
    # a URL rule) then fail with "SystemError: AST constructor recursion depth mismatch"
    # (python/cpython#106905, fixed in 3.11.8). The suite runs servers in threads, so it
    # parses one thread at a time; ``ast.literal_eval`` looks ``parse`` up here too.
    _ast_parse = ast.parse
    _ast_lock = threading.RLock()

    def _parse_one_at_a_time(*args: Any, **kwargs: Any) -> Any:
        with _ast_lock:
            return _ast_parse(*args, **kwargs)

    ast.parse = _parse_one_at_a_time

pytest_plugins = ["tests.fixtures.servers", "tests.fixtures.browser", "tests.fixtures.databases",
                  "tests.fixtures.mail"]


def make_settings(instance: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {"instance": instance, "async_mode": "threading", "jobs": False,
                            "plugin_refresh_s": 0.2}
    url = engines.database_url_of(instance)
    if url:
        base["database_url"] = url
    base.update(overrides)
    return load_settings(environ={}, **base)


@pytest.fixture(scope="session")
def template_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from core import migrate

    folder = tmp_path_factory.mktemp("template-instance")
    app = create_app(make_settings(folder))
    r = app.extensions["ruang"]
    migrate.upgrade(r.plugins, r.settings.sqlalchemy_url)
    with app.app_context(), r.db.transaction() as session:
        r.plugins.hook.ruang_demo_data(session=session)
    r.db.dispose()
    return folder


@pytest.fixture
def instance(request: pytest.FixtureRequest) -> Path:
    """This test's private instance folder: a copy of the migrated SQLite demo instance, or
    with ``--database postgresql`` a clone of the PostgreSQL one (tests/fixtures/engines.py
    tells settings, ``run_ruang`` and ``live_server`` which database goes with it)."""
    if request.config.getoption("database") == "postgresql":
        folder: Path = request.getfixturevalue("postgres_instance")[0]
        return folder
    sqlite: Path = request.getfixturevalue("sqlite_instance")
    return sqlite


@pytest.fixture
def sqlite_instance(template_instance: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "instance"
    shutil.copytree(template_instance, folder, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    for secret in ("secret_key", "master_key"):
        if (folder / secret).exists():
            (folder / secret).chmod(0o600)
    return folder


def point_cli_at(instance: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make an in-process ``ruang`` command (click's CliRunner) use the test instance and
    its database, as ``RUANG_INSTANCE`` and ``RUANG_DATABASE_URL`` do for an operator."""
    monkeypatch.setenv("RUANG_INSTANCE", str(instance))
    monkeypatch.setenv("RUANG_ASYNC_MODE", "threading")
    for key, value in engines.engine_env(instance).items():
        monkeypatch.setenv(key, value)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database", choices=("sqlite", "postgresql"), default="sqlite",
        help="engine of the tests' instances: the embedded SQLite default, or a clone of a "
             "migrated PostgreSQL demo database on the server the fixtures start")


def pytest_report_header(config: pytest.Config) -> str:
    return f"ruang database: {config.getoption('database')}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("database") != "postgresql":
        return
    skip = pytest.mark.skip(reason="about SQLite itself (marked sqlite_only)")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)


@pytest.fixture
def settings(instance: Path) -> Settings:
    return make_settings(instance)


def _fresh_request_globals(app: Flask) -> None:
    """Forget per-request caches between test requests.

    The fixture keeps an app context open so tests can call services directly; Flask then
    reuses that context (and its ``g``) for every test-client request, so the signed-in user
    and the locale Flask-Login and Flask-Babel cache in ``g`` would leak from one request
    (or one test client) to the next. In a real server each request has its own context.
    """
    import flask_babel
    from flask import g

    @app.before_request
    def _forget() -> None:
        g.pop("_login_user", None)
        g.pop("csrf_token", None)
        flask_babel.refresh()


def prepare_test_app(app: Flask) -> Flask:
    app.config["TESTING"] = True
    _fresh_request_globals(app)
    return app


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = prepare_test_app(create_app(settings))
    with app.app_context():
        yield app
    app.extensions["ruang"].db.dispose()


@pytest.fixture
def db(app: Flask) -> Any:
    return app.extensions["ruang"].db


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Browserish:
    """A test client that signs in through the real form and sends its CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf = ""

    def _refresh_csrf(self, html: str) -> None:
        import re

        m = re.search(r'name="csrf_token" value="([^"]+)"', html)
        if m:
            self.csrf = m.group(1)

    def get(self, url: str, **kw: Any) -> Any:
        resp = self.client.get(url, **kw)
        if resp.mimetype == "text/html":
            self._refresh_csrf(resp.get_data(as_text=True))
        return resp

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        if not self.csrf:
            self.get("/login")
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.csrf)
        resp = self.client.post(url, data=payload, **kw)
        if resp.mimetype == "text/html":
            self._refresh_csrf(resp.get_data(as_text=True))
        return resp

    def post_json(self, url: str, body: Any, **kw: Any) -> Any:
        if not self.csrf:
            self.get("/login")
        headers = {"X-CSRFToken": self.csrf, **kw.pop("headers", {})}
        return self.client.post(url, json=body, headers=headers, **kw)

    def login(self, username: str, password: str) -> Any:
        self.get("/login")
        resp = self.post("/login", {"username": username, "password": password})
        assert resp.status_code in (302, 303), f"sign-in of {username} failed: {resp.status_code}"
        self.get("/")
        return resp


DEMO_PASSWORDS = {
    "admin": "admin-ruang", "kabpti": "kabpti-ruang", "wr2": "wr2-ruang-demo",
    "yansi": "yansi-ruang", "wdm": "wdm-ruang-demo", "jds": "jds-ruang-demo",
    "add": "add-ruang-demo", "pengawas": "pengawas-ruang", "pemohon": "pemohon-ruang",
    "peserta": "peserta-ruang",
}


@pytest.fixture
def login(app: Flask) -> Any:
    """``login("admin")`` returns a :class:`Browserish` client signed in as that demo user."""

    def _login(username: str) -> Browserish:
        b = Browserish(app.test_client())
        b.login(username, DEMO_PASSWORDS[username])
        return b

    return _login


@pytest.fixture
def guest(app: Flask) -> Browserish:
    return Browserish(app.test_client())
