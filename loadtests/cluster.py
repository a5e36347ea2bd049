"""Cluster mode of the load test: several ``ruang serve`` nodes on PostgreSQL and Redis.

    python -m loadtests --profile smoke --nodes 2 --database postgresql --out /tmp/lt-c2
    python -m loadtests --profile campus --nodes 2 --database postgresql --out /tmp/lt-c2k

What a university running more than one server has: a throw-away PostgreSQL cluster
(``initdb``/``pg_ctl`` from the distribution's package, in a temporary folder, on a free
port of 127.0.0.1), a ``redis-server`` with persistence off, and ``--nodes`` ``ruang
serve`` processes sharing one instance folder (secrets) with ``RUANG_DATABASE_URL`` and
``RUANG_MESSAGE_QUEUE`` set, each running the background jobs as an operator's node does.
The instance is migrated with ``ruang db upgrade`` and seeded by :mod:`loadtests.seed`
against PostgreSQL.

Kiosks go to the nodes directly, without a proxy in between: kiosk ``n`` (by kiosk id)
talks to node ``n mod N`` for everything (sign-in, paper, socket), so every lab has PCs on
every node. All proctors sign in on node 1: their start reaches the kiosks of the other
nodes only through Redis, which is what ``start_fanout_ms`` then measures. Nothing is
pinned to a CPU (the nodes need both). The report has the same fields as a one-node run
(``report.json``, ``summary.md``); the server figures are the sum over the nodes, and
``cluster`` has each node's own, the kiosks per node and the machine's load average at
the start and at the end of the run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loadtests.profiles import Profile
from loadtests.server import REPO_ROOT, Sampler, Server, base_environ, free_port, ruang_command

PG_USER = "ruang"


# -- PostgreSQL and Redis, outside pytest --------------------------------------------------


def pg_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has ``initdb``."""
    found = list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        return None
    return max(found, key=lambda p: int(p.parts[-3].split(".")[0])).parent


