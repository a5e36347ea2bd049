"""Pauses of a process that no latency figure explains by itself: garbage collections, and
stretches in which the load generator's own event loop stood still.

A kiosk's acknowledgement is timed in the load generator. If the generator's loop is held
(by a garbage collection over its 2,000 kiosks, or by a burst of its own work) the ack waits
in its socket buffer and the latency recorded is the generator's, not the server's. The
server has the same question about its collector. These counters let the report say which
part of the latency tail each of them can account for.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

__all__ = ["GcPauses", "LoopLag", "summary"]


class GcPauses:
    """Times every collection of this process (``gc.callbacks``) and keeps the long ones.

    ``on_pause(generation, ms, collected)`` is called for each collection that took at least
    ``report_ms`` (all collections are counted)."""

    def __init__(self, report_ms: float = 5.0,
                 on_pause: Callable[[int, float, int], None] | None = None) -> None:
        self.report_ms = report_ms
        self.on_pause = on_pause
        self.count = [0, 0, 0]
        self.total_ms = [0.0, 0.0, 0.0]
        self.max_ms = [0.0, 0.0, 0.0]
        self.long: list[tuple[float, int, float]] = []  # (wall time it began, generation, ms)
        self._t0 = 0.0

    def install(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
            return
        gen = int(info.get("generation", 0))
        ms = (time.perf_counter() - self._t0) * 1000
        self.count[gen] += 1
        self.total_ms[gen] += ms
        self.max_ms[gen] = max(self.max_ms[gen], ms)
        if ms >= self.report_ms:
            self.long.append((time.time() - ms / 1000, gen, ms))
            if self.on_pause is not None:
                self.on_pause(gen, ms, int(info.get("collected", 0)))

    def report(self) -> dict[str, Any]:
        return {f"gen{g}": {"count": self.count[g], "total_ms": round(self.total_ms[g], 1),
                            "max_ms": round(self.max_ms[g], 1)} for g in range(3)}


class LoopLag:
    """How far behind a green thread that wants to wake every ``tick_s`` falls.

    ``sleep`` is the event loop's sleep (``gevent.sleep``); run :meth:`run` in a green thread
    of its own. Each stretch longer than ``threshold_ms`` is kept as (wall time, ms)."""

    def __init__(self, sleep: Callable[[float], Any], tick_s: float = 0.005,
                 threshold_ms: float = 20.0) -> None:
        self.sleep = sleep
        self.tick_s = tick_s
        self.threshold_ms = threshold_ms
        self.stalls: list[tuple[float, float]] = []
        self.stopped = False

    def run(self) -> None:
        last = time.perf_counter()
        while not self.stopped:
            self.sleep(self.tick_s)
            now = time.perf_counter()
            late_ms = (now - last - self.tick_s) * 1000
            if late_ms > self.threshold_ms:
                self.stalls.append((time.time() - late_ms / 1000, late_ms))
            last = now

    def within(self, start: float, end: float) -> list[float]:
        """The stalls (ms) that began between the wall times ``start`` and ``end``."""
        return [ms for at, ms in self.stalls if start <= at < end]


def summary(stalls_ms: list[float]) -> dict[str, Any]:
    """Count, sum and the largest of some pauses, in milliseconds."""
    ordered = sorted(stalls_ms)
    return {"count": len(ordered), "total_ms": round(sum(ordered)),
            "max_ms": round(ordered[-1], 1) if ordered else 0.0,
            "over_50_ms": sum(1 for ms in ordered if ms > 50),
            "over_200_ms": sum(1 for ms in ordered if ms > 200)}
