"""Demo data: two trainers, a proposal being drafted and an approved training being
prepared, with its letter number, checklist and knowledge check. Idempotent.

The workflow's steps are written directly rather than taken, so the demo queues no
e-mail to the demo accounts' addresses.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.db import utcnow
from core.records.service import issue as issue_number
from core.rooms.service import lab_by_code
from core.workflow.models import WorkflowStep
from plugins.training import clock
from plugins.training.flow import WORKFLOW_NAME
from plugins.training.models import (
    ChecklistItem,
    Question,
    Trainer,
    Training,
    TrainingTrainer,
)
from plugins.training.options import DEFAULT_CHECKLIST

TRAINERS = [
    {"name": "Dr. Rina Wulandari, M.Kom.", "organisation": "Fakultas Ilmu Komputer",
     "email": "rina.wulandari@kampus.ac.id", "expertise": "Keamanan informasi, SIAKAD",
     "external": False},
    {"name": "PT Nusantara Digital Academy", "organisation": "Mitra pelatihan TI",
     "email": "pelatihan@nusantara-digital.co.id", "phone": "021-555-0199",
     "expertise": "Pelatihan jaringan, cloud dan keamanan siber", "external": True},
]

QUESTIONS = [
    ("Apa ciri utama e-mail phishing?",
     ["Dikirim dari alamat kampus", "Meminta kata sandi atau data pribadi dengan mendesak",
      "Memiliki lampiran PDF", "Ditulis dalam bahasa Inggris"], 1),
    ("Kata sandi mana yang paling kuat?",
     ["tanggal lahir", "P@ssw0rd", "kalimat panjang yang mudah diingat dan unik",
      "nama hewan peliharaan"], 2),
    ("Apa yang dilakukan bila akun SIAKAD diduga dibobol?",
     ["Diamkan saja", "Ganti kata sandi dan laporkan ke helpdesk BPTI",
      "Buat akun baru", "Bagikan ke grup WhatsApp"], 1),
]


def _day(days_ahead: int, at: time) -> datetime:
    day = clock.today() + timedelta(days=days_ahead)
    return datetime.combine(day, at, tzinfo=clock.tz())


def _step(session: Session, training: Training, action: str, frm: str, to: str,
          user: User | None) -> None:
    session.add(WorkflowStep(workflow=WORKFLOW_NAME, object_type="training_trainings",
                             object_id=training.id, action=action, from_state=frm,
                             to_state=to, actor_id=user.id if user else None,
                             actor_name=user.display_name if user else "", comment="",
                             at=utcnow()))


def ensure_demo(session: Session) -> None:
    if session.scalar(select(Training.id).limit(1)) is not None:
        return
    users = {u.username: u for u in session.scalars(select(User))}
    wdm, kabpti = users.get("wdm"), users.get("kabpti")
    trainers = []
    for spec in TRAINERS:
        found = session.scalar(select(Trainer).where(Trainer.name == spec["name"]))
        if found is None:
            found = Trainer(**spec)
            session.add(found)
        trainers.append(found)
    session.flush()

    lab = lab_by_code(session, "LAB-1")
    ready = Training(
        title="Literasi Keamanan Siber untuk Tenaga Kependidikan", theme="Keamanan informasi",
        description="Mengenali phishing, mengelola kata sandi dan melaporkan insiden.",
        audience="staff", audience_notes="Operator prodi dan staf administrasi fakultas",
        goals="Peserta mampu mengenali phishing dan mengamankan akun layanan kampus.",
        starts_at=_day(21, time(8, 30)), ends_at=_day(21, time(15, 30)),
        venue="" if lab else "Aula BPTI", lab_id=lab.id if lab else None, capacity=30,
        budget=4_500_000, budget_notes="Konsumsi 30 orang, honor narasumber, sertifikat",
        third_party_ref=f"training:trainer:{trainers[1].id}",
        third_party_name=trainers[1].name, third_party_contact=trainers[1].email,
        third_party_status="confirmed", division="WDM", state="draft",
        registration_open=True, check_mode="quiz", created_by=wdm.id if wdm else None)
    session.add(ready)
    session.flush()
    ready.trainers = [TrainingTrainer(name=trainers[0].name, role="Narasumber",
                                      ref=f"training:trainer:{trainers[0].id}",
                                      email=trainers[0].email, position=0)]
    _step(session, ready, "start", "", "draft", wdm)
    _step(session, ready, "submit", "draft", "submitted", wdm)
    _step(session, ready, "approve", "submitted", "preparation", kabpti)
    ready.state = "preparation"
    record = issue_number(session, "DIKLAT", ref_type="training", ref_id=ready.id,
                          actor=kabpti)
    ready.letter_number, ready.letter_at = record.number, record.issued_at
    for n, label in enumerate(DEFAULT_CHECKLIST):
        ready.checklist.append(ChecklistItem(label=label, position=n, done=n < 2,
                                             done_at=utcnow() if n < 2 else None,
                                             done_by_name="Kabag. WDM" if n < 2 else ""))
    for n, (text, options, correct) in enumerate(QUESTIONS):
        session.add(Question(training_id=ready.id, position=n, text=text, options=options,
                             correct=correct))

    draft = Training(
        title="Pelatihan SIAKAD untuk Operator Program Studi", theme="Sistem informasi akademik",
        description="Pengisian jadwal, KRS dan nilai di SIAKAD.", audience="staff",
        goals="Operator prodi mampu mengelola jadwal, KRS dan nilai secara mandiri.",
        starts_at=_day(45, time(9, 0)), ends_at=_day(45, time(12, 0)), venue="",
        lab_id=lab.id if lab else None, capacity=25, budget=1_500_000, division="ADD",
        state="draft", check_mode="quiz", created_by=wdm.id if wdm else None)
    if draft.lab_id is None:
        draft.venue = "Aula BPTI"
    session.add(draft)
    session.flush()
    _step(session, draft, "start", "", "draft", wdm)
    session.flush()
