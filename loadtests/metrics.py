"""Round-trip times per event type, measured by the load generator itself.

Locust times HTTP requests but not Socket.IO emits, so every timed call goes through
:meth:`Recorder.record`, which keeps the raw samples (for exact percentiles over any time
window: the steady state excludes the sign-in wave and the start) and also fires locust's
``request`` event, so locust's own statistics list the socket events beside the HTTP ones.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


def percentiles(values: Iterable[float]) -> dict[str, float]:
    """p50, p95, p99 and max of ``values`` (nearest-rank), rounded to 0.01; zeros if none."""
    data = sorted(values)
    if not data:
        return {"count": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}

    def rank(p: float) -> float:
        return data[max(0, math.ceil(p / 100 * len(data)) - 1)]

    return {"count": len(data), "p50": round(rank(50), 2), "p95": round(rank(95), 2),
            "p99": round(rank(99), 2), "max": round(data[-1], 2),
            "mean": round(sum(data) / len(data), 2)}


@dataclass
class Sample:
    at: float  # time.perf_counter() when the call ended
    ms: float
    ok: bool


@dataclass
class Recorder:
    """Samples per event name; ``fire`` is locust's ``events.request.fire`` (or None)."""

    fire: Any = None
    samples: dict[str, list[Sample]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    error_kinds: Counter[str] = field(default_factory=Counter)

    def record(self, name: str, started: float, ok: bool = True, *, size: int = 0,
               error: str | None = None, kind: str = "socketio",
               count_error: bool = True) -> float:
        """Record a call that began at ``started`` (``time.perf_counter()``); returns ms.
        A failure is also an error of the run unless ``count_error`` is false (a transient
        failure the kiosk recovers from by itself, like a refused websocket it retries)."""
        now = time.perf_counter()
        ms = (now - started) * 1000.0
        self.samples[name].append(Sample(now, ms, ok))
        if self.fire is not None:
            self.fire(request_type=kind, name=name, response_time=ms,
                      response_length=size, exception=None if ok else RuntimeError(error or name),
                      context={})
        if not ok and count_error:
            self.error(f"{name}: {error or 'failed'}")
        return ms

    def error(self, message: str) -> None:
        self.error_count += 1
        # "kiosk 12: ..." and "answer: timeout" alike, counted by what went wrong.
        kind = message.split(": ", 1)[1] if message.startswith("kiosk ") else message
        self.error_kinds[kind[:120]] += 1
        if len(self.errors) < 50:
            self.errors.append(message)

    def window(self, name: str, start: float = -math.inf, end: float = math.inf,
               *, ok_only: bool = True) -> list[float]:
        return [s.ms for s in self.samples.get(name, ())
                if start <= s.at <= end and (s.ok or not ok_only)]

    def count(self, name: str, start: float = -math.inf, end: float = math.inf) -> int:
        return sum(1 for s in self.samples.get(name, ()) if start <= s.at <= end and s.ok)

    def table(self, start: float = -math.inf, end: float = math.inf) -> dict[str, dict[str, float]]:
        """Percentiles of every event name within the window, failures counted apart."""
        out = {}
        for name in sorted(self.samples):
            stats = percentiles(self.window(name, start, end))
            stats["failures"] = sum(1 for s in self.samples[name]
                                    if start <= s.at <= end and not s.ok)
            out[name] = stats
        return out
