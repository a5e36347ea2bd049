"""A node keeps accepting connections when more than a thousand are open: a kiosk holds
two (its websocket and its page's keep-alive), so a lab of 513 kiosks already has 1,026.
eventlet's WSGI server stops accepting at 1,024 unless told otherwise."""

from __future__ import annotations

import contextlib
import resource
import socket
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

OPEN = 1100


@pytest.fixture
def open_files() -> Iterator[None]:
    """Room for the connections' two ends: this process's limit, which the server it
    starts inherits, raised as far as the machine allows (a systemd node has 65,536)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * OPEN + 500
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"the open-file limit is {hard}; {need} are needed")
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.live
@pytest.mark.parametrize("async_mode", ["gevent", "eventlet"])
def test_a_page_is_served_with_1100_connections_open(open_files, live_server, async_mode):
    server = live_server(async_mode=async_mode)
    where = urlsplit(server.url)
    held: list[socket.socket] = []
    try:
        for _ in range(OPEN):
            conn = socket.create_connection((where.hostname, where.port), timeout=10)
            # Half a request: the server has taken the connection and waits on it, as
            # it waits on a kiosk's idle keep-alive between two requests.
            conn.sendall(b"GET /login HTTP/1.1\r\nHost: x\r\n")
            held.append(conn)
        with urllib.request.urlopen(server.url + "/login", timeout=15) as resp:
            assert resp.status == 200
    finally:
        for conn in held:
            with contextlib.suppress(OSError):
                conn.close()
