"""Minutes and results read from the CBT tables of an event held through the real
services (see ``held.py`` for the scenario)."""

from __future__ import annotations

import re
from io import BytesIO

import pytest

# The delivery part of the plugin (attempts, answers) is what these adapters read.
pytest.importorskip("plugins.cbt.delivery.signin")
from pypdf import PdfReader

from plugins.cbt.models import CbtEvent, Exam
from plugins.cbt.reports.minutes import minutes_pdf
from plugins.cbt.reports.source import minutes_data, result_rows
from tests.plugins.cbt.reports import held


@pytest.fixture
def event(db) -> held.Held:
    return held.build(db)


def test_minutes_from_the_tables(db, event):
    with db.session() as session:
        data = minutes_data(session, session.get(CbtEvent, event.event_id), place="Makassar")
    assert re.fullmatch(r"BA-CBT-\d+/BPTI/\d{4}", data.number)
    assert data.head_wdm.name  # the demo's Kabag. WDM
    (s,) = data.sessions
    assert [a.participant_number for a in s.present] == ["K-0001", "K-0002", "K-0003"]
    assert [a.name for a in s.absent] == ["Andi Pratama"]
    assert s.present[2].note == "login direset 1x; dikumpulkan pengawas"
    assert s.proctors and s.proctors[0].name
    # Times on the instance's clock (Asia/Jakarta): the proctor started at 08.00 WIB and
    # the last attempt ended at 09.35 WIB.
    assert f"{s.started_at:%H:%M %Z}" == "08:00 WIB"
    assert f"{s.ended_at:%H:%M}" == "09:35"
    texts = [(i.description, i.action, i.subject) for i in s.incidents]
    # The kiosk's focus reports are folded into one line per candidate.
    assert ("Jendela ujian kehilangan fokus (3x, sampai 08.40 WIB)",
            "Dicatat otomatis oleh kiosk", "عبد الله بن عمر / A2") in texts
    reset = next(t for t in texts if t[0].startswith("Login peserta direset"))
    assert "Alasan: PC-A3 mati, pindah ke PC cadangan" in reset[1]
    assert reset[2] == "Budi Santoso / A3"
    extended = next(t for t in texts if t[0] == "Waktu ujian diubah")
    assert extended[1] == ("Waktu ditambah 10 menit. Alasan: mengganti waktu yang hilang "
                           "karena PC mati")
    forced = next(t for t in texts if t[0] == "Jawaban dikumpulkan oleh pengawas")
    assert forced[1] == "Dikumpulkan paksa. Alasan: waktu tambahan habis"
    assert "Sesi dimulai oleh pengawas" in [t[0] for t in texts]
    times = [i.at for i in s.incidents if i.at is not None]
    assert times == sorted(times)  # in time order

    text = re.sub(r"\s+", " ", "\n".join(
        p.extract_text() for p in PdfReader(BytesIO(minutes_pdf(data))).pages))
    assert f"Nomor: {data.number}" in text
    assert "terdaftar 4, hadir 3, tidak hadir 1" in text
    assert "Andi Pratama" in text.split("Peserta tidak hadir", 1)[1]
    assert "PC-A3 mati, pindah ke PC cadangan" in text
    assert "Makassar, 2 Maret 2026" in text


def test_minutes_before_they_are_issued_are_a_draft(db):
    ids = held.build(db, document=False)
    with db.session() as session:
        data = minutes_data(session, session.get(CbtEvent, ids.event_id))
    assert data.number == ""
    assert "DRAF" in PdfReader(BytesIO(minutes_pdf(data))).pages[0].extract_text()


def test_results_from_the_tables(db, event):
    with db.session() as session:
        rows, sections = result_rows(session, session.get(Exam, event.exam_id))
    assert sections == ["Pilihan ganda", "Benar salah"]
    by = {r.participant_number: r for r in rows}
    # Q1-Q3 are worth 2 points, TF 1: K-0001 7, K-0002 2+0+2+0 = 4, K-0003 0+0+0+1 = 1.
    assert [(n, by[n].score, by[n].max_score) for n in ("K-0001", "K-0002", "K-0003")] == [
        ("K-0001", 7.0, 7.0), ("K-0002", 4.0, 7.0), ("K-0003", 1.0, 7.0)]
    assert by["K-0002"].sections == {"Pilihan ganda": 4.0, "Benar salah": 0.0}
    # Pass mark 50%: 4/7 = 57% passes, 1/7 does not.
    assert [by[n].verdict for n in ("K-0001", "K-0002", "K-0003", "K-0004")] == [
        "Lulus", "Lulus", "Tidak lulus", "Tidak hadir"]
    assert f"{by['K-0001'].submitted_at:%H:%M %Z}" == "09:10 WIB"


def test_minutes_carry_what_the_proctor_recorded_from_the_seat_map(db, event):
    from plugins.cbt.delivery import proctor

    with db.transaction() as session:
        pengawas = held.user(session, "pengawas")
        proctor.act(session, event.session_id, "incident", pengawas, attempt_id=None,
                    category="technical", text="Listrik padam 5 menit di baris B")
        proctor.act(session, event.session_id, "message", pengawas, attempt_id=None,
                    text="Waktu akan diganti, harap tenang")
    with db.session() as session:
        data = minutes_data(session, session.get(CbtEvent, event.event_id))
    described = [i.description for i in data.sessions[0].incidents]
    assert ("Kejadian dicatat pengawas (Teknis): Listrik padam 5 menit di baris B"
            in described)
    assert "Pesan pengawas kepada peserta: Waktu akan diganti, harap tenang" in described
    assert not [d for d in described if d.startswith("cbt.")]  # no raw action names
    text = re.sub(r"\s+", " ", "\n".join(
        p.extract_text() for p in PdfReader(BytesIO(minutes_pdf(data))).pages))
    assert "Listrik padam 5 menit di baris B" in text
