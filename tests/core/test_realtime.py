"""Socket.IO gates: enabled plugin, permission, schema — checked before any handler runs."""

from __future__ import annotations

import pytest

from core.app import create_app
from tests.conftest import DEMO_PASSWORDS, Browserish, prepare_test_app
from tests.fixtures.sample_plugin import SamplePlugin


@pytest.fixture
def sample_app(settings):
    app = create_app(settings, extra_plugins=[SamplePlugin()])
    prepare_test_app(app)
    with app.app_context():
        yield app
    app.extensions["ruang"].db.dispose()


def _socket(app, username=None):
    http = Browserish(app.test_client())
    if username:
        http.login(username, DEMO_PASSWORDS[username])
    sio = app.extensions["ruang"].socketio
    return sio.test_client(app, flask_test_client=http.client)


def test_candidate_is_refused_a_staff_event(sample_app):
    client = _socket(sample_app, "peserta")
    ack = client.emit("sample_staff", {}, callback=True)
    assert ack["ok"] is False and ack["error"] == "forbidden"


def test_guest_is_refused_a_staff_event(sample_app):
    client = _socket(sample_app)
    ack = client.emit("sample_staff", {}, callback=True)
    assert ack["error"] == "forbidden"


def test_staff_event_reaches_the_handler_for_staff(sample_app):
    client = _socket(sample_app, "pengawas")
    ack = client.emit("sample_staff", {}, callback=True)
    assert ack == {"ok": True, "secret": "staff only"}


def test_payload_is_validated_with_field_names(sample_app):
    client = _socket(sample_app, "peserta")
    ack = client.emit("sample_echo", {"text": ""}, callback=True)
    assert ack["error"] == "invalid"
    assert ack["problems"][0]["field"] == "text"
    ack = client.emit("sample_echo", "not an object", callback=True)
    assert ack["error"] == "invalid"
    ack = client.emit("sample_echo", {"text": "halo"}, callback=True)
    assert ack == {"ok": True, "echo": "halo"}


def test_events_of_a_disabled_plugin_are_gone(sample_app):
    client = _socket(sample_app, "peserta")
    r = sample_app.extensions["ruang"]
    with r.db.transaction() as session:
        r.plugins.set_enabled(session, "sample", False, actor=None)
    ack = client.emit("sample_echo", {"text": "halo"}, callback=True)
    assert ack["error"] == "not_found"


def test_a_connection_opens_its_session_cookie_once_and_stays_who_it_was(sample_app,
                                                                         monkeypatch):
    from flask.sessions import SecureCookieSessionInterface

    opened = []
    original = SecureCookieSessionInterface.open_session

    def counting(self, app, request):
        opened.append(request.path)
        return original(self, app, request)

    client = _socket(sample_app, "pengawas")
    monkeypatch.setattr(SecureCookieSessionInterface, "open_session", counting)
    for _ in range(5):
        assert client.emit("sample_staff", {}, callback=True)["ok"] is True
    assert len(opened) <= 1  # the handshake's session, kept for the connection's events
    # HTTP requests still open their own sessions, one each.
    http = Browserish(sample_app.test_client())
    http.client.get("/login")
    http.client.get("/login")
    assert len(opened) >= 2
