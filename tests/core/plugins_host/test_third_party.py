"""A plugin from another distribution is found through the entry-point group, in a real
server, and its socket events are gated for real Socket.IO clients over websockets."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import requests
import socketio

from tests.fixtures.servers import REPO_ROOT, clean_environ, ruang_command

pytestmark = pytest.mark.live


@pytest.fixture
def third_party_path(tmp_path: Path) -> str:
    """A site folder holding an installed distribution ``ruang-sample`` (its dist-info),
    whose entry point names the sample plugin: what ``pip install ruang-sample`` leaves."""
    site = tmp_path / "site"
    info = site / "ruang_sample-1.2.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ruang-sample\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(
        "[ruang.plugins]\nsample = tests.fixtures.sample_plugin:plugin\n")
    return f"{site}:{REPO_ROOT}"


def _session(base: str, username: str, password: str) -> requests.Session:
    s = requests.Session()
    # Sign-in sessions are bound to the browser (Flask-Login's strong protection), so the
    # page requests and the websocket must present the same User-Agent, as a browser does.
    s.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chromium/156 RuangTest"
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(base + "/login").text)
    assert token
    resp = s.post(base + "/login", data={"username": username, "password": password,
                                          "csrf_token": token.group(1)}, allow_redirects=False)
    assert resp.status_code == 302
    return s


def _socket(base: str, http: requests.Session) -> socketio.Client:
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    client = socketio.Client(reconnection=False)
    client.connect(base, transports=["websocket"],
                   headers={"Cookie": cookie, "User-Agent": http.headers["User-Agent"]})
    return client


def test_installed_plugin_is_listed_with_its_distribution(third_party_path, instance):
    env = clean_environ({"RUANG_INSTANCE": str(instance), "PYTHONPATH": third_party_path,
                         "RUANG_ASYNC_MODE": "threading"})
    out = subprocess.run([*ruang_command(), "plugins", "list"], env=env, cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    row = next(line.split() for line in out.splitlines() if line.startswith("sample "))
    assert row == ["sample", "1.2.3", "package", "ruang-sample", "enabled"]


def test_socket_events_are_gated_over_real_websockets(third_party_path, live_server):
    server = live_server(env={"PYTHONPATH": third_party_path})
    candidate = _socket(server.url, _session(server.url, "peserta", "peserta-ruang"))
    proctor = _socket(server.url, _session(server.url, "pengawas", "pengawas-ruang"))
    try:
        refused = candidate.call("sample_staff", {}, timeout=5)
        assert refused["ok"] is False and refused["error"] == "forbidden"
        assert proctor.call("sample_staff", {}, timeout=5) == {"ok": True, "secret": "staff only"}
        invalid = candidate.call("sample_echo", {"text": "x" * 51}, timeout=5)
        assert invalid["error"] == "invalid" and invalid["problems"][0]["field"] == "text"
        assert candidate.call("sample_echo", {"text": "halo"}, timeout=5)["echo"] == "halo"
    finally:
        candidate.disconnect()
        proctor.disconnect()
