"""CPU per operation of the exam hot path, in one process, without a server or load.

    python -m loadtests.bench --kiosks 400 --out DIR

On a machine shared with other work, latencies say more about the neighbours than about
the code; the CPU seconds one operation costs do not. This measures, on a fresh seeded
instance (:func:`loadtests.server.prepare`), with the code found on ``PYTHONPATH`` (point
it at an older checkout to measure the code before a change):

* sign-in (``signin.sign_in``: argon2, the attempt and its paper built, staged and
  encrypted), split into the argon2 verification and the rest;
* the kiosk heartbeat (``kiosks.heartbeat``) as the ``time`` message calls it every 20 s,
  with the writing of ``last_seen_at`` it causes (older code: a write per heartbeat; now
  batches written by ``kiosks.flush_seen``);
* dropping a socket from python-socketio's manager with every kiosk connected (the
  manager of this code base against python-socketio's own);
* a running kiosk's reconnect (connect, ``hello``, disconnect, the presence it writes);
* the proctor's start of a session with every kiosk signed in and waiting
  (``attempts.start_session``: the attempts started and their paper keys unwrapped, in one
  transaction; the ``started`` messages are sent after it).

Writes ``DIR/bench.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any


def _cpu() -> float:
    return time.process_time()


def _sign_ins(db: Any, seed: dict[str, Any], n: int) -> dict[str, Any]:
    from plugins.cbt import candidates
    from plugins.cbt.delivery.signin import sign_in

    kiosks = seed["kiosks"][:n]
    t0 = _cpu()
    first = None
    for i, k in enumerate(kiosks):
        started = _cpu()
        sign_in(db, k["token"], k["participant"], k["password"], ip="127.0.0.1")
        if i == 0:
            first = _cpu() - started
    total = _cpu() - t0
    # argon2 alone, as the sign-ins verified it (one hash per sign-in).
    stored = candidates._hasher.hash(kiosks[0]["password"])
    t1 = _cpu()
    for _ in range(len(kiosks)):
        candidates._hasher.verify(stored, kiosks[0]["password"])
    argon2 = (_cpu() - t1) / len(kiosks)
    per = total / len(kiosks)
    return {"count": len(kiosks), "cpu_ms_per_sign_in": round(per * 1000, 2),
            "cpu_ms_first_sign_in": round((first or 0) * 1000, 2),
            "argon2_cpu_ms": round(argon2 * 1000, 2),
            "cpu_ms_without_argon2": round((per - argon2) * 1000, 2)}


def _heartbeats(db: Any, seed: dict[str, Any], rounds: int) -> dict[str, Any]:
    from core.rooms import kiosks

    ids = [k["kiosk_id"] for k in seed["kiosks"]]
    batched = hasattr(kiosks, "flush_seen")
    for kid in ids:  # every kiosk connected once (the connect reads its row)
        kiosks.heartbeat(db, kid, ip="127.0.0.1", check=True)
    if batched:
        kiosks.flush_seen(db)
    t0 = _cpu()
    for _ in range(rounds):
        if not batched:
            # ``time`` comes every 20 s, past the older code's 10 s write interval: each
            # heartbeat finds its kiosk's last_seen_at old and writes it.
            kiosks._fresh.clear()  # type: ignore[attr-defined]
        for kid in ids:
            kiosks.heartbeat(db, kid, ip="127.0.0.1")
        if batched:
            # 20 s of heartbeats are written in about seven rounds of FLUSH_EVERY (3 s).
            for part in range(7):
                chunk = ids[part::7]
                for kid in chunk:
                    kiosks.heartbeat(db, kid, ip="127.0.0.1")
                kiosks.flush_seen(db)
    calls = rounds * len(ids) * (2 if batched else 1)
    per = (_cpu() - t0) / calls
    return {"kiosks": len(ids), "calls": calls, "batched": batched,
            "cpu_us_per_heartbeat_with_writes": round(per * 1e6, 1)}


def _start(db: Any, seed: dict[str, Any], signed_in: int,
           logins: list[dict[str, Any]]) -> dict[str, Any]:
    from plugins.cbt.delivery import attempts
    from plugins.cbt.delivery.signin import sign_in
    from plugins.cbt.models import CbtSession

    logins.clear()
    for k in seed["kiosks"][signed_in:]:
        done = sign_in(db, k["token"], k["participant"], k["password"], ip="127.0.0.1")
        logins.append({"kiosk": k["token"], "attempt": done.attempt_id, "login": done.login})
    sessions = {k["session_id"] for k in seed["kiosks"]}
    t0, wall = _cpu(), time.perf_counter()
    started = 0
    for session_id in sorted(sessions):
        with db.transaction() as s:
            cbt_session = s.get(CbtSession, session_id)
            started += len(attempts.start_session(s, cbt_session))
    cpu, wall = _cpu() - t0, time.perf_counter() - wall
    return {"sessions": len(sessions), "started": started, "cpu_ms": round(cpu * 1000, 1),
            "wall_ms": round(wall * 1000, 1),
            "cpu_us_per_attempt": round(cpu * 1e6 / max(started, 1), 1)}


def _reconnects(app: Any, logins: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """A running kiosk's socket dropped and back: connect (authentication, presence), the
    ``hello`` that resyncs it, the disconnect, and the seat-map round that writes presence;
    in-process through Flask-SocketIO's test client, so without the transport's share."""
    from plugins.cbt.delivery import seatmap

    socketio = app.extensions["ruang"].socketio
    chosen = logins[:n]
    t0 = _cpu()
    for auth in chosen:
        client = socketio.test_client(app, namespace="/exam", auth={"v": 1, **auth})
        ack = client.emit("hello", {"v": 1}, namespace="/exam", callback=True)
        assert ack.get("ok") and ack.get("key"), ack
        client.disconnect(namespace="/exam")
    seatmap.flusher(app).flush()
    per = (_cpu() - t0) / max(len(chosen), 1)
    return {"reconnects": len(chosen), "cpu_ms_per_reconnect": round(per * 1000, 2)}


def _disconnects(n: int) -> dict[str, Any]:
    import socketio

    out: dict[str, Any] = {"clients": n}
    managers: dict[str, Any] = {"python-socketio Manager": socketio.Manager()}
    try:
        from core.realtime import IndexedManager

        managers["core.realtime IndexedManager"] = IndexedManager()
    except ImportError:
        pass
    for name, manager in managers.items():
        manager.set_server(socketio.Server(async_mode="threading"))
        for i in range(n):
            sid = f"s{i}"
            manager.basic_enter_room(sid, "/cbt", None, eio_sid=f"e{i}")
            manager.basic_enter_room(sid, "/cbt", sid)
            manager.basic_enter_room(sid, "/cbt", f"attempt:{i}")
        t0 = time.perf_counter()
        for i in range(n):
            manager.basic_disconnect(f"s{i}", "/cbt")
        out[name] = {"ms_all": round((time.perf_counter() - t0) * 1000, 1),
                     "us_per_disconnect": round((time.perf_counter() - t0) * 1e6 / n, 1)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench")
    parser.add_argument("--kiosks", type=int, default=400)
    parser.add_argument("--sign-ins", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--disconnect-clients", type=int, default=2000)
    parser.add_argument("--reconnects", type=int, default=200)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ruang-bench-"))
    instance = work / "instance"

    from loadtests.server import prepare

    seed = prepare(instance, args.kiosks, lab_seats=40, items=40, log=args.out / "prepare.log")
    os.environ.update({"RUANG_INSTANCE": str(instance), "RUANG_ASYNC_MODE": "threading",
                       "RUANG_JOBS": "false"})
    from core.app import create_app
    from core.config import load_settings

    app = create_app(load_settings())
    result: dict[str, Any] = {"kiosks": args.kiosks,
                              "code": os.environ.get("PYTHONPATH", "(installed)")}
    with app.app_context():
        db = app.extensions["ruang"].db
        result["sign_in"] = _sign_ins(db, seed, min(args.sign_ins, args.kiosks))
        result["heartbeat"] = _heartbeats(db, seed, args.rounds)
        logins: list[dict[str, Any]] = []
        result["start"] = _start(db, seed, min(args.sign_ins, args.kiosks), logins)
        result["reconnect"] = _reconnects(app, logins, args.reconnects)
    result["disconnect"] = _disconnects(args.disconnect_clients)
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    (args.out / "bench.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
