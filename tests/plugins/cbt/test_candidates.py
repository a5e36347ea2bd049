"""Rosters from XLSX and CSV, participant numbers, one-time passwords and login cards."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import Workbook
from pypdf import PdfReader

from plugins.cbt import candidates as service
from plugins.cbt import exams
from plugins.cbt.cards import login_cards


@pytest.fixture
def exam(db):
    with db.transaction() as session:
        return exams.create_exam(session, exams.ExamSettings(code="UAS-ALPRO", title="UAS Alpro"))


CSV = """NIM;Nama;Kelas;Prodi
2301001;Ahmad Fauzi;A;Informatika
2301002;  Siti   Nurhaliza ;A;Informatika
;Tanpa NIM;B;Informatika
2301003;;B;Informatika
2301001;Ahmad Lagi;B;Informatika
23 01 004;Spasi;B;Informatika
2301005;Dewi Lestari;B;Sistem Informasi
"""


def test_a_csv_roster_lists_bad_rows_and_adds_the_good_ones(db, exam):
    roster = service.parse_roster(CSV.encode(), "peserta.csv")
    assert [(p.line, p.message) for p in roster.problems] == [
        (4, "NIM is empty"),
        (5, "Nama is empty"),
        (6, "NIM 2301001 is already on row 2"),
        (7, "NIM: use letters, digits, '.', '/' or '-' only"),
    ]
    assert [r.name for _l, r in roster.rows] == ["Ahmad Fauzi", "Siti Nurhaliza", "Dewi Lestari"]
    with db.transaction() as session:
        added = service.add_candidates(session, exam, roster)
    assert [c.participant_number for c in added] == ["UAS-ALPRO-0001", "UAS-ALPRO-0002",
                                                     "UAS-ALPRO-0003"]
    with db.session() as session:
        again = service.check_against(session, exam, service.parse_roster(CSV.encode(), "x.csv"))
    assert again.rows == [] and (2, "NIM 2301001 is already on the roster of this exam") in [
        (p.line, p.message) for p in again.problems]


def test_an_xlsx_roster_with_indonesian_headers(db, exam):
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["No", "NIM", "Nama Lengkap", "Kelas", "Program Studi"])
    ws.append([1, 2301001, "Budi Santoso", "TI-1", "Teknik Informatika"])
    ws.append([2, "2301002", "Rina Wati", "TI-1", "Teknik Informatika"])
    buf = io.BytesIO()
    wb.save(buf)
    roster = service.parse_roster(buf.getvalue(), "roster.xlsx")
    assert roster.problems == []
    assert [(r.student_number, r.class_name, r.programme) for _l, r in roster.rows] == [
        ("2301001", "TI-1", "Teknik Informatika"), ("2301002", "TI-1", "Teknik Informatika")]
    bad = service.parse_roster(b"Nama,Kelas\nA,B\n", "x.csv")
    assert [(p.line, p.message) for p in bad.problems] == [
        (1, "the first row has no column NIM (expected: NIM, Nama, Kelas, Prodi)")]


def test_passwords_are_shown_once_stored_hashed_and_reissuing_voids_old_cards(db, exam):
    with db.transaction() as session:
        service.add_candidates(session, exam, service.parse_roster(CSV.encode(), "x.csv"))
        issued = service.issue_passwords(session, exam)
    cand, password = issued[0]
    assert len(password) == 8 and set(password) <= set(service.ALPHABET)
    assert password not in cand.password_hash and cand.password_hash.startswith("$argon2id$")
    with db.session() as session:
        found = service.verify(session, cand.participant_number, password)
        assert found is not None and found.id == cand.id
        assert service.verify(session, cand.participant_number.lower(), password.lower())
        assert service.verify(session, cand.participant_number, "WRONG123") is None
        assert service.verify(session, "NOPE-0001", password) is None
    with db.transaction() as session:
        fresh = service.candidates(session, exam)[0]
        ((_c, second),) = service.issue_passwords(session, exam, [fresh])
    with db.session() as session:
        assert service.verify(session, cand.participant_number, password) is None
        assert service.verify(session, cand.participant_number, second) is not None


def test_login_cards_hold_what_a_candidate_needs(db, exam):
    with db.transaction() as session:
        service.add_candidates(session, exam, service.parse_roster(CSV.encode(), "x.csv"))
        cands = service.candidates(session, exam)
        cands[0].lab, cands[0].seat = "Lab Komputer 1", "A-07"
        issued = service.issue_passwords(session, exam)
    pdf = login_cards(exam, issued)
    reader = PdfReader(io.BytesIO(pdf))
    text = reader.pages[0].extract_text()
    for cand, password in issued:
        assert cand.participant_number in text and password in text and cand.name in text
    assert "UAS Alpro" in text and "Lab Komputer 1 / A-07" in text
    assert "Teknik" not in text and "Informatika" in text


def test_cli_imports_a_roster_and_prints_cards_once(ruang_cli, db, exam, tmp_path):
    roster_file = tmp_path / "peserta.csv"
    roster_file.write_text(CSV)
    out = ruang_cli("cbt", "candidates", "import", str(roster_file), "--exam", "uas-alpro",
                    "--json")
    assert out.exit_code == 1
    result = json.loads(out.stdout)
    assert result["imported"] == 3 and [e["line"] for e in result["errors"]] == [4, 5, 6, 7]
    cards = tmp_path / "kartu.pdf"
    out = ruang_cli("cbt", "cards", "--exam", "UAS-ALPRO", "-o", str(cards))
    assert out.exit_code == 0, out.output
    assert "3 login card(s)" in out.output and "issuing passwords" in out.stderr
    text = PdfReader(io.BytesIO(cards.read_bytes())).pages[0].extract_text()
    assert "UAS-ALPRO-0003" in text
    out = ruang_cli("cbt", "cards", "--exam", "UAS-ALPRO", "-o", str(cards))
    assert out.exit_code != 0 and "already has a password" in out.output
    assert "UAS-ALPRO" in ruang_cli("cbt", "exams").output
