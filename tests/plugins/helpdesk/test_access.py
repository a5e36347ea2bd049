"""Who may read which ticket: guests need the number and the contact, guessing is throttled,
requesters see their own tickets only, staff see what their division allows."""

from __future__ import annotations

import re

from tests.plugins.helpdesk.conftest import file_as_guest, number_in, ticket


def _file(client, **kw):
    resp = file_as_guest(client, **kw)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    return number_in(client.get(resp.headers["Location"]).get_data(as_text=True))


def test_a_guest_cannot_read_a_ticket_with_its_number_alone(app, guest):
    number = _file(guest, email="rina@kampus.ac.id", phone="0813 1111 2222")
    stranger = guest.__class__(app.test_client())
    assert stranger.get(f"/helpdesk/t/{number}").status_code == 404
    forged = "0123456789abcdef0123456789abcdef"
    assert stranger.get(f"/helpdesk/t/{number}?k={forged}").status_code == 404
    assert stranger.get(f"/helpdesk/filed/{number}").status_code == 404
    # A wrong contact gets the same answer as a number that does not exist.
    wrong = stranger.post("/helpdesk/status", {"number": number, "contact": "x@kampus.ac.id"})
    missing = stranger.post("/helpdesk/status", {"number": "TIK-209901-99999",
                                                 "contact": "rina@kampus.ac.id"})
    assert wrong.status_code == missing.status_code == 404
    text = wrong.get_data(as_text=True)
    assert "Tidak ada tiket dengan nomor dan e-mail atau telepon itu" in text
    assert "Wi-Fi" not in text
    # The right pair opens it, by e-mail (any case) or by phone written another way.
    for contact in ("RINA@kampus.ac.id", "+62 813-1111-2222"):
        visitor = guest.__class__(app.test_client())
        resp = visitor.post("/helpdesk/status", {"number": number.lower(), "contact": contact})
        assert resp.status_code == 303, contact
        page = visitor.get(resp.headers["Location"]).get_data(as_text=True)
        assert "Wi-Fi di gedung C putus" in page


def test_guessing_is_throttled(app, guest):
    number = _file(guest, email="andi@kampus.ac.id")
    guesser = guest.__class__(app.test_client())
    for i in range(5):
        resp = guesser.post("/helpdesk/status", {"number": f"TIK-202601-{i:05d}",
                                                 "contact": "andi@kampus.ac.id"})
        assert resp.status_code == 404
    resp = guesser.post("/helpdesk/status", {"number": number, "contact": "andi@kampus.ac.id"})
    assert resp.status_code == 429  # even the right pair waits now
    assert int(resp.headers["Retry-After"]) > 0
    assert "Terlalu banyak percobaan" in resp.get_data(as_text=True)


