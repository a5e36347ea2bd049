"""The locust side of a run: kiosks and proctors as locust users, driven through the phases.

    python -m loadtests.driver --seed SEED.json --url http://127.0.0.1:PORT \
        --profile lab --out DRIVER.json [--kiosks N] [--cpu 0]

Run by :mod:`loadtests.cli` in its own process (locust needs gevent's monkey-patching
before anything else is imported; the server gets the other core). It uses locust's
library API: an :class:`~locust.env.Environment` with a
:class:`~locust.runners.LocalRunner` (one process: on this two-core machine the server
keeps a core of its own), ``KioskUser`` per kiosk and ``ProctorUser`` per exam room. A
controller greenlet takes the run through its phases (see :mod:`loadtests.profiles`) and
writes what it measured to ``--out`` as JSON; the database side is counted by the caller.
"""

from __future__ import annotations

# isort: off
from gevent import monkey

monkey.patch_all()
import locust  # noqa: E402,F401  (monkey-patches first, then locust itself)
# isort: on

import argparse  # noqa: E402
import contextlib  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import deque  # noqa: E402
from dataclasses import asdict, replace  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import gevent.util  # noqa: E402
import psutil  # noqa: E402
import requests  # noqa: E402
import socketio  # noqa: E402
from gevent.event import Event  # noqa: E402
from gevent.lock import BoundedSemaphore  # noqa: E402
from locust import User, constant, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402

from core.collector import CollectionPacer, full_collection  # noqa: E402
from loadtests.kiosk import Kiosk  # noqa: E402
from loadtests.metrics import Recorder, percentiles  # noqa: E402
from loadtests.pauses import GcPauses, LoopLag  # noqa: E402
from loadtests.pauses import summary as pause_summary  # noqa: E402
from loadtests.profiles import PROFILES, TARGETS, Profile  # noqa: E402
from loadtests.server import pin_to  # noqa: E402

log = logging.getLogger("loadtests")
CSRF_RE = re.compile(r'name="csrf[-_]token"\s+(?:content|value)="([^"]+)"')
PROCTOR_POLL_S = 5.0  # what the exam room page did before the live seat map
PROCTOR_NAMESPACE = "/proctor"
SIGN_IN_CONCURRENCY = 16
FINISH_SPREAD_PER_KIOSK_S = 0.01


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


DROP_NOTICE_S = 2.0  # a storm's dropped client that has not noticed by then is told


