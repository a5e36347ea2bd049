"""A complaint from the portal to its resolution, and a WhatsApp complaint entered by staff,
with e-mails received by a real local SMTP server and WhatsApp messages by a real webhook."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from core.workflow.engine import history
from tests.plugins.helpdesk.conftest import (
    category_id,
    deliver,
    file_as_guest,
    number_in,
    png_bytes,
    staff_mail,
    ticket,
)


def mails_to(smtp_server, address, count, timeout=10.0):
    """The messages to ``address``, once at least ``count`` of them have arrived."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        deliver()
        found = [m for m in smtp_server.messages if address in m.rcpt_tos]
        if len(found) >= count or time.monotonic() > deadline:
            assert len(found) >= count, (f"{address} got {len(found)} mail(s), expected "
                                         f"{count}: {[m.subject for m in found]}")
            return found
        time.sleep(0.1)


def test_portal_complaint_walks_from_filing_to_resolution(app, guest, login, smtp_server):
    guest.get("/helpdesk/new")
    resp = file_as_guest(guest, files=[(__import__("io").BytesIO(png_bytes()), "layar.png")])
    assert resp.status_code == 303
    page = guest.get(resp.headers["Location"]).get_data(as_text=True)
    number = number_in(page)
    assert re.fullmatch(r"TIK-\d{6}-\d{5}", number)

    # The receipt reaches the requester at once, with the number and a link to the ticket.
    receipt = mails_to(smtp_server, "budi@kampus.ac.id", 1)[0]
    assert number in receipt.subject
    assert number in receipt.text()
    found = re.search(r"(/helpdesk/t/\S+\?k=[0-9a-f]+)", receipt.text())
    assert found is not None, "the receipt has no link to the ticket"
    link = found.group(1)

    # Kabag. YANSI is told and finds it in the triage queue.
    assert any(number in m.subject for m in mails_to(smtp_server, staff_mail("yansi"), 1))
    yansi = login("yansi")
    queue = yansi.get("/helpdesk/desk/?view=triage").get_data(as_text=True)
    assert number in queue
    resp = yansi.post(f"/helpdesk/desk/t/{number}/forward",
                      {"division": "JDS", "comment": "Access point lantai 2"})
    assert resp.status_code == 303
    forwarded = mails_to(smtp_server, "budi@kampus.ac.id", 2)[-1]
    assert "Diteruskan" in forwarded.subject
    assert "Jaringan dan Server" in forwarded.text()
    assert any(number in m.subject for m in mails_to(smtp_server, staff_mail("jds"), 1))
    assert number not in yansi.get("/helpdesk/desk/?view=triage").get_data(as_text=True)

    # JDS starts work, answers publicly and asks the user something.
    jds = login("jds")
    assert jds.post(f"/helpdesk/desk/t/{number}/workflow", {"action": "begin"}).status_code == 303
    assert ticket(app, number).assignee_id is not None  # the one who starts takes it
    resp = jds.post(f"/helpdesk/desk/t/{number}/reply",
                    {"body": "Di ruang berapa tepatnya?", "internal": "0", "then": "wait"})
    assert resp.status_code == 303
    jds.post(f"/helpdesk/desk/t/{number}/reply",
             {"body": "Cek AP-2C-04 dulu", "internal": "1"})
    t = ticket(app, number)
    assert t.state == "waiting" and t.first_responded_at is not None and t.paused_at
    texts = [m.text() for m in mails_to(smtp_server, "budi@kampus.ac.id", 4)]
    assert any("Di ruang berapa tepatnya?" in x for x in texts)
    assert not any("AP-2C-04" in x for x in texts), "an internal note reached the user"

    # The requester opens the link from the e-mail and answers; the ticket goes on.
    user = guest.__class__(app.test_client())
    assert user.get(link).status_code == 302
    public = user.get(f"/helpdesk/t/{number}").get_data(as_text=True)
    assert "Di ruang berapa tepatnya?" in public and "AP-2C-04" not in public
    resp = user.post(f"/helpdesk/t/{number}/reply", {"body": "Ruang C-204, dekat tangga."})
    assert resp.status_code == 303
    assert ticket(app, number).state == "in_progress"

    # JDS resolves; the user gets the resolution with one-click rating links.
    resp = jds.post(f"/helpdesk/desk/t/{number}/workflow",
                    {"action": "resolve", "comment": "Access point sudah diganti."})
    assert resp.status_code == 303
    done = mails_to(smtp_server, "budi@kampus.ac.id", 6)[-1]
    assert "Selesai" in done.subject or "Diselesaikan" in done.subject
    assert "Access point sudah diganti." in done.text()
    found = re.search(r"(/helpdesk/t/\S+/rate/5\?k=[0-9a-f]+)", done.text())
    assert found is not None, "the resolution mail has no rating link"
    rate_link = found.group(1)
    rater = guest.__class__(app.test_client())
    page = rater.get(rate_link)
    assert page.status_code == 200 and "data-submit-on-load" in page.get_data(as_text=True)
    assert ticket(app, number).rating is None  # following a link changes nothing
    assert rater.post(f"/helpdesk/t/{number}/rate", {"score": "5"}).status_code == 303
    assert ticket(app, number).rating == 5

    # The user confirms; the ticket is closed, and every step is in the workflow history.
    assert user.post(f"/helpdesk/t/{number}/action", {"action": "close"}).status_code == 303
    t = ticket(app, number)
    assert t.state == "closed"
    with app.extensions["ruang"].db.session() as s:
        steps = [h.action for h in history(s, "helpdesk_ticket", t.id)]
    assert steps == ["start", "forward", "begin", "wait", "resume", "resolve", "close"]
    # The attachment of the complaint is stored under a random name in the instance.
    from plugins.helpdesk.models import Attachment

    with app.extensions["ruang"].db.session() as s:
        att = s.scalars(select(Attachment).where(Attachment.ticket_id == t.id)).one()
    stored = app.extensions["ruang"].settings.instance / "uploads" / "helpdesk" / att.storage_name
    assert stored.read_bytes() == png_bytes() and "layar" not in att.storage_name
    assert user.get(f"/helpdesk/t/{number}/files/{att.id}").data == png_bytes()