def _from(app, guest, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return guest.__class__(client)


def test_guessing_one_number_from_many_addresses_is_throttled(app, guest):
    number = _file(guest, email="citra@kampus.ac.id")
    for i in range(10):
        other = _from(app, guest, f"10.0.0.{i + 1}")
        other.get("/helpdesk/status")
        assert other.post("/helpdesk/status", {"number": number,
                                               "contact": f"guess{i}@kampus.ac.id"}
                          ).status_code == 404
    last = _from(app, guest, "10.0.1.1")
    last.get("/helpdesk/status")
    assert last.post("/helpdesk/status", {"number": number, "contact": "citra@kampus.ac.id"}
                     ).status_code == 429


def test_a_requester_sees_only_their_own_tickets(app, login):
    pemohon, peserta = login("pemohon"), login("peserta")
    mine = _file(pemohon, subject="Proyektor lab rusak")
    theirs = _file(peserta, subject="Akun SSO terkunci")
    assert pemohon.get(f"/helpdesk/t/{mine}").status_code == 200
    assert pemohon.get(f"/helpdesk/t/{theirs}").status_code == 404
    assert peserta.get(f"/helpdesk/t/{mine}").status_code == 404
    listing = pemohon.get("/helpdesk/mine").get_data(as_text=True)
    assert mine in listing and theirs not in listing
    # Requesters never reach the staff desk.
    assert pemohon.get("/helpdesk/desk/").status_code == 403
    assert pemohon.get(f"/helpdesk/desk/t/{mine}").status_code == 403


def test_staff_see_what_their_division_allows(app, login):
    pemohon = login("pemohon")
    number = _file(pemohon, subject="Website prodi tidak bisa dibuka")
    yansi, wdm, jds, kabpti = login("yansi"), login("wdm"), login("jds"), login("kabpti")
    # Unrouted: the front office (YANSI) and Ka. BPTI see it; other divisions do not.
    assert yansi.get(f"/helpdesk/desk/t/{number}").status_code == 200
    assert kabpti.get(f"/helpdesk/desk/t/{number}").status_code == 200
    assert wdm.get(f"/helpdesk/desk/t/{number}").status_code == 404
    assert number not in wdm.get("/helpdesk/desk/?view=all").get_data(as_text=True)
    # Another division cannot forward, reply or change it.
    assert jds.post(f"/helpdesk/desk/t/{number}/forward", {"division": "JDS"}).status_code == 404
    assert yansi.post(f"/helpdesk/desk/t/{number}/forward", {"division": "WDM"}).status_code == 303
    assert wdm.get(f"/helpdesk/desk/t/{number}").status_code == 200
    assert number in wdm.get("/helpdesk/desk/?view=division").get_data(as_text=True)
    assert jds.get(f"/helpdesk/desk/t/{number}").status_code == 404
    assert jds.post(f"/helpdesk/desk/t/{number}/reply", {"body": "x"}).status_code == 404
    # Searching never shows another division's tickets.
    assert number not in jds.get("/helpdesk/desk/?view=all&q=prodi").get_data(as_text=True)
    assert number in wdm.get("/helpdesk/desk/?view=all&q=prodi").get_data(as_text=True)
    # Internal notes stay with staff.
    wdm.post(f"/helpdesk/desk/t/{number}/reply", {"body": "Server web mati, cek JDS",
                                                   "internal": "1"})
    assert "Server web mati" in wdm.get(f"/helpdesk/desk/t/{number}").get_data(as_text=True)
    assert "Server web mati" not in pemohon.get(f"/helpdesk/t/{number}").get_data(as_text=True)
    # Kabag. WDM may send it on to another division; it then leaves WDM's view.
    resp = wdm.post(f"/helpdesk/desk/t/{number}/forward", {"division": "JDS",
                                                          "comment": "Masalah server"})
    assert resp.status_code == 303
    assert ticket(app, number).division == "JDS"
    assert jds.get(f"/helpdesk/desk/t/{number}").status_code == 200


def test_staff_of_a_division_who_are_not_its_head_cannot_assign_others(app, login):
    from core.accounts.service import create_user

    r = app.extensions["ruang"]
    with r.db.transaction() as s:
        create_user(s, username="budi.jds", password="budi-jds-ruang-1", role="staff",
                    division="JDS", full_name="Budi JDS", email="budi.jds@bpti.kampus.ac.id")
    number = _file(login("pemohon"))
    login("yansi").post(f"/helpdesk/desk/t/{number}/forward", {"division": "JDS"})
    from tests.conftest import Browserish

    budi = Browserish(app.test_client())
    budi.login("budi.jds", "budi-jds-ruang-1")
    jds_head_id = ticket(app, number)  # noqa: F841 - the ticket exists
    page = budi.get(f"/helpdesk/desk/t/{number}").get_data(as_text=True)
    assert "Ambil" in page  # may take it, not hand it out
    from sqlalchemy import select

    from core.accounts.models import User

    with r.db.session() as s:
        head = s.scalar(select(User.id).where(User.username == "jds"))
        me = s.scalar(select(User.id).where(User.username == "budi.jds"))
    assert budi.post(f"/helpdesk/desk/t/{number}/assign",
                     {"assignee_id": str(head)}).status_code == 403
    assert budi.post(f"/helpdesk/desk/t/{number}/assign",
                     {"assignee_id": "me"}).status_code == 303
    assert ticket(app, number).assignee_id == me
    assert re.search(r"Ditugaskan kepada Budi JDS", budi.get(
        f"/helpdesk/desk/t/{number}").get_data(as_text=True))
