"""The outbox with a real SMTP server: nothing for a rolled-back change, exactly one mail
for a committed one, retries with backoff while the server is down, and failures that say
why. Apps in this folder mail ``smtp_server`` (see ``conftest.py``)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from core import settings_store
from core.app import create_app
from core.contracts import Notification, NotificationChannel
from core.db import utcnow
from core.notify import service
from core.notify.models import FAILED, PENDING, SENDING, SENT, OutboxMessage
from core.plugins import hookimpl
from tests.conftest import make_settings, prepare_test_app

PEMOHON = "pemohon@example.ac.id"


def note(subject: str = "Tiket T-0001 diterima", email: str = PEMOHON, **kw: Any) -> Notification:
    body = kw.pop("body", "Pengaduan Anda sudah kami terima.\nNomor tiket: T-0001")
    return Notification(subject=subject, body=body, email=email, **kw)


def queue(db: Any, *notes: Notification) -> list[int]:
    ids: list[int] = []
    with db.transaction() as s:
        for n in notes:
            ids += service.queue(s, n)
    return ids


def row(db: Any, message_id: int) -> OutboxMessage:
    with db.session() as s:
        found = s.get(OutboxMessage, message_id)
    assert found is not None
    return found


def set_setting(app: Any, key: str, value: Any) -> None:
    r = app.extensions["ruang"]
    with r.db.transaction() as s:
        settings_store.set_value(s, r.plugins, key, value)


# -- queueing inside the caller's transaction ------------------------------------------------


def test_a_rolled_back_change_sends_nothing(app, db, smtp_server):
    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), db.transaction() as s:
        ids = service.queue(s, note())
        assert ids, "the row exists inside the transaction"
        raise Abandoned

    with db.session() as s:
        assert s.scalars(select(OutboxMessage)).all() == []
    assert service.deliver_due() == 0
    assert smtp_server.messages == []


def test_a_committed_notification_is_mailed_exactly_once(app, db, smtp_server):
    [message_id] = queue(db, note(html="<p>Pengaduan Anda <b>sudah</b> kami terima.</p>",
                                  topic="helpdesk.ticket"))
    assert row(db, message_id).status == PENDING

    assert service.deliver_due() == 1
    assert service.deliver_due() == 0  # a second round finds nothing to send
    [mail] = smtp_server.wait_for(1)

    assert mail.rcpt_tos == (PEMOHON,)
    assert mail.mail_from == "bpti@ruang.example.ac.id"
    msg = mail.message
    assert msg["Subject"] == "Tiket T-0001 diterima"
    assert msg["To"] == PEMOHON
    assert msg["From"] == "BPTI Ruang <bpti@ruang.example.ac.id>"
    assert msg["Date"] and msg["Date"].datetime.utcoffset() == timedelta(hours=7)
    stored = row(db, message_id)
    assert msg["Message-ID"] == f"<{stored.key}@ruang.example.ac.id>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Ruang-Topic"] == "helpdesk.ticket"
    assert msg.get_content_type() == "multipart/alternative"
    assert "Nomor tiket: T-0001" in mail.text()
    assert "<b>sudah</b>" in mail.html()
    assert stored.status == SENT and stored.sent_at is not None and stored.attempts == 1

    # Nothing more arrives later either.
    assert service.deliver_due(now=utcnow() + timedelta(days=1)) == 0
    assert len(smtp_server.messages) == 1


def test_plain_text_only_and_unicode(app, db, smtp_server):
    queue(db, note(subject="Jadwal CBT — Ruang Lab 2", body="Sampai jumpa, Bu Ratna ✓"))
    assert service.deliver_due() == 1
    [mail] = smtp_server.wait_for(1)
    assert mail.message.get_content_type() == "text/plain"
    assert mail.subject == "Jadwal CBT — Ruang Lab 2"
    assert mail.text().strip() == "Sampai jumpa, Bu Ratna ✓"


def test_queue_checks_the_notification(app, db):
    with db.transaction() as s:
        with pytest.raises(service.NotificationError, match="subject"):
            service.queue(s, note(subject="   "))
        with pytest.raises(service.NotificationError, match="data"):
            service.queue(s, note(data={"when": object()}))
        [message_id] = service.queue(s, note(subject="Baris satu\r\nBcc: x@evil.example"))
    # A line break can never start a new mail header.
    assert row(db, message_id).subject == "Baris satu Bcc: x@evil.example"


def test_nobody_to_reach_queues_nothing(app, db):
    with db.transaction() as s:
        assert service.queue(s, Notification("Halo", "isi")) == []
        # A phone number alone needs the webhook, which is off until its URL is set.
        assert service.queue(s, Notification("Halo", "isi", phone="0812 3456 7890")) == []


# -- failures and retries ----------------------------------------------------------------------


def test_mail_server_down_then_back(app, db, smtp_server):
    smtp_server.stop()
    [message_id] = queue(db, note())

    assert service.deliver_due() == 0
    waiting = row(db, message_id)
    assert waiting.status == PENDING and waiting.attempts == 1
    assert f"cannot reach the mail server 127.0.0.1:{smtp_server.port}" in waiting.last_error
    # Retried later, not in the next round.
    assert waiting.next_attempt_at > utcnow() + timedelta(seconds=20)
    assert service.deliver_due() == 0
    assert row(db, message_id).attempts == 1

    smtp_server.start()
    assert service.deliver_due(now=waiting.next_attempt_at + timedelta(seconds=1)) == 1
    [mail] = smtp_server.wait_for(1)
    assert mail.subject == "Tiket T-0001 diterima"
    done = row(db, message_id)
    assert done.status == SENT and done.attempts == 2 and done.last_error == ""


def test_a_down_server_costs_one_attempt_per_round_not_one_per_message(app, db, smtp_server):
    smtp_server.stop()
    ids = queue(db, *[note(subject=f"Pesan {i}") for i in range(5)])
    assert service.deliver_due() == 0
    attempts = sorted(row(db, i).attempts for i in ids)
    assert attempts == [0, 0, 0, 0, 1]
    assert all(row(db, i).status == PENDING for i in ids)

    smtp_server.start()
    later = utcnow() + timedelta(hours=1)
    assert service.deliver_due(now=later) == 5
    assert sorted(m.subject for m in smtp_server.wait_for(5)) == [f"Pesan {i}" for i in range(5)]


def test_backoff_doubles_and_then_gives_up_keeping_the_error(app, db, smtp_server):
    set_setting(app, "notify.max_attempts", "4")
    set_setting(app, "notify.retry_base_s", "60")
    smtp_server.refuse[PEMOHON] = "451 4.7.1 Greylisted, try again later"
    [message_id] = queue(db, note())

    now = utcnow()
    waits = []
    for _ in range(3):
        assert service.deliver_due(now=now) == 0
        current = row(db, message_id)
        assert current.status == PENDING
        waits.append((current.next_attempt_at - now).total_seconds())
        now = current.next_attempt_at
    # 60 s, 120 s, 240 s, each with at most 10 % jitter.
    for wait, expected in zip(waits, (60, 120, 240), strict=True):
        assert expected * 0.89 <= wait <= expected * 1.11, waits

    assert service.deliver_due(now=now) == 0
    failed = row(db, message_id)
    assert failed.status == FAILED and failed.attempts == 4
    assert "451" in failed.last_error and "Greylisted" in failed.last_error
    assert service.deliver_due(now=now + timedelta(days=2)) == 0
    assert smtp_server.messages == []


def test_a_refused_recipient_fails_at_once_and_others_still_go(app, db, smtp_server):
    smtp_server.refuse["hilang@example.ac.id"] = "550 5.1.1 No such user here"
    bad, good = queue(db, note(email="hilang@example.ac.id"), note(subject="Untuk pemohon"))

    assert service.deliver_due() == 1
    refused = row(db, bad)
    assert refused.status == FAILED and refused.attempts == 1
    assert "550" in refused.last_error and "hilang@example.ac.id" in refused.last_error
    assert row(db, good).status == SENT
    assert [m.subject for m in smtp_server.wait_for(1)] == ["Untuk pemohon"]


@pytest.mark.parametrize("address", ["bukan-alamat", "dua@@example.ac.id", "spasi @example.id",
                                     "tanpa@titik"])
def test_a_malformed_address_fails_without_bothering_the_server(app, db, smtp_server, address):
    [message_id] = queue(db, note(email=address))
    assert service.deliver_due() == 0
    failed = row(db, message_id)
    assert failed.status == FAILED and failed.attempts == 1
    assert failed.last_error.startswith(f"invalid e-mail address {address!r}")
    assert smtp_server.messages == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_sign_in(instance, smtp_server):
    smtp_server.stop()
    smtp_server.start(auth=("bpti", "rahasia-smtp"))
    app = prepare_test_app(create_app(make_settings(
        instance, smtp_user="bpti", smtp_password="rahasia-smtp",
        **smtp_server.settings_overrides())))
    wrong = prepare_test_app(create_app(make_settings(
        instance, smtp_user="bpti", smtp_password="salah", **smtp_server.settings_overrides())))
    db = app.extensions["ruang"].db
    try:
        with wrong.app_context():
            [message_id] = queue(db, note())
            assert service.deliver_due() == 0
        refused = row(db, message_id)
        assert refused.status == PENDING and "535" in refused.last_error
        with app.app_context():
            assert service.deliver_due(now=refused.next_attempt_at) == 1
        assert smtp_server.logins == ["bpti"]
        assert len(smtp_server.wait_for(1)) == 1
    finally:
        app.extensions["ruang"].db.dispose()
        wrong.extensions["ruang"].db.dispose()


def test_a_deliverer_that_died_mid_send_is_replaced_after_its_lease(app, db, smtp_server):
    [message_id] = queue(db, note())
    # A process claims the row, then dies before sending or settling it.
    now = utcnow()
    claimed = service._claim(db, ["email"], 10, now, "dead-process", None)
    assert [c.id for c in claimed] == [message_id]
    assert row(db, message_id).status == SENDING

    assert service.deliver_due(now=now + timedelta(seconds=10)) == 0  # still leased
    later = now + timedelta(seconds=service.LEASE_S + 1)
    assert service.deliver_due(now=later) == 1
    assert len(smtp_server.wait_for(1)) == 1
    assert row(db, message_id).status == SENT


def test_a_retry_resets_the_budget(app, db, smtp_server):
    smtp_server.refuse[PEMOHON] = "550 5.2.1 Mailbox disabled"
    [message_id] = queue(db, note())
    service.deliver_due()
    assert row(db, message_id).status == FAILED

    del smtp_server.refuse[PEMOHON]
    with db.transaction() as s:
        service.retry(s, message_id)
        with pytest.raises(service.UnknownMessage):
            service.retry(s, 999_999)
    assert row(db, message_id).status == PENDING and row(db, message_id).attempts == 0
    assert service.deliver_due() == 1
    with db.transaction() as s, pytest.raises(service.OutboxError, match="sent"):
        service.retry(s, message_id)


def test_old_messages_are_purged_and_waiting_ones_kept(app, db, smtp_server):
    smtp_server.refuse["hilang@example.ac.id"] = "550 No such user"
    sent, failed, waiting = queue(db, note(), note(email="hilang@example.ac.id"),
                                  note(subject="Menunggu"))
    service.deliver_due(ids=[sent, failed])
    with db.transaction() as s:
        s.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(days=100)))
    assert service.purge_old() == 2
    with db.session() as s:
        assert s.scalars(select(OutboxMessage.id)).all() == [waiting]


def test_the_database_stays_writable_while_a_slow_mail_server_takes_its_time(
        instance, app, db, smtp_server):
    """Sending happens outside any transaction: SQLite's write lock (and this process's
    writer lock) stay free while the SMTP conversation goes on."""
    import time

    smtp_server.delay_s = 2.0
    queue(db, note())
    other = prepare_test_app(create_app(make_settings(instance)))
    results: list[int] = []

    def deliver() -> None:
        with app.app_context():
            results.append(service.deliver_due())

    sender = threading.Thread(target=deliver)
    sender.start()
    try:
        assert smtp_server.in_data.wait(10), "the message never reached the SMTP server"
        for writer in (app, other):  # this process, and another process on the same file
            started = time.monotonic()
            with writer.app_context():
                queue(writer.extensions["ruang"].db, note(subject="Ditulis saat SMTP lambat"))
            assert time.monotonic() - started < 1.0
        assert sender.is_alive(), "the write should not have waited for the SMTP server"
    finally:
        sender.join(30)
        other.extensions["ruang"].db.dispose()
    assert results == [1]


# -- several deliverers ------------------------------------------------------------------------


def test_two_processes_never_send_the_same_message(instance, app, db, smtp_server):
    total = 40
    queue(db, *[note(subject=f"Pesan {i:02d}") for i in range(total)])
    other = prepare_test_app(create_app(make_settings(instance,
                                                      **smtp_server.settings_overrides())))
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker(the_app: Any) -> None:
        try:
            with the_app.app_context():
                start.wait(10)
                for _ in range(20):
                    service.deliver_due(limit=3)
        except BaseException as exc:  # the test must hear about it
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(a,)) for a in (app, other, app, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    other.extensions["ruang"].db.dispose()
    assert not errors, errors
    subjects = sorted(m.subject for m in smtp_server.wait_for(total))
    assert subjects == [f"Pesan {i:02d}" for i in range(total)]
    with db.session() as s:
        assert set(s.scalars(select(OutboxMessage.status))) == {SENT}
        assert set(s.scalars(select(OutboxMessage.attempts))) == {1}


@pytest.mark.postgres
def test_postgres_deliverers_skip_each_others_rows(request, instance, smtp_server):
    from core import migrate

    try:
        url = request.getfixturevalue("postgres_db")
    except pytest.FixtureLookupError:
        pytest.skip("no postgres_db fixture (tests/fixtures/databases.py) in this checkout")
    apps = [prepare_test_app(create_app(make_settings(
        instance, database_url=url, **smtp_server.settings_overrides()))) for _ in range(2)]
    try:
        r = apps[0].extensions["ruang"]
        migrate.upgrade(r.plugins, url)
        with apps[0].app_context():
            queue(r.db, *[note(subject=f"PG {i:02d}") for i in range(30)])
        start = threading.Barrier(4)
        errors: list[BaseException] = []

        def worker(the_app: Any) -> None:
            try:
                with the_app.app_context():
                    start.wait(10)
                    for _ in range(15):
                        service.deliver_due(limit=2)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(a,)) for a in apps + apps]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        subjects = sorted(m.subject for m in smtp_server.wait_for(30))
        assert subjects == [f"PG {i:02d}" for i in range(30)]
        with r.db.session() as s:
            assert set(s.scalars(select(OutboxMessage.attempts))) == {1}
    finally:
        for a in apps:
            a.extensions["ruang"].db.dispose()


# -- the hook --------------------------------------------------------------------------------


class PagerChannel:
    """A channel a third-party plugin might bring: it pages staff by user id."""

    name = "pager"

    def __init__(self) -> None:
        self.paged: list[Notification] = []
        self.fail_next = 0

    def can_deliver(self, notification: Notification) -> bool:
        return notification.user_id is not None

    def deliver(self, notification: Notification) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionResetError("pager gateway reset the connection")
        self.paged.append(notification)


class PagerPlugin:
    RUANG_PLUGIN_NAME = "pager"

    def __init__(self) -> None:
        self.channel = PagerChannel()

    @hookimpl
    def ruang_notification_channels(self) -> Sequence[NotificationChannel]:
        return [self.channel]


def test_hook_ruang_notification_channels(settings, smtp_server):
    """A plugin's channel gets every notification it can deliver, beside e-mail; a channel
    that raises is retried; while its plugin is disabled nothing is queued for it."""
    plugin = PagerPlugin()
    app = prepare_test_app(create_app(settings, extra_plugins=[plugin]))
    r = app.extensions["ruang"]
    try:
        with app.app_context():
            plugin.channel.fail_next = 1
            ids = queue(r.db, note(user_id=7, data={"ticket": "T-0001"}))
            assert sorted(row(r.db, i).channel for i in ids) == ["email", "pager"]
            assert service.deliver_due() == 1  # e-mail went, the pager failed once
            pager_row = next(row(r.db, i) for i in ids if row(r.db, i).channel == "pager")
            assert pager_row.status == PENDING
            assert "ConnectionResetError: pager gateway reset" in pager_row.last_error
            assert service.deliver_due(now=pager_row.next_attempt_at) == 1
            [paged] = plugin.channel.paged
            assert paged.user_id == 7 and paged.data == {"ticket": "T-0001"}
            assert paged.subject == "Tiket T-0001 diterima"

            with r.db.transaction() as s:
                r.plugins.set_enabled(s, "pager", False, actor=None)
            assert [row(r.db, i).channel for i in queue(r.db, note(user_id=7))] == ["email"]
        assert len(smtp_server.wait_for(1)) >= 1
    finally:
        r.db.dispose()


class BrokenChannelsPlugin:
    RUANG_PLUGIN_NAME = "brokenchannels"

    @hookimpl
    def ruang_notification_channels(self) -> Sequence[NotificationChannel]:
        raise ImportError("cannot import name 'Client' from 'sms_vendor'")


def test_a_plugin_whose_channel_hook_fails_does_not_block_others(settings, smtp_server,
                                                                 caplog):
    app = prepare_test_app(create_app(settings, extra_plugins=[BrokenChannelsPlugin()]))
    r = app.extensions["ruang"]
    try:
        with app.app_context():
            [message_id] = queue(r.db, note())
            assert row(r.db, message_id).channel == "email"
            assert service.deliver_due() == 1
    finally:
        r.db.dispose()
    assert "plugin brokenchannels failed to list its notification channels" in caplog.text
    assert len(smtp_server.wait_for(1)) == 1
