"""Demo data for ``ruang demo``: a vendor, a published programme with three fields taking
registrations now, and a proposal waiting for WR II. Running it again adds nothing."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.rooms import service as rooms
from plugins.certification import participants, programmes, registrations, vendors
from plugins.certification.clock import at_local, local, now, today
from plugins.certification.errors import CertError
from plugins.certification.models import CertProgramme, CertVendor

VENDOR = "PT Mitra Kompetensi Digital (LSP)"
PUBLISHED = "Sertifikasi Kompetensi TI 2026"
PROPOSED = "Sertifikasi Cloud Practitioner"


def _user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def ensure_demo(session: Session) -> None:
    staff, wr2 = _user(session, "add"), _user(session, "wr2")
    if staff is None or wr2 is None:
        return
    vendor = session.scalar(select(CertVendor).where(CertVendor.name == VENDOR))
    if vendor is None:
        vendor = vendors.create(session, {
            "name": VENDOR, "kind": "lsp", "contact_name": "Rina Hapsari",
            "email": "kerjasama@mitrakompetensi.example", "phone": "+62 21 555 0101",
            "website": "https://mitrakompetensi.example",
            "offerings": "Uji kompetensi jaringan, basis data dan pemrograman (skema BNSP); "
                         "pelatihan persiapan dan asesor bersertifikat.",
        }, actor=staff)
    if session.scalar(select(CertProgramme.id).where(CertProgramme.title == PUBLISHED)) is None:
        _published(session, vendor, staff, wr2)
    if session.scalar(select(CertProgramme.id).where(CertProgramme.title == PROPOSED)) is None:
        _proposed(session, vendor, staff)


def _published(session: Session, vendor: CertVendor, staff: User, wr2: User) -> None:
    start_day = today() + timedelta(days=21)
    opens = now() - timedelta(days=1)
    closes = at_local(today() + timedelta(days=14), time(23, 59))
    prog = programmes.create(session, {
        "title": PUBLISHED, "vendor_id": vendor.id,
        "description": "Sertifikasi kompetensi bidang jaringan, basis data dan pemrograman "
                       "bersama LSP mitra BPTI. Peserta mengikuti pelatihan persiapan dua hari, "
                       "lalu uji kompetensi di Lab ICT.",
        "starts_on": start_day.isoformat(), "ends_on": (start_day + timedelta(days=3)).isoformat(),
        "registration_opens_at": local(opens).strftime("%Y-%m-%dT%H:%M"),  # type: ignore[union-attr]
        "registration_closes_at": local(closes).strftime("%Y-%m-%dT%H:%M"),  # type: ignore[union-attr]
        "offer_hours": 24, "min_attendance": 75, "validity_months": 36,
        "signer_name": "Kepala BPTI", "signer_title": "Kepala BPTI",
    }, actor=staff)
    for item, amount, by in (("Honor asesor LSP", 15_000_000, "university"),
                             ("Biaya uji kompetensi", 22_500_000, "participants"),
                             ("Konsumsi peserta", 4_000_000, "university")):
        programmes.add_cost(session, prog, {"item": item, "amount": amount, "funded_by": by},
                            actor=staff)
    fields = [
        {"code": "NET", "name": "Jaringan Komputer (Networking)", "quota": 30, "fee": 0,
         "audience": "all", "pass_mark": 70, "sort": 1},
        {"code": "DB", "name": "Administrasi Basis Data", "quota": 25, "fee": 350_000,
         "audience": "all", "pass_mark": 70, "sort": 2},
        {"code": "PROG", "name": "Pemrograman Web", "quota": 20, "fee": 0,
         "audience": "internal", "pass_mark": 75, "sort": 3},
    ]
    made = [programmes.add_field(session, prog, f, actor=staff) for f in fields]
    labs = [lab for lab in rooms.labs(session, include_inactive=False)]
    for n, field in enumerate(made):
        day = start_day + timedelta(days=n)
        for title, kind, hours in (("Pelatihan persiapan", "training", (8, 12)),
                                   ("Uji kompetensi", "exam", (13, 16))):
            data = {"title": title, "kind": kind,
                    "starts_at": at_local(day, time(hours[0])).isoformat(),
                    "ends_at": at_local(day, time(hours[1])).isoformat(),
                    "lab_id": labs[n % len(labs)].id if labs else None,
                    "location": "" if labs else "Gedung Rektorat lt. 3"}
            try:
                with session.begin_nested():
                    programmes.add_session(session, field, data, actor=staff)
            except CertError:
                data.update(lab_id=None, location="Aula BPTI")
                programmes.add_session(session, field, data, actor=staff)
    programmes.act(session, prog, {"action": "submit"}, actor=staff)
    programmes.act(session, prog, {"action": "approve", "comment": "Disetujui."}, actor=wr2)
    programmes.act(session, prog, {"action": "publish"}, actor=staff)
    peserta = _user(session, "peserta")
    if peserta is not None:
        p = participants.of_user(session, peserta)
        if p is not None:
            registrations.register(session, made[0].id, p, actor=peserta)


def _proposed(session: Session, vendor: CertVendor, staff: User) -> None:
    start_day = today() + timedelta(days=60)
    prog = programmes.create(session, {
        "title": PROPOSED, "vendor_id": vendor.id,
        "description": "Usulan sertifikasi dasar komputasi awan untuk staf TI fakultas.",
        "starts_on": start_day.isoformat(), "ends_on": start_day.isoformat(),
    }, actor=staff)
    programmes.add_cost(session, prog, {"item": "Voucher ujian (20 orang)", "amount": 30_000_000},
                        actor=staff)
    programmes.add_field(session, prog, {"code": "CLOUD", "name": "Cloud Practitioner",
                                         "quota": 20, "audience": "internal"}, actor=staff)
    programmes.act(session, prog, {"action": "submit"}, actor=staff)
