"""An exam ready for kiosks, built through the project's own services as staff would.

``exam_room(db)`` makes: a bank whose items carry secrets in their answer keys (markers
that must never reach a kiosk), a published exam of every item type, candidates with
one-time passwords, a CBT event taken through its workflow to a scheduled session in
LAB-1 that started a few minutes ago, the candidates seated from A1 on. ``enrol(db,
seat)`` enrols a kiosk at a seat of LAB-1 and returns its token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.accounts.models import User
from core.db import utcnow
from core.rooms import kiosks
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
    MatchAnswer,
    MatchPrompt,
    NumericAnswer,
)
from plugins.cbt.delivery import tokens
from plugins.cbt.models import CbtEvent

# Text that exists only in answer keys: finding it anywhere a kiosk can see is a leak.
SECRETS = ("KUNCIJAWABANRAHASIA", "UMPANBALIKRAHASIA", "RUBRIKRAHASIA", "PEMBAHASANRAHASIA",
           "314159")


def drafts() -> list[ItemDraft]:
    """One item of each type; the correct option is always authored first ("a")."""
    return [
        ItemDraft(type="single", category="Umum", points=2, content=ItemContent(
            stem="Nilai \\(2^{10}\\) adalah?", choices=[
                Choice(id="a", html="1024"), Choice(id="b", html="512"),
                Choice(id="c", html="2048"), Choice(id="d", html="100")]),
            key=ItemKey(weights={"a": 1.0}, feedback={"a": "UMPANBALIKRAHASIA"},
                        general_feedback="PEMBAHASANRAHASIA")),
        ItemDraft(type="multiple", category="Umum", content=ItemContent(
            stem="Pilih bilangan prima.", choices=[
                Choice(id="a", html="2"), Choice(id="b", html="3"), Choice(id="c", html="4"),
                Choice(id="d", html="9")]),
            key=ItemKey(weights={"a": 0.5, "b": 0.5, "c": -0.5, "d": -0.5})),
        ItemDraft(type="truefalse", category="Umum",
                  content=ItemContent(stem="Matahari terbit di timur."),
                  key=ItemKey(truth=True)),
        ItemDraft(type="short", category="Umum",
                  content=ItemContent(stem="Tulis kata sandi ujian ini."),
                  key=ItemKey(accepted=[Accepted(text="KUNCIJAWABANRAHASIA")])),
        ItemDraft(type="numeric", category="Umum",
                  content=ItemContent(stem="Tulis enam angka pertama \\(\\pi\\) tanpa koma."),
                  key=ItemKey(numbers=[NumericAnswer(value=314159)])),
        ItemDraft(type="matching", category="Umum", content=ItemContent(
            stem="Pasangkan negara dan ibu kotanya.",
            prompts=[MatchPrompt(id="p1", html="Indonesia"), MatchPrompt(id="p2", html="Jepang")],
            answers=[MatchAnswer(id="a1", html="Jakarta"), MatchAnswer(id="a2", html="Tokyo"),
                     MatchAnswer(id="a3", html="Roma")]),
            key=ItemKey(pairs={"p1": "a1", "p2": "a2"})),
        ItemDraft(type="essay", category="Umum",
                  content=ItemContent(stem="Jelaskan sila pertama Pancasila.", max_words=100),
                  key=ItemKey(rubric="RUBRIKRAHASIA")),
    ]


@dataclass
class Room:
    exam_id: int
    event_id: int
    session_id: int
    lab_id: int
    passwords: dict[str, str]  # participant number -> password
    seats: dict[str, str]  # participant number -> seat label
    numbers: list[str] = field(default_factory=list)


def user(session: Any, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def _act(db: Any, event_id: int, action: str, username: str) -> None:
    with db.transaction() as session:
        events.EVENT.apply(session, session.get(CbtEvent, event_id), action,
                           user(session, username), "")


def exam_room(db: Any, candidates: int = 3, *, duration_min: int = 30,
              started_ago: timedelta = timedelta(minutes=5), code: str = "UJI-KIOSK",
              items: list[ItemDraft] | None = None) -> Room:
    today = date.today()
    with db.transaction() as session:
        event_id = events.propose(session, events.Proposal(
            title="Ujian kiosk", unit="Prodi Informatika", starts_on=today, ends_on=today,
            expected_candidates=candidates), user(session, "pemohon")).id
    _act(db, event_id, "submit", "pemohon")
    _act(db, event_id, "accept", "wdm")
    with db.transaction() as session:
        bank = banks.create_bank(session, f"Bank {code}")
        exam = exams.create_exam(session, exams.ExamSettings(
            code=code, title="Ujian Kiosk Informatika", duration_min=duration_min,
            instructions="<p>Kerjakan dengan jujur.</p>"))
        section = exams.add_section(session, exam, "Bagian 1")
        for draft in items if items is not None else drafts():
            exams.add_fixed(session, exam, section, banks.create_item(session, bank, draft))
        exams.publish(session, exam)
        added = roster.add_candidates(session, exam, roster.Roster(rows=[
            (i + 2, roster.RosterRow(student_number=f"2401{i:04d}", name=f"Peserta {i + 1}"))
            for i in range(candidates)]))
        issued = roster.issue_passwords(session, exam, added)
        passwords = {c.participant_number: pw for c, pw in issued}
        exam_id = exam.id
        staff = user(session, "wdm")
        event = session.get(CbtEvent, event_id)
        events.update_checklist(session, event, staff, exam_id=exam_id, material_agreed=True,
                                devices_checked=True, running_order="ujian")
        lab = lab_by_code(session, "LAB-1")
        assert lab is not None
        start = utcnow() - started_ago
        cbt_session = events.add_session(
            session, event, staff, lab_id=lab.id, starts_at=start,
            ends_at=start + timedelta(hours=3), proctor_ids=[user(session, "pengawas").id],
            seats=candidates)
        session_id = cbt_session.id
        seated = events.seat_candidates(session, event, session_id, staff)
        seats = {c.participant_number: c.seat for c in seated}
        lab_id = lab.id
    _act(db, event_id, "schedule", "wdm")
    return Room(exam_id, event_id, session_id, lab_id, passwords, seats,
                sorted(passwords))


def enrol(db: Any, seat: str, lab_code: str = "LAB-1") -> str:
    """Enrol a kiosk at ``seat`` (as the kiosk page does) and return its token."""
    with db.transaction() as session:
        lab = lab_by_code(session, lab_code)
        assert lab is not None
        code = kiosks.new_code(session, lab).code
        return kiosks.enrol(session, code, seat_label=seat).token


def csrf_of(html: str) -> str:
    m = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert m, "the exam page has no CSRF token"
    return m.group(1)


@pytest.fixture
def room(db: Any) -> Room:
    return exam_room(db)


def started_at(db: Any, attempt_id: int) -> datetime | None:
    from plugins.cbt.delivery.models import DeliveryAttempt

    with db.session() as session:
        d = session.get(DeliveryAttempt, attempt_id)
        return d.started_at if d else None


def enrolled_kiosk(browser: Any, base_url: str, token: str, *scripts: str) -> Any:
    """A browser context that is an enrolled lab PC (cookie and stored token)."""
    context = browser.new_context(locale="id-ID")
    context.set_default_timeout(20_000)
    context.add_cookies([{"name": "ruang_kiosk", "value": token, "url": base_url}])
    context.add_init_script(f"localStorage.setItem('ruang.kiosk.token', {token!r});")
    for script in scripts:
        context.add_init_script(script)
    return context


def sign_in_and_type_token(page: Any, db: Any, room: Room, number: str) -> None:
    """Sign the candidate in on the exam page and submit the session's current token."""
    page.wait_for_selector("#screen-signin:not([hidden])")
    page.fill("#signin-number", number)
    page.fill("#signin-password", room.passwords[number])
    page.click("#signin-submit")
    page.wait_for_selector("#screen-waiting:not([hidden])")
    session_token, _ = tokens.current(db, room.session_id)
    page.fill("#token-input", session_token)
    page.click("#token-submit")
