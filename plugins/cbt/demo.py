"""CBT demo for ``ruang cbt demo``: a question bank, a published exam and a scheduled
session running now in LAB-1, so someone trying Ruang sees the exam list, the proctor's
seat map and a kiosk sign-in without authoring anything first.

Built through the plugin's own services, as staff would. It is a command of its own, not
part of ``ruang demo``, because it is about today: a session running now, in a lab that is
then booked. The exam code ``DEMO-TIK`` marks the demo: when it exists nothing is added
again, and the sign-in details are printed once more.
"""

from __future__ import annotations

from datetime import timedelta

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.db import utcnow
from core.rooms.service import lab_by_code
from plugins.cbt import bank as banks
from plugins.cbt import candidates as roster
from plugins.cbt import events, exams
from plugins.cbt.content import (
    Accepted,
    Choice,
    ItemContent,
    ItemDraft,
    ItemKey,
    NumericAnswer,
)
from plugins.cbt.models import Candidate, Exam

EXAM_CODE = "DEMO-TIK"
LAB_CODE = "LAB-1"

# (student number, name, one-time password). The passwords are fixed, not random, so the
# demo's output and a tester's notes stay valid; they use the alphabet real passwords use
# (capitals and digits without look-alikes), because sign-in upper-cases what is typed.
DEMO_CANDIDATES: list[tuple[str, str, str]] = [
    ("2400000001", "Siti Nurhaliza", "DEMO2345"),
    ("2400000002", "Budi Santoso", "DEMO3456"),
    ("2400000003", "Andi Pratama", "DEMO4567"),
    ("2400000004", "Dewi Lestari", "DEMO5678"),
]


def _single(stem: str, right: str, wrong: list[str]) -> ItemDraft:
    return ItemDraft(type="single", category="Literasi TIK", points=2, content=ItemContent(
        stem=stem, choices=[Choice(id="a", html=right),
                            *(Choice(id=chr(ord("b") + i), html=w) for i, w in enumerate(wrong))]),
        key=ItemKey(weights={"a": 1.0}))


def drafts() -> list[ItemDraft]:
    """Eight items of six types, in Indonesian."""
    return [
        _single("Perangkat keras yang berfungsi sebagai otak komputer adalah?",
                "CPU", ["Monitor", "Keyboard", "Printer"]),
        _single("Satuan kapasitas penyimpanan terbesar di antara pilihan berikut adalah?",
                "Terabyte", ["Gigabyte", "Megabyte", "Kilobyte"]),
        _single("Protokol yang mengamankan situs web dengan enkripsi adalah?",
                "HTTPS", ["HTTP", "FTP", "SMTP"]),
        ItemDraft(type="multiple", category="Literasi TIK", points=2, content=ItemContent(
            stem="Pilih semua yang termasuk perangkat masukan (input).", choices=[
                Choice(id="a", html="Keyboard"), Choice(id="b", html="Mouse"),
                Choice(id="c", html="Monitor"), Choice(id="d", html="Speaker")]),
            key=ItemKey(weights={"a": 0.5, "b": 0.5, "c": -0.5, "d": -0.5})),
        ItemDraft(type="truefalse", category="Literasi TIK", content=ItemContent(
            stem="Kata sandi yang kuat sebaiknya dibagikan kepada teman dekat."),
            key=ItemKey(truth=False)),
        ItemDraft(type="short", category="Literasi TIK", content=ItemContent(
            stem="Singkatan dari perangkat lunak pengolah angka buatan Microsoft adalah "
                 "Microsoft ...?"),
            key=ItemKey(accepted=[Accepted(text="Excel"), Accepted(text="MS Excel")])),
        ItemDraft(type="numeric", category="Literasi TIK", content=ItemContent(
            stem="Berapa bit dalam satu byte?"),
            key=ItemKey(numbers=[NumericAnswer(value=8)])),
        ItemDraft(type="essay", category="Literasi TIK", points=4, content=ItemContent(
            stem="Jelaskan dua cara melindungi akun surel kampus dari peretasan.",
            max_words=150),
            key=ItemKey(rubric="<p>Menyebut dua cara yang tepat (mis. kata sandi kuat, "
                               "verifikasi dua langkah, waspada phishing) dengan alasannya.</p>")),
    ]


