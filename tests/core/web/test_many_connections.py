"""A node keeps accepting connections when more than a thousand are open: a kiosk holds
two (its websocket and its page's keep-alive), so a lab of 513 kiosks already has 1,026.
eventlet's WSGI server stops accepting at 1,024 unless told otherwise."""

from __future__ import annotations

import contextlib
import socket
import urllib.request
from urllib.parse import urlsplit

import pytest

OPEN = 1100


@pytest.mark.live
@pytest.mark.parametrize("async_mode", ["gevent", "eventlet"])
def test_a_page_is_served_with_1100_connections_open(live_server, async_mode):
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
