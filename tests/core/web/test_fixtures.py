"""The fixtures that start real processes do what other tests rely on."""

from __future__ import annotations

import time
import urllib.request

import pytest


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.live
def test_two_servers_share_an_instance_and_survive_kill(live_server, instance):
    a = live_server(instance=instance)
    b = live_server(instance=instance, async_mode="eventlet")
    assert a.url != b.url
    assert _status(a.url + "/login") == 200
    assert _status(b.url + "/login") == 200
    assert "Ruang gevent server" in a.log()
    assert "Ruang eventlet server" in b.log()

    a.kill()
    assert a.proc is not None and a.proc.returncode == -9
    a.restart()
    assert _status(a.url + "/login") == 200
    assert a.starts == 2


@pytest.mark.postgres
def test_postgres_is_real_and_each_test_gets_its_own_database(postgres_url, postgres_db):
    import sqlalchemy as sa

    for url in (postgres_url, postgres_db):
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version")).scalar()
            name = conn.execute(sa.text("SELECT current_database()")).scalar()
        engine.dispose()
        assert version and int(version.split(".")[0]) >= 13
        assert name == url.rsplit("/", 1)[1]
    assert postgres_url != postgres_db


def test_redis_is_real(redis_url):
    import redis

    r = redis.Redis.from_url(redis_url)
    r.set("ruang:test", "1")
    assert r.get("ruang:test") == b"1"


@pytest.mark.live
@pytest.mark.postgres
def test_two_servers_on_postgres_and_redis_see_the_same_plugin_state(
        live_server, postgres_db, redis_url, tmp_path):
    import re

    import requests

    from tests.conftest import DEMO_PASSWORDS
    from tests.fixtures.servers import run_ruang

    folder = tmp_path / "pg-instance"
    env = {"RUANG_DATABASE_URL": postgres_db, "RUANG_MESSAGE_QUEUE": redis_url}
    run_ruang("db", "upgrade", instance=folder, env=env)
    run_ruang("demo", instance=folder, env=env)
    a = live_server(instance=folder, env=env)
    b = live_server(instance=folder, env=env)

    admin = requests.Session()
    def csrf(html: str) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert found is not None
        return found.group(1)

    token = csrf(admin.get(a.url + "/login", timeout=10).text)
    resp = admin.post(a.url + "/login", timeout=10, data={
        "csrf_token": token, "username": "admin", "password": DEMO_PASSWORDS["admin"]})
    assert resp.ok and 'data-endpoint="helpdesk.index"' in resp.text
    token = csrf(admin.get(a.url + "/admin/plugins", timeout=10).text)
    admin.post(a.url + "/admin/plugins/helpdesk", timeout=10,
               data={"csrf_token": token, "action": "disable"})

    guest_b = requests.Session()
    deadline = time.monotonic() + 10
    while guest_b.get(b.url + "/helpdesk/", timeout=10,
                      allow_redirects=False).status_code != 404:
        assert time.monotonic() < deadline, "server b still serves helpdesk"
        time.sleep(0.1)
