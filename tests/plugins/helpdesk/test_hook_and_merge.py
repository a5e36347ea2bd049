"""Another plugin files a complaint through ``ruang_file_complaint``; duplicates are merged;
canned replies and categories that pre-route do their work."""

from __future__ import annotations

from sqlalchemy import select

from core.contracts import Complaint
from core.rooms.models import Device, Lab, Seat
from tests.plugins.helpdesk.conftest import category_id, deliver, file_as_guest, number_in, ticket


def _seat(app, lab_code, label):
    with app.extensions["ruang"].db.session() as s:
        lab = s.scalar(select(Lab).where(Lab.code == lab_code))
        seat = s.scalar(select(Seat).where(Seat.lab_id == lab.id, Seat.label == label))
        device = s.scalar(select(Device).where(Device.seat_id == seat.id))
        return lab, seat, device


def test_hook_ruang_file_complaint(app, login):
    """A PC that broke during an exam becomes a ticket for its seat, and the PC is faulty."""
    r = app.extensions["ruang"]
    lab, seat, device = _seat(app, "LAB-1", "A3")
    assert device.status == "working"
    complaint = Complaint(subject="PC mati saat ujian", source="cbt",
                          source_ref="cbt_session:12",
                          description="Layar PC kursi A3 padam di tengah ujian; peserta pindah "
                                      "ke kursi cadangan.",
                          seat_id=seat.id, category="perangkat", priority="urgent",
                          device_faulty=True)
    with r.db.transaction() as s:
        number = r.plugins.hook.ruang_file_complaint(session=s, complaint=complaint)
    assert number and number.startswith("TIK-")
    t = ticket(app, number)
    assert (t.lab_id, t.seat_id, t.device_id) == (lab.id, seat.id, device.id)
    assert (t.channel, t.priority, t.source, t.source_ref) == ("system", "urgent", "cbt",
                                                              "cbt_session:12")
    device = _seat(app, "LAB-1", "A3")[2]
    assert device.status == "faulty"
    page = login("yansi").get(f"/helpdesk/desk/t/{number}").get_data(as_text=True)
    assert "LAB-1" in page and "A3" in page and "Diajukan oleh cbt (cbt_session:12)" in page
    # The ticket is listed under its lab, and marking the PC working again is one step.
    assert number in login("yansi").get(f"/helpdesk/desk/?view=all&lab={lab.id}").get_data(
        as_text=True)
    resp = login("yansi").post(f"/helpdesk/desk/t/{number}/link",
                               {"lab_id": str(lab.id), "seat_label": "A3",
                                "device_status": "working"})
    assert resp.status_code == 303
    assert _seat(app, "LAB-1", "A3")[2].status == "working"
    # With the helpdesk switched off, nobody answers and nothing is filed.
    with r.db.transaction() as s:
        r.plugins.set_enabled(s, "helpdesk", False, actor=None)
    with r.db.transaction() as s:
        assert r.plugins.hook.ruang_file_complaint(session=s, complaint=complaint) is None


def test_categories_pre_route_to_their_division(app, guest, login):
    guest.get("/helpdesk/new")
    resp = file_as_guest(guest, category_id=str(category_id(app, "jaringan")))
    number = number_in(guest.get(resp.headers["Location"]).get_data(as_text=True))
    t = ticket(app, number)
    assert (t.state, t.division, t.priority) == ("forwarded", "JDS", "high")
    assert number in login("jds").get("/helpdesk/desk/?view=division").get_data(as_text=True)
    assert number not in login("yansi").get("/helpdesk/desk/?view=triage").get_data(
        as_text=True)


def test_merging_a_duplicate_keeps_its_requester_informed(app, guest, login, smtp_server):
    first = guest.__class__(app.test_client())
    first.get("/helpdesk/new")
    a = number_in(first.get(file_as_guest(first, email="a@kampus.ac.id").headers["Location"])
                  .get_data(as_text=True))
    second = guest.__class__(app.test_client())
    second.get("/helpdesk/new")
    b = number_in(second.get(file_as_guest(second, email="b@kampus.ac.id").headers["Location"])
                  .get_data(as_text=True))
    yansi = login("yansi")
    assert yansi.post(f"/helpdesk/desk/t/{b}/merge", {"target": a}).status_code == 303
    assert yansi.post(f"/helpdesk/desk/t/{a}/merge", {"target": a}).status_code == 400
    tb = ticket(app, b)
    assert tb.state == "closed" and tb.merged_into_id == ticket(app, a).id
    assert f"Digabung ke {a}" in second.get(f"/helpdesk/t/{b}").get_data(as_text=True)
    # B's requester can now look up A with their own e-mail, and hears of its resolution.
    other = guest.__class__(app.test_client())
    resp = other.post("/helpdesk/status", {"number": a, "contact": "b@kampus.ac.id"})
    assert resp.status_code == 303
    yansi.post(f"/helpdesk/desk/t/{a}/workflow", {"action": "resolve",
                                                  "comment": "Router diganti."})
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        deliver()
        to_b = [m for m in smtp_server.messages if "b@kampus.ac.id" in m.rcpt_tos]
        if any(a in m.subject and "Selesai" in m.subject for m in to_b):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("B's requester was not told that A was resolved")


def test_canned_replies_are_offered_by_division(app, login):
    from plugins.helpdesk import service
    from plugins.helpdesk.forms import Filing

    r = app.extensions["ruang"]
    with r.db.transaction() as s:
        number = service.file_ticket(s, Filing(
            name="Eka", email="eka@kampus.ac.id", subject="Lupa kata sandi SSO",
            description="Saya lupa kata sandi akun SSO kampus.")).number
    login("yansi").post(f"/helpdesk/desk/t/{number}/forward", {"division": "ADD"})
    add_page = login("add").get(f"/helpdesk/desk/t/{number}").get_data(as_text=True)
    assert "Reset kata sandi" in add_page and "PC lab diganti" not in add_page
    assert "Minta tangkapan layar" in add_page  # for every division
    yansi = login("yansi")
    yansi.get("/helpdesk/admin/")
    resp = yansi.post("/helpdesk/admin/canned", {"title": "Server pemeliharaan",
                                                 "body": "Server sedang dipelihara.",
                                                 "division": "ADD", "active": "1"})
    assert resp.status_code == 303
    assert "Server pemeliharaan" in login("add").get(f"/helpdesk/desk/t/{number}").get_data(
        as_text=True)
