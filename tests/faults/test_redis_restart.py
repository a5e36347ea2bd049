"""Redis (the Socket.IO message queue between nodes) restarts during an exam.

Two nodes share PostgreSQL and Redis. A kiosk is connected to node B; the proctor works on
node A. A proctor's message crosses from A to the kiosk on B through Redis. Redis is then
stopped for two seconds and started again (its pub/sub holds nothing Ruang needs): the
kiosk keeps answering on B all along, a deadline change made on A while Redis is down is
what the kiosk's next ``time`` heartbeat reports, and once Redis is back the nodes
resubscribe by themselves: the proctor's messages reach the kiosk on B again, without a
restart of either node.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.faults.conftest import restart_redis
from tests.faults.kiosks import Staff, drain, keep_answering, started_kiosks, stored_seqs, wait_for

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.slow]


def messages(k: Any) -> list[str]:
    return [d.get("text", "") for name, d in list(k.kiosk.events) if name == "message"]


def test_redis_restart_events_reach_kiosks_on_the_other_node_again(
        own_postgres, pg_instance, own_redis, live_server):
    env = {**pg_instance.env, "RUANG_MESSAGE_QUEUE": own_redis.url}
    node_a = live_server(instance=pg_instance.folder, env=env)
    node_b = live_server(instance=pg_instance.folder, env={**env, "RUANG_JOBS": "false"})
    with pg_instance.app_db() as db:
        room, kiosks = started_kiosks(db, node_b.url, 1)
        k = kiosks[0]
        assert k.kiosk.sio is not None
        k.kiosk.sio.on("message", k.kiosk._recorder("message"), namespace="/exam")
        proctor = Staff(node_a.url, "pengawas")

        def say(text: str) -> None:
            done = proctor.action(room.session_id, {"action": "message", "attempt": k.attempt,
                                                    "reason": "uji", "text": text})
            assert done.get("ok"), done

        say("sebelum")
        wait_for(lambda: "sebelum" in messages(k), timeout=10, what="message before")

        stop = threading.Event()
        threads = keep_answering(kiosks, stop, pause_s=0.05)
        try:
            deadline = k.kiosk.call("time", {})["deadline"]
            own_redis.proc.terminate()
            own_redis.proc.wait(10)
            extended = proctor.action(room.session_id, {
                "action": "extend", "attempt": k.attempt, "reason": "Redis mati",
                "minutes": 5})
            assert extended.get("ok"), extended
            heartbeat = k.kiosk.call("time", {})
            assert heartbeat["deadline"] == deadline + 5 * 60 * 1000
            time.sleep(2.0)
            restart_redis(own_redis, down_s=0)
            n = 0

            def crossed() -> bool:
                nonlocal n
                n += 1
                say(f"sesudah {n}")
                time.sleep(0.5)
                return any(m.startswith("sesudah") for m in messages(k))

            wait_for(crossed, timeout=40, what="a message from node A after Redis came back")
            acked_before = len(k.acked)
            wait_for(lambda: len(k.acked) > acked_before + 10, what="answers go on")
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        drain(kiosks)
        assert not k.refusals
        assert set(range(1, k.next_seq)) <= stored_seqs(db, k.attempt)
        assert node_a.running and node_b.running and node_a.starts == node_b.starts == 1
        print(f"Redis down 2 s: {len(k.acked)} answers on node B unaffected; the extension "
              f"made meanwhile seen by the next heartbeat; proctor messages crossed A->B "
              f"again after {n} tries")
        k.kiosk.close()
