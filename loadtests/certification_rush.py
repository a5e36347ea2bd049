"""The registration rush: many people register for a few seats at the same moment.

    python -m loadtests.certification_rush                      # 2,000 people, 100 seats
    python -m loadtests.certification_rush -n 500 -s 50 -c 32
    python -m loadtests.certification_rush --database-url postgresql+psycopg://...

What it does, all on this machine (loopback only):

1. Makes a fresh instance in a temporary folder (or ``--instance``), migrates it (SQLite by
   default, or the empty database of ``--database-url``), publishes a programme with one
   field whose quota is ``--seats``, and adds ``--participants`` outsiders with verified
   addresses and one-time sign-in links.
2. Starts a real ``ruang serve`` on a free port of 127.0.0.1.
3. Signs every participant in through their link (each gets a session cookie and a CSRF
   token, as a browser would), untimed.
4. The rush, timed: every participant POSTs the registration at once, ``--concurrency``
   connections at a time, and the answers are counted.
5. Checks, from the answers and from the database, that exactly ``--seats`` people are
   confirmed with distinct seat numbers 1..seats and everyone else is on the waiting list,
   and prints the figures. The exit status is 0 only when the counts are exact.

Every request loop is bounded (one registration per participant, a timeout per request),
and the server is stopped at the end whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
REQUEST_TIMEOUT_S = 120.0


@dataclass
class RushResult:
    participants: int
    seats: int
    concurrency: int
    database: str
    seconds: float
    signin_seconds: float
    confirmed: int
    waitlisted: int
    errors: int
    error_samples: list[str] = field(default_factory=list)
    db_confirmed: int = 0
    db_waitlisted: int = 0
    db_seats_held: int = 0
    seat_numbers_ok: bool = False
    live_remaining: int = -1
    live_waiting: int = -1
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    latency_max_ms: float = 0.0

    @property
    def exact(self) -> bool:
        expected_confirmed = min(self.seats, self.participants)
        return (self.errors == 0 and self.confirmed == expected_confirmed
                and self.waitlisted == self.participants - expected_confirmed
                and self.db_confirmed == expected_confirmed
                and self.db_waitlisted == self.participants - expected_confirmed
                and self.db_seats_held == expected_confirmed and self.seat_numbers_ok
                and self.live_remaining == self.seats - expected_confirmed
                and self.live_waiting == self.participants - expected_confirmed)

    @property
    def per_second(self) -> float:
        return self.participants / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ruang() -> list[str]:
    exe = Path(sys.executable).parent / "ruang"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "core"]


def _make_app(instance: Path, database_url: str) -> Any:
    from core.app import create_app
    from core.config import load_settings

    settings = load_settings(environ={}, instance=instance, database_url=database_url,
                             async_mode="threading", jobs=False)
    return create_app(settings)


def prepare(instance: Path, database_url: str, participants: int, seats: int
            ) -> tuple[int, int, list[str]]:
    """Migrate, publish one field of ``seats`` seats, make ``participants`` verified
    outsiders. Returns (programme id, field id, sign-in tokens)."""
    from core import migrate
    from core.demo import ensure_demo_users
    from plugins.certification import participants as people
    from plugins.certification import programmes
    from plugins.certification.clock import local, now, today
    from plugins.certification.models import CertParticipant

    app = _make_app(instance, database_url)
    r = app.extensions["ruang"]
    migrate.upgrade(r.plugins, r.settings.sqlalchemy_url)
    from sqlalchemy import select

    from core.accounts.models import User

    with app.app_context():
        with r.db.transaction() as s:
            ensure_demo_users(s)
            staff = s.scalar(select(User).where(User.username == "add"))
            wr2 = s.scalar(select(User).where(User.username == "wr2"))
            opens, closes = local(now() - timedelta(minutes=5)), local(now() + timedelta(hours=6))
            assert opens is not None and closes is not None
            day = today() + timedelta(days=30)
            prog = programmes.create(s, {
                "title": "Rush benchmark", "starts_on": day.isoformat(),
                "ends_on": day.isoformat(),
                "registration_opens_at": opens.strftime("%Y-%m-%dT%H:%M"),
                "registration_closes_at": closes.strftime("%Y-%m-%dT%H:%M"),
            }, actor=staff)
            programmes.add_cost(s, prog, {"item": "Asesor", "amount": 1_000_000}, actor=staff)
            f = programmes.add_field(s, prog, {"code": "RUSH", "name": "Rush field",
                                               "quota": seats}, actor=staff)
            programmes.act(s, prog, {"action": "submit"}, actor=staff)
            programmes.act(s, prog, {"action": "approve"}, actor=wr2)
            programmes.act(s, prog, {"action": "publish"}, actor=staff)
            programme_id, field_id = prog.id, f.id
        tokens: list[str] = []
        batch = 500
        for start in range(0, participants, batch):
            with r.db.transaction() as s:
                rows = [CertParticipant(email=f"peserta{n:05d}@rush.example",
                                        full_name=f"Peserta {n:05d}", email_verified_at=now())
                        for n in range(start, min(participants, start + batch))]
                s.add_all(rows)
                s.flush()
                tokens += [people.issue_token(s, p, f"/certification/portal/fields/{field_id}"
                                                    "/register", minutes=240) for p in rows]
    r.db.dispose()
    return programme_id, field_id, tokens


class Server:
    """A ``ruang serve`` child process on loopback, stopped with its process group."""

    def __init__(self, instance: Path, database_url: str, async_mode: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = instance / "rush-server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUANG_")}
        env.update(RUANG_INSTANCE=str(instance), RUANG_JOBS="false",
                   RUANG_ASYNC_MODE=async_mode, PYTHONUNBUFFERED="1")
        if database_url:
            env["RUANG_DATABASE_URL"] = database_url
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*_ruang(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ruang serve exited:\n{self.log()}")
            try:
                requests.get(self.url + "/login", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"ruang serve did not answer within {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        except ProcessLookupError:
            pass

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return "(no log)"


@dataclass
class Client:
    http: requests.Session
    csrf: str


def sign_in(base: str, token: str) -> Client:
    http = requests.Session()
    resp = http.get(f"{base}/certification/portal/link/{token}", timeout=REQUEST_TIMEOUT_S)
    resp.raise_for_status()
    m = CSRF_RE.search(resp.text)
    if m is None:
        raise RuntimeError(f"no CSRF token on {resp.url} ({resp.status_code})")
    return Client(http, m.group(1))


def register(base: str, field_id: int, client: Client) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        resp = client.http.post(f"{base}/certification/portal/fields/{field_id}/register",
                                json={}, headers={"X-CSRFToken": client.csrf,
                                                  "Accept": "application/json"},
                                timeout=REQUEST_TIMEOUT_S)
        elapsed = time.perf_counter() - started
        try:
            body = resp.json()
        except ValueError:
            return f"error: HTTP {resp.status_code} {resp.text[:120]!r}", elapsed
        if resp.status_code == 200 and body.get("ok"):
            return str(body.get("status")), elapsed
        return f"error: HTTP {resp.status_code} {body.get('error')}: {body.get('message')}", elapsed
    except requests.RequestException as exc:
        return f"error: {type(exc).__name__}: {exc}", time.perf_counter() - started


def _check_database(instance: Path, database_url: str, field_id: int, result: RushResult
                    ) -> None:
    from sqlalchemy import func, select

    from plugins.certification.models import CertField, CertRegistration

    app = _make_app(instance, database_url)
    db = app.extensions["ruang"].db
    with app.app_context(), db.session() as s:
        counts = dict(s.execute(select(CertRegistration.status, func.count())
                                .where(CertRegistration.field_id == field_id)
                                .group_by(CertRegistration.status)).all())
        result.db_confirmed = int(counts.get("confirmed", 0))
        result.db_waitlisted = int(counts.get("waitlisted", 0))
        f = s.get(CertField, field_id)
        assert f is not None
        result.db_seats_held = f.seats_held
        numbers = sorted(s.scalars(select(CertRegistration.seat_no).where(
            CertRegistration.field_id == field_id, CertRegistration.seat_no.is_not(None))))
        expected = min(result.seats, result.participants)
        result.seat_numbers_ok = numbers == list(range(1, expected + 1))
    db.dispose()


def run(participants: int = 2000, seats: int = 100, concurrency: int = 64,
        database_url: str = "", instance: Path | None = None, async_mode: str = "gevent",
        keep: bool = False, say: Any = print) -> RushResult:
    if participants < 1 or seats < 1 or concurrency < 1:
        raise ValueError("participants, seats and concurrency must be at least 1")
    own_folder = instance is None
    folder = Path(tempfile.mkdtemp(prefix="ruang-rush-")) if instance is None else instance
    folder.mkdir(parents=True, exist_ok=True)
    server: Server | None = None
    try:
        say(f"preparing {participants} participants for {seats} seats in {folder} "
            f"({'PostgreSQL' if database_url.startswith('postgres') else 'SQLite'})")
        programme_id, field_id, tokens = prepare(folder, database_url, participants, seats)
        server = Server(folder, database_url, async_mode)
        server.start()
        say(f"ruang serve ({async_mode}) is up on {server.url}")
        t0 = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            clients = list(pool.map(lambda tok: sign_in(server.url, tok), tokens))
        signin_s = time.perf_counter() - t0
        say(f"{len(clients)} participants signed in through their links in {signin_s:.1f}s")

        gate = threading.Event()

        def one(client: Client) -> tuple[str, float]:
            gate.wait(60)
            return register(server.url, field_id, client)

        with ThreadPoolExecutor(concurrency) as pool:
            futures = [pool.submit(one, c) for c in clients]
            t0 = time.perf_counter()
            gate.set()
            answers = [f.result() for f in futures]
        seconds = time.perf_counter() - t0
        outcome = Counter(a for a, _ in answers)
        errors = [a for a, _ in answers if a.startswith("error")]
        latencies = sorted(lat * 1000 for _, lat in answers)
        result = RushResult(
            participants=participants, seats=seats, concurrency=concurrency,
            database="postgresql" if database_url.startswith("postgres") else "sqlite",
            seconds=seconds, signin_seconds=signin_s, confirmed=outcome.get("confirmed", 0),
            waitlisted=outcome.get("waitlisted", 0), errors=len(errors),
            error_samples=sorted(set(errors))[:5],
            latency_p50_ms=statistics.median(latencies),
            latency_p95_ms=latencies[int(0.95 * (len(latencies) - 1))],
            latency_max_ms=latencies[-1])
        live = requests.get(f"{server.url}/certification/portal/seats.json",
                            params={"programme": programme_id}, timeout=10).json()
        row = next(r for r in live["fields"] if r["id"] == field_id)
        result.live_remaining, result.live_waiting = row["remaining"], row["waiting"]
        server.stop()
        _check_database(folder, database_url, field_id, result)
        return result
    finally:
        if server is not None:
            server.stop()
        if own_folder and not keep:
            shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.certification_rush",
                                     description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("-n", "--participants", type=int, default=2000)
    parser.add_argument("-s", "--seats", type=int, default=100)
    parser.add_argument("-c", "--concurrency", type=int, default=64,
                        help="connections registering at the same time (default 64)")
    parser.add_argument("--database-url", default="",
                        help="an EMPTY database to migrate and use (default: SQLite)")
    parser.add_argument("--async-mode", default="gevent", choices=("gevent", "eventlet"))
    parser.add_argument("--instance", type=Path, default=None,
                        help="instance folder to use (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = run(args.participants, args.seats, args.concurrency, args.database_url,
                 args.instance, args.async_mode, args.keep,
                 say=(lambda *_a: None) if args.json else print)
    if args.json:
        print(json.dumps({**asdict(result), "exact": result.exact,
                          "per_second": round(result.per_second, 1)}, indent=2))
    else:
        print(f"\n{result.participants} registrations for {result.seats} seats, "
              f"{result.concurrency} at a time, on {result.database}:")
        print(f"  time               {result.seconds:.2f} s  ({result.per_second:.0f} "
              "registrations/s)")
        print(f"  latency            p50 {result.latency_p50_ms:.0f} ms, p95 "
              f"{result.latency_p95_ms:.0f} ms, max {result.latency_max_ms:.0f} ms")
        print(f"  answers            {result.confirmed} confirmed, {result.waitlisted} "
              f"waiting list, {result.errors} errors")
        numbers = (f"1..{min(result.seats, result.participants)}" if result.seat_numbers_ok
                   else "WRONG")
        print(f"  database           {result.db_confirmed} confirmed, {result.db_waitlisted} "
              f"waiting, counter {result.db_seats_held}, seat numbers {numbers}")
        print(f"  live seat endpoint {result.live_remaining} left, {result.live_waiting} waiting")
        for sample in result.error_samples:
            print(f"  ! {sample}")
        print("  EXACT: quota held" if result.exact else "  NOT EXACT")
    return 0 if result.exact else 1


if __name__ == "__main__":
    sys.exit(main())
