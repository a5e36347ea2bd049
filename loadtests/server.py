"""A fresh instance and a real ``ruang serve`` for one load-test run, and what it costs.

:func:`prepare` migrates a new instance folder with ``ruang db upgrade`` (as an operator
does) and seeds it (:mod:`loadtests.seed`) in a child process. :class:`Server` starts
``ruang serve`` on a free port of 127.0.0.1 only, under gevent or eventlet, with the
acknowledge-only baseline plugin installed beside it, optionally pinned to one CPU so the
load generator cannot take the server's core. :class:`Sampler` reads the server's CPU
seconds and resident memory with psutil while the run goes on; the kernel's own peak
(``VmHWM``) is read at the end, so a short spike between samples is not missed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from loadtests import baseline_plugin

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ruang_command() -> list[str]:
    exe = Path(sys.executable).parent / "ruang"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "core"]


def base_environ(instance: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every child: none of the caller's own ``RUANG_*`` settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUANG_")}
    env.update({"RUANG_INSTANCE": str(instance), "PYTHONUNBUFFERED": "1",
                "RUANG_HOST": "127.0.0.1"})
    env.update(extra or {})
    return env


def _run(cmd: list[str], env: dict[str, str], log: Path, timeout: float) -> None:
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=timeout, check=False)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd[-3:])} exited with {proc.returncode}:\n{tail}")


def prepare(instance: Path, kiosks: int, *, lab_seats: int, items: int, log: Path,
            timeout: float = 900.0) -> dict[str, Any]:
    """Migrate and seed a new instance; returns the seed (see :mod:`loadtests.seed`)."""
    instance.mkdir(parents=True, exist_ok=True)
    env = base_environ(instance, {"RUANG_ASYNC_MODE": "threading", "RUANG_JOBS": "false"})
    _run([*ruang_command(), "db", "upgrade"], env, log, timeout)
    seed_file = instance / "seed.json"
    _run([sys.executable, "-m", "loadtests.seed", "--instance", str(instance),
          "--kiosks", str(kiosks), "--lab-seats", str(lab_seats), "--items", str(items),
          "--out", str(seed_file)], env, log, timeout)
    seed: dict[str, Any] = json.loads(seed_file.read_text())
    return seed


def pin_to(cpu: int | None) -> None:
    """Keep the calling process on one CPU (no-op when ``cpu`` is None or unavailable)."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return
    with contextlib.suppress(OSError):
        if cpu in os.sched_getaffinity(0):
            os.sched_setaffinity(0, {cpu})


@dataclass
class Server:
    instance: Path
    async_mode: str
    log: Path
    site: Path
    cpu: int | None = None
    stall_ms: float = 0.0  # > 0: the baseline plugin notes event-loop stalls this long
    port: int = field(default_factory=free_port)
    # More settings for this node (cluster mode: RUANG_DATABASE_URL, RUANG_MESSAGE_QUEUE).
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> Server:
        baseline_plugin.install(self.site)
        env = base_environ(self.instance, {
            "RUANG_ASYNC_MODE": self.async_mode, "RUANG_PORT": str(self.port),
            "PYTHONPATH": os.pathsep.join([str(self.site), str(REPO_ROOT)]),
        })
        if self.stall_ms > 0:
            env["RUANG_LOADTEST_STALL_MS"] = str(self.stall_ms)
        env.update(self.extra_env)
        cmd = [*ruang_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        cpu = self.cpu
        with self.log.open("ab") as out:
            out.write(f"\n$ {' '.join(cmd)} (RUANG_ASYNC_MODE={self.async_mode})\n".encode())
            out.flush()
            self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True,
                                         preexec_fn=(lambda: pin_to(cpu)) if cpu is not None
                                         else None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ruang serve exited with {self.proc.returncode}:\n"
                                   f"{self.log.read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/login", timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"ruang serve did not answer within {timeout} s")

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def _run_delay_s(pid: int) -> float:
    """Seconds the process's threads spent runnable but waiting for a CPU (schedstat):
    on a machine shared with other work, the latency nobody in the process caused."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int((task / "schedstat").read_text().split()[1])
    except OSError:
        return 0.0
    return total / 1e9


def _peak_rss_mb(pid: int) -> float:
    """The kernel's high-water mark of the process's resident set (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


class Sampler:
    """Samples a process (and its children) every ``interval`` seconds on a thread."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.proc = psutil.Process(pid)
        self.interval = interval
        # (time.time(), cpu_s, rss_mb, run-queue wait s)
        self.samples: list[tuple[float, float, float, float]] = []
        self.peak_hwm_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sampler", daemon=True)

    def _read(self) -> tuple[float, float, float]:
        procs = [self.proc, *self.proc.children(recursive=True)]
        cpu = rss = wait = 0.0
        for p in procs:
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                cpu += t.user + t.system
                rss += p.memory_info().rss / 2**20
                wait += _run_delay_s(p.pid)
                self.peak_hwm_mb = max(self.peak_hwm_mb, _peak_rss_mb(p.pid))
        return cpu, rss, wait

    def _loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                cpu, rss, wait = self._read()
                self.samples.append((time.time(), cpu, rss, wait))
            self._stop.wait(self.interval)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(psutil.Error):
            cpu, rss, wait = self._read()
            self.samples.append((time.time(), cpu, rss, wait))
        self._stop.set()
        self._thread.join(5)

    def _at(self, column: int, t: float) -> float:
        """The figure at wall-clock time ``t``, interpolated between the samples around it."""
        before = [s for s in self.samples if s[0] <= t]
        after = [s for s in self.samples if s[0] >= t]
        if not before or not after:
            edge = (before or after)
            return edge[-1 if before else 0][column] if edge else 0.0
        a, b = before[-1], after[0]
        if b[0] == a[0]:
            return a[column]
        return a[column] + (b[column] - a[column]) * (t - a[0]) / (b[0] - a[0])

    def _delta(self, column: int, start: float, end: float) -> float:
        if not self.samples:
            return 0.0
        return round(self._at(column, end) - self._at(column, start), 2)

    def cpu_between(self, start: float, end: float) -> float:
        """CPU seconds used between two wall-clock times (nearest samples)."""
        return self._delta(1, start, end)

    def wait_between(self, start: float, end: float) -> float:
        """Seconds spent waiting for a CPU between two wall-clock times."""
        return self._delta(3, start, end)

    @property
    def cpu_s(self) -> float:
        return round(self.samples[-1][1] - self.samples[0][1], 2) if self.samples else 0.0

    @property
    def wait_s(self) -> float:
        return round(self.samples[-1][3] - self.samples[0][3], 2) if self.samples else 0.0

    @property
    def peak_rss_mb(self) -> float:
        sampled = max((s[2] for s in self.samples), default=0.0)
        return round(max(sampled, self.peak_hwm_mb), 1)
