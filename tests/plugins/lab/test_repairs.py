"""Faulty PCs: reported from the lab page, from the seat's QR sticker, from the kiosk of that
PC, or marked faulty elsewhere (a helpdesk ticket); the repair request goes to Biro Aset by
e-mail with the asset number and is tracked to done; faulty seats are not offered to CBT."""

from __future__ import annotations

from sqlalchemy import select

from core.rooms import kiosks
from core.rooms import service as rooms
from core.rooms.models import Device, DeviceStatus
from plugins.lab import repairs
from plugins.lab.models import Repair, UsageEntry
from tests.plugins.lab.conftest import lab, user
from tests.plugins.lab.helpers import mails, to

ASSET_OFFICE = "biro.aset@demo.example.org"


def device_at(db, code: str, label: str) -> Device:
    with db.session() as s:
        found = rooms.lab_by_code(s, code)
        assert found is not None
        seat = rooms.seat_by_label(s, found.id, label)
        assert seat is not None
        device = rooms.device_at(s, seat.id)
    assert device is not None
    return device


def repair_of(db, device_id: int) -> Repair:
    with db.session() as s:
        found = repairs.open_repair(s, device_id)
    assert found is not None
    return found


def test_faulty_pc_goes_to_biro_aset_and_comes_back(login, db, smtp_server):
    lab2 = lab(db, "LAB-2")
    device = device_at(db, "LAB-2", "B2")
    with db.session() as s:
        before = {x.id for x in rooms.working_seats(s, lab2.id)}
    assert device.seat_id in before

    yansi = login("yansi")
    reported = yansi.post("/lab/labs/LAB-2/seats/B2/fault", {
        "problem": "Monitor bergaris, tidak bisa dipakai", "send_now": "on"})
    assert reported.status_code == 302
    repair = repair_of(db, device.id)
    assert repair.state == "sent" and repair.asset_number == device.asset_number
    assert repair.number.startswith("REP-")
    with db.session() as s:
        assert s.get_one(Device, device.id).status == "faulty"
        assert device.seat_id not in {x.id for x in rooms.working_seats(s, lab2.id)}

    letters = to(mails(smtp_server, repair.number), ASSET_OFFICE)
    assert len(letters) == 1
    assert device.asset_number in letters[0].text()
    assert "Monitor bergaris" in letters[0].text() and "B2" in letters[0].text()

    page = yansi.get(f"/lab/repairs/{repair.id}").get_data(as_text=True)
    assert repair.number in page and "Biro Aset" in page
    yansi.post(f"/lab/repairs/{repair.id}/workflow", {"action": "pick_up",
                                                      "asset_office_ref": "BA-77/2026"})
    with db.session() as s:
        assert s.get_one(Repair, repair.id).state == "in_repair"
        assert s.get_one(Device, device.id).status == "in_repair"
    done = yansi.post(f"/lab/repairs/{repair.id}/complete",
                      {"resolution": "Kabel VGA diganti"})
    assert done.status_code == 302
    with db.session() as s:
        finished = s.get_one(Repair, repair.id)
        assert finished.state == "done" and finished.resolution == "Kabel VGA diganti"
        assert finished.asset_office_ref == "BA-77/2026"
        assert s.get_one(Device, device.id).status == "working"
        assert device.seat_id in {x.id for x in rooms.working_seats(s, lab2.id)}
    assert to(mails(smtp_server, repair.number), "yansi@demo.example.org")


def test_a_replaced_pc_gets_its_new_asset_number(login, db):
    device = device_at(db, "LAB-2", "B3")
    yansi = login("yansi")
    yansi.post("/lab/labs/LAB-2/seats/B3/fault", {"problem": "Motherboard mati",
                                                  "replace": "on", "send_now": "on"})
    repair = repair_of(db, device.id)
    assert repair.replace
    yansi.post(f"/lab/repairs/{repair.id}/complete", {
        "resolution": "Diganti unit baru", "new_asset_number": "BPTI/LAB2/NEW-1",
        "new_hostname": "lab2-pc-new"})
    with db.session() as s:
        refreshed = s.get_one(Device, device.id)
    assert refreshed.asset_number == "BPTI/LAB2/NEW-1" and refreshed.status == "working"


def test_candidate_reports_from_the_qr_sticker(login, db, smtp_server):
    device = device_at(db, "LAB-1", "A1")
    peserta = login("peserta")
    page = peserta.get(f"/lab/seats/{device.seat_id}/report")
    assert page.status_code == 200 and "A1" in page.get_data(as_text=True)
    sent = peserta.post(f"/lab/seats/{device.seat_id}/report",
                        {"problem": "Keyboard tidak berfungsi"})
    assert sent.status_code == 200
    repair = repair_of(db, device.id)
    assert repair.number in sent.get_data(as_text=True)
    assert repair.source == "seat" and repair.state == "reported"
    assert repair.reported_by == user(db, "peserta").id
    # Staff send it on; a second report of the same PC joins the open request.
    peserta.post(f"/lab/seats/{device.seat_id}/report", {"problem": "Mouse juga rusak"})
    with db.session() as s:
        assert len(s.scalars(select(Repair).where(Repair.device_id == device.id)).all()) == 1
        assert "Mouse juga rusak" in s.get_one(Repair, repair.id).problem
    login("yansi").post(f"/lab/repairs/{repair.id}/workflow", {"action": "send"})
    assert to(mails(smtp_server, repair.number), ASSET_OFFICE)
    # The QR sheet links there.
    sheet = login("yansi").get("/lab/labs/LAB-1/qr").get_data(as_text=True)
    assert f"/lab/seats/{device.seat_id}/report" in sheet and "<svg" in sheet


