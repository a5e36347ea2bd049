"""A TCP link between a kiosk and the server whose network can be cut, as a cable pulled.

``FlakyLink(port)`` listens on a free port of 127.0.0.1 and forwards every connection to
``port``. ``cut()``: from then on nothing gets through in either direction and nothing is
closed, the way a dead network behaves (bytes vanish, no RST, no FIN; new connections are
accepted and then hear nothing). ``restore()``: the network is back; connections from
before are gone (both ends gave up on them long ago: that is what the ping timeout is
for), new ones are forwarded again.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading


class FlakyLink:
    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = int(self.listener.getsockname()[1])
        self.down = False
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        self.down = True

    def restore(self) -> None:
        with self._lock:
            stale, self._open = self._open, []
            self.down = False
        for s in stale:
            with contextlib.suppress(OSError):
                s.close()

    def close(self) -> None:
        self._closed = True
        self.restore()
        with contextlib.suppress(OSError):
            self.listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self._open.append(client)
                down = self.down
            if down:
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _swallow(self, s: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while s.recv(65536):
                pass

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([src], [], [], 0.5)
                if not ready:
                    continue
                data = src.recv(65536)
                if not data:
                    if not self.down:
                        with contextlib.suppress(OSError):
                            dst.shutdown(socket.SHUT_WR)
                    return
                if not self.down:  # a cut network loses what is sent over it
                    dst.sendall(data)
        except (OSError, ValueError):
            return
