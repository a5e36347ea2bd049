"""The acknowledge-only handler: the socket stack's own limit, for the load test's baseline.

A plugin like any third party's, found through the ``ruang.plugins`` entry-point group only
when the load test puts :func:`install` 's site folder on ``PYTHONPATH`` of the server it
starts; nothing in the product imports it. It registers one event, ``loadtest_ack``, on
the exam namespace the kiosks are connected to (same connections, same Socket.IO server,
same core gate: plugin enabled, payload validated), and acknowledges without doing
anything else. The load test sends it the
same payloads and the same number of kiosks as the answers, so the ratio of the two
throughputs says how much of the stack's capacity the answer path leaves unused.

The namespace is the exam protocol's, ``/exam``, unless ``RUANG_LOADTEST_NAMESPACE`` names
another.

With ``RUANG_LOADTEST_STALL_MS`` set (``python -m loadtests --stall-ms``), ``ruang serve``
also watches its own event loop: a green thread ticks every 5 ms, and a real OS thread
notes each time the ticks stop for longer than that many milliseconds, with the stack of
the code that was running then, as one ``LOOP-STALL`` line on stderr. While the loop is
stalled no kiosk is answered, so these lines say what the latency tail is made of. Each
garbage collection longer than half that threshold is one ``GC-PAUSE`` line.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.contracts import SocketHandler
from core.plugins import hookimpl
from loadtests.pauses import GcPauses

EVENT = "loadtest_ack"
DIST_NAME = "ruang-loadtest-baseline"
VERSION = "1.0"


class AckIn(BaseModel):
    """Shaped like an answer message: validation costs the same order as the real one."""

    model_config = ConfigDict(extra="allow")

    seq: int = Field(default=0, ge=0)


class BaselinePlugin:
    RUANG_PLUGIN_NAME = "loadtest_baseline"
    VERSION = VERSION

    @hookimpl
    def ruang_socket_handlers(self) -> Sequence[SocketHandler]:
        namespace = os.environ.get("RUANG_LOADTEST_NAMESPACE", "/exam")
        return [SocketHandler(EVENT, self._ack, namespace=namespace, schema=AckIn)]

    def _ack(self, payload: AckIn) -> dict[str, Any]:
        return {"ok": True, "seq": payload.seq}

    @hookimpl
    def ruang_app_created(self, app: Any) -> None:
        threshold_ms = float(os.environ.get("RUANG_LOADTEST_STALL_MS") or 0)
        serving = len(sys.argv) > 1 and sys.argv[1] == "serve"
        if serving:
            # ``kill -USR1 PID`` writes every green thread's stack to the server's log: what a
            # request that never answers is waiting for.
            signal.signal(signal.SIGUSR1, lambda *_: _dump_green_threads())
        if threshold_ms > 0 and serving:
            StallWatch(app.extensions["ruang"].socketio, threshold_ms / 1000.0).start()
            GcPauses(report_ms=threshold_ms / 2, on_pause=_say_gc_pause).install()


plugin = BaselinePlugin()


def _dump_green_threads() -> None:
    import gc

    import greenlet

    for g in gc.get_objects():
        if isinstance(g, greenlet.greenlet) and g.gr_frame is not None:
            sys.stderr.write(f"--- green thread {g!r}\n" + "".join(
                traceback.format_stack(g.gr_frame)))
    sys.stderr.flush()


def _say_gc_pause(generation: int, ms: float, collected: int) -> None:
    # A collection holds the GIL, so the loop (and every thread) stood still for all of it.
    sys.stderr.write(f"GC-PAUSE {ms:.0f} ms at {time.time() - ms / 1000:.3f} "
                     f"gen {generation} collected {collected}\n")


def _original_thread(name: str) -> Callable[..., Any]:
    """``_thread.<name>`` as it was before gevent or eventlet patched it (OS threads)."""
    mode = os.environ.get("RUANG_ASYNC_MODE", "gevent")
    if mode == "gevent":
        from gevent import monkey

        return monkey.get_original("_thread", name)
    if mode == "eventlet":
        from eventlet import patcher

        return getattr(patcher.original("_thread"), name)
    import _thread

    return getattr(_thread, name)


class StallWatch:
    """Notes every stall of the event loop longer than ``threshold`` seconds (see above)."""

    TICK_S = 0.005

    def __init__(self, socketio: Any, threshold: float) -> None:
        self.socketio = socketio
        self.threshold = threshold
        self.last_tick = time.monotonic()
        self.loop_thread = 0
        self.running = False

    def start(self) -> None:
        self.loop_thread = _original_thread("get_ident")()
        self.socketio.start_background_task(self._tick)
        _original_thread("start_new_thread")(self._watch, ())

    def _tick(self) -> None:
        self.running = True  # the server's loop runs: stalls count from now on
        while True:
            self.last_tick = time.monotonic()
            self.socketio.sleep(self.TICK_S)

    def _watch(self) -> None:
        root = str(Path(__file__).resolve().parent.parent)
        stalled_since = stalled_wall = 0.0
        stack = ""
        while True:
            time.sleep(self.threshold / 4)
            now = time.monotonic()
            behind = now - self.last_tick
            if not self.running:
                continue
            if behind > self.threshold and not stalled_since:
                stalled_since = self.last_tick
                stalled_wall = time.time() - behind
                frame = sys._current_frames().get(self.loop_thread)
                frames = traceback.extract_stack(frame) if frame is not None else []
                ours = [f"{f.filename[len(root):].lstrip('/')}:{f.lineno} {f.name}"
                        for f in frames if f.filename.startswith(root)
                        and "/.venv/" not in f.filename]
                inner = f"{Path(frames[-1].filename).name}:{frames[-1].lineno} " \
                        f"{frames[-1].name}" if frames else "?"
                stack = " < ".join(reversed(ours)) or "(outside Ruang's code)"
                stack = f"{inner} | {stack}"
            elif behind <= self.threshold and stalled_since:
                ms = (self.last_tick - stalled_since) * 1000
                sys.stderr.write(f"LOOP-STALL {ms:.0f} ms at {stalled_wall:.3f} | {stack}\n")
                sys.stderr.flush()
                stalled_since = 0.0


def install(site: Path) -> Path:
    """Write the distribution's metadata into ``site`` (what ``pip install`` would leave) and
    return ``site``; put it and the repository on the server's ``PYTHONPATH``."""
    info = site / f"{DIST_NAME.replace('-', '_')}-{VERSION}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {DIST_NAME}\nVersion: {VERSION}\n")
    (info / "entry_points.txt").write_text(
        "[ruang.plugins]\nloadtest_baseline = loadtests.baseline_plugin:plugin\n")
    return site