class Postgres:
    """A throw-away PostgreSQL cluster (owned by the ``postgres`` user when we are root,
    since ``initdb`` refuses to run as root)."""

    def __init__(self, bindir: Path | None = None, max_connections: int = 300) -> None:
        found = bindir or pg_bindir()
        if found is None:
            raise RuntimeError("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb);"
                               " ./scripts/test installs it (package postgresql)")
        self.bindir = found
        self.port = free_port()
        self.max_connections = max_connections
        self.root = Path(tempfile.mkdtemp(prefix="ruang-lt-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self.run_as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        proc = subprocess.run([*self.run_as, *args], capture_output=True, text=True,
                              check=False, cwd=self.root)
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n"
                               f"{proc.stdout}\n{proc.stderr}\n{log}")

    def start(self) -> Postgres:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", PG_USER,
                  "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
        options = " ".join([
            f"-p {self.port}", f"-k {self.root}", "-c listen_addresses=127.0.0.1",
            # A load test measures Ruang, not the disk: commits need not wait for fsync.
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
            f"-c max_connections={self.max_connections}",
        ])
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                  "-o", options, "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast",
                      "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "ruang", driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str = "ruang") -> str:
        import psycopg

        with psycopg.connect(self.url("postgres", "postgresql"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


class Redis:
    """A ``redis-server`` on a free port of 127.0.0.1, persistence off."""

    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed; ./scripts/test installs it "
                               "(package redis-server)")
        self.exe = exe
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="ruang-lt-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20.0) -> Redis:
        import redis

        with (self.root / "redis.log").open("wb") as log:
            self.proc = subprocess.Popen(
                [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.root), "--daemonize", "no"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited:\n"
                                   + (self.root / "redis.log").read_text(errors="replace"))
            try:
                if redis.Redis.from_url(self.url, socket_timeout=1).ping():
                    return self
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


# -- child entry points: the seed on PostgreSQL, the driver across nodes --------------------


def _seed_main(argv: list[str]) -> int:
    """``loadtests.seed`` against ``RUANG_DATABASE_URL`` (it builds its app from an empty
    environment, so the URL is handed to it here)."""
    from core.config import load_settings
    from loadtests import seed

    url = os.environ["RUANG_DATABASE_URL"]

    def make_app(instance: Path) -> Any:
        from core.app import create_app

        return create_app(load_settings(environ={}, instance=instance, database_url=url,
                                        async_mode="threading", jobs=False))

    seed._make_app = make_app
    return seed.main(argv)


def node_for(kiosk_id: int, nodes: int) -> int:
    """The node (0-based) a kiosk talks to."""
    return kiosk_id % nodes


def _driver_main(argv: list[str]) -> int:
    """``loadtests.driver`` with each kiosk sent to its node (``--node-url``, repeated, in
    node order); proctors and everything else use ``--url`` (node 1)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--node-url", action="append", required=True)
    ours, rest = parser.parse_known_args(argv)
    urls: list[str] = ours.node_url
    for url in urls:
        if not url.startswith("http://127.0.0.1:"):
            raise SystemExit("the load test sends traffic to loopback only")
    from loadtests import driver  # gevent's monkey-patching happens on this import

    plain: Callable[..., Any] = driver.Kiosk

    def kiosk_on_its_node(info: dict[str, Any], _url: str, *args: Any, **kw: Any) -> Any:
        return plain(info, urls[node_for(int(info["kiosk_id"]), len(urls))], *args, **kw)

    driver.Kiosk = kiosk_on_its_node  # type: ignore[misc,assignment]
    return driver.main(rest)


# -- the run -------------------------------------------------------------------------------


class Combined(Sampler):
    """The nodes' samplers added up at node 1's sample times, for the one-node report."""

    def __init__(self, parts: list[Sampler]) -> None:  # no process of its own
        self.parts = parts
        self.samples = [(s[0], sum(p._at(1, s[0]) for p in parts),
                         sum(p._at(2, s[0]) for p in parts), sum(p._at(3, s[0]) for p in parts))
                        for s in parts[0].samples]
        self.peak_hwm_mb = sum(p.peak_hwm_mb for p in parts)


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _run(cmd: list[str], env: dict[str, str], log: Path, timeout: float) -> None:
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[-3:])} exited with {proc.returncode}:\n"
                           f"{log.read_text(errors='replace')[-3000:]}")


def prepare(instance: Path, database_url: str, profile: Profile, log: Path,
            timeout: float = 1800.0) -> dict[str, Any]:
    """Migrate the PostgreSQL database and seed it; returns the seed."""
    instance.mkdir(parents=True, exist_ok=True)
    env = base_environ(instance, {"RUANG_ASYNC_MODE": "threading", "RUANG_JOBS": "false",
                                  "RUANG_DATABASE_URL": database_url})
    _run([*ruang_command(), "db", "upgrade"], env, log, timeout)
    seed_file = instance / "seed.json"
    _run([sys.executable, "-m", "loadtests.cluster", "seed", "--instance", str(instance),
          "--kiosks", str(profile.seeded_kiosks), "--lab-seats", str(profile.lab_seats),
          "--items", str(profile.items), "--out", str(seed_file)], env, log, timeout)
    seed: dict[str, Any] = json.loads(seed_file.read_text())
    return seed


def count_answers(database_url: str, attempts: list[dict[str, Any]],
                  scratch: Path) -> dict[str, Any]:
    """:func:`loadtests.report.count_answers` on the PostgreSQL database: the rows it
    reads are copied into a scratch SQLite file, so both modes count with the same code."""
    import psycopg

    from loadtests import report as reporting

    pg = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(pg) as conn:
        answers = conn.execute("SELECT attempt_id, seq, position, value, flagged, at "
                               "FROM cbt_answers").fetchall()
        states = conn.execute("SELECT state FROM cbt_delivery_attempts").fetchall()
    copy = scratch / "answers.db"
    copy.unlink(missing_ok=True)
    con = sqlite3.connect(copy)
    try:
        con.execute("CREATE TABLE cbt_answers (attempt_id, seq, position, value, flagged, at)")
        con.execute("CREATE TABLE cbt_delivery_attempts (state)")
        con.executemany("INSERT INTO cbt_answers VALUES (?, ?, ?, ?, ?, ?)",
                        [(a, s, p, json.dumps(v), bool(f), str(at))
                         for a, s, p, v, f, at in answers])
        con.executemany("INSERT INTO cbt_delivery_attempts VALUES (?)", states)
        con.commit()
    finally:
        con.close()
    return reporting.count_answers(copy, attempts)


def run(profile: Profile, out: Path, *, nodes: int, async_mode: str, command: str,
        stall_ms: float = 0.0, proctor_poll_s: float | None = None,
        server_env: dict[str, str] | None = None) -> dict[str, Any]:
    """One cluster run end to end; writes ``OUT/report.json`` and returns the report."""
    from loadtests import cli
    from loadtests import report as reporting

    out.mkdir(parents=True, exist_ok=True)
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    work = Path(tempfile.mkdtemp(prefix="ruang-lt-cluster-"))
    instance = work / "instance"
    postgres, redis = Postgres(), Redis()
    servers: list[Server] = []
    samplers: list[Sampler] = []
    try:
        _say(f"starting PostgreSQL ({postgres.bindir}) and redis-server")
        postgres.start()
        redis.start()
        url = postgres.create_database()
        _say(f"seeding {profile.seeded_kiosks} kiosks on PostgreSQL")
        t0 = time.perf_counter()
        seed = prepare(instance, url, profile, out / "prepare.log")
        _say(f"seeded {len(seed['kiosks'])} kiosks in {len(seed['sessions'])} labs "
             f"in {time.perf_counter() - t0:.0f} s")
        env = {**(server_env or {}), "RUANG_DATABASE_URL": url, "RUANG_MESSAGE_QUEUE": redis.url}
        servers = [Server(instance, async_mode, out / f"server-{n + 1}.log", work / "site",
                          stall_ms=stall_ms, extra_env=env) for n in range(nodes)]
        for n, server in enumerate(servers, 1):
            _say(f"starting node {n} (ruang serve on {server.url})")
            server.start()
            assert server.proc is not None
            samplers.append(Sampler(server.proc.pid).start())
        driver_out = out / "driver.json"
        cmd = [sys.executable, "-m", "loadtests.cluster", "driver",
               *(a for s in servers for a in ("--node-url", s.url)),
               "--seed", str(instance / "seed.json"), "--url", servers[0].url,
               "--profile", profile.name, "--kiosks", str(profile.kiosks),
               "--out", str(driver_out)]
        if not profile.storm_silent:
            cmd += ["--storm-fin"]
        if proctor_poll_s is not None:
            cmd += ["--proctor-poll-s", str(proctor_poll_s)]
        exit_error = ""
        client: list[Sampler] = []
        try:
            code = cli._run_driver(cmd, out / "driver.log", profile.time_limit_s + 180, client)
            if code != 0:
                exit_error = f"driver exited with {code}"
        finally:
            for s in [*samplers, *client]:
                s.stop()
            dead = [n for n, s in enumerate(servers, 1)
                    if s.proc is not None and s.proc.poll() is not None]
            for server in servers:
                server.stop()
            if dead:
                exit_error = exit_error or f"node(s) {dead} died during the run"
        load_at_end = [round(x, 2) for x in os.getloadavg()]
        driver = json.loads(driver_out.read_text()) if driver_out.exists() else {}
        db = count_answers(url, driver.get("attempts", []), work)
    finally:
        for server in servers:
            server.stop()
        redis.stop()
        postgres.stop()
    sampler = Combined(samplers)
    cli._phase_cpu(sampler, client[0] if client else None, driver.get("phases", []))
    driver["ack_ms_uncontended"] = cli._uncontended(sampler, driver.pop("steady_acks", []))
    for sat in (driver.get("saturation") or {}).values():
        w0, w1 = sat.pop("wall")
        sat["server_cpu_s"] = sampler.cpu_between(w0, w1)
        sat["server_cpu_wait_s"] = sampler.wait_between(w0, w1)
        if sat["calls"]:
            sat["server_cpu_ms_per_call"] = round(sat["server_cpu_s"] * 1000 / sat["calls"], 3)
    per_node = [0] * nodes
    for k in seed["kiosks"][:profile.kiosks]:
        per_node[node_for(int(k["kiosk_id"]), nodes)] += 1
    server_fig = {"cpu_s": sampler.cpu_s, "peak_rss_mb": sampler.peak_rss_mb,
                  "loop_blocked": None, "cpu_wait_s": sampler.wait_s,
                  "client_cpu_wait_s": client[0].wait_s if client else None,
                  "load_average": load_at_end, "pinned_cpu": None, "client_cpu": None,
                  "async_mode": async_mode, "exit_error": exit_error or None}
    rep = reporting.build(profile, async_mode, driver, db, server_fig, command)
    if exit_error:
        rep["error_samples"] = [exit_error, *rep["error_samples"]]
    rep["cluster"] = {
        "nodes": nodes, "database": "postgresql", "message_queue": "redis",
        "routing": "direct: kiosk id mod nodes; every proctor on node 1",
        "kiosks_per_node": per_node,
        "node_cpu_s": [s.cpu_s for s in samplers],
        "node_peak_rss_mb": [s.peak_rss_mb for s in samplers],
        "load_average_start": load_at_start, "load_average_end": load_at_end,
        "cpus": os.cpu_count()}
    (out / "report.json").write_text(json.dumps(rep, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    return rep


def summary(rep: dict[str, Any]) -> str:
    """``summary.md`` of a one-node run, with the cluster's own lines first."""
    from loadtests import report as reporting

    c = rep["cluster"]
    head = [
        f"# Cluster run: {c['nodes']} nodes, PostgreSQL, Redis message queue", "",
        f"- kiosks per node: {c['kiosks_per_node']} ({c['routing']})",
        f"- CPU s per node: {c['node_cpu_s']}; peak RSS MB per node: {c['node_peak_rss_mb']}",
        f"- load average (1, 5, 15 min) at start {c['load_average_start']}, "
        f"at end {c['load_average_end']}, on {c['cpus']} CPUs", "", ""]
    text = reporting.summary([rep])
    one_node = ("One `ruang serve` process on SQLite (a fresh instance), on 127.0.0.1 only; the "
                "load generator is one locust process (LocalRunner) pinned to the other core, "
                "so the server keeps a core of its own.")
    text = text.replace(one_node, (
        f"{c['nodes']} `ruang serve` processes on one PostgreSQL database, joined by Redis as "
        "the Socket.IO message queue, on 127.0.0.1 only; the load generator is one locust "
        "process (LocalRunner). Nothing is pinned: nodes, database, Redis and load generator "
        "share the machine's CPUs. Server figures below are the nodes' sum."))
    return "\n".join(head) + text


def main_run(profile: Profile, out: Path, *, nodes: int, database: str, async_mode: str,
             command: str, stall_ms: float = 0.0, proctor_poll_s: float | None = None,
             server_env: dict[str, str] | None = None) -> int:
    """What ``python -m loadtests --nodes N --database postgresql`` does; exit status as
    :func:`loadtests.cli.main`'s."""
    if database != "postgresql":
        raise SystemExit("--nodes needs --database postgresql (SQLite is one machine's)")
    rep = run(profile, out, nodes=max(nodes, 1), async_mode=async_mode, command=command,
              stall_ms=stall_ms, proctor_poll_s=proctor_poll_s, server_env=server_env)
    (out / "summary.md").write_text(summary(rep))
    _say(f"wrote {out / 'report.json'} and {out / 'summary.md'}")
    print((out / "summary.md").read_text().split("## Round trips")[0])
    return 1 if not rep["targets"]["integrity"]["met"] or rep["errors"] else 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "seed":
        return _seed_main(args[1:])
    if args and args[0] == "driver":
        return _driver_main(args[1:])
    raise SystemExit("python -m loadtests.cluster seed|driver ... (child processes of "
                     "python -m loadtests --nodes N --database postgresql)")


if __name__ == "__main__":
    sys.exit(main())
