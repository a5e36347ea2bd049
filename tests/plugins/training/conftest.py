"""Fixtures of the training plugin's tests: apps that mail a real SMTP server, dates far
enough ahead that demo bookings never get in the way, and short-cuts to build trainings
through the plugin's own services."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import select

from core.config import Settings

JAKARTA = ZoneInfo("Asia/Jakarta")
MAIL_DOMAIN = "kampus.example.ac.id"


@pytest.fixture
def settings(mail_settings: Settings) -> Settings:
    return mail_settings


@pytest.fixture(autouse=True)
def deliverable_demo_addresses(request: pytest.FixtureRequest) -> None:
    """Give the demo accounts addresses the real SMTP server of the test accepts."""
    if "app" not in request.fixturenames:
        return
    from sqlalchemy import update

    from core.accounts.models import User

    db = request.getfixturevalue("db")
    with db.transaction() as session:
        for who in session.scalars(select(User)).all():
            session.execute(update(User).where(User.id == who.id).values(
                email=f"{who.username}@{MAIL_DOMAIN}"))


def mail_of(username: str) -> str:
    return f"{username}@{MAIL_DOMAIN}"


def day_ahead(weeks: int = 70, weekday: int = 1) -> date:
    """A day about ``weeks`` weeks from now: clear of the demo data's bookings."""
    start = date.today() + timedelta(weeks=weeks)
    return start - timedelta(days=start.weekday()) + timedelta(days=weekday)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=JAKARTA)


def proposal(**overrides: Any) -> dict[str, Any]:
    """A complete proposal form (what the page posts)."""
    day = overrides.pop("day", day_ahead())
    data: dict[str, Any] = {
        "title": "Pengelolaan Konten Website Fakultas",
        "theme": "Website dan multimedia",
        "description": "Mengelola berita, agenda dan galeri di CMS kampus.",
        "audience": "mixed",
        "audience_notes": "Admin website fakultas dan mahasiswa magang",
        "goals": "Peserta mampu menerbitkan konten website fakultas secara mandiri.",
        "starts_at": f"{day.isoformat()}T08:00",
        "ends_at": f"{day.isoformat()}T12:00",
        "venue": "Lantai 2",
        "lab_id": "",
        "capacity": "20",
        "budget": "Rp 2.500.000",
        "budget_notes": "Konsumsi dan sertifikat",
        "third_party_ref": "",
        "trainer_lines": "Siti Aminah; Narasumber; siti@kampus.example.ac.id",
        "check_mode": "quiz",
    }
    data.update(overrides)
    return data


def user(db: Any, username: str) -> Any:
    from core.accounts.models import User

    with db.session() as session:
        found = session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def lab_id(db: Any, code: str = "LAB-1") -> int:
    from core.rooms import service as rooms

    with db.session() as session:
        found = rooms.lab_by_code(session, code)
    assert found is not None
    return int(found.id)


QUESTIONS = [
    ("Apa fungsi CMS?", ["Mengelola konten", "Mengelola jaringan", "Mencetak"], 1),
    ("Format gambar untuk web?", ["WEBP", "EXE", "ISO"], 1),
    ("Siapa yang menerbitkan berita?", ["Admin fakultas", "Mahasiswa acak", "Tidak ada"], 1),
    ("Di mana galeri diunggah?", ["Menu galeri", "Menu jaringan", "BIOS"], 1),
]


def build(db: Any, *, state: str = "held", capacity: int = 20, check_mode: str = "quiz",
          questions: bool = True, people: int = 0, lab: bool = False,
          **overrides: Any) -> int:
    """A training moved through the workflow by its real services up to ``state``, with
    ``people`` registered participants; returns its id."""
    from plugins.training import participants, quiz, service

    wdm, kabpti = user(db, "wdm"), user(db, "kabpti")
    data = proposal(capacity=str(capacity), check_mode=check_mode, **overrides)
    if lab:
        data["lab_id"] = str(lab_id(db))
    with db.transaction() as s:
        tr = service.create(s, data, wdm)
        if questions and check_mode == "quiz":
            for text, options, correct in QUESTIONS:
                quiz.add_question(s, tr, {"text": text, "options": options,
                                          "correct": correct}, wdm)
        tid = tr.id
    steps = {"draft": [], "submitted": ["submit"], "preparation": ["submit", "approve"],
             "held": ["submit", "approve", "begin"]}[state]
    for action in steps:
        with db.transaction() as s:
            tr = service.get(s, tid)
            if action == "begin":
                for n in range(people):
                    participants.register(s, tr, {"name": f"Peserta {n + 1:02d}",
                                                  "email": f"p{n + 1}@{MAIL_DOMAIN}",
                                                  "kind": "student" if n % 2 else "staff",
                                                  "identifier": f"NIM{n + 1:04d}"}, wdm)
            actor = kabpti if action == "approve" else wdm
            service.act(s, tr, action, actor)
    if state != "held" and people:
        with db.transaction() as s:
            tr = service.get(s, tid)
            for n in range(people):
                participants.register(s, tr, {"name": f"Peserta {n + 1:02d}",
                                              "email": f"p{n + 1}@{MAIL_DOMAIN}"}, wdm)
    return int(tid)


def deliver() -> int:
    from core.notify.service import deliver_due

    return deliver_due(limit=500)


def png_bytes(size: tuple[int, int] = (32, 24), color: tuple[int, int, int] = (20, 120, 60)
              ) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    assert data.startswith(b"%PDF-"), "not a PDF"
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def token_of(db: Any, email: str, training_id: int) -> str:
    """The participant's personal link token, as their e-mail carries it."""
    from plugins.training.models import Participant
    from plugins.training.tokens import page_token

    with db.session() as session:
        p = session.scalar(select(Participant).where(Participant.training_id == training_id,
                                                     Participant.email == email))
    assert p is not None, f"{email} is not a participant"
    return page_token(p.id, training_id)
