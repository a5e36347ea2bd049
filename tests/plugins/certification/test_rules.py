"""Refusals: each gets a clear error and changes nothing (no registration, no audit entry,
no seat). Also the waiting list: offers in order, expiry by the background job, declines,
and a larger quota."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.jobs import run_due_jobs
from plugins.certification import participants, registrations
from plugins.certification.clock import now
from plugins.certification.errors import CertError
from plugins.certification.models import CertField, CertParticipant, CertRegistration
from tests.plugins.certification.conftest import publish, snapshot, user


def outsider(db: Any, n: int, verified: bool = True) -> int:
    with db.transaction() as s:
        p = CertParticipant(email=f"orang{n}@luar.example", full_name=f"Orang {n}",
                            email_verified_at=now() if verified else None)
        s.add(p)
        s.flush()
        return p.id


def internal(db: Any, username: str) -> int:
    with db.transaction() as s:
        p = participants.of_user(s, user(db, username))
        assert p is not None
        return p.id


def refused(db: Any, field_id: int, pid: int, kind: str) -> CertError:
    before = snapshot(db)
    with pytest.raises(CertError) as info:
        registrations.register_now(db, field_id, pid)
    assert info.value.kind == kind, info.value
    assert snapshot(db) == before, "a refused registration changed something"
    return info.value


def test_bad_registrations_are_refused_and_change_nothing(app, db):
    prog = publish(db, fields=[
        {"code": "NET", "name": "Jaringan", "quota": 5},
        {"code": "INT", "name": "Khusus sivitas", "quota": 5, "audience": "internal",
         "study_programmes": "Teknik Informatika\nSistem Informasi"},
        {"code": "SHUT", "name": "Ditutup", "quota": 5},
    ], one_field_only=True)
    net, intern, shut = (f.id for f in prog.fields)
    with db.transaction() as s:
        closed = s.get(CertField, shut)
        assert closed is not None
        closed.open = False
    a, unverified = outsider(db, 1), outsider(db, 2, verified=False)

    assert registrations.register_now(db, net, a).status == "confirmed"
    err = refused(db, net, a, "duplicate")
    assert "already registered" in str(err)
    refused(db, shut, outsider(db, 3), "field_closed")
    refused(db, net, unverified, "unverified")
    refused(db, intern, outsider(db, 4), "not_eligible")  # outsiders: members only
    refused(db, intern, internal(db, "pemohon"), "not_eligible")  # not that study programme
    refused(db, intern, a, "not_eligible")
    b = outsider(db, 5)
    registrations.register_now(db, net, b)
    with db.transaction() as s:  # one field per participant in this programme
        prog_field = s.get(CertField, intern)
        assert prog_field is not None
        prog_field.audience = "all"
        prog_field.study_programmes = []
    refused(db, intern, b, "one_field_only")
    with pytest.raises(CertError) as info:
        registrations.register_now(db, 999_999, b)
    assert info.value.kind == "not_found"


def test_registration_outside_the_window_is_refused(app, db):
    late = publish(db, fields=[{"code": "NET", "name": "Jaringan", "quota": 5}],
                   opens=now() - timedelta(days=3), closes=now() - timedelta(minutes=1))
    early = publish(db, fields=[{"code": "NET", "name": "Jaringan", "quota": 5}],
                    title="Belum dibuka", opens=now() + timedelta(days=1),
                    closes=now() + timedelta(days=2))
    pid = outsider(db, 1)
    err = refused(db, late.fields[0].id, pid, "window_closed")
    assert "closed" in str(err)
    refused(db, early.fields[0].id, pid, "not_yet_open")


def test_refusals_through_the_portal_answer_clearly(app, db, login):
    prog = publish(db, fields=[{"code": "NET", "name": "Jaringan", "quota": 1}],
                   opens=now() - timedelta(days=3), closes=now() - timedelta(minutes=1))
    peserta = login("peserta")
    before = snapshot(db)
    resp = peserta.post_json(f"/certification/portal/fields/{prog.fields[0].id}/register", {})
    assert resp.status_code == 409
    assert resp.json["error"] == "window_closed"
    assert "ditutup" in resp.json["message"] or "closed" in resp.json["message"]
    page = peserta.post(f"/certification/portal/fields/{prog.fields[0].id}/register", {},
                        follow_redirects=True).get_data(as_text=True)
    assert "ditutup" in page or "closed" in page
    assert snapshot(db) == before


def test_bad_forms_name_the_field_and_store_nothing(app, db, login):
    staff = login("add")
    before = snapshot(db)
    resp = staff.post("/certification/programmes/new", {"title": "x", "offer_hours": "0"})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "Judul" in page and "jam" in page
    prog = publish(db, fields=[{"code": "NET", "name": "Jaringan", "quota": 2}])
    field_id = prog.fields[0].id
    before = snapshot(db)
    resp = staff.post(f"/certification/fields/{field_id}/sessions",
                      {"title": "Sesi", "starts_at": "2030-01-01T10:00",
                       "ends_at": "2030-01-01T09:00", "location": "Aula"},
                      follow_redirects=True)
    assert "end after it starts" in resp.get_data(as_text=True) or \
        "berakhir setelah" in resp.get_data(as_text=True)
    assert snapshot(db) == before


def test_the_quota_cannot_drop_below_the_seats_taken(app, db):
    prog = publish(db, fields=[{"code": "NET", "name": "Jaringan", "quota": 3}])
    f = prog.fields[0].id
    for n in range(3):
        registrations.register_now(db, f, outsider(db, n))
    staff = user(db, "add")
    before = snapshot(db)
    with pytest.raises(CertError) as info, db.transaction() as s:
        field = s.get(CertField, f)
        assert field is not None
        registrations.change_quota(s, field, 2, actor=staff)
    assert info.value.kind == "quota_below_taken"
    assert snapshot(db) == before


def _status(db: Any, field_id: int) -> dict[str, list[int]]:
    with db.session() as s:
        rows = s.scalars(select(CertRegistration).where(CertRegistration.field_id == field_id)
                         .order_by(CertRegistration.id))
        out: dict[str, list[int]] = {}
        for r in rows:
            out.setdefault(r.status, []).append(r.participant_id)
    return out


def test_freed_seats_go_to_the_waiting_list_in_order_with_a_time_limit(app, db):
    prog = publish(db, fields=[{"code": "NET", "name": "Jaringan", "quota": 2}],
                   offer_hours=6)
    f = prog.fields[0].id
    people = [outsider(db, n) for n in range(6)]
    outcomes = [registrations.register_now(db, f, pid) for pid in people]
    assert [o.status for o in outcomes] == ["confirmed"] * 2 + ["waitlisted"] * 4
    assert [o.position for o in outcomes[2:]] == [1, 2, 3, 4]

    with db.transaction() as s:  # the first confirmed person cancels
        reg = registrations.active_of(s, people[0], f)
        assert reg is not None
        registrations.cancel(s, reg)
    status = _status(db, f)
    assert status["offered"] == [people[2]], "the first in line gets the offer"
    with db.session() as s:
        offer = registrations.active_of(s, people[2], f)
        assert offer is not None and offer.offer_expires_at is not None
        assert timedelta(hours=5, minutes=59) < offer.offer_expires_at - now() <= timedelta(hours=6)
        third = registrations.active_of(s, people[3], f)
        assert third is not None and registrations.position(s, third) == 1

    late = outsider(db, 99)
    with db.transaction() as s:  # a newcomer queues behind those already waiting
        p = s.get(CertParticipant, late)
        assert p is not None
        assert registrations.register(s, f, p).status == "waitlisted"

    # Seven hours later the offer has run out: the background job hands the seat on.
    with db.transaction() as s:
        offer = registrations.active_of(s, people[2], f)
        assert offer is not None and offer.offer_expires_at is not None
        offer.offer_expires_at -= timedelta(hours=7)
    ran = run_due_jobs()
    assert "certification.expire_offers" in ran
    status = _status(db, f)
    assert status["offer_expired"] == [people[2]]
    assert status["offered"] == [people[3]]

    with db.transaction() as s:  # declined: the next one again
        reg = registrations.active_of(s, people[3], f)
        assert reg is not None
        registrations.decline_offer(s, reg)
    assert _status(db, f)["offered"] == [people[4]]
    with db.transaction() as s:
        reg = registrations.active_of(s, people[4], f)
        assert reg is not None
        registrations.accept_offer(s, reg)
    assert _status(db, f)["confirmed"] == [people[1], people[4]]

    with db.transaction() as s:  # two more seats: both offered at once, in order
        field = s.get(CertField, f)
        assert field is not None
        registrations.change_quota(s, field, 4, actor=user(db, "add"))
    assert _status(db, f)["offered"] == [people[5], late]
    with db.session() as s:
        from plugins.certification import seats

        assert seats.counts(s, f) == (4, 4)
        assert seats.drift(s) == []


def test_an_accepted_offer_after_its_deadline_is_refused(app, db):
    prog = publish(db, fields=[{"code": "NET", "name": "Jaringan", "quota": 1}])
    f = prog.fields[0].id
    a, b = outsider(db, 1), outsider(db, 2)
    registrations.register_now(db, f, a)
    registrations.register_now(db, f, b)
    with db.transaction() as s:
        reg = registrations.active_of(s, a, f)
        assert reg is not None
        registrations.cancel(s, reg)
    with db.transaction() as s:
        reg = registrations.active_of(s, b, f)
        assert reg is not None
        reg.offer_expires_at = now() - timedelta(seconds=1)
    before = snapshot(db)
    with pytest.raises(CertError) as info, db.transaction() as s:
        reg = registrations.active_of(s, b, f)
        assert reg is not None
        registrations.accept_offer(s, reg)
    assert info.value.kind == "offer_expired"
    assert snapshot(db) == before
