"""``ruang cbt demo`` gives a new user CBT data to look at: a published exam, a session
running now in LAB-1 for the demo proctor, and candidates who can sign in with printed
passwords."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core.db import utcnow
from plugins.cbt.demo import DEMO_CANDIDATES, EXAM_CODE
from plugins.cbt.models import Bank, Candidate, CbtSession, Exam, ExamSection, ExamSlot
from tests.plugins.cbt.delivery.conftest import enrol
from tests.plugins.cbt.delivery.test_views import KioskHttp


def test_the_demo_twice_gives_one_exam_a_live_room_and_kiosk_sign_in(app, db, login,
                                                                      ruang_cli):
    first = ruang_cli("cbt", "demo")
    again = ruang_cli("cbt", "demo")
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    out = again.output

    now = utcnow()
    with db.session() as session:
        exams = list(session.scalars(select(Exam).where(Exam.code == EXAM_CODE)))
        assert len(exams) == 1
        exam = exams[0]
        assert exam.duration_min == 30
        assert session.scalar(select(func.count()).select_from(ExamSlot).join(
            ExamSection, ExamSection.id == ExamSlot.section_id).where(
            ExamSection.exam_id == exam.id)) == 8
        assert session.scalar(select(func.count()).select_from(Bank).where(
            Bank.name == "Literasi TIK (demo)")) == 1
        rows = list(session.scalars(select(CbtSession).where(CbtSession.exam_id == exam.id)))
        assert len(rows) == 1
        live = rows[0]
        naive_now = now.replace(tzinfo=None)
        starts, ends = live.starts_at.replace(tzinfo=None), live.ends_at.replace(tzinfo=None)
        assert naive_now - timedelta(minutes=15) <= starts <= naive_now < ends
        assert live.ends_at - live.starts_at >= timedelta(hours=3)
        cands = list(session.scalars(select(Candidate).where(Candidate.exam_id == exam.id)
                                     .order_by(Candidate.participant_number)))
        assert len(cands) == 4 and all(c.seat for c in cands)
        seats = {c.participant_number: c.seat for c in cands}
        session_id = live.id

    # The proctor finds the room, and its seat map names the candidates.
    proctor = login("pengawas")
    rooms = proctor.get("/cbt/exam-rooms")
    assert rooms.status_code == 200
    assert f"/cbt/exam-rooms/{session_id}" in rooms.get_data(as_text=True)
    page = proctor.get(f"/cbt/exam-rooms/{session_id}")
    assert page.status_code == 200

    # The printed number and password sign a candidate in at a kiosk on their seat.
    name, password = DEMO_CANDIDATES[0][1], DEMO_CANDIDATES[0][2]
    number = f"{EXAM_CODE}-0001"
    assert f"{number} / {password}" in out and name in out
    kiosk = KioskHttp(app, enrol(db, seats[number]))
    assert kiosk.sign_in(number, "SALAH234").get_json()["ok"] is False
    signed = kiosk.sign_in(number, password.lower()).get_json()
    assert signed["ok"] is True, signed


def test_the_demo_names_what_it_needs_when_the_core_demo_has_not_run(ruang_cli, db):
    from core.accounts.models import User

    with db.transaction() as session:
        session.query(User).filter(User.username == "pengawas").update({"username": "p2"})
    out = ruang_cli("cbt", "demo")
    assert out.exit_code == 1
    assert "demo user 'pengawas' is missing; the core demo runs first" in out.output
    with db.session() as session:
        assert session.scalar(select(Exam.id).where(Exam.code == EXAM_CODE)) is None
