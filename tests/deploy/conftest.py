"""A real nginx (Debian's package) in front of test nodes, configured from deploy/nginx/.

``nginx_proxy(upstreams=[port, ...], cert=..., key=...)`` writes a main ``nginx.conf`` for a
throw-away prefix folder and includes ``deploy/nginx/ruang.conf`` with only what must differ
on a test machine rewritten (ports, server name, certificate, log and cache paths), then
runs nginx in the foreground (``daemon off``). Every rewrite must match the expected number
of lines of the deployed file, so that the test keeps testing what operators install.

When nginx is missing the fixture FAILS and says to run ``./scripts/test``, which installs
it, as the PostgreSQL and Redis fixtures do.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.databases import HINT
from tests.fixtures.servers import REPO_ROOT, free_port

DEPLOY_CONF = REPO_ROOT / "deploy" / "nginx" / "ruang.conf"
SERVER_NAME = "localhost"

_proxies_key = pytest.StashKey[list["NginxProxy"]]()


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    # /usr/sbin is not on an ordinary user's PATH.
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def _rewrite(text: str, pattern: str, repl: str | Callable[[re.Match[str]], str],
             expected: int) -> str:
    new, n = re.subn(pattern, repl, text, flags=re.MULTILINE)
    if n != expected:
        raise AssertionError(
            f"{DEPLOY_CONF.relative_to(REPO_ROOT)}: expected {expected} line(s) matching "
            f"{pattern!r}, found {n}; keep the file and tests/deploy/conftest.py in step")
    return new


def site_config(upstreams: list[int], https_port: int, http_port: int, cert: Path, key: Path,
                root: Path, extra: str = "") -> str:
    """deploy/nginx/ruang.conf with this machine's ports and paths; ``extra`` goes into the
    Ruang server block (after its first line)."""
    text = DEPLOY_CONF.read_text(encoding="utf-8")
    nodes = "".join(f"    server 127.0.0.1:{port} max_fails=2 fail_timeout=10s;\n"
                    for port in upstreams)
    first = True

    def node_lines(_m: re.Match[str]) -> str:
        nonlocal first
        out, first = (nodes if first else ""), False
        return out

    text = _rewrite(text, r"^\s*server 127\.0\.0\.1:\d+ .*;\n", node_lines, 2)
    text = _rewrite(text, r"^\s*listen \[::\]:\d+.*;\n", "", 4)
    text = _rewrite(text, r"^(\s*)listen 80( default_server)?;",
                    rf"\1listen 127.0.0.1:{http_port}\2;", 2)
    text = _rewrite(text, r"^(\s*)listen 443 ssl( http2| default_server);",
                    rf"\1listen 127.0.0.1:{https_port} ssl\2;", 2)
    text = _rewrite(text, r"^(\s*)server_name ruang\.kampus\.ac\.id;",
                    rf"\1server_name {SERVER_NAME};", 2)
    text = _rewrite(text, r"^(\s*ssl_certificate)\s+\S+;", rf"\1 {cert};", 1)
    text = _rewrite(text, r"^(\s*ssl_certificate_key)\s+\S+;", rf"\1 {key};", 1)
    text = _rewrite(text, r"/var/log/nginx/ruang\.access\.log", str(root / "access.log"), 4)
    text = _rewrite(text, r"/var/cache/nginx/ruang", str(root / "cache"), 1)
    if extra:
        text = _rewrite(text, r"^(\s*listen 127\.0\.0\.1:\d+ ssl http2;\n)",
                        lambda m: m.group(1) + extra.rstrip("\n") + "\n", 1)
    return text


def main_config(root: Path) -> str:
    temp = root / "temp"
    return f"""
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {root}/ruang.conf;
}}
"""


@dataclass
class NginxProxy:
    exe: str
    root: Path
    https_port: int
    http_port: int
    proc: subprocess.Popen[bytes] | None = None
    _log_offset: int = field(default=0)

    @property
    def url(self) -> str:
        return f"https://{SERVER_NAME}:{self.https_port}"

    @property
    def http_url(self) -> str:
        return f"http://{SERVER_NAME}:{self.http_port}"

    @property
    def access_log(self) -> Path:
        return self.root / "access.log"

    def _cmd(self, *extra: str) -> list[str]:
        return [self.exe, "-p", str(self.root), "-c", str(self.root / "nginx.conf"),
                "-e", str(self.root / "error.log"), *extra]

    def start(self, timeout: float = 15.0) -> None:
        check = subprocess.run(self._cmd("-t"), capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise AssertionError(f"nginx -t refused the configuration:\n{check.stderr}\n"
                                 f"{(self.root / 'ruang.conf').read_text()}")
        log = (self.root / "stderr.log").open("wb")
        self.proc = subprocess.Popen(self._cmd("-g", "daemon off;"), stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"nginx exited with {self.proc.returncode}:\n{self.logs()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.https_port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError(f"nginx did not listen on {self.https_port}:\n{self.logs()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)  # nginx's fast shutdown
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def logs(self) -> str:
        parts = []
        for name in ("stderr.log", "error.log", "access.log"):
            path = self.root / name
            if path.exists():
                parts.append(f"--- nginx {name}\n" + path.read_text(errors="replace")[-20000:])
        return "\n".join(parts)

    def node_of(self, marker: str, timeout: float = 5.0) -> str:
        """The upstream (``127.0.0.1:PORT``) that served the request whose line holds
        ``marker``; nginx writes a line once the response is complete."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.access_log.read_text(errors="replace") if self.access_log.exists() else ""
            for line in reversed(text.splitlines()):
                if marker in line:
                    m = re.search(r" node=(\S+)", line)
                    assert m, line
                    return m.group(1)
            if time.monotonic() > deadline:
                raise AssertionError(f"no access log line with {marker!r}:\n{text[-3000:]}")
            time.sleep(0.05)


@pytest.fixture
def nginx_proxy(request: pytest.FixtureRequest) -> Iterator[Callable[..., NginxProxy]]:
    """A factory: ``nginx_proxy(upstreams=[port, ...], cert=path, key=path, extra="")``."""
    exe = nginx_binary()
    if exe is None:
        message = f"nginx is not installed (package nginx); {HINT}"
        if os.environ.get("RUANG_TEST_NO_SERVICES") == "1":
            pytest.skip(message)
        pytest.fail(message, pytrace=False)
    assert exe is not None
    started: list[NginxProxy] = []
    request.node.stash[_proxies_key] = started
    folders: list[Path] = []

    def factory(upstreams: list[int], cert: Path, key: Path, extra: str = "") -> NginxProxy:
        # Not under pytest's tmp_path: when the tests run as root, nginx's workers run as
        # nobody and must be able to reach their temp and cache folders.
        root = Path(tempfile.mkdtemp(prefix="ruang-nginx-"))
        root.chmod(0o755)
        folders.append(root)
        (root / "temp").mkdir()
        proxy = NginxProxy(exe, root, https_port=free_port(), http_port=free_port())
        (root / "ruang.conf").write_text(site_config(
            upstreams, proxy.https_port, proxy.http_port, cert, key, root, extra))
        (root / "nginx.conf").write_text(main_config(root))
        started.append(proxy)
        proxy.start()
        return proxy

    try:
        yield factory
    finally:
        for proxy in started:
            proxy.stop()
        for root in folders:
            shutil.rmtree(root, ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    proxies = item.stash.get(_proxies_key, None)
    if proxies and report.failed:
        for n, proxy in enumerate(proxies, 1):
            report.sections.append((f"nginx {n} logs", proxy.logs()))
    return report