class Controller:
    """Shared state of one run, and the greenlet that takes it through its phases."""

    def __init__(self, seed: dict[str, Any], url: str, profile: Profile) -> None:
        self.seed = seed
        self.url = url
        self.profile = profile
        self.rec = Recorder(fire=events.request.fire)
        self.rng = random.Random(20260601)
        self.todo: deque[dict[str, Any]] = deque(seed["kiosks"][:profile.seeded_kiosks])
        self.kiosks: list[Kiosk] = []
        self.failed_kiosks = 0
        self.proctors: list[ProctorUser] = []
        self.proctor_deltas = 0  # ``seats`` messages the live seat maps received
        self.proctor_delta_rows = 0
        self.sessions = [s["id"] for s in seed["sessions"]]
        self.started_sessions: set[int] = set()
        self.finished = Event()
        self.all_done = Event()
        self.modes: dict[int, str] = {}  # id(kiosk) -> "saturate" | "baseline"
        self.pause_clock = False
        self.phases: list[dict[str, Any]] = []
        self.steady: list[tuple[float, float]] = []
        self.result: dict[str, Any] = {"profile": profile.name, "kiosks": profile.kiosks}
        self.me = psutil.Process()
        self.t_begin = time.perf_counter()
        self.drained = 0
        self._unclaimed: deque[int] | None = None
        # Candidates queue at the door rather than all pressing "sign in" at once: at most
        # this many sign-ins are on their way (each costs the server an argon2 hash).
        self.signing_in = BoundedSemaphore(SIGN_IN_CONCURRENCY)

    # -- bookkeeping -----------------------------------------------------------------------

    def phase(self, name: str) -> dict[str, Any]:
        # The generator's own full garbage collections happen here, between phases, where
        # no round trip is being timed (see core.collector; the driver takes them over).
        full_collection()
        now_p, now_w = time.perf_counter(), time.time()
        if self.phases and "end" not in self.phases[-1]:
            self.phases[-1].update(end=now_w, end_p=now_p,
                                   client_cpu_s=round(self._cpu() - self.phases[-1]["cpu0"], 2))
        entry = {"name": name, "start": now_w, "start_p": now_p, "cpu0": self._cpu()}
        self.phases.append(entry)
        say(f"phase {name}")
        return entry

    def _cpu(self) -> float:
        t = self.me.cpu_times()
        return t.user + t.system

    def next_kiosk(self) -> dict[str, Any] | None:
        return self.todo.popleft() if self.todo else None

    def ready(self, k: Kiosk | None) -> None:
        if k is None:
            self.failed_kiosks += 1
        else:
            self.kiosks.append(k)

    def claim_session(self) -> int:
        """The next exam room without a proctor (0: every room has one)."""
        if self._unclaimed is None:
            self._unclaimed = deque(self.sessions_for(self.profile.seeded_kiosks))
        return self._unclaimed.popleft() if self._unclaimed else 0

    def mode(self, k: Kiosk) -> str:
        return self.modes.get(id(k), "normal")

    def kiosks_of(self, session_ids: set[int]) -> list[Kiosk]:
        return [k for k in self.kiosks if k.info["session_id"] in session_ids]

    # -- phases ----------------------------------------------------------------------------

    def wait_ready(self, count: int, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        shown = time.perf_counter()
        while len(self.kiosks) + self.failed_kiosks < count and time.perf_counter() < deadline:
            if time.perf_counter() - shown >= 15:
                say(f"  {len(self.kiosks)} kiosks signed in and waiting")
                shown = time.perf_counter()
            gevent.sleep(0.25)
        while len(self.proctors) < self.wanted_proctors and time.perf_counter() < deadline:
            gevent.sleep(0.25)

    @property
    def wanted_proctors(self) -> int:
        return len(self.sessions_for(self.profile.seeded_kiosks))

    def sessions_for(self, kiosks: int) -> list[int]:
        return sorted({k["session_id"] for k in self.seed["kiosks"][:kiosks]})

    def start(self, session_ids: list[int]) -> dict[str, Any]:
        """Every session's proctor presses start at the same moment; returns the fan-out."""
        waiting = [k for k in self.kiosks_of(set(session_ids)) if k.key is None]
        by_session = {p.session_id: p for p in self.proctors}
        t0 = time.perf_counter()
        jobs = [gevent.spawn(by_session[sid].press_start)
                for sid in session_ids if sid in by_session]
        missing = [sid for sid in session_ids if sid not in by_session]
        for sid in missing:
            self.rec.error(f"no proctor signed in for session {sid}")
        self.started_sessions |= set(session_ids)
        deadline = t0 + self.profile.fanout_wait_s
        # Each kiosk notes its own ``shown_at``; this loop only waits, and checks the kiosks
        # still waiting at a slow pace (the generator's core is the kiosks' during the start).
        unseen = waiting
        while time.perf_counter() < deadline and unseen:
            gevent.sleep(0.05)
            unseen = [k for k in unseen if k.shown_at == 0]
        gevent.joinall(jobs, timeout=30)
        shown = [k.shown_at for k in waiting if k.shown_at > 0]
        keyed = [(k.key_at - t0) * 1000 for k in waiting if k.key_at > 0]
        no_key = len(waiting) - len(shown)
        if no_key:
            self.rec.error(f"{no_key} of {len(waiting)} kiosks showed no question "
                           f"{self.profile.fanout_wait_s:.0f} s after the start")
        return {"kiosks": len(waiting), "shown": len(shown), "not_shown": no_key,
                "fanout_ms": round((max(shown) - t0) * 1000, 1) if shown else None,
                "shown_ms": percentiles((s - t0) * 1000 for s in shown),
                "key_ms": percentiles(keyed), "sessions": len(session_ids)}

    def storm(self) -> dict[str, Any]:
        p = self.profile
        online = [k for k in self.kiosks if k.online.is_set()]
        say(f"  dropping {len(online)} connections at once "
            f"({'silently, no FIN' if p.storm_silent else 'with FIN'})")
        t0 = time.perf_counter()
        online = [k for k in online if k.drop(p.storm_silent)]
        deadline = t0 + p.storm_wait_s
        told: int | None = None
        while time.perf_counter() < deadline:
            if all(k.synced_at > 0 for k in online):
                break
            if told is None and time.perf_counter() - t0 >= DROP_NOTICE_S:
                told = sum(1 for k in online if k.notice_drop())
            gevent.sleep(0.05)
        back = [k.synced_at for k in online if k.synced_at > 0]
        stuck = len(online) - len(back)
        if stuck:
            self.rec.error(f"storm: {stuck} of {len(online)} kiosks not back in sync after "
                           f"{p.storm_wait_s:.0f} s")
        recovery = (max(back) - t0) if back and not stuck else None
        return {"kiosks": len(online), "recovered": len(back), "not_recovered": stuck,
                "recovery_s": round(recovery, 2) if recovery is not None else None,
                "per_kiosk_s": percentiles((b - t0) for b in back),
                "reconnect_attempts": self.rec.count("reconnect")
                + len([s for s in self.rec.samples.get("reconnect", []) if not s.ok]),
                "silent": p.storm_silent,
                # Kiosks whose client had not seen its own drop after DROP_NOTICE_S.
                "told_of_drop": told or 0}

    def saturate(self, label: str, mode: str, event_name: str, chosen: list[Kiosk],
                 seconds: float) -> dict[str, Any]:
        for k in chosen:
            self.modes[id(k)] = mode
            k.wake.set()
        gevent.sleep(1.0)  # let every chosen kiosk get into its loop
        cpu0, t0, w0 = self._cpu(), time.perf_counter(), time.time()
        gevent.sleep(seconds)
        t1, w1 = time.perf_counter(), time.time()
        cpu1 = self._cpu()
        for k in chosen:
            self.modes.pop(id(k), None)
        done = self.rec.count(event_name, t0, t1)
        rtt = percentiles(self.rec.window(event_name, t0, t1))
        gevent.sleep(1.0)
        load = (cpu1 - cpu0) / (t1 - t0)
        say(f"  {label}: {done / (t1 - t0):.0f}/s over {len(chosen)} kiosks, "
            f"p99 {rtt['p99']} ms, load generator {load:.0%} of a core")
        return {"per_s": round(done / (t1 - t0), 1), "calls": done, "seconds": round(t1 - t0, 2),
                "kiosks": len(chosen), "rtt_ms": rtt, "client_core_use": round(load, 2),
                "wall": [w0, w1]}

    def steady_for(self, seconds: float) -> None:
        start = time.perf_counter()
        gevent.sleep(seconds)
        self.steady.append((start, time.perf_counter()))
        # The calls sent in the window's last moments come back before the next phase
        # begins with the generator's own full collection (see phase), which would
        # otherwise hold their acknowledgements and count against the server.
        gevent.sleep(1.0)

    def run(self, runner: Any) -> None:
        p = self.profile
        try:
            if p.ceiling_steps:
                self._run_ceiling(runner)
            else:
                self._run_profile(runner)
        except Exception as exc:
            log.exception("the controller failed")
            self.rec.error(f"controller: {exc!r}")
        finally:
            self._finish()

    def _ramp(self, runner: Any, kiosks: int) -> None:
        users = kiosks + self.wanted_proctors
        runner.start(users, spawn_rate=self.profile.spawn_rate)
        before, t0 = len(self.kiosks), time.perf_counter()
        self.wait_ready(kiosks, timeout=kiosks / self.profile.spawn_rate * 4 + 120)
        rate = (len(self.kiosks) - before) / max(time.perf_counter() - t0, 1e-6)
        self.result.setdefault("sign_in_per_s", []).append(round(rate, 2))
        say(f"  {len(self.kiosks)} kiosks ready, {self.failed_kiosks} failed, "
            f"{len(self.proctors)} proctors ({rate:.1f} sign-ins/s)")

    def _run_profile(self, runner: Any) -> None:
        p = self.profile
        self.phase("ramp")
        self._ramp(runner, p.kiosks)
        self.phase("start")
        fan = self.start(self.sessions_for(p.kiosks))
        self.result["start"] = fan
        say(f"  fan-out {fan['fanout_ms']} ms to {fan['shown']} kiosks")
        self.phase("steady")
        gevent.sleep(3.0)  # the first answers after the start are not steady state
        if p.storm:
            self.steady_for(max(p.storm_after_s - 3.0, 1.0))
            self.phase("storm")
            self.result["storm"] = self.storm()
            say(f"  storm recovery {self.result['storm']['recovery_s']} s")
            self.phase("after_storm")
            gevent.sleep(3.0)
            self.steady_for(p.after_storm_s)
        else:
            self.steady_for(p.steady_s)
        if p.saturation_s > 0 and p.saturation_kiosks > 0:
            chosen = self._spread(p.saturation_kiosks)
            self.phase("saturation_answers")
            answers = self.saturate("answer path", "saturate", "answer_sat", chosen,
                                    p.saturation_s)
            self.phase("saturation_baseline")
            baseline = self.saturate("ack-only baseline", "baseline", "ack_only", chosen,
                                     p.saturation_s)
            self.result["saturation"] = {"answers": answers, "baseline": baseline}

    def _spread(self, n: int) -> list[Kiosk]:
        """``n`` online kiosks spread over the labs (every n-th)."""
        online = [k for k in self.kiosks if k.online.is_set() and k.options]
        step = max(1, len(online) // max(n, 1))
        return online[::step][:n]

    def _run_ceiling(self, runner: Any) -> None:
        p = self.profile
        steps: list[dict[str, Any]] = []
        best = 0
        for count in p.ceiling_steps:
            self.phase(f"ramp_{count}")
            self._ramp(runner, count)
            fresh = sorted(set(self.sessions_for(count)) - self.started_sessions)
            self.phase(f"start_{count}")
            fan = self.start(fresh) if fresh else {"fanout_ms": None}
            self.phase(f"steady_{count}")
            gevent.sleep(3.0)
            # A step that breaks a target is measured once more before the run stops: on a
            # shared machine one window can be unlucky.
            for attempt in (1, 2):
                errors0 = self.rec.error_count
                t0 = time.perf_counter()
                gevent.sleep(p.ceiling_step_s)
                t1 = time.perf_counter()
                self.steady.append((t0, t1))
                ack = percentiles(self.rec.window("answer", t0, t1))
                errors = self.rec.error_count - errors0
                unacked = sum(len(k.pending) for k in self.kiosks)
                ok = (ack["p99"] <= TARGETS.ack_p99_ms and errors == 0
                      and len(self.kiosks) >= count and ack["count"] > 0)
                steps.append({"kiosks": count, "window": attempt, "ready": len(self.kiosks),
                              "ack_ms": ack, "errors": errors, "unacked_at_end": unacked,
                              "fanout_ms": fan.get("fanout_ms"), "met_targets": ok})
                if ok:
                    break
            say(f"  {count} kiosks: ack p99 {ack['p99']} ms, {errors} errors -> "
                f"{'ok' if ok else 'target broken'}")
            if not ok:
                break
            best = count
        self.result["ceiling"] = {"steps": steps, "largest_ok": best}

    def _finish(self) -> None:
        p = self.profile
        self.phase("drain_and_submit")
        self.finished.set()
        for k in self.kiosks:
            k.wake.set()
        deadline = (time.perf_counter() + p.drain_s + 60
                    + len(self.kiosks) * FINISH_SPREAD_PER_KIOSK_S)
        while self.drained < len(self.kiosks) and time.perf_counter() < deadline:
            gevent.sleep(0.1)
        left = len(self.kiosks) - self.drained
        if left:
            self.rec.error(f"{left} kiosks did not finish draining and submitting in time")
        self.phase("done")
        self.all_done.set()


CTL: Controller | None = None


def _controller() -> Controller:
    assert CTL is not None
    return CTL


def kiosk_life(k: Kiosk, ctl: Controller) -> None:
    """What a kiosk does once the candidate is signed in: wait, decrypt, answer, submit."""
    p = ctl.profile
    while not k.got_key.is_set() and not ctl.finished.is_set():
        k.got_key.wait(1.0)
    helpers = []
    if k.got_key.is_set():
        helpers = [gevent.spawn(_clock, k, ctl), gevent.spawn(_heartbeats, k, ctl)]
    while not ctl.finished.is_set():
        mode = ctl.mode(k)
        if mode in ("saturate", "baseline"):
            lanes = [gevent.spawn(_saturate, k, ctl, mode)
                     for _ in range(ctl.profile.saturation_inflight)]
            gevent.joinall(lanes)
        else:
            k.wake.clear()
            k.flush_outbox()
            k.wake.wait(1.0)
    gevent.killall(helpers, block=False)
    deadline = time.perf_counter() + p.drain_s
    while k.pending and time.perf_counter() < deadline:
        k.wake.clear()
        if not k.flush_outbox():
            k.wake.wait(0.5)
    if k.pending:
        ctl.rec.error(f"kiosk {k.info['kiosk_id']}: {len(k.pending)} answers never "
                      "acknowledged")
    if k.online.is_set() and k.got_key.is_set():
        # Candidates finish over a while, not in the same second: the end of the exam is
        # spread over FINISH_SPREAD_PER_KIOSK_S per kiosk (20 s for 2,000).
        gevent.sleep(k.rng.uniform(0, len(ctl.kiosks) * FINISH_SPREAD_PER_KIOSK_S))
        k.check_state()
        k.submit()
    k.close()
    ctl.drained += 1


def _saturate(k: Kiosk, ctl: Controller, mode: str) -> None:
    """One lane of a saturating kiosk: the next call as soon as the last one is answered."""
    while ctl.mode(k) == mode and not ctl.finished.is_set():
        if not k.online.is_set():
            k.online.wait(1.0)
        elif mode == "baseline":
            k.baseline_call()
        elif not k.send(k.answer(), "answer_sat"):
            gevent.sleep(0.05)  # refused or dropped: the normal sender takes it from here


def _clock(k: Kiosk, ctl: Controller) -> None:
    mean = ctl.profile.answer_mean_s
    # The first change comes after reading question 1, not at the start signal.
    gevent.sleep(k.rng.uniform(0.5, mean))
    while not ctl.finished.is_set():
        if ctl.mode(k) == "normal":
            k.answer()
        gevent.sleep(min(k.rng.expovariate(1.0 / mean), mean * 6))


def _heartbeats(k: Kiosk, ctl: Controller) -> None:
    hb = ctl.profile.heartbeat_s
    gevent.sleep(k.rng.uniform(0, hb))
    while not ctl.finished.is_set():
        if k.online.is_set():
            k.time_sync()
        gevent.sleep(hb * k.rng.uniform(0.9, 1.1))


class KioskUser(User):
    """One lab PC with its candidate."""

    wait_time = constant(3600)

    def on_start(self) -> None:
        ctl = _controller()
        info = ctl.next_kiosk()
        self.kiosk: Kiosk | None = None
        if info is None:
            return
        k = Kiosk(info, ctl.url, ctl.rec, heartbeat_s=ctl.profile.heartbeat_s,
                  rng=random.Random(info["kiosk_id"]))
        with ctl.signing_in:
            signed = k.sign_in()
        if signed and k.connect(tries=5):
            self.kiosk = k
            ctl.ready(k)
        else:
            k.close()
            ctl.ready(None)

    @task
    def exam(self) -> None:
        ctl = _controller()
        if self.kiosk is not None:
            kiosk_life(self.kiosk, ctl)
            self.kiosk = None
        ctl.all_done.wait()
        gevent.sleep(3600)


class ProctorUser(User):
    """A proctor in one exam room: the live seat map (as room.js), and the start."""

    wait_time = constant(3600)
    fixed_count = 0  # set per run: one per session
    poll_s = 0.0  # > 0: poll the room's status this often (the page before the live seat map)
    session_id: int = 0

    def on_start(self) -> None:
        ctl = _controller()
        self.session_id = ctl.claim_session()
        self.http = requests.Session()
        self.csrf = ""
        creds = ctl.seed["proctor"]
        t = time.perf_counter()
        try:
            page = self.http.get(ctl.url + "/login", timeout=60)
            token = CSRF_RE.search(page.text)
            resp = self.http.post(ctl.url + "/login", timeout=60, allow_redirects=False, data={
                "username": creds["username"], "password": creds["password"],
                "csrf_token": token.group(1) if token else ""})
            ok = resp.status_code == 302
            landing = self.http.get(ctl.url + "/cbt/exam-rooms", timeout=60)
            found = CSRF_RE.search(landing.text)
            self.csrf = found.group(1) if found else ""
        except requests.RequestException as exc:
            ok = False
            ctl.rec.error(f"proctor sign-in: {exc}")
        ctl.rec.record("http:proctor_login", t, ok, kind="http",
                       error=None if ok else "proctor could not sign in")
        if self.session_id:
            ctl.proctors.append(self)

    def press_start(self) -> None:
        ctl = _controller()
        t = time.perf_counter()
        try:
            resp = self.http.post(f"{ctl.url}/cbt/exam-rooms/{self.session_id}/start",
                                  data={"csrf_token": self.csrf}, allow_redirects=False,
                                  timeout=60)
            ok = resp.status_code in (302, 303)
            err = None if ok else f"HTTP {resp.status_code}"
        except requests.RequestException as exc:
            ok, err = False, str(exc)
        ctl.rec.record("http:start", t, ok, kind="http", error=err)

    @task
    def watch(self) -> None:
        ctl = _controller()
        if self.session_id and self.poll_s > 0:
            self._poll(ctl)
        elif self.session_id:
            self._live(ctl)
        ctl.all_done.wait()
        gevent.sleep(3600)

    def _poll(self, ctl: Controller) -> None:
        """The exam room page before the live seat map: the room's status every 5 s."""
        gevent.sleep(random.uniform(0, self.poll_s))
        while not ctl.finished.is_set():
            t = time.perf_counter()
            try:
                resp = self.http.get(f"{ctl.url}/cbt/exam-rooms/{self.session_id}/status",
                                     timeout=60)
                ok = resp.status_code == 200
                ctl.rec.record("http:room_status", t, ok, size=len(resp.content), kind="http",
                               error=None if ok else f"HTTP {resp.status_code}")
            except requests.RequestException as exc:
                ctl.rec.record("http:room_status", t, False, kind="http", error=str(exc))
            ctl.finished.wait(self.poll_s)

    def _live(self, ctl: Controller) -> None:
        """The exam room page with the live seat map (``room.js``): a socket on ``/proctor``
        that gets a snapshot on connect and batched ``seats`` deltas, and the start token
        fetched every 30 s. Snapshot round trips and deltas received are counted."""
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        sio = socketio.Client(reconnection=True, handle_sigint=False, request_timeout=20)
        got: dict[str, int] = {"seats": 0, "rows": 0}

        def on_seats(msg: Any) -> None:
            got["seats"] += 1
            got["rows"] += len((msg or {}).get("seats") or [])

        sio.on("seats", on_seats, namespace=PROCTOR_NAMESPACE)
        t = time.perf_counter()
        snap = Event()
        sio.on("snapshot", lambda _msg: snap.set(), namespace=PROCTOR_NAMESPACE)
        try:
            sio.connect(ctl.url, namespaces=[PROCTOR_NAMESPACE], transports=["websocket"],
                        auth={"session": self.session_id},
                        # The same browser as the pages: Flask-Login's strong session
                        # protection ties the session to its User-Agent.
                        headers={"Cookie": cookie,
                                 "User-Agent": str(self.http.headers["User-Agent"])},
                        wait_timeout=20)
            ok = bool(snap.wait(30))
            ctl.rec.record("proctor_snapshot", t, ok, kind="socketio",
                           error=None if ok else "no snapshot within 30 s")
        except socketio.exceptions.ConnectionError as exc:
            ctl.rec.record("proctor_snapshot", t, False, kind="socketio", error=str(exc)[:200])
            return
        while not ctl.finished.wait(30):
            t = time.perf_counter()
            try:
                resp = self.http.get(f"{ctl.url}/cbt/exam-rooms/{self.session_id}/token",
                                     headers={"Accept": "application/json"}, timeout=60)
                ok = resp.status_code == 200
                ctl.rec.record("http:room_token", t, ok, kind="http",
                               error=None if ok else f"HTTP {resp.status_code}")
            except requests.RequestException as exc:
                ctl.rec.record("http:room_token", t, False, kind="http", error=str(exc))
        ctl.proctor_deltas += got["seats"]
        ctl.proctor_delta_rows += got["rows"]
        with contextlib.suppress(Exception):
            sio.disconnect()


def _results(ctl: Controller, env: Environment) -> dict[str, Any]:
    kiosks = ctl.kiosks
    res = ctl.result
    steady_answers = [ms for a, b in ctl.steady for ms in ctl.rec.window("answer", a, b)]
    # Wall-clock times of the steady-state acknowledgements, so the caller can line them up
    # with the server's CPU samples (was the server starved of CPU by other processes?).
    to_wall = time.time() - time.perf_counter()
    steady_samples = [[round(smp.at + to_wall, 3), round(smp.ms, 2)]
                      for a, b in ctl.steady for smp in ctl.rec.samples.get("answer", [])
                      if a <= smp.at <= b and smp.ok]
    attempts = [{"attempt": k.attempt, "kiosk": k.info["kiosk_id"],
                 "sent": {str(s): list(v) for s, v in k.sent.items()},
                 "acked": sorted(k.acked)} for k in kiosks]
    res.update({
        "kiosks_ready": len(kiosks),
        "kiosks_failed": ctl.failed_kiosks,
        "proctors": len(ctl.proctors),
        "proctor_seat_deltas": ctl.proctor_deltas,
        "proctor_seat_delta_rows": ctl.proctor_delta_rows,
        "answers_sent": sum(len(k.sent) for k in kiosks),
        "answers_acked": sum(len(k.acked) for k in kiosks),
        "answers_unacked": sum(len(k.pending) for k in kiosks),
        "dup_acks": sum(k.dup_acks for k in kiosks),
        "resends": sum(max(0, t - 1) for k in kiosks for t in k.tries.values()),
        "throttled": sum(k.throttled for k in kiosks),
        "refused": sorted({c for k in kiosks for c in k.refused}),
        "refused_count": sum(len(k.refused) for k in kiosks),
        "state_mismatches": sum(k.state_mismatches for k in kiosks),
        "submitted": sum(1 for k in kiosks if k.submitted),
        "disconnects": sum(k.disconnects for k in kiosks),
        "ack_ms": percentiles(steady_answers),
        "steady_acks": steady_samples,
        "ack_ms_all": percentiles(ctl.rec.window("answer")),
        "rtt_ms": ctl.rec.table(),
        "errors": ctl.rec.error_count,
        "error_samples": ctl.rec.errors,
        "error_kinds": dict(ctl.rec.error_kinds.most_common(30)),
        "phases": [{k: v for k, v in ph.items() if k not in ("start_p", "end_p", "cpu0")}
                   for ph in ctl.phases],
        "steady_windows_s": [round(b - a, 1) for a, b in ctl.steady],
        "attempts": attempts,
        "driver_cpu_s": round(ctl._cpu(), 2),
        "profile_settings": asdict(ctl.profile),
    })
    return res


def _pauses_by_phase(ctl: Controller, lag: LoopLag, gcs: GcPauses) -> dict[str, Any]:
    """The generator's loop stalls and long garbage collections, per phase of the run."""
    out: dict[str, Any] = {}
    for ph in ctl.phases:
        start, end = ph["start"], ph.get("end", time.time())
        out[f"{ph['name']}: loop stalls over {lag.threshold_ms:g} ms"] = pause_summary(
            lag.within(start, end))
        for gen in range(3):
            found = [ms for at, g, ms in gcs.long if g == gen and start <= at < end]
            if found:
                out[f"{ph['name']}: generation {gen} collections over {gcs.report_ms:g} ms"] = \
                    pause_summary(found)
    return out


def write_locust_stats(env: Environment, path: Path) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["type", "name", "requests", "failures", "median_ms", "p95_ms", "p99_ms",
                    "max_ms", "avg_ms"])
        for (name, method), e in sorted(env.stats.entries.items()):
            w.writerow([method, name, e.num_requests, e.num_failures,
                        e.median_response_time, e.get_response_time_percentile(0.95),
                        e.get_response_time_percentile(0.99), round(e.max_response_time, 1),
                        round(e.avg_response_time, 1)])


def main(argv: list[str] | None = None) -> int:
    global CTL
    parser = argparse.ArgumentParser(prog="python -m loadtests.driver")
    parser.add_argument("--seed", type=Path, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--profile", choices=sorted(PROFILES), required=True)
    parser.add_argument("--kiosks", type=int, default=None)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cpu", type=int, default=None)
    parser.add_argument("--storm-fin", action="store_true")
    parser.add_argument("--proctor-poll-s", type=float, default=0.0)
    args = parser.parse_args(argv)
    if not args.url.startswith(("http://127.0.0.1:", "http://localhost:")):
        parser.error("the load test sends traffic to loopback only")
    pin_to(args.cpu)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("socketio", "engineio", "urllib3", "websocket"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    profile = PROFILES[args.profile]
    if args.kiosks:
        profile = profile.with_kiosks(args.kiosks)
    if args.storm_fin:
        profile = replace(profile, storm_silent=False)
    seed = json.loads(args.seed.read_text())
    if len(seed["kiosks"]) < profile.seeded_kiosks:
        parser.error(f"the seed has {len(seed['kiosks'])} kiosks, the profile needs "
                     f"{profile.seeded_kiosks}")
    ctl = CTL = Controller(seed, args.url, profile)
    ProctorUser.fixed_count = ctl.wanted_proctors
    ProctorUser.poll_s = args.proctor_poll_s
    env = Environment(user_classes=[KioskUser, ProctorUser], events=events, host=args.url)
    runner = env.create_local_runner()
    say(f"profile {profile.name}: {profile.kiosks} kiosks, {ctl.wanted_proctors} proctors, "
        f"pid {os.getpid()} on CPU {args.cpu if args.cpu is not None else 'any'}")
    # ``kill -USR1 PID`` prints what every green thread is doing (a kiosk that hangs).
    signal.signal(signal.SIGUSR1, lambda *_: sys.stderr.write(
        "\n".join(gevent.util.format_run_info()) + "\n"))
    CollectionPacer(full_every_s=0).take_over()
    gc_pauses = GcPauses(report_ms=20.0).install()
    lag = LoopLag(gevent.sleep)
    gevent.spawn(lag.run)
    worker = gevent.spawn(ctl.run, runner)
    worker.join(timeout=profile.time_limit_s)
    if not worker.dead:
        ctl.rec.error(f"time limit of {profile.time_limit_s:.0f} s reached; stopping")
        ctl.finished.set()
        worker.join(timeout=60)
        worker.kill(block=False)
    with contextlib.suppress(Exception):
        runner.quit()
    res = _results(ctl, env)
    res["driver_wall_s"] = round(time.perf_counter() - ctl.t_begin, 1)
    lag.stopped = True
    res["driver_pauses"] = _pauses_by_phase(ctl, lag, gc_pauses)
    args.out.write_text(json.dumps(res))
    write_locust_stats(env, args.out.with_name("locust_stats.csv"))
    say(f"done: {res['answers_acked']}/{res['answers_sent']} answers acknowledged, "
        f"{res['errors']} errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
