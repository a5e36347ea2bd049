"""A kiosk's network drops mid-exam, and a kiosk's clock is an hour wrong.

Network: the kiosk reaches the server through a link that is cut (bytes vanish, nothing is
closed, as with a pulled cable or a dead switch) for 60 s, twice the server's ping timeout
(ping every 10 s, 20 s to answer): both ends give the connection up. The candidate goes on
answering; the changes wait in the kiosk's outbox. When the link is back the kiosk
reconnects by itself, ``hello`` tells it what the server has, it sends its outbox again,
and every change is stored; the deadline is the one fixed at the start, the time left went
down by the wall-clock time that passed.

Clock: the kiosk's own clock is an hour ahead (or behind). The server owns the clock: the
deadline and ``now`` it sends are its own, so the remaining time a kiosk shows
(``deadline - (local now + offset)``, offset measured with ``time``, docs/protocol.md
section 9) is right, and its answers are taken as usual.
"""

from __future__ import annotations

import threading
import time

import pytest

from core.db import utcnow
from tests.faults.kiosks import drain, keep_answering, started_kiosks, stored_seqs, wait_for
from tests.faults.link import FlakyLink

pytestmark = [pytest.mark.live]

PING_GIVE_UP_S = 10 + 20  # core/app.py: ping_interval + ping_timeout
OFFLINE_S = 60


@pytest.mark.slow
def test_a_kiosk_offline_for_a_minute_loses_nothing(db, live_server):
    server = live_server()
    link = FlakyLink(server.port)
    try:
        _room, (k,) = started_kiosks(db, link.url, 1, duration_min=45)
        hello = k.kiosk.call("hello", {"v": 1})
        deadline = hello["deadline"]
        remaining_before, measured = hello["deadline"] - hello["now"], time.monotonic()
        disconnected = threading.Event()
        assert k.kiosk.sio is not None
        k.kiosk.sio.on("disconnect", lambda *a: disconnected.set(), namespace="/exam")

        stop = threading.Event()
        threads = keep_answering([k], stop, pause_s=0.2)
        wait_for(lambda: len(k.acked) >= 10, what="answers before the cut")
        link.cut()
        cut_at = time.monotonic()
        acked_at_cut = len(k.acked)
        wait_for(disconnected.is_set, timeout=PING_GIVE_UP_S + 15,
                 what="the kiosk noticing the dead network")
        time.sleep(max(0.0, OFFLINE_S - (time.monotonic() - cut_at)))
        offline_s = time.monotonic() - cut_at
        waiting = len(k.outbox)
        assert waiting >= 20, "the candidate kept answering offline"
        assert len(k.acked) <= acked_at_cut + 1  # nothing got through (one may have been in flight)
        # The candidate stops before the link comes back, so that what the kiosk holds is
        # still in its outbox when it says hello (else its own flush races the resync).
        stop.set()
        for t in threads:
            t.join(10)
        link.restore()
        wait_for(lambda: k.kiosk.connected, timeout=20, what="the kiosk reconnecting")

        resync = k.kiosk.call("hello", {"v": 1})
        assert resync["state"] == "running" and resync["deadline"] == deadline
        assert resync["last_seq"] < min(c.seq for c in k.outbox)
        drain([k])
        # A backlog larger than the message allowance may meet rate_limited, which the kiosk
        # answers by sending again (docs/protocol.md); nothing else may be refused.
        assert all(r and r.get("error") == "rate_limited" for r in k.refusals), k.refusals
        assert set(range(1, k.next_seq)) <= stored_seqs(db, k.attempt)
        # Right after the backlog the kiosk may still be over its allowance: like the page,
        # wait retry_ms and ask again (docs/protocol.md).
        for _ in range(20):
            after = k.kiosk.call("time", {})
            if after.get("error") != "rate_limited":
                break
            time.sleep(after.get("retry_ms", 1500) / 1000)
        elapsed_ms = (time.monotonic() - measured) * 1000
        assert after.get("ok"), after
        assert after["deadline"] == deadline
        assert abs((remaining_before - (after["deadline"] - after["now"])) - elapsed_ms) < 1000
        assert offline_s >= OFFLINE_S
        print(f"network cut {offline_s:.0f} s (> ping timeout {PING_GIVE_UP_S} s): "
              f"{waiting} changes kept in the outbox, re-sent after reconnecting, none lost, "
              "deadline unchanged")
        k.kiosk.close()
    finally:
        link.close()


def test_a_kiosk_clock_an_hour_off_shows_the_right_time_left(db, live_server):
    server = live_server()
    _room, (k,) = started_kiosks(db, server.url, 1, duration_min=45)
    for skew_ms in (3_600_000, -3_600_000):

        def kiosk_clock(skew_ms: int = skew_ms) -> int:
            return int(time.time() * 1000) + skew_ms

        sent = kiosk_clock()
        heartbeat = k.kiosk.call("time", {"t": sent})
        received = kiosk_clock()
        assert heartbeat["t"] == sent  # echoed, never used by the server
        assert abs(heartbeat["now"] / 1000 - utcnow().timestamp()) < 2  # the server's clock
        # The kiosk's offset, corrected by half the round trip (docs/protocol.md, section 9).
        offset = heartbeat["now"] - (sent + received) // 2
        assert abs(offset + skew_ms) < 2000
        shown_left = heartbeat["deadline"] - (kiosk_clock() + offset)
        true_left = heartbeat["deadline"] - int(utcnow().timestamp() * 1000)
        assert abs(shown_left - true_left) < 2000
        # Fixed by the server at the start: 45 minutes of exam, less what has passed.
        assert 44 * 60 * 1000 < true_left <= 45 * 60 * 1000
        # Answers are taken as usual; the kiosk's clock has no say in them.
        k.type(1, None, flagged=skew_ms > 0)
        k.flush()
        assert not k.outbox and not k.refusals
        assert k.kiosk.call("hello", {"v": 1})["deadline"] == heartbeat["deadline"]
    k.kiosk.close()
