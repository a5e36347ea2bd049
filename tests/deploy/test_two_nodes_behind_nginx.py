"""Two `ruang serve` nodes on PostgreSQL and Redis, behind the nginx of deploy/nginx/.

Everything real: PostgreSQL and Redis started from the distribution's packages, two server
processes started with the operator's command, nginx from Debian's package running the
deployed configuration over HTTPS (certificate from ``ruang tls init``), and clients that
only ever talk to nginx. Which node served a request is read from nginx's access log.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
import socketio

from tests.conftest import DEMO_PASSWORDS
from tests.deploy.conftest import NginxProxy
from tests.fixtures.servers import run_ruang

pytestmark = [pytest.mark.live, pytest.mark.postgres]

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) Chromium/156 RuangDeployTest"
PLUGIN_DEADLINE_S = 2.0


class Browser:
    """A requests session that behaves like a browser on the HTTPS site: keeps cookies
    (nginx's ``ruang_node`` among them), sends a Referer (Flask-WTF checks it over HTTPS)
    and one User-Agent (Flask-Login's strong session protection)."""

    def __init__(self, proxy: NginxProxy, ca: Path) -> None:
        self.proxy = proxy
        self.base = proxy.url
        self.http = requests.Session()
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would replace the lab CA
        self.http.verify = str(ca)
        self.http.headers.update({"User-Agent": USER_AGENT, "Referer": self.base + "/"})
        self.csrf = ""

    def get(self, path: str, **kw: Any) -> requests.Response:
        resp = self.http.get(self.base + path, allow_redirects=False, timeout=10, **kw)
        m = re.search(r'name="csrf_token" value="([^"]+)"', resp.text) or \
            re.search(r'<meta name="csrf-token" content="([^"]+)"', resp.text)
        if m:
            self.csrf = m.group(1)
        return resp

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        return self.http.post(self.base + path, data={**data, "csrf_token": self.csrf},
                              allow_redirects=False, timeout=10)

    def post_json(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.http.post(self.base + path, json=body, timeout=10,
                              headers={"X-CSRFToken": self.csrf})

    def node(self) -> str:
        """Which node this browser is on now (a marked request, found in the access log)."""
        marker = uuid.uuid4().hex
        assert self.get(f"/login?probe={marker}").status_code in (200, 302)
        return self.proxy.node_of(marker)

    def sign_in(self, username: str) -> None:
        self.get("/login")
        resp = self.post("/login", {"username": username,
                                    "password": DEMO_PASSWORDS[username]})
        assert resp.status_code == 302, resp.text[:500]


def browser_on(node: str, proxy: NginxProxy, ca: Path) -> Browser:
    """A fresh browser that nginx happened to send to ``node``, and keeps sending there."""
    for _ in range(40):
        b = Browser(proxy, ca)
        if b.node() == node:
            assert "ruang_node" in b.http.cookies
            assert [b.node() for _ in range(3)] == [node] * 3, "nginx did not stick"
            return b
    raise AssertionError(f"nginx never sent a new browser to {node}")


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout}s")


def seconds_until(status: int, path: str, browsers: dict[str, Browser],
                  timeout: float = 10.0) -> dict[str, float]:
    """How long after now each browser (each pinned to its node) first gets ``status``."""
    start = time.monotonic()
    took: dict[str, float] = {}
    while len(took) < len(browsers):
        for name, browser in browsers.items():
            if name not in took and browser.get(path).status_code == status:
                took[name] = round(time.monotonic() - start, 2)
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{path} never answered {status} on {set(browsers) - set(took)}")
        time.sleep(0.05)
    return took


def enrolment_code(staff: Browser, lab_id: int) -> str:
    """A fresh enrolment code for the lab, as staff read it off the enrolment page."""
    staff.get(f"/rooms/{lab_id}/enrol")
    assert staff.post(f"/rooms/{lab_id}/enrol", {}).status_code == 302
    shown = staff.get(f"/rooms/{lab_id}/enrol").text
    code = re.search(r'id="enrol-code"[^>]*>([A-Z0-9]{6})<', shown)
    assert code, shown[:2000]
    return code.group(1)


def enrol(pc: Browser, code: str, seat: str) -> tuple[int, str]:
    """Enrol ``pc`` at ``seat`` as a lab PC does; its kiosk id and token."""
    pc.get("/kiosk")
    seats = pc.post_json("/kiosk/code", {"code": code})
    assert seats.status_code == 200, seats.text[:500]
    done = pc.post_json("/kiosk/enrol", {"code": code, "seat": seat})
    assert done.status_code == 200, done.text[:500]
    return int(done.json()["kiosk"]["id"]), str(done.json()["token"])


def psql_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def side_by_side(*jobs: Callable[[], object]) -> None:
    """Run ``jobs`` in threads and wait for all; the first failure is raised here."""
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        try:
            job()
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_two_nodes_behind_nginx(tmp_path, postgres_server, postgres_db, redis_url, live_server,
                                nginx_proxy):
    instance = tmp_path / "instance"
    db_env = {"RUANG_DATABASE_URL": postgres_db}
    run_ruang("db", "upgrade", instance=instance, env=db_env)
    node_env = {
        **db_env,
        "RUANG_MESSAGE_QUEUE": redis_url,
        "RUANG_TRUSTED_PROXIES": "1",
        "RUANG_SECURE_COOKIES": "true",
        "RUANG_PLUGIN_REFRESH_S": "1.0",  # the default an operator gets
    }
    a = live_server(instance=instance, env=node_env, start=False)
    b = live_server(instance=instance, env=node_env, start=False)
    # The nodes boot while the demo data goes in: they need only the migrated schema.
    side_by_side(
        lambda: run_ruang("demo", instance=instance, env=db_env),
        lambda: run_ruang("tls", "init", "--name", "localhost", instance=instance),
        a.start, b.start,
    )
    tls = instance / "tls"
    node_a, node_b = f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"
    proxy = nginx_proxy(upstreams=[a.port, b.port], cert=tls / "server.crt",
                        key=tls / "server.key")
    ca = tls / "ruang-ca.crt"

    # -- plain HTTP only redirects; names nginx does not serve get nothing ----------------
    moved = requests.get(proxy.http_url + "/login", allow_redirects=False, timeout=5)
    assert moved.status_code == 301
    assert moved.headers["Location"] == "https://localhost/login"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{proxy.http_port}/login",
                     headers={"Host": "elsewhere.example"}, timeout=5)

    # -- sticky browsers on each node; sign-in and pages through nginx ---------------------
    admin_a = browser_on(node_a, proxy, ca)
    staff_a = browser_on(node_a, proxy, ca)
    staff_b = browser_on(node_b, proxy, ca)
    admin_a.sign_in("admin")
    staff_a.sign_in("yansi")
    staff_b.sign_in("yansi")
    assert staff_a.node() == node_a and staff_b.node() == node_b

    # A client cannot choose the address Ruang records: nginx replaces X-Forwarded-For.
    liar = Browser(proxy, ca)
    liar.http.headers["X-Forwarded-For"] = "203.0.113.9"
    liar.sign_in("kabpti")
    with psycopg.connect(psql_url(postgres_db)) as conn:
        ip = conn.execute("SELECT ip FROM audit_log WHERE action = 'login' "
                          "ORDER BY id DESC LIMIT 1").fetchone()
    assert ip is not None and ip[0] == "127.0.0.1", ip

    home = staff_b.get("/")
    assert home.status_code == 200 and 'href="/helpdesk/"' in home.text
    cookies = {c.name: c for c in admin_a.http.cookies}
    assert cookies["session"].secure and cookies["ruang_node"].secure
    for browser in (staff_a, staff_b):
        assert browser.get("/helpdesk/").status_code == 200
    headers = home.headers
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")

    # -- a kiosk enrolled through nginx connects over a websocket, pinned to node B --------
    with psycopg.connect(psql_url(postgres_db)) as conn:
        row = conn.execute("SELECT id FROM labs WHERE code = 'LAB-1'").fetchone()
    assert row is not None
    lab_id = row[0]
    code = enrolment_code(admin_a, lab_id)
    kiosk = browser_on(node_b, proxy, ca)
    kiosk_id, token = enrol(kiosk, code, "A1")

    # -- static files: the versioned npm assets and Ruang's CSS come from nginx's cache ----
    page = kiosk.get("/kiosk")
    assert page.status_code == 200 and 'data-state="enrolled"' in page.text
    script = re.search(r'src="(/assets/socket\.io-client/[^"]+)"', page.text)
    assert script, page.text[:2000]
    script_url = script.group(1).replace("&amp;", "&")
    # Another lab PC (other cookies) gets the copy the first one left in nginx's cache.
    other_pc = Browser(proxy, ca)
    first = kiosk.get(script_url)
    again = other_pc.get(script_url, headers={"Accept-Encoding": "gzip"})
    assert first.status_code == again.status_code == 200
    assert "immutable" in again.headers["Cache-Control"]
    assert again.headers.get("X-Cache-Status") == "HIT"
    assert again.headers.get("Content-Encoding") == "gzip"
    css = [browser.get("/static/ruang.css") for browser in (kiosk, other_pc)]
    assert css[1].status_code == 200 and css[1].headers.get("X-Cache-Status") == "HIT"
    assert "Content-Encoding" not in page.headers  # pages are not compressed (BREACH)

    heard: list[dict[str, Any]] = []
    revoked = threading.Event()
    client = socketio.Client(reconnection=False, http_session=kiosk.http)

    @client.on("revoked", namespace="/kiosk")
    def _revoked(data: dict[str, Any]) -> None:
        heard.append(data)
        revoked.set()

    # websocket-client sends an Origin header as a browser does (https://localhost:PORT);
    # Socket.IO accepts it only if nginx passed on the Host with its port.
    client.connect(proxy.url, transports=["websocket"], namespaces=["/kiosk"],
                   auth={"token": token}, wait_timeout=10,
                   headers={"User-Agent": USER_AGENT})
    try:
        assert client.transport() == "websocket"
        assert client.call("heartbeat", {"page": "idle"}, namespace="/kiosk",
                           timeout=5) == {"ok": True}

        # -- a plugin switched off on node A is gone on both nodes within 2 s --------------
        admin_a.get("/admin/plugins")
        assert admin_a.post("/admin/plugins/helpdesk",
                            {"action": "disable"}).status_code == 302
        took = seconds_until(404, "/helpdesk/", {"A": staff_a, "B": staff_b})
        assert max(took.values()) <= PLUGIN_DEADLINE_S, f"seconds until 404 by node: {took}"
        assert staff_b.node() == node_b
        assert 'href="/helpdesk/"' not in staff_b.get("/").text
        admin_a.get("/admin/plugins")
        assert admin_a.post("/admin/plugins/helpdesk", {"action": "enable"}).status_code == 302
        wait_for(lambda: staff_b.get("/helpdesk/").status_code == 200, 10,
                 "/helpdesk/ back on node B")

        # -- staff on node A revoke the kiosk connected to node B: Redis carries the event -
        assert admin_a.node() == node_a
        admin_a.get(f"/rooms/{lab_id}/kiosks")
        resp = admin_a.post(f"/rooms/kiosks/{kiosk_id}/revoke", {"reason": "PC moved to LAB-2"})
        assert resp.status_code == 302, resp.text[:500]
        assert revoked.wait(5), "the kiosk on node B never heard the revocation from node A"
        assert heard == [{"reason": "PC moved to LAB-2"}]
    finally:
        client.disconnect()

    # The websocket is logged once it closes: it really was node B that carried it.
    wait_for(lambda: any(" 101 " in line for line in
                         proxy.access_log.read_text().splitlines()
                         if "transport=websocket" in line), 5, "the websocket's log line")
    lines = [line for line in proxy.access_log.read_text().splitlines()
             if "transport=websocket" in line]
    assert lines and all(f"node={node_b} " in line for line in lines), lines
    assert a.running and b.running

    # -- the backup of docs/deploy.md, taken while both nodes run, restores intact ---------
    dump = tmp_path / "ruang.dump"
    with dump.open("wb") as out:
        subprocess.run([str(postgres_server.bindir / "pg_dump"), "--format=custom",
                        psql_url(postgres_db)], stdout=out, check=True, timeout=60)
    restored = postgres_server.create_database()
    with dump.open("rb") as dumped:
        subprocess.run([str(postgres_server.bindir / "pg_restore"), "--no-owner",
                        "--role=ruang", f"--dbname={psql_url(restored)}"],
                       stdin=dumped, check=True, timeout=60)
    run_ruang("db", "upgrade", instance=instance, env={"RUANG_DATABASE_URL": restored})
    verified = run_ruang("audit", "verify", instance=instance,
                         env={"RUANG_DATABASE_URL": restored}).stdout
    m = re.search(r"intact: (\d+) entries, head ([0-9a-f]{64})", verified)
    assert m, verified
    with psycopg.connect(psql_url(postgres_db)) as conn:
        live = conn.execute("SELECT hash FROM audit_log ORDER BY id OFFSET %s LIMIT 1",
                            (int(m.group(1)) - 1,)).fetchone()
    assert live is not None and live[0] == m.group(2)  # the live chain, as it was then
    postgres_server.drop_database(restored)


def test_socket_handlers_see_the_address_nginx_forwards(instance, live_server, nginx_proxy):
    """A kiosk's address, as Socket.IO handlers see it, is the PC's and not nginx's.

    nginx connects to the node from 127.0.0.3 here (``proxy_bind``), as a proxy on another
    machine would; the client is 127.0.0.1.
    """
    run_ruang("tls", "init", "--name", "localhost", instance=instance)
    tls = instance / "tls"
    node = live_server(instance=instance, env={"RUANG_TRUSTED_PROXIES": "1",
                                               "RUANG_SECURE_COOKIES": "true"})
    proxy = nginx_proxy(upstreams=[node.port], cert=tls / "server.crt",
                        key=tls / "server.key", extra="    proxy_bind 127.0.0.3;")
    ca = tls / "ruang-ca.crt"

    db = sqlite3.connect(instance / "ruang.db")
    lab_id = db.execute("SELECT id FROM labs WHERE code = 'LAB-1'").fetchone()[0]
    staff = Browser(proxy, ca)
    staff.sign_in("admin")
    code = enrolment_code(staff, lab_id)
    kiosk = Browser(proxy, ca)
    kiosk_id, token = enrol(kiosk, code, "B2")

    def last_ip() -> str:
        row = db.execute("SELECT last_ip FROM kiosks WHERE id = ?", (kiosk_id,)).fetchone()
        return str(row[0])

    assert last_ip() == "127.0.0.1"  # HTTP requests go through ProxyFix
    client = socketio.Client(reconnection=False, http_session=kiosk.http)
    client.connect(proxy.url, transports=["websocket"], namespaces=["/kiosk"],
                   auth={"token": token}, wait_timeout=10, headers={"User-Agent": USER_AGENT})
    try:
        assert client.call("heartbeat", {"page": "idle"}, namespace="/kiosk",
                           timeout=5) == {"ok": True}
    finally:
        client.disconnect()
    assert last_ip() == "127.0.0.1", "the socket handler recorded nginx's address"