def test_kiosk_of_the_pc_reports_its_own_seat(app, db, client):
    device = device_at(db, "LAB-1", "A2")
    with db.transaction() as s:
        found = rooms.lab_by_code(s, "LAB-1")
        assert found is not None
        code = kiosks.new_code(s, found).code
        enrolment = kiosks.enrol(s, code, seat_label="A2")
        token = enrolment.token
    assert client.get("/lab/kiosk/report").status_code == 403
    headers = {kiosks.TOKEN_HEADER: token}
    page = client.get("/lab/kiosk/report", headers=headers)
    assert page.status_code == 200 and "A2" in page.get_data(as_text=True)
    import re

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert csrf
    sent = client.post("/lab/kiosk/report", headers=headers,
                       data={"problem": "Layar berkedip", "csrf_token": csrf.group(1)})
    assert sent.status_code == 200
    repair = repair_of(db, device.id)
    assert repair.source == "kiosk" and repair.source_ref.startswith("kiosk:")


def test_marked_faulty_elsewhere_gets_a_repair_request(app, db):
    """A helpdesk ticket (or the core's own page) marks a PC faulty through the core; the
    lab plugin's job opens the repair request for it."""
    device = device_at(db, "LAB-1", "B5")
    with db.transaction() as s:
        rooms.set_device_status(s, s.get_one(Device, device.id), DeviceStatus.FAULTY.value,
                                reason="Tiket HD-2026-0042: PC tidak menyala")
    from plugins.lab.jobs import reconcile_faults

    reconcile_faults()
    repair = repair_of(db, device.id)
    assert repair.source == "registry"
    assert "HD-2026-0042" in repair.problem
    reconcile_faults()  # nothing new the second time
    with db.session() as s:
        assert len(s.scalars(select(Repair).where(Repair.device_id == device.id)).all()) == 1
        log = s.scalars(select(UsageEntry).where(UsageEntry.kind == "fault")).all()
    assert any(e.details.get("repair") == repair.number for e in log)


def test_false_alarm_cancels_and_puts_the_pc_back(login, db):
    device = device_at(db, "LAB-2", "A4")
    yansi = login("yansi")
    yansi.post("/lab/labs/LAB-2/seats/A4/fault", {"problem": "Tidak ada suara"})
    repair = repair_of(db, device.id)
    assert repair.state == "reported"
    yansi.post(f"/lab/repairs/{repair.id}/workflow", {"action": "cancel"})  # needs a reason
    with db.session() as s:
        assert s.get_one(Repair, repair.id).state == "reported"
    yansi.post(f"/lab/repairs/{repair.id}/workflow", {"action": "cancel",
                                                      "comment": "Volume hanya dimatikan"})
    with db.session() as s:
        assert s.get_one(Repair, repair.id).state == "cancelled"
        assert s.get_one(Device, device.id).status == "working"


def test_repairs_page_and_permissions(login, db):
    assert login("pemohon").get("/lab/repairs").status_code == 403
    page = login("yansi").get("/lab/repairs").get_data(as_text=True)
    # The demo's faulty PC (LAB-1 C4) has its repair at Biro Aset.
    assert "C4" in page and "REP-" in page


def test_repair_letter_pdf_names_the_asset(login, db):
    import io

    from pypdf import PdfReader

    device = device_at(db, "LAB-2", "D1")
    yansi = login("yansi")
    yansi.post("/lab/labs/LAB-2/seats/D1/fault", {"problem": "Hard disk berbunyi keras",
                                                  "send_now": "on"})
    repair = repair_of(db, device.id)
    answer = yansi.get(f"/lab/repairs/{repair.id}/letter.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.data)).pages)
    assert repair.number in text and device.asset_number in text
    assert "Biro Aset" in text and "Hard disk berbunyi keras" in text
    assert login("pemohon").get(f"/lab/repairs/{repair.id}/letter.pdf").status_code == 403


def test_biro_aset_address_set_on_the_settings_page_is_used(login, db, smtp_server):
    admin = login("admin")
    saved = admin.post("/admin/settings", {"key": "lab.asset_office_email", "action": "save",
                                           "value": "aset@kampus.ac.id"})
    assert saved.status_code == 302
    device = device_at(db, "LAB-2", "D2")
    login("yansi").post("/lab/labs/LAB-2/seats/D2/fault", {"problem": "Kipas berisik",
                                                           "send_now": "on"})
    repair = repair_of(db, device.id)
    assert to(mails(smtp_server, repair.number), "aset@kampus.ac.id")
