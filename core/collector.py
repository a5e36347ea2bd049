"""Garbage collection paced for a server that answers kiosks within milliseconds.

CPython collects its oldest generation whenever the objects that survived younger
collections grow by a quarter. A server holding 2,000 kiosk connections tracks a couple of
million objects, and one such collection holds the GIL, so every greenlet and thread,
for 0.5 to 0.9 s on our machine: the load test's campus run had three of them in 40 s of
steady state on the server (and as many in the load generator), and they *were* its ack
latency p99 (``python -m loadtests --profile campus --stall-ms 50``; loadtests/RESULTS.md).

:func:`pace` takes that decision away from the allocator and makes it on a clock:

* the objects alive once the app is built (modules, classes, templates, mappers: about a
  quarter of a million) are collected once and then frozen (:func:`gc.freeze`): they live
  as long as the process, and no collection needs to look at them again;
* the two young generations are collected as before: they hold the short-lived objects of
  requests and messages, and take milliseconds;
* the oldest generation is never collected by the allocator, but by :func:`full_collection`
  every ``full_every_s`` seconds (``RUANG_GC_FULL_EVERY_S``, default 300). The pause is the
  same length, but there are a few an hour instead of several a minute, so it reaches a
  tenth of a percent of the acknowledgements instead of several percent.

Garbage in cycles that reached the oldest generation waits for the next full collection:
memory can grow by what such cycles hold in ``full_every_s``. ``0`` gives the process back
CPython's own schedule. Only ``ruang serve`` paces; the CLI and the tests keep CPython's.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["NEVER", "CollectionPacer", "full_collection", "pace"]

log = logging.getLogger(__name__)

NEVER = 2**31 - 1  # a threshold the oldest generation's count never passes
CHECK_EVERY_S = 5.0


@dataclass
class CollectionPacer:
    """Whether a full collection is due; :meth:`tick` is called every few seconds."""

    full_every_s: float
    last_full: float = 0.0
    full_collections: int = 0

    def take_over(self) -> None:
        """Collect and freeze what the process has built so far, and stop the allocator
        from ever collecting the oldest generation by itself."""
        young0, young1, _old = gc.get_threshold()
        gc.collect()
        gc.freeze()
        gc.set_threshold(young0, young1, NEVER)
        self.last_full = time.monotonic()

    def tick(self, now: float | None = None) -> bool:
        """Collect everything if ``full_every_s`` has passed since the last time."""
        now = time.monotonic() if now is None else now
        if now - self.last_full < self.full_every_s:
            return False
        full_collection()
        self.last_full = time.monotonic()
        self.full_collections += 1
        return True


def full_collection() -> float:
    """Collect every generation (not the frozen objects); returns the pause in ms."""
    t0 = time.perf_counter()
    found = gc.collect()
    ms = (time.perf_counter() - t0) * 1000
    log.debug("full garbage collection: %d unreachable, %.0f ms", found, ms)
    return ms


def pace(full_every_s: float, start_task: Callable[[Callable[[], None]], object],
         sleep: Callable[[float], None]) -> CollectionPacer | None:
    """Take over the oldest generation's collections for this process (see the module's
    docstring), with ``start_task``/``sleep`` of its event loop; ``None`` when
    ``full_every_s`` is 0 (CPython's own schedule)."""
    if full_every_s <= 0:
        return None
    pacer = CollectionPacer(full_every_s)
    pacer.take_over()

    def loop() -> None:
        while True:
            sleep(CHECK_EVERY_S)
            try:
                pacer.tick()
            except Exception:  # a collection that fails must not stop the schedule
                log.exception("scheduled garbage collection failed")

    start_task(loop)
    return pacer
