"""Staff pages over the core registry: a new lab, the seat-map editor, capacity, equipment and
software lists, each PC's status, bulk import of PCs from XLSX with per-row errors, closures."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.rooms import service as rooms
from core.rooms.models import Device, Seat
from plugins.lab.models import Equipment, Hold, Software
from tests.plugins.lab.conftest import lab, monday


def xlsx(rows: list[list[object]]) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    buf.seek(0)
    return buf


def test_staff_create_a_lab_and_edit_its_seat_map(login, db):
    yansi = login("yansi")
    assert login("pemohon").get("/lab/labs/new").status_code == 403
    created = yansi.post("/lab/labs/new", {
        "code": "lab-3", "name": "Lab Multimedia", "rows": 3, "cols": 4, "building": "Gedung C",
        "floor": "1", "bookable": "on", "open_from": "08:00", "open_until": "16:00",
        "open_days": ["1", "2", "3", "4", "5"], "active": "on"})
    assert created.status_code == 302
    lab3 = lab(db, "LAB-3")
    with db.session() as s:
        seats = rooms.seats_of(s, lab3.id)
    assert len(seats) == 12
    # The editor: untick A1 (a pillar) and B4 (the teacher's desk).
    keep = [str(x.id) for x in seats if x.label not in ("A1", "B4")]
    yansi.post("/lab/labs/LAB-3/seatmap", {"seat": keep})
    with db.session() as s:
        off = sorted(x.label for x in rooms.seats_of(s, lab3.id) if not x.active)
    assert off == ["A1", "B4"]
    editor = yansi.get("/lab/labs/LAB-3/edit").get_data(as_text=True)
    assert 'id="seatmap"' in editor and 'data-seat="A1"' in editor
    # Growing the grid adds seats through the core.
    yansi.post("/lab/labs/LAB-3/edit", {
        "code": "LAB-3", "name": "Lab Multimedia", "rows": 4, "cols": 4, "active": "on",
        "bookable": "on", "open_from": "08:00", "open_until": "16:00", "open_days": ["1"]})
    with db.session() as s:
        assert len([x for x in rooms.seats_of(s, lab3.id) if x.active]) == 14
    bad = yansi.post("/lab/labs/LAB-3/edit", {
        "code": "LAB-3", "name": "Lab Multimedia", "rows": 4, "cols": 4, "active": "on",
        "open_from": "16:00", "open_until": "08:00", "open_days": ["1"]})
    assert bad.status_code == 400
    assert "Jam tutup lab harus setelah jam buka" in bad.get_data(as_text=True)


def test_lab_page_shows_capacity_pcs_equipment_and_software(login, db):
    page = login("pemohon").get("/lab/labs/LAB-1").get_data(as_text=True)
    with db.session() as s:
        working = len(rooms.working_seats(s, lab(db, "LAB-1").id))
    assert f'<span class="stat" id="capacity">{working}</span>' in page
    assert 'data-seat="C4" data-state="faulty"' in page  # the demo's broken PC
    assert "MySQL Workbench" in page and "Proyektor" in page


def test_equipment_and_software_lists(login, db):
    yansi = login("yansi")
    lab2 = lab(db, "LAB-2")
    yansi.post("/lab/labs/LAB-2/equipment", {"name": "Smart TV 65 inci", "quantity": "1",
                                             "asset_number": "BPTI/TV/01"})
    yansi.post("/lab/labs/LAB-2/software", {"lines": "Cisco Packet Tracer | 8.2\nGIMP\n"
                                                     "LibreOffice | 24.8"})
    with db.session() as s:
        tv = s.scalar(select(Equipment).where(Equipment.name == "Smart TV 65 inci"))
        names = set(s.scalars(select(Software.name).where(Software.lab_id == lab2.id)))
    assert tv is not None and tv.asset_number == "BPTI/TV/01"
    assert {"Cisco Packet Tracer", "GIMP", "LibreOffice"} <= names  # LibreOffice once only
    yansi.post(f"/lab/equipment/{tv.id}", {"action": "save", "name": "Smart TV 65 inci",
                                           "quantity": "2", "condition": "faulty"})
    with db.session() as s:
        updated = s.get_one(Equipment, tv.id)
        assert (updated.quantity, updated.condition) == (2, "faulty")
    yansi.post(f"/lab/equipment/{tv.id}", {"action": "delete"})
    with db.session() as s:
        assert s.get(Equipment, tv.id) is None
        actions = {e.action for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action.like("lab.equipment.%")))}
    assert {"lab.equipment.add", "lab.equipment.update", "lab.equipment.remove"} <= actions
    assert login("pemohon").post("/lab/labs/LAB-2/software", {"lines": "x"}).status_code == 403


def test_import_pcs_from_xlsx_with_an_error_per_bad_row(login, db):
    yansi = login("yansi")
    yansi.post("/lab/labs/new", {"code": "LAB-9", "name": "Lab Impor", "rows": 2, "cols": 3,
                                 "active": "on", "open_days": ["1"]})
    rows: list[list[object]] = [
        ["Kursi", "Nomor Aset", "Hostname", "Kondisi", "Catatan"],
        ["A1", "BPTI/L9/001", "lab9-pc01", "baik", ""],
        ["A2", 12345, "lab9-pc02", "", "aset dari hibah"],
        ["A3", "BPTI/L9/003", "lab9 pc03", "", ""],          # bad host name
        ["Z9", "BPTI/L9/004", "", "", ""],                   # no such seat
        ["B1", "BPTI/L9/001", "", "", ""],                   # asset repeated in the file
        ["B2", "BPTI/LAB1/001", "", "", ""],                 # asset of a PC in LAB-1
        ["B3", "BPTI/L9/007", "lab9-pc07", "meledak", ""],   # unknown status
        [None, None, None, None, None],
        ["B3", "BPTI/L9/008", "lab9-pc08", "rusak", "layar retak"],
    ]
    checked = yansi.post("/lab/labs/LAB-9/import", {"file": (xlsx(rows), "pc.xlsx"),
                                                    "dry_run": "on"},
                         content_type="multipart/form-data")
    assert checked.status_code == 200
    lab9 = lab(db, "LAB-9")
    with db.session() as s:
        assert s.scalars(select(Device).join(Seat).where(Seat.lab_id == lab9.id)).all() == []
    done = yansi.post("/lab/labs/LAB-9/import", {"file": (xlsx(rows), "pc.xlsx")},
                      content_type="multipart/form-data")
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    for line in (4, 5, 6, 7, 8):
        assert f'data-line="{line}" data-outcome="error"' in html, line
    assert "lab9 pc03" in html or "Host name" in html
    assert "Z9" in html and "baris 2" in html and "LAB-1" in html
    with db.session() as s:
        devices = {x.asset_number: x for x in s.scalars(
            select(Device).join(Seat, Seat.id == Device.seat_id).where(Seat.lab_id == lab9.id))}
    assert set(devices) == {"BPTI/L9/001", "12345", "BPTI/L9/008"}
    assert devices["BPTI/L9/008"].status == "faulty"
    assert devices["12345"].notes == "aset dari hibah"
    # The sheet to fill in round-trips what is registered.
    template = yansi.get("/lab/labs/LAB-9/import/template.xlsx")
    rows = list(load_workbook(io.BytesIO(template.data)).active.iter_rows(values_only=True))
    assert rows[0] == ("seat", "asset_number", "hostname", "status", "notes")
    assert ("A1", "BPTI/L9/001", "lab9-pc01", "working", None) in rows
    not_xlsx = yansi.post("/lab/labs/LAB-9/import", {"file": (io.BytesIO(b"a,b"), "pc.csv")},
                          content_type="multipart/form-data")
    assert not_xlsx.status_code == 400 and "XLSX" in not_xlsx.get_data(as_text=True)
    no_header = yansi.post("/lab/labs/LAB-9/import",
                           {"file": (xlsx([["foo", "bar"], ["A1", "x"]]), "pc.xlsx")},
                           content_type="multipart/form-data")
    assert no_header.status_code == 400 and "asset_number" in no_header.get_data(as_text=True)


def test_closure_blocks_bookings_and_can_be_lifted(login, db):
    yansi = login("yansi")
    day = monday(100)
    closed = yansi.post("/lab/labs/LAB-2/closures", {
        "day": day.isoformat(), "start_time": "07:00", "end_time": "21:00",
        "reason": "Pengecatan ruangan"})
    assert closed.status_code == 302
    lab2 = lab(db, "LAB-2")
    refused = login("pemohon").post("/lab/request", {
        "lab_id": lab2.id, "first_day": day.isoformat(), "start_time": "09:00",
        "end_time": "10:00", "purpose": "Kelas", "participants": 5, "action": "submit"})
    assert refused.status_code == 400 and "Pengecatan ruangan" in refused.get_data(as_text=True)
    with db.session() as s:
        hold = s.scalar(select(Hold).where(Hold.kind == "block",
                                           Hold.title == "Pengecatan ruangan"))
    assert hold is not None
    yansi.post(f"/lab/closures/{hold.reference}/delete", {"code": "LAB-2"})
    with db.session() as s:
        assert s.get(Hold, hold.id) is None


def test_index_lists_bookable_labs_for_requesters(login, db):
    yansi = login("yansi")
    yansi.post("/lab/labs/new", {"code": "SRV-1", "name": "Ruang Server", "rows": 1,
                                 "cols": 1, "active": "on", "open_days": ["1"]})
    staff_view = yansi.get("/lab/").get_data(as_text=True)
    requester_view = login("pemohon").get("/lab/").get_data(as_text=True)
    assert 'data-lab="SRV-1"' in staff_view
    assert 'data-lab="SRV-1"' not in requester_view  # not bookable: not on the portal
    assert 'data-lab="LAB-1"' in requester_view
    assert login("pemohon").get("/lab/labs/SRV-1").status_code == 404