def _user(session: Session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    if found is None:
        raise RuntimeError(f"demo user {username!r} is missing; the core demo runs first")
    return found


def ensure_demo(session: Session) -> None:
    """Add the CBT demo inside ``session`` unless the ``DEMO-TIK`` exam already exists."""
    if session.scalar(select(Exam.id).where(Exam.code == EXAM_CODE)) is None:
        _build(session)
    click.echo(f"CBT demo: exam {EXAM_CODE} in {LAB_CODE}, proctor pengawas "
               "(/cbt/exam-rooms); kiosk sign-in (participant number / password):")
    numbers = {c.student_number: c.participant_number for c in session.scalars(
        select(Candidate).join(Exam, Exam.id == Candidate.exam_id)
        .where(Exam.code == EXAM_CODE))}
    for student, name, password in DEMO_CANDIDATES:
        click.echo(f"  {name:<28} {numbers.get(student, '?')} / {password}")


def _build(session: Session) -> None:
    now = utcnow()
    requester, staff = _user(session, "pemohon"), _user(session, "wdm")
    proctor = _user(session, "pengawas")
    lab = lab_by_code(session, LAB_CODE)
    if lab is None:
        raise RuntimeError(f"demo lab {LAB_CODE} is missing; the core demo runs first")
    starts, ends = now - timedelta(minutes=10), now + timedelta(hours=3)
    event = events.propose(session, events.Proposal(
        title="Ujian Literasi TIK (demo)", unit="Prodi Informatika",
        purpose="Contoh ujian CBT untuk mencoba Ruang.", starts_on=starts.date(),
        ends_on=ends.date(),
        expected_candidates=len(DEMO_CANDIDATES)), requester)
    events.EVENT.apply(session, event, "submit", requester, "")
    events.EVENT.apply(session, event, "accept", staff, "")

    bank = banks.create_bank(session, "Literasi TIK (demo)")
    exam = exams.create_exam(session, exams.ExamSettings(
        code=EXAM_CODE, title="Ujian Literasi TIK (demo)", duration_min=30, pass_mark=60,
        instructions="<p>Kerjakan semua soal dengan jujur. Waktu 30 menit.</p>"))
    items = [banks.create_item(session, bank, d) for d in drafts()]
    sections = {"Pilihan ganda": items[:4], "Benar salah dan isian": items[4:7],
                "Esai": items[7:]}
    for title, chosen in sections.items():
        section = exams.add_section(session, exam, title)
        for item in chosen:
            exams.add_fixed(session, exam, section, item)
    exams.publish(session, exam)

    added = roster.add_candidates(session, exam, roster.Roster(rows=[
        (line, roster.RosterRow(student_number=student, name=name, class_name="TIK-1A",
                                programme="Informatika"))
        for line, (student, name, _pw) in enumerate(DEMO_CANDIDATES, start=2)]), staff)
    for cand, (_student, _name, password) in zip(added, DEMO_CANDIDATES, strict=True):
        roster.set_password(cand, password)

    events.update_checklist(session, event, staff, exam_id=exam.id, material_agreed=True,
                            devices_checked=True, running_order="Ujian Literasi TIK 30 menit")
    cbt_session = events.add_session(
        session, event, staff, lab_id=lab.id, starts_at=starts, ends_at=ends,
        proctor_ids=[proctor.id],
        seats=len(DEMO_CANDIDATES))
    events.seat_candidates(session, event, cbt_session.id, staff)
    events.EVENT.apply(session, event, "schedule", staff, "")
