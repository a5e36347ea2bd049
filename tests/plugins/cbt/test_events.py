"""The CBT event procedure: proposal -> Kabag. WDM review -> preparation -> scheduled
sessions -> held -> minutes, each step by the right role, audited and notified."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from core.accounts.models import User
from core.audit.models import AuditEntry
from core.db import utcnow
from core.notify.models import OutboxMessage
from core.records.service import as_local
from core.rooms.service import lab_by_code
from core.workflow.engine import WorkflowError
from plugins.cbt import bank as banks
from plugins.cbt import candidates as roster
from plugins.cbt import events, exams
from plugins.cbt.models import Candidate, CbtEvent, Exam
from tests.plugins.cbt import samples

PROPOSAL = events.Proposal(
    title="UTS Kalkulus Prodi Informatika", unit="Prodi Informatika",
    purpose="Ujian tengah semester", starts_on=date(2026, 3, 2), ends_on=date(2026, 3, 2),
    expected_candidates=3, material="Kalkulus I, 20 soal pilihan ganda", contact="0812-1",
)


def user(session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def act(db, event_id: int, action: str, username: str, comment: str = "") -> CbtEvent:
    with db.transaction() as session:
        event = session.get(CbtEvent, event_id)
        events.EVENT.apply(session, event, action, user(session, username), comment)
        return event


def refused(db, event_id: int, action: str, username: str, kind: str) -> str:
    with pytest.raises(WorkflowError) as info:
        act(db, event_id, action, username, "alasan")
    assert info.value.kind == kind
    return str(info.value)


@pytest.fixture
def event_id(db) -> int:
    with db.transaction() as session:
        return events.propose(session, PROPOSAL, user(session, "pemohon")).id


def _material(db) -> int:
    """A published exam with three candidates: what WDM and the requester agree on."""
    with db.transaction() as session:
        bank = banks.create_bank(session, "Kalkulus")
        item = banks.create_item(session, bank, samples.single())
        exam = exams.create_exam(session, exams.ExamSettings(code="UTS-KAL", title="UTS"))
        exams.add_fixed(session, exam, exams.add_section(session, exam), item)
        exams.publish(session, exam)
        roster.add_candidates(session, exam, roster.Roster(rows=[
            (2, roster.RosterRow(student_number=f"23{i}", name=f"Peserta {i}"))
            for i in range(3)]))
        return exam.id


def test_the_procedure_runs_from_proposal_to_scheduled_session(db, event_id):
    # The requester's draft cannot be accepted before it is submitted, nor by the requester.
    assert "possible now: submit, cancel" in refused(db, event_id, "accept", "wdm", "state")
    assert "needs role owner" in refused(db, event_id, "submit", "wdm", "role")
    event = act(db, event_id, "submit", "pemohon")
    assert event.state == "submitted"
    year = as_local(utcnow()).year  # numbered by the university's year, in Jakarta
    assert event.letter_number.startswith("SP-CBT-001/BPTI/")
    assert event.letter_number.endswith(f"/{year}")
    with db.session() as session:
        wdm = user(session, "wdm")
        to_wdm = session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == wdm.id)).all()
        assert to_wdm and event.title in to_wdm[0].subject

    # Only Kabag. WDM reviews: not the requester, not the head of another division.
    assert "division head of WDM" in refused(db, event_id, "accept", "pemohon", "role")
    refused(db, event_id, "accept", "jds", "role")
    assert act(db, event_id, "accept", "wdm").state == "preparing"

    # The schedule is refused until the checklist is complete.
    message = refused(db, event_id, "schedule", "wdm", "guard")
    assert "agree the material" in message and "reserve a lab" in message
    assert "check the devices" in message and "running order" in message

    exam_id = _material(db)
    with db.transaction() as session:
        event = session.get(CbtEvent, event_id)
        staff = user(session, "wdm")
        events.update_checklist(session, event, staff, exam_id=exam_id, material_agreed=True,
                                devices_checked=True,
                                running_order="07.30 registrasi\n08.00 ujian\n09.30 selesai")
        lab = lab_by_code(session, "LAB-1")
        assert lab is not None
        cbt_session = events.add_session(
            session, event, staff, lab_id=lab.id,
            starts_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
            ends_at=datetime(2026, 3, 2, 2, 30, tzinfo=UTC),
            proctor_ids=[user(session, "pengawas").id], seats=3)
        assert cbt_session.reservation
        session_id = cbt_session.id
    assert "seat the candidates" in refused(db, event_id, "schedule", "wdm", "guard")
    with db.transaction() as session:
        seated = events.seat_candidates(session, session.get(CbtEvent, event_id), session_id,
                                        user(session, "wdm"))
        assert [c.seat for c in seated] == ["A1", "A2", "A3"]
    with db.session() as session:
        assert events.checklist(session, session.get(CbtEvent, event_id)) == {
            "material": True, "rooms": True, "devices": True, "running_order": True}
        cands = session.scalars(select(Candidate).where(Candidate.exam_id == exam_id)).all()
        assert {(c.lab, c.seat) for c in cands} == {("Lab Komputer 1", s)
                                                     for s in ("A1", "A2", "A3")}
        assert session.get(Exam, exam_id).event_id == event_id

    refused(db, event_id, "schedule", "pemohon", "role")
    refused(db, event_id, "schedule", "pengawas", "role")
    assert act(db, event_id, "schedule", "wdm").state == "scheduled"

    with db.session() as session:
        history = [s.action for s in events.EVENT.history(session, session.get(CbtEvent,
                                                                                  event_id))]
        assert history == ["start", "submit", "accept", "schedule"]
        actions = set(session.scalars(select(AuditEntry.action)))
        assert {"cbt_event.submit", "cbt_event.accept", "cbt_event.schedule",
                "cbt.session.scheduled", "cbt.session.seated", "cbt.event.checklist"} <= actions
        owner = user(session, "pemohon")
        told = session.scalars(select(OutboxMessage.subject).where(
            OutboxMessage.user_id == owner.id)).all()
        assert any("dijadwalkan" in s for s in told)

    # Held, then the minutes get their number.
    refused(db, event_id, "document", "wdm", "state")
    assert act(db, event_id, "hold", "wdm").state == "held"
    event = act(db, event_id, "document", "wdm")
    assert event.state == "documented" and event.minutes_number == f"BA-CBT-01/BPTI/{year}"


def test_a_returned_proposal_is_changed_and_resubmitted_keeping_its_number(db, event_id):
    first = act(db, event_id, "submit", "pemohon").letter_number
    with pytest.raises(WorkflowError, match="without a comment"):
        act(db, event_id, "return", "wdm")
    act(db, event_id, "return", "wdm", "Lengkapi jumlah peserta.")
    with db.transaction() as session:
        event = session.get(CbtEvent, event_id)
        events.update_proposal(session, event, PROPOSAL.model_copy(
            update={"expected_candidates": 40}), user(session, "pemohon"))
        with pytest.raises(events.EventError, match="only the requester"):
            events.update_proposal(session, event, PROPOSAL, user(session, "wdm"))
    again = act(db, event_id, "submit", "pemohon")
    assert again.letter_number == first and again.expected_candidates == 40
    with db.transaction() as session, pytest.raises(events.EventError, match="in preparation"):
        events.update_checklist(session, session.get(CbtEvent, event_id), user(session, "wdm"),
                                devices_checked=True)


def test_cancelling_releases_the_lab_and_unseats_candidates(db, event_id):
    act(db, event_id, "submit", "pemohon")
    act(db, event_id, "accept", "wdm")
    exam_id = _material(db)
    with db.transaction() as session:
        event = session.get(CbtEvent, event_id)
        staff = user(session, "wdm")
        events.update_checklist(session, event, staff, exam_id=exam_id)
        lab = lab_by_code(session, "LAB-2")
        assert lab is not None
        cbt_session = events.add_session(
            session, event, staff, lab_id=lab.id,
            starts_at=datetime(2026, 3, 3, 1, tzinfo=UTC),
            ends_at=datetime(2026, 3, 3, 2, tzinfo=UTC), proctor_ids=[])
        events.seat_candidates(session, event, cbt_session.id, staff)
        with pytest.raises(events.EventError, match="cannot proctor"):
            events.add_session(session, event, staff, lab_id=lab.id,
                               starts_at=datetime(2026, 3, 4, 1, tzinfo=UTC),
                               ends_at=datetime(2026, 3, 4, 2, tzinfo=UTC),
                               proctor_ids=[user(session, "pemohon").id])
    act(db, event_id, "cancel", "pemohon", "Jadwal bentrok dengan libur.")
    with db.session() as session:
        (s,) = events.sessions_of(session, session.get(CbtEvent, event_id))
        assert s.status == "cancelled" and s.reservation == ""
        cands = session.scalars(select(Candidate).where(Candidate.exam_id == exam_id)).all()
        assert all(c.session_id is None and c.seat == "" for c in cands)


def test_a_lab_that_cannot_hold_the_session_is_refused(db, event_id):
    act(db, event_id, "submit", "pemohon")
    act(db, event_id, "accept", "wdm")
    exam_id = _material(db)
    with db.transaction() as session:
        event = session.get(CbtEvent, event_id)
        staff = user(session, "wdm")
        events.update_checklist(session, event, staff, exam_id=exam_id)
        lab = lab_by_code(session, "LAB-1")
        assert lab is not None
        with pytest.raises(events.EventError, match="the lab was not reserved"):
            events.add_session(session, event, staff, lab_id=lab.id,
                               starts_at=datetime(2026, 3, 2, 1, tzinfo=UTC),
                               ends_at=datetime(2026, 3, 2, 2, tzinfo=UTC),
                               proctor_ids=[], seats=500)
        assert events.sessions_of(session, event) == []
