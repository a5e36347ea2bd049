"""``python -m loadtests``: one profile, end to end, on a fresh instance.

    python -m loadtests --profile smoke --out /tmp/lt-smoke
    python -m loadtests --profile lab --out /tmp/lt-lab --async-mode eventlet
    python -m loadtests --profile campus --out /tmp/lt-campus --compare-async
    python -m loadtests --profile smoke --kiosks 20 --out /tmp/lt-20

For each run: a new instance folder in a temporary directory, ``ruang db upgrade``, the
seed (an exam, candidates seated on enrolled kiosks; :mod:`loadtests.seed`), ``ruang
serve`` on 127.0.0.1 under gevent or eventlet with the acknowledge-only baseline plugin
beside it, then the locust driver (:mod:`loadtests.driver`) in its own process. While it
runs, the server's CPU and memory are sampled; afterwards the server is stopped, the
answers in the database are counted against what the kiosks sent, and ``OUT/report.json``
and ``OUT/summary.md`` are written (with ``--compare-async``, one column per async mode).

On a two-core machine the server is pinned to CPU 1 and the load generator (one locust
process) to CPU 0, so the figures are the server's on one core with a client beside it.
The exit status is 0 when every answer sent was acknowledged and stored exactly once and
no error happened; targets missed are reported, not turned into a failure (``--strict``
makes them one).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from loadtests import report as reporting
from loadtests.metrics import percentiles
from loadtests.profiles import PROFILES, Profile
from loadtests.server import REPO_ROOT, Sampler, Server, prepare


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _cpus(pin: bool) -> tuple[int | None, int | None]:
    """(server CPU, load generator CPU), or no pinning."""
    if not pin or not hasattr(os, "sched_getaffinity"):
        return None, None
    mine = sorted(os.sched_getaffinity(0))
    if len(mine) < 2:
        return None, None
    return mine[1], mine[0]


class Profiler:
    """py-spy on the server, one recording per phase named in ``phases``: collapsed stacks
    (``py-spy-PHASE.txt``, for flamegraph.pl or speedscope) and the functions that took the
    most samples (``py-spy-PHASE.top.txt``): where the server's time goes, phase by phase."""

    def __init__(self, py_spy: str, pid: int, out: Path, phases: set[str]) -> None:
        self.py_spy, self.pid, self.out, self.phases = py_spy, pid, out, phases
        self.running: tuple[subprocess.Popen[bytes], Path] | None = None

    def phase(self, name: str) -> None:
        self.stop()
        if name not in self.phases and "all" not in self.phases:
            return
        path = self.out / f"py-spy-{name}.txt"
        proc = subprocess.Popen(
            [self.py_spy, "record", "--pid", str(self.pid), "--rate", "100", "--nonblocking",
             "--format", "raw", "--output", str(path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.running = (proc, path)

    def stop(self) -> None:
        if self.running is None:
            return
        proc, path = self.running
        self.running = None
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        if path.exists():
            path.with_suffix(".top.txt").write_text(top_of_stacks(path.read_text()))


def top_of_stacks(collapsed: str, n: int = 40) -> str:
    """The functions with the most samples in py-spy's collapsed stacks, self and inclusive."""
    total = 0
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            incl[frame] += int(count)
    if not total:
        return "no samples\n"
    out = [f"{total} samples", "", "self:"]
    out += [f"{c / total:6.1%}  {f}" for f, c in own.most_common(n)]
    out += ["", "inclusive:"]
    out += [f"{c / total:6.1%}  {f}" for f, c in incl.most_common(n * 2)]
    return "\n".join(out) + "\n"


PHASE_LINE = re.compile(rb"\] phase (\S+)")


def _run_driver(cmd: list[str], log: Path, timeout: float, samplers: list[Sampler],
                profiler: Profiler | None = None) -> int:
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        samplers.append(Sampler(proc.pid).start())
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        try:
            for line in proc.stdout:
                out.write(line)
                out.flush()
                sys.stdout.write("  driver " + line.decode(errors="replace"))
                sys.stdout.flush()
                found = PHASE_LINE.search(line)
                if found and profiler is not None:
                    profiler.phase(found.group(1).decode())
                if time.monotonic() > deadline:
                    break
        finally:
            if profiler is not None:
                profiler.stop()
        try:
            return proc.wait(max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
            return -9


def _phase_cpu(sampler: Sampler, client: Sampler | None, phases: list[dict[str, Any]]) -> None:
    for ph in phases:
        start, end = ph["start"], ph.get("end", ph["start"])
        ph["server_cpu_s"] = sampler.cpu_between(start, end)
        ph["server_cpu_wait_s"] = sampler.wait_between(start, end)
        if client is not None:
            ph["client_cpu_wait_s"] = client.wait_between(start, end)
        ph["server_peak_rss_mb"] = round(max(
            (s[2] for s in sampler.samples if start <= s[0] <= end), default=0.0), 1)


def _uncontended(sampler: Sampler, acks: list[list[float]], window_s: float = 1.0,
                 limit: float = 0.1) -> dict[str, Any]:
    """Steady-state acknowledgements whose last second the server spent less than ``limit``
    of waiting for a CPU that other processes held: the latency this server gives when the
    machine is not taken from it. Reported beside the plain figure, never instead of it."""
    kept = [ms for at, ms in acks
            if sampler.wait_between(at - window_s, at) / window_s < limit]
    stats = percentiles(kept)
    stats["share_of_steady"] = round(len(kept) / len(acks), 3) if acks else 0.0
    return stats


def run_one(profile: Profile, async_mode: str, template: Path, out: Path, *,
            pin: bool, command: str, py_spy: str | None = None,
            py_spy_phases: set[str] | None = None, stall_ms: float = 0.0,
            proctor_poll_s: float | None = None,
            server_env: dict[str, str] | None = None) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"ruang-lt-{async_mode}-"))
    instance = work / "instance"
    shutil.copytree(template, instance, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    for secret in ("secret_key", "master_key"):
        if (instance / secret).exists():
            (instance / secret).chmod(0o600)
    server_cpu, driver_cpu = _cpus(pin)
    server = Server(instance, async_mode, out / "server.log", work / "site", cpu=server_cpu,
                    stall_ms=stall_ms, extra_env=dict(server_env or {}))
    _say(f"{async_mode}: starting ruang serve (instance {instance})")
    server.start()
    assert server.proc is not None
    sampler = Sampler(server.proc.pid).start()
    driver_out = out / "driver.json"
    cmd = [sys.executable, "-m", "loadtests.driver", "--seed", str(instance / "seed.json"),
           "--url", server.url, "--profile", profile.name, "--kiosks", str(profile.kiosks),
           "--out", str(driver_out)]
    if driver_cpu is not None:
        cmd += ["--cpu", str(driver_cpu)]
    if not profile.storm_silent:
        cmd += ["--storm-fin"]
    if proctor_poll_s is not None:
        cmd += ["--proctor-poll-s", str(proctor_poll_s)]
    exit_error = ""
    client: list[Sampler] = []
    try:
        profiler = (Profiler(py_spy, server.proc.pid, out, py_spy_phases or set())
                    if py_spy else None)
        code = _run_driver(cmd, out / "driver.log", profile.time_limit_s + 180, client,
                           profiler)
        if code != 0:
            exit_error = f"driver exited with {code}"
    finally:
        sampler.stop()
        for c in client:
            c.stop()
        alive = server.proc.poll() is None
        server.stop()
        if not alive:
            exit_error = exit_error or f"the server died ({server.proc.returncode})"
    driver = json.loads(driver_out.read_text()) if driver_out.exists() else {}
    db = reporting.count_answers(instance / "ruang.db", driver.get("attempts", []))
    _phase_cpu(sampler, client[0] if client else None, driver.get("phases", []))
    driver["ack_ms_uncontended"] = _uncontended(sampler, driver.pop("steady_acks", []))
    # The other kiosks keep answering and syncing their clocks during the saturation
    # phases: their cost, measured in the steady phase, is taken off ("net").
    steady = [ph for ph in driver.get("phases", []) if ph["name"] in ("steady", "after_storm")]
    steady_wall = sum(ph.get("end", ph["start"]) - ph["start"] for ph in steady)
    background = (sum(ph["server_cpu_s"] for ph in steady) / steady_wall) if steady_wall else 0.0
    for sat in (driver.get("saturation") or {}).values():
        w0, w1 = sat.pop("wall")
        cpu = sampler.cpu_between(w0, w1)
        sat["server_cpu_s"] = cpu
        sat["server_cpu_wait_s"] = sampler.wait_between(w0, w1)
        sat["server_background_cpu_per_s"] = round(background, 3)
        if sat["calls"]:
            sat["server_cpu_ms_per_call"] = round(cpu * 1000 / sat["calls"], 3)
            net = cpu - background * (w1 - w0)
            # With the server already half busy before saturating, the difference says
            # nothing reliable about one acknowledgement: leave it out.
            sat["server_cpu_ms_per_call_net"] = (round(net * 1000 / sat["calls"], 3)
                                                 if background < 0.5 and net > 0 else None)
    blocked = None
    if stall_ms > 0:
        log_text = (out / "server.log").read_text(errors="replace")
        this_run = log_text.rsplit("\n$ ", 1)[-1]  # the log is appended to: this server's part
        blocked = dict(reporting.stall_reports(this_run, driver.get("phases")),
                       threshold_ms=stall_ms)
    server_fig = {"cpu_s": sampler.cpu_s, "peak_rss_mb": sampler.peak_rss_mb,
                  "loop_blocked": blocked,
                  "cpu_wait_s": sampler.wait_s,
                  "client_cpu_wait_s": client[0].wait_s if client else None,
                  "load_average": [round(x, 2) for x in os.getloadavg()],
                  "pinned_cpu": server_cpu, "client_cpu": driver_cpu,
                  "async_mode": async_mode, "exit_error": exit_error or None}
    rep = reporting.build(profile, async_mode, driver, db, server_fig, command)
    if exit_error:
        rep["error_samples"] = [exit_error, *rep["error_samples"]]
    (out / "report.json").write_text(json.dumps(rep, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    return rep


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", required=True, choices=sorted(PROFILES),
                        help="; ".join(f"{p.name}: {p.description}" for p in PROFILES.values()))
    parser.add_argument("--out", type=Path, required=True, help="folder for the report")
    parser.add_argument("--kiosks", type=int, default=None,
                        help="override the profile's kiosk count (e.g. 20 for a quick check)")
    parser.add_argument("--async-mode", choices=["gevent", "eventlet"], default="gevent")
    parser.add_argument("--compare-async", action="store_true",
                        help="run the profile under gevent and under eventlet, one after the "
                             "other on copies of the same seeded instance, side by side")
    parser.add_argument("--lab-seats", type=int, default=None,
                        help="seats per lab (default: the profile's, 40)")
    parser.add_argument("--storm-fin", action="store_true",
                        help="in the storm, close the kiosks' connections with a FIN (the "
                             "server sees them go at once) instead of silently")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the server and the load generator to separate CPUs")
    parser.add_argument("--py-spy", metavar="PATH", default=None,
                        help="record the server with this py-spy binary during the phases "
                             "of --py-spy-phases (flame graphs and collapsed stacks in OUT)")
    parser.add_argument("--py-spy-phases", default="start,steady,saturation_answers,"
                        "saturation_baseline,storm", help="comma-separated phases, or 'all'")
    parser.add_argument("--stall-ms", type=float, default=0.0, metavar="MS",
                        help="note (server.log, summary) every time the server's event loop "
                             "stalled longer than MS, with the code that held it")
    parser.add_argument("--proctor-poll-s", type=float, default=None, metavar="S",
                        help="proctors poll the room's status every S seconds, as the exam "
                             "room page did before the live seat map (5); default: they watch "
                             "the live seat map over the /proctor socket, as room.js does now")
    parser.add_argument("--strict", action="store_true",
                        help="exit 2 when a measured target is missed")
    parser.add_argument("--nodes", type=int, default=1,
                        help="cluster mode: this many ruang serve nodes, with "
                             "--database postgresql and Redis (see loadtests/cluster.py)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite",
                        help="postgresql: a throw-away PostgreSQL cluster (cluster mode)")
    parser.add_argument("--server-env", action="append", default=[], metavar="RUANG_X=VALUE",
                        help="a setting for the server process(es), e.g. "
                             "RUANG_DB_POOL_SIZE=40; may be given again")
    args = parser.parse_args(argv)
    server_env: dict[str, str] = {}
    for item in args.server_env:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("RUANG_"):
            parser.error(f"--server-env {item!r}: expected RUANG_NAME=VALUE")
        server_env[key] = value
    profile = PROFILES[args.profile]
    if args.kiosks:
        if args.kiosks < 1:
            parser.error("--kiosks must be at least 1")
        profile = profile.with_kiosks(args.kiosks)
    if args.lab_seats:
        profile = replace(profile, lab_seats=args.lab_seats)
    if args.storm_fin:
        profile = replace(profile, storm_silent=False)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    command = "python -m loadtests " + shlex.join(sys.argv[1:] if argv is None else argv)
    if args.nodes > 1 or args.database != "sqlite":
        from loadtests import cluster

        return cluster.main_run(profile, out, nodes=args.nodes, database=args.database,
                                async_mode=args.async_mode, command=command,
                                stall_ms=args.stall_ms, proctor_poll_s=args.proctor_poll_s,
                                server_env=server_env)
    modes = ["gevent", "eventlet"] if args.compare_async else [args.async_mode]
    template_root = Path(tempfile.mkdtemp(prefix="ruang-lt-seed-"))
    try:
        template = template_root / "instance"
        _say(f"seeding {profile.seeded_kiosks} kiosks (ruang db upgrade, then loadtests.seed)")
        t0 = time.perf_counter()
        seed = prepare(template, profile.seeded_kiosks, lab_seats=profile.lab_seats,
                       items=profile.items, log=out / "prepare.log")
        _say(f"seeded {len(seed['kiosks'])} kiosks in {len(seed['sessions'])} labs "
             f"in {time.perf_counter() - t0:.0f} s")
        reports = []
        for mode in modes:
            where = out / mode if len(modes) > 1 else out
            reports.append(run_one(profile, mode, template, where, pin=not args.no_pin,
                                   command=command, py_spy=args.py_spy,
                                   py_spy_phases=set(args.py_spy_phases.split(",")),
                                   stall_ms=args.stall_ms,
                                   proctor_poll_s=args.proctor_poll_s,
                                   server_env=server_env))
    finally:
        shutil.rmtree(template_root, ignore_errors=True)
    main_report = dict(reports[0])
    if len(reports) > 1:
        main_report["compare_async"] = {r["async_mode"]: {
            k: r[k] for k in ("ack_ms", "start_fanout_ms", "storm_recovery_s", "server_cpu_s",
                              "server_peak_rss_mb", "answer_ack_per_s", "baseline_ack_per_s",
                              "answer_to_baseline", "errors", *reporting.INTEGRITY_KEYS)}
            for r in reports}
    (out / "report.json").write_text(json.dumps(main_report, indent=2))
    (out / "summary.md").write_text(reporting.summary(reports))
    _say(f"wrote {out / 'report.json'} and {out / 'summary.md'}")
    print((out / "summary.md").read_text().split("## Round trips")[0])
    broken = any(not r["targets"]["integrity"]["met"] or r["errors"] for r in reports)
    missed = any(t["met"] is False for r in reports for t in r["targets"].values())
    if broken:
        return 1
    return 2 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
