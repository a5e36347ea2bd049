"""Results exports (CSV, XLSX) and the result slip PDF, from plain rows."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from pypdf import PdfReader

from plugins.cbt.reports.results import ResultRow, headers, to_csv, to_xlsx
from plugins.cbt.reports.slip import SlipData, result_slip, verification_code

WIB = ZoneInfo("Asia/Jakarta")
SECTIONS = ("Pilihan ganda", "Esai")
ROWS = [
    ResultRow("UTS-0001", "Siti Nurhaliza", "IF-2A", "Informatika", "23010001", 82.5, 100,
              True, {"Pilihan ganda": 62.5, "Esai": 20.0},
              datetime(2026, 3, 2, 9, 48, 5, tzinfo=WIB)),
    ResultRow("UTS-0002", "عبد الله بن عمر", "IF-2A", "Informatika", "23010002", 41.0, 100,
              False, {"Pilihan ganda": 41.0, "Esai": 0.0},
              datetime(2026, 3, 2, 10, 0, tzinfo=WIB)),
    ResultRow("UTS-0003", "=HYPERLINK(\"http://x\",\"klik\")", "IF-2B", "Informatika",
              "23010003", 50.0, 100, None, {"Pilihan ganda": 50.0, "Esai": None},
              datetime(2026, 3, 2, 9, 30, tzinfo=WIB)),
    ResultRow("UTS-0004", "Andi Pratama", "IF-2B", "Informatika", "23010004", absent=True,
              max_score=100),
]


def test_csv_has_the_columns_and_values_staff_expect():
    data = to_csv(ROWS)
    assert data.startswith("\ufeff".encode())  # spreadsheet programs then read UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["No. Peserta", "NIM", "Nama", "Kelas", "Program Studi", "Nilai",
                       "Nilai Maksimal", "Persen", "Keterangan", "Pilihan ganda", "Esai",
                       "Waktu Kumpul"]
    assert rows[1] == ["UTS-0001", "23010001", "Siti Nurhaliza", "IF-2A", "Informatika",
                       "82.5", "100", "82.5", "Lulus", "62.5", "20.0", "2026-03-02 09:48:05"]
    assert rows[2][2] == "عبد الله بن عمر" and rows[2][8] == "Tidak lulus"
    # A name that would run as a formula is kept as text.
    assert rows[3][2].startswith("'=HYPERLINK") and rows[3][8] == "Belum dinilai"
    assert rows[3][10] == ""  # the essay is not scored yet
    assert rows[4][5:9] == ["", "100", "", "Tidak hadir"]


def test_section_columns_follow_the_given_order():
    rows = list(csv.reader(io.StringIO(to_csv(ROWS, ["Esai", "Pilihan ganda"])
                                       .decode("utf-8-sig"))))
    assert rows[0][9:11] == ["Esai", "Pilihan ganda"]
    assert rows[1][9:11] == ["20.0", "62.5"]


def test_xlsx_keeps_numbers_numbers_and_text_text():
    book = load_workbook(BytesIO(to_xlsx(ROWS, title="UTS Kalkulus I (UTS-KAL)",
                                         summary=[("Batas lulus", "60%")])))
    sheet = book["Hasil"]
    assert [c.value for c in sheet[1]] == headers(list(SECTIONS))
    first = [c.value for c in sheet[2]]
    assert first[:9] == ["UTS-0001", "23010001", "Siti Nurhaliza", "IF-2A", "Informatika",
                         82.5, 100, 82.5, "Lulus"]
    assert first[9:11] == [62.5, 20.0]
    assert first[11] == datetime(2026, 3, 2, 9, 48, 5)  # local time, as printed on the slip
    assert sheet.cell(row=2, column=6).number_format == "0.00"
    assert sheet.cell(row=2, column=12).number_format == "dd/mm/yyyy hh:mm"
    # The formula-looking name is a plain string cell, not a formula.
    cell = sheet.cell(row=4, column=3)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    assert sheet.freeze_panes == "D2" and sheet.auto_filter.ref == "A1:L5"
    summary = {row[0].value: row[1].value for row in book["Ringkasan"].iter_rows()}
    assert summary["Ujian"] == "UTS Kalkulus I (UTS-KAL)"
    assert summary["Batas lulus"] == "60%"
    assert (summary["Peserta"], summary["Tidak hadir"], summary["Dinilai"]) == (4, 1, 3)
    assert (summary["Lulus"], summary["Tidak lulus"]) == (1, 1)
    assert summary["Rata-rata persen"] == round((82.5 + 41 + 50) / 3, 2)


def slip(row: ResultRow = ROWS[0], url: str = "https://ruang.test/cbt/slip/ABCD") -> bytes:
    return result_slip(SlipData(
        "UTS Kalkulus I", "UTS-KAL", row, "UTS Kalkulus Prodi Informatika", date(2026, 3, 2),
        60.0, {"Pilihan ganda": 70.0, "Esai": 30.0}, url,
        verification_code(b"k" * 32, "UTS-KAL", row),
        datetime(2026, 3, 3, 10, 0, tzinfo=WIB)))


def test_result_slip_states_the_result():
    text = re.sub(r"\s+", " ", PdfReader(BytesIO(slip())).pages[0].extract_text())
    assert "SLIP HASIL UJIAN BERBASIS KOMPUTER" in text
    for expected in ("UTS Kalkulus I (UTS-KAL)", "UTS-0001", "23010001", "Siti Nurhaliza",
                     "IF-2A / Informatika", "Senin, 2 Maret 2026", "82,5 / 100", "82,5%",
                     "LULUS", "Batas lulus: 60% dari nilai maksimal.",
                     "2 Maret 2026, 09.48 WIB"):
        assert expected in text, expected
    # Per section: score, maximum, percent (62.5 of 70 = 89.29%; 20 of 30 = 66.67%).
    assert "Pilihan ganda 62,5 70 89,29%" in text
    assert "Esai 20 30 66,67%" in text
    assert verification_code(b"k" * 32, "UTS-KAL", ROWS[0]) in text


def test_result_slip_qr_code_leads_to_the_verification_page():
    import zxingcpp
    from PIL import Image

    url = "https://ruang.test/cbt/results/verify/UTS-KAL/UTS-0001/ABCD-EFGH"
    page = PdfReader(BytesIO(slip(url=url))).pages[0]
    decoded = [str(found.text) for image in page.images
               for found in zxingcpp.read_barcodes(Image.open(BytesIO(image.data)).convert("L"))]
    assert decoded == [url]


def test_a_slip_without_url_has_no_qr_and_a_failed_result_says_so():
    pdf = slip(ROWS[1], url="")
    page = PdfReader(BytesIO(pdf)).pages[0]
    assert list(page.images) == []
    assert "TIDAK LULUS" in page.extract_text()


def test_verification_code_changes_with_what_the_slip_states():
    key = b"k" * 32
    code = verification_code(key, "UTS-KAL", ROWS[0])
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", code)
    assert verification_code(key, "UTS-KAL", ROWS[0]) == code  # stable
    assert verification_code(key, "UTS-KAL", replace(ROWS[0], score=82.0)) != code
    assert verification_code(key, "UTS-KAL", replace(ROWS[0], passed=False)) != code
    assert verification_code(key, "UTS-MAT", ROWS[0]) != code
    assert verification_code(b"x" * 32, "UTS-KAL", ROWS[0]) != code
