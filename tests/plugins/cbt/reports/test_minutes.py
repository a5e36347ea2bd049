"""The minutes (berita acara) PDF from plain data: it opens, and its text says who came,
who did not, what happened and who signs."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from plugins.cbt.reports.document import FontMissing, find_fonts
from plugins.cbt.reports.minutes import (
    Attendee,
    Incident,
    MinutesData,
    Person,
    SessionMinutes,
    minutes_pdf,
)

WIB = ZoneInfo("Asia/Jakarta")


def at(h: int, m: int) -> datetime:
    return datetime(2026, 3, 2, h, m, tzinfo=WIB)


PRESENT = [
    Attendee("UTS-0001", "Siti Nurhaliza", "23010001", "IF-2A", "Informatika", "PC-01"),
    Attendee("UTS-0002", "Muhammad Ḥusain", "23010002", "IF-2A", "Informatika", "PC-02"),
    Attendee("UTS-0003", "Ni Luh Putu Ayu Saraswati", "23010003", "IF-2A", "Informatika",
             "PC-03", "datang terlambat 08.12 WIB"),
]
ABSENT = [Attendee("UTS-0009", "Andi Pratama", "23010009", "IF-2B", "Informatika", "PC-09")]
INCIDENTS = [
    Incident(at(8, 31), "Keluar dari layar penuh tiga kali", "Peringatan lisan",
             "Siti Nurhaliza / PC-01", "Pengawas Satu"),
    Incident(at(9, 2), "PC-04 mati mendadak", "Login direset, pindah ke PC-12",
             "UTS-0002 / PC-04", "Pengawas Satu"),
]


def data(number: str = "BA-CBT-01/BPTI/2026", **changes: Any) -> MinutesData:
    values: dict[str, Any] = dict(
        event_title="UTS Kalkulus Prodi Informatika", unit="Prodi Informatika",
        exam_title="UTS Kalkulus I", exam_code="UTS-KAL", held_on=date(2026, 3, 2),
        sessions=[SessionMinutes("Pagi", "Lab Komputer 1 (LAB-1)", at(8, 0), at(10, 0),
                                 at(8, 5), at(10, 2),
                                 [Person("Pengawas Satu", "198001012005011001"),
                                  Person("Dewi Lestari")], PRESENT, ABSENT, INCIDENTS)],
        number=number, letter_number="SP-CBT-001/BPTI/III/2026",
        head_wdm=Person("Ir. Kepala WDM, M.Kom.", "197501012000031002", "Kabag. WDM"),
        place="Makassar", notes="Ujian berjalan lancar.")
    values.update(changes)
    return MinutesData(**values)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_minutes_hold_attendance_incidents_and_signatures():
    pdf = minutes_pdf(data())
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(BytesIO(pdf))
    assert reader.metadata is not None
    assert reader.metadata.title == "Berita Acara Pelaksanaan CBT BA-CBT-01/BPTI/2026"
    text = flat(text_of(pdf))
    assert "BERITA ACARA PELAKSANAAN" in text
    assert "Nomor: BA-CBT-01/BPTI/2026" in text
    assert "Senin, 2 Maret 2026" in text
    assert "SP-CBT-001/BPTI/III/2026" in text
    # Attendance: counts, every present candidate, the absent one in their own table.
    assert "terdaftar 4, hadir 3, tidak hadir 1" in text
    present_part, absent_part = text.split("Peserta tidak hadir", 1)
    for person in PRESENT:
        assert person.participant_number in present_part and person.name in present_part
    assert "datang terlambat 08.12 WIB" in present_part
    assert "UTS-0009" in absent_part and "Andi Pratama" in absent_part
    assert "UTS-0009" not in present_part
    # Times on the instance's wall clock, written the Indonesian way.
    assert "08.00 – 10.00 WIB" in text
    assert "dimulai 08.05 WIB, selesai 10.02 WIB" in text
    # Incidents with what was done about them.
    for incident in INCIDENTS:
        assert incident.description in text and incident.action in text
    assert "08.31 WIB" in text and "09.02 WIB" in text
    # Signature blocks: each proctor, and Kabag. WDM.
    assert "Pengawas 1" in text and "Pengawas 2" in text
    assert "Mengetahui, Kabag. WDM" in text
    assert "Ir. Kepala WDM, M.Kom." in text and "NIP. 197501012000031002" in text
    assert "Makassar, 2 Maret 2026" in text
    assert "Ujian berjalan lancar." in text
    assert "DRAF" not in text


def test_a_session_without_incidents_or_absentees_says_so():
    only = SessionMinutes("Siang", "Lab Komputer 2 (LAB-2)", at(13, 0), at(15, 0),
                          proctors=[Person("Pengawas Dua")], present=PRESENT[:1])
    text = flat(text_of(minutes_pdf(data(sessions=[only]))))
    assert "Semua peserta hadir." in text
    assert "Tidak ada kejadian yang dicatat selama sesi ini." in text
    assert "Pelaksanaan : -" in text  # the session has not been started
    # A single proctor signs as "Pengawas", without a number.
    assert "Pengawas Dua" in text and "Pengawas 1" not in text


def test_unnumbered_minutes_print_as_a_draft():
    text = flat(text_of(minutes_pdf(data(number=""))))
    assert "Nomor: (draf, belum bernomor)" in text
    assert "DRAF" in text


def test_many_candidates_spill_over_pages_with_headings():
    crowd = [Attendee(f"UTS-{i:04d}", f"Peserta Nomor {i}", seat=f"PC-{i:02d}")
             for i in range(1, 121)]
    session = SessionMinutes("Pagi", "Lab 1", at(8, 0), at(10, 0), proctors=[Person("P")],
                             present=crowd)
    pdf = minutes_pdf(data(sessions=[session]))
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) >= 3
    text = text_of(pdf)
    assert "Peserta Nomor 1\n" in text or "Peserta Nomor 1 " in text
    assert "UTS-0120" in text
    # The table heading repeats on the next page.
    assert "No. Peserta" in reader.pages[1].extract_text()
    assert "Halaman 2 dari" in reader.pages[1].extract_text()


def test_arabic_names_are_printed_with_their_own_letters():
    name = "عبد الله بن عمر"
    person = Attendee("UTS-0004", name, seat="PC-04")
    session = SessionMinutes("Pagi", "Lab 1", at(8, 0), at(10, 0), proctors=[Person("P")],
                             present=[person])
    text = text_of(minutes_pdf(data(sessions=[session])))
    # Shaped Arabic extracts as presentation forms or base letters depending on the reader;
    # either way the name's letters are there, not question marks.
    import unicodedata
    letters = {unicodedata.normalize("NFKC", ch) for ch in text}
    assert {"ع", "ب", "د", "ل", "ه", "ن", "م", "ر"} <= letters
    assert "?" not in text.split("UTS-0004", 1)[1].split("\n", 1)[0]


def test_missing_fonts_stop_with_what_to_install(tmp_path: Path):
    with pytest.raises(FontMissing) as info:
        find_fonts([tmp_path])
    assert "fonts-dejavu-core" in str(info.value)
    assert str(tmp_path) in str(info.value)


def test_the_page_renders(tmp_path: Path):
    """pdftoppm (poppler) draws the first page: the PDF is well formed, not only parseable."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    source = tmp_path / "ba.pdf"
    source.write_bytes(minutes_pdf(data()))
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(source),
                    str(tmp_path / "page")], check=True, timeout=60)
    page = next(tmp_path.glob("page*.png"))
    from PIL import Image

    with Image.open(page) as image:
        assert image.size[0] > 250 and image.size[1] > 350
        # Something is drawn: the page is not blank white.
        darkest = image.convert("L").getextrema()[0]
        assert isinstance(darkest, int) and darkest < 100

