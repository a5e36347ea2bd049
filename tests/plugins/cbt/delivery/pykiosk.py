"""A kiosk in Python: what the exam page does, over real HTTP and a real Socket.IO client.

For tests that need many kiosks or a server that dies under them; the browser tests drive
the real page. It speaks protocol version 1 of ``docs/protocol.md``.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import requests
import socketio

NAMESPACE = "/exam"


class PyKiosk:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token
        self.http = requests.Session()
        self.http.cookies.set("ruang_kiosk", token)
        page = self.http.get(base + "/cbt/kiosk/", timeout=10)
        page.raise_for_status()
        m = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
        assert m, "no CSRF token on the exam page"
        self.csrf = m.group(1)
        self.attempt = 0
        self.login = ""
        self.sio: socketio.Client | None = None
        self.events: list[tuple[str, Any]] = []
        self._lock = threading.Lock()

    def sign_in(self, number: str, password: str) -> dict[str, Any]:
        resp = self.http.post(self.base + "/cbt/kiosk/signin", json={
            "number": number, "password": password}, headers={
            "X-CSRFToken": self.csrf, "X-Kiosk-Token": self.token}, timeout=30)
        data: dict[str, Any] = resp.json()
        if data.get("ok"):
            self.attempt, self.login = data["attempt"], data["login"]
        return data

    def paper(self) -> dict[str, Any]:
        resp = self.http.get(f"{self.base}/cbt/kiosk/paper/{self.attempt}", headers={
            "X-Kiosk-Token": self.token, "X-Attempt-Login": self.login}, timeout=10)
        resp.raise_for_status()
        envelope: dict[str, Any] = resp.json()
        return envelope

    def connect(self, reconnection: bool = True) -> PyKiosk:
        sio = socketio.Client(reconnection=reconnection, reconnection_delay=0.2,
                              reconnection_delay_max=1.0)
        for name in ("started", "submitted", "logged_out", "time", "refused", "paused",
                     "resumed", "locked", "unlocked", "message", "reopened"):
            sio.on(name, self._recorder(name), namespace=NAMESPACE)
        sio.connect(self.base, namespaces=[NAMESPACE], transports=["websocket"],
                    auth={"v": 1, "kiosk": self.token, "attempt": self.attempt,
                          "login": self.login}, wait_timeout=10)
        self.sio = sio
        return self

    def got(self, name: str) -> list[Any]:
        with self._lock:
            return [data for n, data in self.events if n == name]

    def _recorder(self, name: str) -> Any:
        def record(data: Any = None) -> None:
            with self._lock:
                self.events.append((name, data))
        return record

    @property
    def connected(self) -> bool:
        return self.sio is not None and NAMESPACE in self.sio.namespaces

    def call(self, event: str, data: Any = None, timeout: float = 10) -> Any:
        assert self.sio is not None
        return self.sio.call(event, data if data is not None else {}, namespace=NAMESPACE,
                             timeout=timeout)

    def answer(self, seq: int, position: int, value: Any, flagged: bool = False,
               timeout: float = 10) -> Any:
        return self.call("answer", {"a": self.attempt, "s": seq, "q": position, "v": value,
                                    "f": flagged}, timeout=timeout)

    def close(self) -> None:
        if self.sio is not None:
            self.sio.disconnect()
            self.sio = None
