"""The pause counters the load test uses to explain its latency tail: a garbage collection
and a held event loop are each seen, and the server's GC lines are read back by phase."""

from __future__ import annotations

import gc
import time

import gevent

from loadtests.pauses import GcPauses, LoopLag, summary
from loadtests.report import stall_reports


def test_a_full_collection_is_timed_and_reported():
    seen: list[tuple[int, float, int]] = []
    pauses = GcPauses(report_ms=0.0, on_pause=lambda g, ms, n: seen.append((g, ms, n)))
    pauses.install()
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(pauses._callback)
    assert pauses.count[2] >= 1
    assert seen and seen[-1][0] == 2 and seen[-1][1] >= 0
    assert pauses.report()["gen2"]["count"] == pauses.count[2]


def test_a_loop_held_by_blocking_code_is_seen_as_one_stall():
    lag = LoopLag(gevent.sleep, tick_s=0.005, threshold_ms=20)
    watcher = gevent.spawn(lag.run)
    gevent.sleep(0.05)
    t0 = time.time()
    time.sleep(0.15)  # not gevent's sleep: nothing else runs meanwhile
    gevent.sleep(0.05)
    lag.stopped = True
    watcher.join(1)
    held = lag.within(t0 - 1, time.time())
    assert len(held) == 1 and 120 <= held[0] <= 1000
    figures = summary(held)
    assert figures["count"] == 1 and figures["over_50_ms"] == 1 and figures["over_200_ms"] == 0


def test_server_gc_lines_are_counted_per_phase():
    log = ("GC-PAUSE 120 ms at 100.500 gen 2 collected 10\n"
           "GC-PAUSE 30 ms at 101.000 gen 1 collected 3\n"
           "GC-PAUSE 300 ms at 205.000 gen 2 collected 0\n"
           "LOOP-STALL 130 ms at 100.490 | x.py:1 f | plugins/a.py:2 g\n")
    phases = [{"name": "steady", "start": 100.0, "end": 200.0},
              {"name": "storm", "start": 200.0, "end": 300.0}]
    got = stall_reports(log, phases)["gc_pauses"]
    assert got["steady gen2"] == summary([120.0])
    assert got["steady gen1"]["count"] == 1
    assert got["storm gen2"]["max_ms"] == 300.0
