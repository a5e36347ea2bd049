"""Preparing a training: third parties shared across plugins through ``core.directory``
(the certification plugin's vendors, this plugin's own trainers), the trainer directory,
a new date that moves the lab reservation and tells the participants, the waiting list,
group invitations, and cancelling, which frees the lab and tells everyone."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from core import directory
from plugins.training import participants, service
from plugins.training.models import Participant, Trainer, Training
from plugins.training.views.proposals import _form_values
from tests.plugins.training.conftest import (
    JAKARTA,
    MAIL_DOMAIN,
    build,
    day_ahead,
    deliver,
    proposal,
)


def _vendor(db, source: str) -> tuple[str, str]:
    with db.session() as s:
        found = [p for p in directory.third_parties(s, "") if p.source == source]
    assert found, f"no {source} entry among the third parties"
    return found[0].ref, found[0].name


def test_third_parties_come_from_the_certification_plugin_without_importing_it(
        app, db, login):
    admin, wdm = login("admin"), login("wdm")
    ref, name = _vendor(db, "certification")
    form = wdm.get("/training/new").get_data(as_text=True)
    assert re.search(f'<option value="{ref}" >{re.escape(name)}', form)
    resp = wdm.post("/training/new", proposal(third_party_ref=ref))
    assert resp.status_code == 302
    tid = int(resp.headers["Location"].rsplit("/", 1)[-1])
    with db.session() as s:
        tr = s.get(Training, tid)
        assert (tr.third_party_ref, tr.third_party_name) == (ref, name)
    # The certification plugin is switched off: its vendors leave the directory, the
    # training keeps its third party and may still be edited, a new one cannot choose it.
    host = app.extensions["ruang"].plugins
    admin.post("/admin/plugins/certification", {"action": "disable"})
    host.refresh(force=True)
    with db.session() as s:
        assert not [p for p in directory.third_parties(s, "") if p.source == "certification"]
    edit = wdm.get(f"/training/{tid}/edit").get_data(as_text=True)
    assert f'value="{ref}" selected' in edit
    with db.session() as s:
        values = _form_values(s.get(Training, tid))
    values["title"] = "Pengelolaan Konten Website Fakultas (revisi)"
    assert wdm.post(f"/training/{tid}/edit", values).status_code == 302
    with db.session() as s:
        assert s.get(Training, tid).third_party_name == name
    resp = wdm.post("/training/new", proposal(third_party_ref=ref))
    assert resp.status_code == 400 and 'data-error="third_party_ref"' in resp.get_data(
        as_text=True)
    admin.post("/admin/plugins/certification", {"action": "enable"})


def test_trainer_directory(app, db, login):
    wdm = login("wdm")
    bad = wdm.post("/training/trainers", {"name": "Joko", "email": "bukan", "phone": "abc"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and html.count('class="field-error"') == 2
    with db.session() as s:
        assert s.scalar(select(Trainer).where(Trainer.name == "Joko")) is None
    ok = wdm.post("/training/trainers", {"name": "Joko Susilo", "organisation": "Prodi TI",
                                         "email": "Joko@Univ.example.ac.id", "active": "1",
                                         "external": "1"})
    assert ok.status_code == 302
    twice = wdm.post("/training/trainers", {"name": "joko susilo", "active": "1"})
    assert twice.status_code == 400
    with db.session() as s:
        joko = s.scalar(select(Trainer).where(Trainer.name == "Joko Susilo"))
        assert joko is not None and joko.email == "joko@univ.example.ac.id"
        found = directory.third_parties(s, "prodi ti")
    assert [p.ref for p in found] == [f"training:trainer:{joko.id}"]
    # Deactivated: no longer offered, to this plugin or any other.
    wdm.post(f"/training/trainers/{joko.id}", {"name": "Joko Susilo", "external": "1"})
    with db.session() as s:
        assert directory.third_parties(s, "joko") == []
    assert login("peserta").get("/training/trainers").status_code == 403


def test_a_new_date_moves_the_lab_and_tells_the_participants(app, db, login, smtp_server):
    tid = build(db, state="preparation", lab=True, people=2)
    with db.session() as s:
        tr = s.get(Training, tid)
        assert tr.room_reference, tr.room_notes
        values = _form_values(tr)
        old_reference = tr.room_reference
    deliver()
    before = len(smtp_server.wait_for(1))
    later = day_ahead() + timedelta(days=1)
    values.update(starts_at=f"{later.isoformat()}T13:00", ends_at=f"{later.isoformat()}T16:00",
                  title="Ini tidak berubah karena sudah disetujui")
    wdm = login("wdm")
    assert wdm.post(f"/training/{tid}/edit", values).status_code == 302
    with db.session() as s:
        tr = s.get(Training, tid)
        assert tr.starts_at.astimezone(JAKARTA).hour == 13
        assert tr.title != values["title"]  # approved content stays
        assert tr.room_reference and tr.room_reference != "" and not tr.room_notes
    deliver()
    mails = smtp_server.wait_for(before + 2)
    changed = [m for m in mails[before:] if f"DKL-{tid:04d}" in m.subject]
    assert {m.rcpt_tos[0] for m in changed} == {f"p1@{MAIL_DOMAIN}", f"p2@{MAIL_DOMAIN}"}
    assert "13:00" in changed[0].text()
    assert old_reference  # reserved before, reserved again for the new time


def test_two_trainings_cannot_hold_the_same_lab_at_once(app, db, login):
    first = build(db, state="preparation", lab=True)
    second = build(db, state="preparation", lab=True, title="Pelatihan Kedua di Lab Sama")
    with db.session() as s:
        a, b = s.get(Training, first), s.get(Training, second)
        assert a.room_reference
        assert not b.room_reference and b.room_notes  # the lab plugin refused, with a reason
    page = login("wdm").get(f"/training/{second}").get_data(as_text=True)
    assert "Belum dipesan" in page or "Not reserved" in page
    assert 'action="/training/' in page and "/room" in page


def test_waiting_list_and_group_invitation(app, db, login, smtp_server):
    tid = build(db, state="preparation", capacity=2)
    wdm = login("wdm")
    resp = wdm.post(f"/training/{tid}/invite-group", {"group": "staff", "division": "WDM"})
    assert resp.status_code == 302
    with db.session() as s:
        invited = participants.of_training(s, tid)
    assert [p.email for p in invited] == [f"wdm@{MAIL_DOMAIN}"]
    wdm.post(f"/training/{tid}/invite-group", {"group": "staff", "division": "WDM"})
    with db.session() as s:
        assert len(participants.of_training(s, tid)) == 1  # not twice
    for n in range(3):
        wdm.post(f"/training/{tid}/register", {"name": f"Walk In {n}",
                                               "email": f"walk{n}@{MAIL_DOMAIN}"})
    with db.session() as s:
        status = {p.email: p.status for p in participants.of_training(s, tid)}
    assert status[f"walk0@{MAIL_DOMAIN}"] == "registered"
    assert status[f"walk2@{MAIL_DOMAIN}"] == "waitlisted"
    with db.session() as s:
        first = s.scalar(select(Participant).where(Participant.email == f"walk0@{MAIL_DOMAIN}"))
    wdm.post(f"/training/{tid}/participants/{first.id}/cancel")
    with db.session() as s:
        status = {p.email: p.status for p in participants.of_training(s, tid)}
    assert status[f"walk2@{MAIL_DOMAIN}"] == "registered"
    deliver()
    subjects = [m.subject for m in smtp_server.wait_for(5)
                if f"walk2@{MAIL_DOMAIN}" in m.rcpt_tos]
    assert len(subjects) == 2  # on the waiting list, then confirmed


def test_cancelling_frees_the_lab_and_tells_everyone(app, db, login, smtp_server):
    tid = build(db, state="preparation", lab=True, people=2)
    kabpti = login("kabpti")
    deliver()
    before = len(smtp_server.messages)
    kabpti.post(f"/training/{tid}/workflow", {"action": "cancel"})  # needs a comment
    with db.session() as s:
        assert s.get(Training, tid).state == "preparation"
    kabpti.post(f"/training/{tid}/workflow", {"action": "cancel",
                                              "comment": "Narasumber berhalangan."})
    with db.session() as s:
        tr = s.get(Training, tid)
        assert tr.state == "cancelled" and not tr.room_reference
    # The lab is free again: another training gets it at the same time.
    other = build(db, state="preparation", lab=True, title="Pelatihan Pengganti")
    with db.session() as s:
        assert s.get(Training, other).room_reference
    deliver()
    mails = smtp_server.wait_for(before + 2)[before:]
    cancelled = [m for m in mails if f"DKL-{tid:04d}" in m.subject]
    assert len(cancelled) == 2 and "Narasumber berhalangan." in cancelled[0].text()
    with db.session() as s:
        assert service.get(s, tid).registration_open is False
