"""Background jobs run exactly once across two nodes, both of which run the scheduler.

Two nodes on PostgreSQL and Redis, each with its scheduler on (as an operator's nodes are),
mailing to a real local SMTP server (aiosmtpd). Proof that both really compete for the jobs:
the lease of the 1-second deadline job is taken by both nodes in turn while the test runs.
Then:

* the proctor on node B takes ten hours off every attempt (the room's "extend" action):
  each attempt is submitted by the deadline job once, with one audit entry, and each
  kiosk, on either node, hears ``submitted`` once;
* notifications queued in the outbox reach the SMTP server once each, although both nodes
  run the delivery job every 2 seconds;
* jobs with an interval of a minute or more (session tokens, helpdesk SLA timers, lab and
  certification jobs, outbox purge) ran once in the first minute, not once per node.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest

from core.app import create_app
from core.config import load_settings
from core.contracts import Notification
from tests.cluster.conftest import ExamCluster
from tests.plugins.cbt.delivery.pykiosk import PyKiosk

pytestmark = [pytest.mark.live, pytest.mark.postgres]

MAILS = 12


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.1)


def queue_mail(c: ExamCluster, smtp: dict[str, Any]) -> None:
    """Queue notifications as any part of Ruang does: in a write transaction, through the
    outbox service, from a process that is not a node (as ``ruang`` commands are)."""
    from core.notify import service

    app = create_app(load_settings(environ={}, instance=c.instance,
                                   database_url=c.database_url, async_mode="threading",
                                   jobs=False, **smtp))
    r = app.extensions["ruang"]
    with app.app_context(), r.db.transaction() as s:
        for n in range(MAILS):
            assert service.queue(s, Notification(
                subject=f"Jadwal ujian {n}", body=f"Pesan {n}",
                email=f"peserta{n}@ruang.example.ac.id", topic="cluster.test"))
    r.db.dispose()


def test_background_jobs_run_once_across_nodes(exam_cluster, smtp_server):
    smtp = {"smtp_host": smtp_server.host, "smtp_port": smtp_server.port,
            "mail_from": "BPTI Ruang <bpti@ruang.example.ac.id>"}
    c: ExamCluster = exam_cluster(env={
        "RUANG_SMTP_HOST": smtp_server.host, "RUANG_SMTP_PORT": str(smtp_server.port),
        "RUANG_MAIL_FROM": smtp["mail_from"]})
    a, b = c.nodes
    assert a.proc is not None and b.proc is not None
    pids = {str(a.proc.pid), str(b.proc.pid)}

    # -- both schedulers compete: the 1-second job's lease goes to each node in turn (watched
    # while the rest of the test runs, checked at its end) -------------------------------
    holders: set[str] = set()
    watching = threading.Event()

    def watch_holders() -> None:
        while not watching.is_set() and not holders >= pids:
            for (holder,) in c.sql("SELECT holder FROM job_leases "
                                   "WHERE name = 'cbt.delivery.deadlines'"):
                holders.add(str(holder).split(":")[1])
            time.sleep(0.1)

    watcher = threading.Thread(target=watch_holders, daemon=True)
    watcher.start()
    began = time.monotonic()

    # -- an exam on both nodes; the proctor on B takes the time away ----------------------
    kiosks = []
    for info, node in zip(c.seed["kiosks"], (a, a, b, b), strict=True):
        k = PyKiosk(node.url, info["token"])
        assert k.sign_in(info["participant"], info["password"])["ok"]
        k.connect(reconnection=False)
        kiosks.append(k)
    proctor = c.proctor(b)
    proctor.start(c.session_id)
    wait_for(lambda: all(any(n == "started" for n, _ in k.events) for k in kiosks), 10,
             "every kiosk getting its key")
    for k in kiosks:
        assert k.answer(1, 1, 2)["ok"]
    for k in kiosks:
        done = proctor.act(c.session_id, action="extend", attempt=k.attempt, minutes=-600,
                           reason="uji batas waktu")
        assert done["ok"] and done["done"] == [k.attempt], done

    def submitted_events() -> list[int]:
        return [sum(1 for n, _ in k.events if n == "submitted") for k in kiosks]

    wait_for(lambda: all(submitted_events()), 15, "the deadline job submitting every attempt")
    queue_mail(c, smtp)
    smtp_server.wait_for_subjects([f"Jadwal ujian {n}" for n in range(MAILS)], timeout=20)
    time.sleep(3.0)  # a few more ticks of every job on both nodes: nothing may happen twice

    states = c.sql("SELECT attempt_id, state, submitted_by FROM cbt_delivery_attempts")
    assert sorted(s[1:] for s in states) == [("submitted", "deadline")] * 4
    assert submitted_events() == [1, 1, 1, 1]
    assert all(data["by"] == "deadline" for k in kiosks for n, data in k.events
               if n == "submitted")
    closed: Counter[int] = Counter()
    for (details,) in c.sql("SELECT details FROM audit_log "
                            "WHERE action = 'cbt.attempts.auto_submitted'"):
        closed.update(int(x) for x in details["attempts"])
    assert closed == Counter({k.attempt: 1 for k in kiosks})

    # Ruang's own notifications (the seeded event's workflow) are in the outbox too.
    everything = smtp_server.messages
    ids = [str(m.message["Message-ID"]) for m in everything]
    assert len(set(ids)) == len(ids), "a notification was mailed twice"
    mails = [m for m in everything if m.subject.startswith("Jadwal ujian")]
    assert sorted(m.subject for m in mails) == sorted(f"Jadwal ujian {n}" for n in range(MAILS))
    outbox = c.sql("SELECT status, attempts FROM notify_outbox WHERE topic = 'cluster.test'")
    assert outbox == [("sent", 1)] * MAILS

    slow = c.sql("SELECT name, runs FROM job_leases WHERE interval_s >= 60 ORDER BY name")
    assert {"cbt.delivery.tokens", "helpdesk.sla"} <= {name for name, _ in slow}, slow
    assert all(runs == 1 for _, runs in slow), slow
    watcher.join(max(0.0, 45 - (time.monotonic() - began)))
    watching.set()
    assert holders >= pids, f"only {holders} of the nodes {pids} ever took the deadline job"
    for k in kiosks:
        k.close()
