"""``ruang cbt export-results``: the file it writes reads back with openpyxl (or as CSV)
with a row per candidate; unknown exams, unwritable paths and bad options fail clearly."""

from __future__ import annotations

import csv
import io
import os

import pytest

pytest.importorskip("plugins.cbt.delivery.signin")

from openpyxl import load_workbook

from tests.plugins.cbt.reports import held


@pytest.fixture
def event(db) -> held.Held:
    return held.build(db, document=False)


def test_xlsx_and_csv(ruang_cli, event, tmp_path):
    out = tmp_path / "hasil.xlsx"
    result = ruang_cli("cbt", "export-results", "uts-lap", "--format", "xlsx", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "4 result(s) of UTS-LAP" in result.output
    sheet = load_workbook(out)["Hasil"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:9] == ("No. Peserta", "NIM", "Nama", "Kelas", "Program Studi", "Nilai",
                           "Nilai Maksimal", "Persen", "Keterangan")
    by_number = {r[0]: r for r in rows[1:]}
    assert list(by_number) == ["K-0001", "K-0002", "K-0003", "K-0004"]
    assert by_number["K-0001"][5] == 7 and by_number["K-0001"][8] == "Lulus"
    assert by_number["K-0003"][5] == 1 and by_number["K-0003"][8] == "Tidak lulus"
    assert by_number["K-0004"][8] == "Tidak hadir"
    assert by_number["K-0002"][2] == "عبد الله بن عمر"

    out_csv = tmp_path / "hasil.csv"
    result = ruang_cli("cbt", "export-results", "UTS-LAP", "--format", "csv", "--out",
                       str(out_csv))
    assert result.exit_code == 0
    table = list(csv.reader(io.StringIO(out_csv.read_text(encoding="utf-8-sig"))))
    assert [r[0] for r in table[1:]] == ["K-0001", "K-0002", "K-0003", "K-0004"]


def test_essays_waiting_are_reported(db, ruang_cli, tmp_path):
    held.build(db, document=False, essay=True)
    out = tmp_path / "hasil.xlsx"
    result = ruang_cli("cbt", "export-results", "UTS-LAP", "--format", "xlsx", "--out", str(out))
    assert result.exit_code == 0 and "3 wait for essay marking" in result.output
    rows = list(load_workbook(out)["Hasil"].iter_rows(values_only=True))
    assert rows[1][5] is None and rows[1][8] == "Menunggu penilaian esai"


def test_bad_input(ruang_cli, event, tmp_path):
    out = tmp_path / "x.xlsx"
    result = ruang_cli("cbt", "export-results", "NOPE", "--format", "xlsx", "--out", str(out))
    assert result.exit_code == 1 and "no exam with code 'NOPE'" in result.output
    assert not out.exists()
    result = ruang_cli("cbt", "export-results", "UTS-LAP", "--format", "xlsx", "--out",
                       str(tmp_path / "missing" / "x.xlsx"))
    assert result.exit_code == 1 and "does not exist" in result.output
    result = ruang_cli("cbt", "export-results", "UTS-LAP", "--format", "pdf", "--out", str(out))
    assert result.exit_code == 2 and "'pdf' is not one of" in result.output
    result = ruang_cli("cbt", "export-results", "UTS-LAP", "--format", "csv")
    assert result.exit_code == 2 and "--out" in result.output
    # A file where a folder should be: the write fails, clearly, and nothing is left.
    (tmp_path / "plain").write_text("x")
    result = ruang_cli("cbt", "export-results", "UTS-LAP", "--format", "csv", "--out",
                       str(tmp_path / "plain" / "x.csv"))
    assert result.exit_code == 1 and "cannot write" in result.output
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # root may write anywhere
            result = ruang_cli("cbt", "export-results", "UTS-LAP", "--format", "csv", "--out",
                               str(locked / "x.csv"))
            assert result.exit_code == 1 and "permission denied" in result.output
    finally:
        locked.chmod(0o700)
