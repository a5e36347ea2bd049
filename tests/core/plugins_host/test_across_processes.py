"""A switch made in one server process reaches another process within two seconds."""

from __future__ import annotations

import time

import pytest
import requests

pytestmark = pytest.mark.live

DEADLINE_S = 2.0


def _signed_in_session(base: str, username: str, password: str) -> requests.Session:
    import re

    s = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(base + "/login").text)
    assert token
    resp = s.post(base + "/login", data={"username": username, "password": password,
                                          "csrf_token": token.group(1)}, allow_redirects=False)
    assert resp.status_code == 302, resp.text[:300]
    return s


def _wait_for_status(session: requests.Session, url: str, status: int) -> float:
    start = time.monotonic()
    while time.monotonic() - start < 10:
        if session.get(url, allow_redirects=False).status_code == status:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{url} never answered {status}")


def test_disable_in_one_process_is_404_in_another_within_two_seconds(live_server, instance):
    a = live_server(instance=instance)
    b = live_server(instance=instance)
    admin_a = _signed_in_session(a.url, "admin", "admin-ruang")
    staff_b = _signed_in_session(b.url, "yansi", "yansi-ruang")
    assert staff_b.get(b.url + "/helpdesk/").status_code == 200

    page = admin_a.get(a.url + "/admin/plugins").text
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, "the plugins page has no CSRF token"
    csrf = found.group(1)
    resp = admin_a.post(a.url + "/admin/plugins/helpdesk",
                        data={"action": "disable", "csrf_token": csrf}, allow_redirects=False)
    assert resp.status_code == 302
    took = _wait_for_status(staff_b, b.url + "/helpdesk/", 404)
    assert took <= DEADLINE_S, f"process B still served the disabled plugin after {took:.2f}s"
    assert 'href="/helpdesk/"' not in staff_b.get(b.url + "/").text

    resp = admin_a.post(a.url + "/admin/plugins/helpdesk",
                        data={"action": "enable", "csrf_token": csrf}, allow_redirects=False)
    took = _wait_for_status(staff_b, b.url + "/helpdesk/", 200)
    assert took <= DEADLINE_S

