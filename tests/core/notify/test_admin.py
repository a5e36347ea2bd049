"""The outbox page and the ``ruang notify`` command, with the real SMTP server behind them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.notify import service
from core.notify.models import FAILED, PENDING, SENT, OutboxMessage
from tests.conftest import point_cli_at
from tests.core.notify.test_outbox import note, queue, row


@pytest.fixture
def three(app, db, smtp_server) -> dict[str, int]:
    """One sent, one failed (refused recipient) and one waiting message."""
    smtp_server.refuse["hilang@example.ac.id"] = "550 5.1.1 No such user here"
    sent, failed = queue(db, note(subject="Sudah terkirim"),
                         note(subject="Alamat salah", email="hilang@example.ac.id"))
    service.deliver_due()
    [waiting] = queue(db, note(subject="Masih menunggu"))
    return {"sent": sent, "failed": failed, "waiting": waiting}


def test_admin_sees_every_message_with_its_status_and_error(login, three):
    admin = login("admin")
    page = admin.get("/admin/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Kotak keluar" in html  # Indonesian by default
    for subject in ("Sudah terkirim", "Alamat salah", "Masih menunggu"):
        assert subject in html
    assert "550 5.1.1 No such user here" in html
    assert 'href="/admin/outbox"' in html  # the admin menu entry

    failed_only = admin.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "Alamat salah" in failed_only and "Sudah terkirim" not in failed_only
    assert admin.get("/admin/outbox?status=nonsense").status_code == 200


def test_retry_button_sends_a_failed_message_again(login, db, smtp_server, three):
    admin = login("admin")
    del smtp_server.refuse["hilang@example.ac.id"]
    resp = admin.post(f"/admin/outbox/{three['failed']}/retry", {"back": "failed"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("status=failed")
    retried = row(db, three["failed"])
    assert retried.status == PENDING and retried.attempts == 0
    with db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "notify.retry")).one()
        assert entry.actor_name == "admin" and entry.object_id == str(three["failed"])

    assert service.deliver_due() == 2  # the retried one and the one that was waiting
    assert row(db, three["failed"]).status == SENT
    assert {m.subject for m in smtp_server.wait_for(3)} == {
        "Sudah terkirim", "Alamat salah", "Masih menunggu"}

    page = admin.get("/admin/outbox")
    assert "Pesan" in page.get_data(as_text=True)
    resp = admin.post(f"/admin/outbox/{three['sent']}/retry")
    assert resp.status_code == 302
    assert "sudah terkirim atau sedang dikirim" in admin.get("/admin/outbox").get_data(
        as_text=True)
    assert admin.post("/admin/outbox/999999/retry").status_code == 404


def test_failed_messages_show_on_the_admin_dashboard(login, db, three):
    html = login("admin").get("/").get_data(as_text=True)
    assert "1 notifikasi tidak dapat dikirim." in html
    assert "notifikasi tidak dapat dikirim" not in login("yansi").get("/").get_data(as_text=True)
    with db.transaction() as s:
        service.retry_failed(s)
    assert "tidak dapat dikirim" not in login("admin").get("/").get_data(as_text=True)


def test_retry_all_failed(login, db, smtp_server, three):
    admin = login("admin")
    resp = admin.post("/admin/outbox/retry-failed")
    assert resp.status_code == 302
    assert row(db, three["failed"]).status == PENDING
    assert row(db, three["sent"]).status == SENT


def test_only_admins_reach_the_outbox(login, guest, three):
    assert login("yansi").get("/admin/outbox").status_code == 403
    assert login("pemohon").post(f"/admin/outbox/{three['failed']}/retry").status_code == 403
    assert "/admin/outbox" not in login("yansi").get("/").get_data(as_text=True)
    resp = guest.get("/admin/outbox")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_retry_needs_the_csrf_token(login, db, three):
    admin = login("admin")
    resp = admin.client.post(f"/admin/outbox/{three['failed']}/retry")
    assert resp.status_code == 400
    assert row(db, three["failed"]).status == FAILED


# -- ruang notify ---------------------------------------------------------------------------


@pytest.fixture
def ruang_cli(instance, smtp_server, monkeypatch) -> Iterator[Callable[..., Result]]:
    """Runs ``ruang ...`` in-process on the test instance, mailing ``smtp_server``."""
    from core.cli import cli

    point_cli_at(instance, monkeypatch)
    monkeypatch.setenv("RUANG_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("RUANG_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("RUANG_MAIL_FROM", "BPTI <bpti@ruang.example.ac.id>")
    cli._app = None

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args))

    try:
        yield run
    finally:
        cli._app = None


def test_cli_test_message_goes_out_now(ruang_cli, smtp_server):
    out = ruang_cli("notify", "test", "--to", "kabag.yansi@example.ac.id")
    assert out.exit_code == 0, out.output
    assert "sent by email to kabag.yansi@example.ac.id" in out.output
    [mail] = smtp_server.wait_for(1)
    assert mail.subject == "Ruang: test message"
    assert mail.rcpt_tos == ("kabag.yansi@example.ac.id",)
    assert "Ini pesan uji dari Ruang" in mail.text()


def test_cli_test_refuses_bad_input(ruang_cli, smtp_server):
    out = ruang_cli("notify", "test", "--to", "bukan-alamat")
    assert out.exit_code == 2 and "is not an e-mail address" in out.output
    out = ruang_cli("notify", "test")
    assert out.exit_code == 2 and "--to EMAIL" in out.output
    out = ruang_cli("notify", "test", "--phone", "0812 3456 7890")
    assert out.exit_code == 1 and "no channel can deliver" in out.output
    assert smtp_server.messages == []


def test_cli_when_the_mail_server_is_down(ruang_cli, smtp_server, db):
    smtp_server.stop()
    out = ruang_cli("notify", "test", "--to", "kabag.yansi@example.ac.id")
    assert out.exit_code == 1
    with db.session() as s:
        message_id = str(s.scalar(select(OutboxMessage.id).where(
            OutboxMessage.email == "kabag.yansi@example.ac.id")))
    assert "NOT sent by email" in out.output and "cannot reach the mail server" in out.output

    out = ruang_cli("notify", "pending")
    assert out.exit_code == 0, out.output
    assert "email" in out.output and "pending" in out.output and "1x" in out.output
    assert "kabag.yansi@example.ac.id" in out.output and "cannot reach" in out.output

    smtp_server.start()
    out = ruang_cli("notify", "retry", message_id)
    assert out.exit_code == 0 and "1 message(s) will be sent again" in out.output
    out = ruang_cli("notify", "deliver")
    assert out.exit_code == 0 and "1 message(s) sent" in out.output
    assert len(smtp_server.wait_for(1)) == 1
    out = ruang_cli("notify", "pending")
    assert "nothing waits in the outbox (0 pending, 0 sending, 1 sent, 0 failed)" in out.output
    out = ruang_cli("notify", "retry", message_id)
    assert out.exit_code == 1 and "only pending or failed" in out.output
