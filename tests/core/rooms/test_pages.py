"""Staff pages of rooms and labs: who sees what, forms, the seat map, the enrolment screen."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.models import AuditEntry
from core.db import Database
from core.rooms import kiosks, service
from core.rooms.models import Device, Lab, Seat


def _lab1(db: Database) -> Lab:
    with db.session() as session:
        lab = service.lab_by_code(session, "LAB-1")
    assert lab is not None, "the demo lab LAB-1 is missing"
    return lab


def _seat(session: Session, lab: Lab, label: str) -> Seat:
    seat = service.seat_by_label(session, lab.id, label)
    assert seat is not None, f"{lab.code} has no seat {label}"
    return seat


def test_menu_entry_and_pages_follow_the_permissions(app, db, login, guest):
    lab = _lab1(db)
    assert "Ruang &amp; Lab" in login("kabpti").get("/").get_data(as_text=True)
    assert "Ruang &amp; Lab" not in login("pemohon").get("/").get_data(as_text=True)

    proctor = login("pengawas")
    assert proctor.get("/rooms/").status_code == 200
    assert proctor.get(f"/rooms/{lab.id}").status_code == 200
    assert proctor.get(f"/rooms/{lab.id}/kiosks").status_code == 200
    # Viewing is not managing.
    assert proctor.get("/rooms/new").status_code == 403
    assert proctor.get(f"/rooms/{lab.id}/enrol").status_code == 403
    assert proctor.post("/rooms/new", {"code": "X", "name": "X", "rows": 1,
                                       "cols": 1}).status_code == 403
    assert login("peserta").get("/rooms/").status_code == 403
    assert guest.get("/rooms/").status_code == 302  # to the sign-in page


def test_staff_create_a_lab_and_see_its_seat_map(app, db, login):
    staff = login("yansi")
    resp = staff.post("/rooms/new", {"code": "lab-3", "name": "Lab Multimedia", "rows": "3",
                                     "cols": "4", "building": "Gedung B", "floor": "1",
                                     "active": "on"})
    assert resp.status_code == 302
    page = staff.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Lab LAB-3 dibuat dengan 12 kursi." in page
    assert page.count('class="cell no_device"') == 12
    assert 'data-seat="C4"' in page

    bad = staff.post("/rooms/new", {"code": "LAB-3", "name": "Lagi", "rows": "2", "cols": "2",
                                    "active": "on"})
    assert bad.status_code == 400
    assert "Lab dengan kode LAB-3 sudah ada." in bad.get_data(as_text=True)
    too_big = staff.post("/rooms/new", {"code": "LAB-4", "name": "Besar", "rows": "30",
                                        "cols": "2", "active": "on"})
    assert too_big.status_code == 400
    assert 'value="30"' in too_big.get_data(as_text=True)  # what was typed is kept


def test_seat_map_colours_pcs_and_shows_hostnames_assets_and_online_kiosks(app, db, login,
                                                                           guest):
    lab = _lab1(db)
    with db.transaction() as session:
        here = service.get_lab(session, lab.id)
        assert here is not None
        code = kiosks.new_code(session, here).code
    guest.post_json("/kiosk/enrol", {"code": code, "seat": "A2"})
    page = login("pengawas").get(f"/rooms/{lab.id}").get_data(as_text=True)
    cells = {label: state for state, label in re.findall(
        r'<a class="cell (\w+)" id="seat-\d+" data-seat="(\w+)"', page)}
    assert len(cells) == 40
    assert cells["C4"] == "faulty" and cells["A1"] == "working"
    assert "lab1-pc01" in page and "BPTI/LAB1/001" in page
    a2 = page[page.index('data-seat="A2"'):]
    a2 = a2[:a2.index("</a>")]
    assert 'class="kdot on"' in a2

    status = login("pengawas").get(f"/rooms/{lab.id}/status.json").json
    by_label = {s["label"]: s for s in status["seats"]}
    assert by_label["A2"]["online"] and not by_label["A3"]["online"]
    assert by_label["C4"]["state"] == "faulty"
    assert status["online"] == 1


def test_staff_mark_a_pc_faulty_with_a_reason_and_it_is_audited(app, db, login):
    lab = _lab1(db)
    with db.session() as session:
        seat = _seat(session, lab, "B5")
    staff = login("jds")
    resp = staff.post(f"/rooms/{lab.id}/seats/{seat.id}/status",
                      {"status": "in_repair", "reason": "Dikirim ke Biro Aset"})
    assert resp.status_code == 302
    page = staff.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Dalam perbaikan" in page and "Dikirim ke Biro Aset" in page
    with db.session() as session:
        device = service.device_at(session, seat.id)
        assert device is not None
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "device.status",
                                                        AuditEntry.object_id == str(device.id)))
        working = [s.label for s in service.working_seats(session, lab.id)]
    assert device.status == "in_repair"
    assert entry.actor_name == "jds" and entry.details["reason"] == "Dikirim ke Biro Aset"
    assert "B5" not in working

    bad = staff.post(f"/rooms/{lab.id}/seats/{seat.id}/status", {"status": "meledak"})
    assert bad.status_code == 400


def test_staff_edit_the_pc_at_a_seat(app, db, login):
    lab = _lab1(db)
    with db.session() as session:
        seat = _seat(session, lab, "E8")
    staff = login("jds")
    resp = staff.post(f"/rooms/{lab.id}/seats/{seat.id}/device",
                      {"asset_number": "BPTI/LAB1/040-B", "hostname": "lab1-pc40b",
                       "notes": "PC pengganti"})
    assert resp.status_code == 302
    clash = staff.post(f"/rooms/{lab.id}/seats/{seat.id}/device",
                       {"asset_number": "BPTI/LAB1/001", "hostname": "lab1-pc40b"})
    assert clash.status_code == 400
    assert "Nomor aset BPTI/LAB1/001 sudah terdaftar (LAB-1 A1)." in clash.get_data(as_text=True)
    with db.session() as session:
        device = session.scalar(select(Device).where(Device.seat_id == seat.id))
    assert (device.asset_number, device.hostname, device.notes) == (
        "BPTI/LAB1/040-B", "lab1-pc40b", "PC pengganti")


def test_enrolment_screen_shows_a_big_code_and_counts_enrolled_pcs(app, db, login, guest):
    lab = _lab1(db)
    staff = login("wdm")
    first = staff.get(f"/rooms/{lab.id}/enrol").get_data(as_text=True)
    assert 'id="enrol-code"' not in first and "Tampilkan kode pendaftaran" in first
    page = staff.post(f"/rooms/{lab.id}/enrol", follow_redirects=True).get_data(as_text=True)
    found = re.search(r'id="enrol-code"[^>]*>(\w{6})<', page)
    assert found is not None, "the enrolment screen shows no code"
    code = found.group(1)
    assert "/kiosk" in page
    guest.post_json("/kiosk/enrol", {"code": code, "seat": "D4"})
    page = staff.get(f"/rooms/{lab.id}/enrol").get_data(as_text=True)
    assert "1 PC terdaftar dengan kode ini" in page
    assert '<span class="badge ok">D4</span>' in page


def test_kiosk_list_shows_online_state_and_revoked_ones_on_request(app, db, login, guest):
    lab = _lab1(db)
    with db.transaction() as session:
        here = service.get_lab(session, lab.id)
        assert here is not None
        code = kiosks.new_code(session, here).code
    kid = guest.post_json("/kiosk/enrol", {"code": code, "seat": "A4"}).json["kiosk"]["id"]
    staff = login("wdm")
    page = staff.get(f"/rooms/{lab.id}/kiosks").get_data(as_text=True)
    row = page[page.index(f'data-kiosk="{kid}"'):]
    assert "daring" in row[:row.index("</tr>")]
    staff.post(f"/rooms/kiosks/{kid}/revoke", {"reason": ""})
    assert f'data-kiosk="{kid}"' not in staff.get(f"/rooms/{lab.id}/kiosks").get_data(
        as_text=True)
    everything = staff.get(f"/rooms/{lab.id}/kiosks?all=1").get_data(as_text=True)
    row = everything[everything.index(f'data-kiosk="{kid}"'):]
    assert "dicabut" in row[:row.index("</tr>")]
