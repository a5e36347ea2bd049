"""The load profiles: how many kiosks, how they behave, and how long each phase lasts.

Every profile runs the same exam day, bounded in time: kiosks connect and sign in at
``spawn_rate`` (the server verifies one argon2 password per sign-in, ~80 ms of CPU, so the
sign-in wave is paced as candidates arriving at a lab are), fetch their encrypted paper and
wait; the proctor starts; every kiosk receives its key and decrypts (the start fan-out);
kiosks answer one item every ``answer_mean_s`` on average (exponential gaps) and send
heartbeats for ``steady_s``; optionally every connection is dropped at once (the storm) and
the kiosks come back with jittered backoff; then ``saturation_kiosks`` kiosks answer as fast
as acknowledgements come back (the answer path's throughput), and the same kiosks call the
acknowledge-only handler (the stack's baseline); at the end kiosks drain what is not yet
acknowledged, submit, and the answers in the database are counted.

``ceiling`` repeats the steady phase with more kiosks in each step until a target breaks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Profile:
    name: str
    kiosks: int
    description: str
    spawn_rate: float = 10.0
    steady_s: float = 60.0
    answer_mean_s: float = 20.0
    heartbeat_s: float = 20.0  # protocol 9: ``time`` every 20 s
    storm: bool = False
    storm_silent: bool = True  # dropped without a TCP FIN, as a switch losing power does
    storm_after_s: float = 20.0  # into the steady phase
    storm_wait_s: float = 60.0  # at most this long for every kiosk to be back in sync
    after_storm_s: float = 15.0
    saturation_kiosks: int = 50
    saturation_inflight: int = 1  # calls on their way at once per saturating kiosk
    saturation_s: float = 15.0
    lab_seats: int = 40
    items: int = 40
    ceiling_steps: tuple[int, ...] = ()
    ceiling_step_s: float = 45.0
    fanout_wait_s: float = 30.0
    drain_s: float = 30.0
    time_limit_s: float = 900.0  # the whole run, whatever happens

    def with_kiosks(self, kiosks: int) -> Profile:
        """The same profile with another kiosk count (the smoke test uses 20)."""
        steps = (*(s for s in self.ceiling_steps if s < kiosks), kiosks)
        return replace(self, kiosks=kiosks,
                       saturation_kiosks=min(self.saturation_kiosks, kiosks),
                       ceiling_steps=steps if self.ceiling_steps else ())

    @property
    def seeded_kiosks(self) -> int:
        return max((self.kiosks, *self.ceiling_steps))


PROFILES: dict[str, Profile] = {p.name: p for p in [
    Profile("smoke", 50, "CI: 50 kiosks answering every 3 s, a small storm, under a minute",
            spawn_rate=25, steady_s=10, answer_mean_s=3, heartbeat_s=5, storm=True,
            storm_after_s=8, after_storm_s=4, storm_wait_s=30, saturation_kiosks=50,
            saturation_inflight=2, saturation_s=5, drain_s=15, time_limit_s=150),
    Profile("lab", 500, "a full lab building: 500 kiosks",
            spawn_rate=8, steady_s=60, saturation_kiosks=200, saturation_s=15,
            time_limit_s=900),
    Profile("campus", 2000, "the whole campus: 2,000 kiosks, with a storm",
            spawn_rate=8, steady_s=90, storm=True, storm_after_s=40, after_storm_s=20,
            saturation_kiosks=300, saturation_s=20, time_limit_s=1200),
    Profile("storm", 2000, "every connection dropped at once mid-exam; jittered reconnects",
            spawn_rate=8, steady_s=20, storm=True, storm_after_s=15, after_storm_s=15,
            saturation_kiosks=0, saturation_s=0, time_limit_s=900),
    Profile("start", 2000, "every kiosk waiting, one start: the key fan-out",
            spawn_rate=8, steady_s=10, saturation_kiosks=0, saturation_s=0,
            time_limit_s=900),
    Profile("ceiling", 4000, "kiosks added in steps (up to --kiosks) until a target breaks",
            spawn_rate=8, steady_s=0, saturation_kiosks=0, saturation_s=0,
            ceiling_steps=(100, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 4000),
            ceiling_step_s=45,
            time_limit_s=2400),
]}


@dataclass(frozen=True)
class Targets:
    """The targets of issue 6 (campus profile, this machine)."""

    ack_p99_ms: float = 50.0
    start_fanout_ms: float = 2000.0
    storm_recovery_s: float = 15.0
    peak_rss_mb: float = 1536.0
    throughput_ratio: float = 0.5


TARGETS = Targets()
