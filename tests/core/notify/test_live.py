"""Real ``ruang serve`` processes deliver the outbox by themselves, once across processes.

The background job loop runs in a Socket.IO background task, so it must work under
gevent and eventlet (green threads, monkey-patched sockets for smtplib) alike.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from core.app import create_app
from core.notify.models import SENT, OutboxMessage
from core.scheduler.models import JobLease
from tests.conftest import make_settings
from tests.core.notify.test_outbox import note, queue

pytestmark = pytest.mark.live


@pytest.fixture
def writer(instance, smtp_server) -> Iterator[Any]:
    """An app on the same instance standing for a process that queues notifications."""
    app = create_app(make_settings(instance, **smtp_server.settings_overrides()))
    with app.app_context():
        yield app
    app.extensions["ruang"].db.dispose()


def wait_until_settled(db: Any, subjects: list[str], timeout: float = 10.0) -> set[str]:
    """The statuses of the messages with ``subjects`` once none is waiting or being sent.

    Other plugins' jobs run in a live server too and may queue messages of their own.
    """
    deadline = time.monotonic() + timeout
    while True:
        with db.session() as s:
            statuses = set(s.scalars(select(OutboxMessage.status)
                                     .where(OutboxMessage.subject.in_(subjects))))
        if not statuses & {"pending", "sending"} or time.monotonic() > deadline:
            return statuses
        time.sleep(0.1)


def smtp_env(smtp_server: Any) -> dict[str, str]:
    return {"RUANG_SMTP_HOST": smtp_server.host, "RUANG_SMTP_PORT": str(smtp_server.port),
            "RUANG_MAIL_FROM": "BPTI <bpti@ruang.example.ac.id>"}


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_a_running_server_sends_what_is_queued(live_server, instance, smtp_server, writer, mode):
    db = writer.extensions["ruang"].db
    queue(db, note(subject="Sebelum server jalan"))
    live_server(instance=instance, env=smtp_env(smtp_server), async_mode=mode)
    smtp_server.wait_for_subjects(["Sebelum server jalan"], timeout=20)

    queue(db, note(subject="Sesudah server jalan"))
    subjects = ["Sebelum server jalan", "Sesudah server jalan"]
    mails = smtp_server.wait_for_subjects(subjects, timeout=10)
    assert [m.subject for m in mails] == subjects
    assert wait_until_settled(db, subjects) == {SENT}
    with db.session() as s:
        deliver = s.get(JobLease, "notify.deliver")
        assert deliver is not None and deliver.runs >= 1 and deliver.last_error == ""


def test_two_server_processes_send_each_message_once(live_server, instance, smtp_server,
                                                     writer):
    db = writer.extensions["ruang"].db
    started = time.monotonic()
    live_server(instance=instance, env=smtp_env(smtp_server))
    live_server(instance=instance, env=smtp_env(smtp_server))
    total = 12
    for i in range(total):
        queue(db, note(subject=f"Pesan {i:02d}"))
        time.sleep(0.1)
    mine = [f"Pesan {i:02d}" for i in range(total)]
    smtp_server.wait_for_subjects(mine, timeout=30)
    time.sleep(3)  # two more delivery rounds: nothing may arrive twice
    assert sorted(m.subject for m in smtp_server.messages if m.subject in mine) == mine
    assert wait_until_settled(db, mine) == {SENT}

    with db.session() as s:
        deliver = s.get(JobLease, "notify.deliver")
        assert deliver is not None
        elapsed = time.monotonic() - started
        # Every 2 s across both processes, not every 2 s in each.
        assert deliver.runs <= elapsed / 2 + 1, (deliver.runs, elapsed)
        assert set(s.scalars(select(OutboxMessage.attempts)
                             .where(OutboxMessage.subject.in_(mine)))) == {1}