def test_whatsapp_complaint_entered_by_staff_is_routed_to_a_division(app, login, smtp_server,
                                                                      webhook_receiver):
    from core import settings_store

    r = app.extensions["ruang"]
    with r.db.transaction() as s:
        settings_store.set_value(s, r.plugins, "notify.webhook_url", webhook_receiver.url)
    yansi = login("yansi")
    resp = yansi.post("/helpdesk/desk/new", {
        "channel": "whatsapp", "name": "Sari (Prodi Akuntansi)", "phone": "0812-3456-7890",
        "subject": "Tidak bisa login SIAKAD", "category_id": str(category_id(app, "akun")),
        "description": "Pesan WhatsApp: akun SIAKAD terkunci setelah salah kata sandi.",
    }, content_type="multipart/form-data")
    assert resp.status_code == 303, resp.get_data(as_text=True)
    number = resp.headers["Location"].rsplit("/", 1)[1]
    t = ticket(app, number)
    assert (t.channel, t.state, t.entered_by is not None) == ("whatsapp", "new", True)
    assert t.requester_phone == "6281234567890"

    # The requester gets the number on WhatsApp through the webhook gateway.
    deliver()
    sent = webhook_receiver.wait_for(1)
    bodies = [json.loads(x.body) for x in sent]
    assert any(number in json.dumps(b) and "6281234567890" in json.dumps(b) for b in bodies)

    # Kabag. YANSI forwards it to ADD with an assignee; Kabag. ADD sees it, others do not.
    add_id = app_user_id(app, "add")
    resp = yansi.post(f"/helpdesk/desk/t/{number}/forward",
                      {"division": "ADD", "assignee_id": str(add_id)})
    assert resp.status_code == 303
    t = ticket(app, number)
    assert (t.state, t.division, t.assignee_id) == ("forwarded", "ADD", add_id)
    add = login("add")
    assert number in add.get("/helpdesk/desk/?view=mine").get_data(as_text=True)
    assert add.get(f"/helpdesk/desk/t/{number}").status_code == 200
    assert login("wdm").get(f"/helpdesk/desk/t/{number}").status_code == 404
    deliver()
    assert len(webhook_receiver.wait_for(2)) >= 2  # the "forwarded" status went out too
    assert any("Diteruskan" in json.dumps(json.loads(x.body)) for x in webhook_receiver.requests)


def app_user_id(app, username):
    from core.accounts.models import User

    with app.extensions["ruang"].db.session() as s:
        return s.scalar(select(User.id).where(User.username == username))
