"""A CBT event taken through the real services up to its minutes: proposal, preparation,
a session in LAB-1 with four seated candidates, three of whom sit the exam through the
delivery services (staged papers, the proctor's start, answers in the log, a kiosk's
integrity reports, proctor actions with reasons), then held and documented.

Answers (authored choice ids; the log stores the kiosk's option numbers, mapped here):

    candidate   Q1(key a) Q2(key a) Q3(key a) TF(key true)   score (2+2+2+1 points)
    K-0001      a         a         a         true           7
    K-0002      a         b         a         false          4
    K-0003      b         b         -         true           1
    K-0004      absent
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from core.accounts.models import User
from core.rooms.service import lab_by_code
from plugins.cbt import bank as banks
from plugins.cbt import candidates as roster
from plugins.cbt import events, exams
from plugins.cbt.models import Candidate, CbtEvent, Exam
from tests.plugins.cbt import samples

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 08.00 WIB
ANSWERS = {
    "K-0001": {"Q1": "a", "Q2": "a", "Q3": "a", "TF": True},
    "K-0002": {"Q1": "a", "Q2": "b", "Q3": "a", "TF": False},
    "K-0003": {"Q1": "b", "Q2": "b", "TF": True},
}


# With ``essay=True`` a third section holds an essay (4 points, rubric of two criteria of
# 0-2 points each); K-0003 left it empty.
ESSAYS = {
    "K-0001": "Sila pertama berbunyi Ketuhanan Yang Maha Esa; artinya bangsa Indonesia "
              "percaya kepada Tuhan dan saling menghormati antarumat beragama.",
    "K-0002": "Ketuhanan.",
}


def essay_draft():
    from plugins.cbt.content import ItemKey, RubricCriterion, RubricLevel

    draft = samples.essay()
    return draft.model_copy(update={"points": 4, "key": ItemKey(
        rubric="<p>Jawaban lengkap menyebut bunyi sila dan maknanya.</p>",
        criteria=[
            RubricCriterion(id="isi", title="Isi", levels=[
                RubricLevel(label="Tidak menjawab", points=0),
                RubricLevel(label="Menyebut bunyi sila", points=1),
                RubricLevel(label="Bunyi dan makna", points=2)]),
            RubricCriterion(id="bahasa", title="Bahasa", levels=[
                RubricLevel(label="Tidak jelas", points=0),
                RubricLevel(label="Cukup", points=1),
                RubricLevel(label="Runtut dan baku", points=2)])])})


@dataclass
class Held:
    event_id: int
    exam_id: int
    session_id: int
    attempts: dict[str, int]


def user(session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def act(db, event_id: int, action: str, username: str) -> None:
    with db.transaction() as session:
        events.EVENT.apply(session, session.get(CbtEvent, event_id), action,
                           user(session, username), "")


def build(db, *, document: bool = True, essay: bool = False) -> Held:
    from plugins.cbt.delivery import attempts as delivery
    from plugins.cbt.delivery.models import Answer, DeliveryAttempt, IntegrityEvent
    from plugins.cbt.delivery.paper import display_order
    from plugins.cbt.delivery.signin import stage_attempt

    with db.transaction() as session:
        event = events.propose(session, events.Proposal(
            title="UTS Kalkulus Prodi Informatika", unit="Prodi Informatika",
            starts_on=date(2026, 3, 2), ends_on=date(2026, 3, 2), expected_candidates=4),
            user(session, "pemohon"))
        event_id = event.id
    act(db, event_id, "submit", "pemohon")
    act(db, event_id, "accept", "wdm")
    with db.transaction() as session:
        bank = banks.create_bank(session, "Kalkulus laporan")
        exam = exams.create_exam(session, exams.ExamSettings(
            code="UTS-LAP", title="UTS Kalkulus I", pass_mark=50))
        section = exams.add_section(session, exam, "Pilihan ganda")
        for stem in ("Q1", "Q2", "Q3"):
            exams.add_fixed(session, exam, section,
                            banks.create_item(session, bank, samples.single(stem=stem)))
        exams.add_fixed(session, exam, exams.add_section(session, exam, "Benar salah"),
                        banks.create_item(session, bank, samples.truefalse()))
        if essay:
            exams.add_fixed(session, exam, exams.add_section(session, exam, "Esai"),
                            banks.create_item(session, bank, essay_draft()))
        exams.publish(session, exam)
        roster.add_candidates(session, exam, roster.Roster(rows=[
            (i + 2, roster.RosterRow(student_number=f"2301000{i + 1}", name=name,
                                     class_name="IF-2A", programme="Informatika"))
            for i, name in enumerate(["Siti Nurhaliza", "عبد الله بن عمر", "Budi Santoso",
                                      "Andi Pratama"])]))
        # Participant numbers K-0001.. in roster order make the table above readable.
        for i, cand in enumerate(session.scalars(select(Candidate).where(
                Candidate.exam_id == exam.id).order_by(Candidate.id)), start=1):
            cand.participant_number = f"K-{i:04d}"
        exam_id = exam.id
        staff = user(session, "wdm")
        event = session.get(CbtEvent, event_id)
        events.update_checklist(session, event, staff, exam_id=exam_id, material_agreed=True,
                                devices_checked=True, running_order="08.00 ujian")
        lab = lab_by_code(session, "LAB-1")
        assert lab is not None
        cbt_session = events.add_session(
            session, event, staff, lab_id=lab.id, starts_at=START,
            ends_at=START + timedelta(minutes=90), proctor_ids=[user(session, "pengawas").id],
            seats=4)
        session_id = cbt_session.id
        events.seat_candidates(session, event, session_id, staff)
    act(db, event_id, "schedule", "wdm")

    secret = delivery.login_hash("kiosk-secret")
    attempt_ids: dict[str, int] = {}
    with db.transaction() as session:
        exam = session.get(Exam, exam_id)
        from plugins.cbt.models import CbtSession

        cbt_session = session.get(CbtSession, session_id)
        for number in ANSWERS:
            cand = session.scalar(select(Candidate).where(
                Candidate.participant_number == number))
            attempt, d = stage_attempt(session, exam, cand, cbt_session)
            d.login_hash, d.signed_in_at = secret, START - timedelta(minutes=5)
            attempt_ids[number] = attempt.id
        delivery.start_session(session, cbt_session, user(session, "pengawas"), now=START)

    with db.transaction() as session:
        from plugins.cbt.bank import open_version
        from plugins.cbt.models import Attempt, ItemVersion

        for number, answers in ANSWERS.items():
            if essay and number in ESSAYS:
                answers = {**answers, "ESSAY": ESSAYS[number]}
            attempt = session.get(Attempt, attempt_ids[number])
            seq = 0
            for ai in attempt.items:
                version = session.get(ItemVersion, ai.item_version_id)
                content, _key = open_version(session, version)
                tag = ("TF" if version.type == "truefalse" else "ESSAY"
                       if version.type == "essay"
                       else re.sub(r"<[^>]+>", "", content.stem).strip())
                if tag not in answers:
                    continue
                wanted = answers[tag]
                if version.type in ("truefalse", "essay"):
                    value = wanted
                else:
                    order, _p, _a = display_order(content, ai.option_order or {})
                    value = order.index(str(wanted))
                seq += 1
                # The log's times: 30 s per change after the start.
                session.add(Answer(attempt_id=attempt.id, seq=seq, position=ai.position,
                                   value=value, at=START + timedelta(seconds=30 * seq)))
        session.add(IntegrityEvent(attempt_id=attempt_ids["K-0002"], kind="focus_lost",
                                   count=2, at=START + timedelta(minutes=31)))
        session.add(IntegrityEvent(attempt_id=attempt_ids["K-0002"], kind="focus_lost",
                                   count=1, at=START + timedelta(minutes=40)))
        proctor = user(session, "pengawas")
        delivery.reset_login(session, attempt_ids["K-0003"], proctor,
                             reason="PC-A3 mati, pindah ke PC cadangan")
        delivery.extend(session, attempt_ids["K-0003"], 600, proctor,
                        reason="mengganti waktu yang hilang karena PC mati")
    with db.transaction() as session:
        d = session.get(DeliveryAttempt, attempt_ids["K-0003"])
        d.login_hash = secret  # signed in again on the spare PC
    delivery.submit(db, attempt_ids["K-0001"], secret, now=START + timedelta(minutes=70))
    delivery.submit(db, attempt_ids["K-0002"], secret, now=START + timedelta(minutes=80))
    with db.transaction() as session:
        delivery.force_submit(session, attempt_ids["K-0003"], user(session, "pengawas"),
                              reason="waktu tambahan habis",
                              now=START + timedelta(minutes=95))
    act(db, event_id, "hold", "wdm")
    if document:
        act(db, event_id, "document", "wdm")
    return Held(event_id, exam_id, session_id, attempt_ids)
