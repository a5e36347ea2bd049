"""PostgreSQL restarts in the middle of an exam; the server process carries on.

Three kiosks keep answering while PostgreSQL is stopped for three seconds and started
again (``pg_ctl stop -m fast``, what ``systemctl restart postgresql`` does: every
connection of the server's pool is cut). Answers sent meanwhile are refused with
``unavailable`` or get no acknowledgement; the kiosks keep them in their outboxes and send
them again. The same server process (never restarted) acknowledges them once PostgreSQL is
back (its pool checks connections before use); in the end every change a candidate made is
stored exactly once, and the deadlines have not moved.
"""

from __future__ import annotations

import threading

import pytest

from tests.faults.kiosks import drain, keep_answering, started_kiosks, stored_seqs, wait_for

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.slow]


def test_postgres_restart_mid_exam_loses_no_answer(own_postgres, pg_instance, live_server):
    server = live_server(instance=pg_instance.folder, env=pg_instance.env)
    pid = server.proc.pid
    with pg_instance.app_db() as db:
        _room, kiosks = started_kiosks(db, server.url, 3)
        deadlines = [k.kiosk.call("hello", {"v": 1})["deadline"] for k in kiosks]
        stop = threading.Event()
        threads = keep_answering(kiosks, stop)
        try:
            wait_for(lambda: all(len(k.acked) >= 20 for k in kiosks), what="answers before")
            own_postgres.restart(down_s=3.0)
            before = {k.attempt: len(k.acked) for k in kiosks}
            wait_for(lambda: all(len(k.acked) >= before[k.attempt] + 20 for k in kiosks),
                     timeout=45, what="answers acknowledged again after the restart")
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        drain(kiosks)

        assert server.running and server.proc.pid == pid and server.starts == 1
        refusals = [r for k in kiosks for r in k.refusals]
        # Only "try again" answers: the database away, or the kiosk's re-sent backlog
        # arriving faster than its message allowance (the kiosk waits retry_ms and re-sends).
        again = ("unavailable", "rate_limited")
        assert all(r.get("error") in again for r in refusals if r), [
            r for r in refusals if r and r.get("error") not in again]
        for k, deadline in zip(kiosks, deadlines, strict=True):
            typed = set(range(1, k.next_seq))
            assert set(k.acked) == typed
            missing = typed - stored_seqs(db, k.attempt)
            assert not missing, f"attempt {k.attempt}: changes lost: {sorted(missing)[:10]}"
            hello = k.kiosk.call("hello", {"v": 1})
            assert hello["deadline"] == deadline and hello["state"] == "running"
            assert hello["last_seq"] == k.next_seq - 1
        print(f"PostgreSQL down 3 s mid-exam: {sum(len(k.acked) for k in kiosks)} changes "
              f"from 3 kiosks, {len(refusals)} refused as unavailable and re-sent, none lost, "
              "same server process")
        for k in kiosks:
            k.kiosk.close()
