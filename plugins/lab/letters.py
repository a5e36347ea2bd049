"""The repair request to Biro Aset as a printable letter (PDF), for offices that want paper
with a number and a signature next to the e-mail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF

from core.rooms.models import Lab
from plugins.lab.models import Repair
from plugins.lab.timeslots import local

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember")


class _Letter(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.family = "Helvetica"
        for folder in FONT_DIRS:
            regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
            if regular.exists() and bold.exists():
                self.add_font("DejaVu", "", str(regular))
                self.add_font("DejaVu", "B", str(bold))
                self.family = "DejaVu"
                break
        self.set_margins(22, 18, 22)
        self.set_auto_page_break(True, margin=20)

    def text_ok(self, value: Any) -> str:
        text = "" if value is None else str(value)
        if self.family == "Helvetica":  # the core fonts print Latin-1 only
            return text.encode("latin-1", "replace").decode("latin-1")
        return text

    def line_text(self, text: str, size: float = 11, bold: bool = False, height: float = 6
                  ) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.multi_cell(0, height, self.text_ok(text), new_x="LMARGIN", new_y="NEXT")


def repair_letter(repair: Repair, lab: Lab | None, sender: str, unit: str = "BPTI") -> bytes:
    """The letter in Indonesian (an official letter between two campus offices)."""
    pdf = _Letter()
    pdf.set_title(f"Permintaan perbaikan {repair.number}")
    pdf.set_author(unit)
    pdf.set_creator("Ruang")
    pdf.add_page()
    pdf.line_text(f"{unit.upper()} - BADAN PENGEMBANGAN TEKNOLOGI INFORMASI", 12, bold=True)
    pdf.set_draw_color(11, 92, 173)
    pdf.set_line_width(0.6)
    pdf.line(22, pdf.get_y() + 1, 188, pdf.get_y() + 1)
    pdf.ln(6)
    when = local(repair.sent_at or repair.reported_at)
    date_text = f"{when.day} {MONTHS_ID[when.month - 1]} {when.year}"
    kind = "penggantian" if repair.replace else "perbaikan"
    pdf.line_text(f"Nomor    : {repair.number}")
    pdf.line_text(f"Perihal  : Permohonan {kind} PC laboratorium")
    pdf.line_text(f"Tanggal  : {date_text}")
    pdf.ln(4)
    pdf.line_text("Kepada Yth.")
    pdf.line_text("Kepala Biro Aset", bold=True)
    pdf.line_text("di tempat")
    pdf.ln(4)
    pdf.line_text(f"Dengan hormat, bersama ini {unit} mengajukan permohonan {kind} perangkat "
                  "komputer laboratorium dengan rincian sebagai berikut:")
    pdf.ln(2)
    rows = [
        ("Nomor aset", repair.asset_number),
        ("Nama host", repair.hostname or "-"),
        ("Lokasi", f"{lab.code} {lab.name}" if lab else "-"),
        ("Gedung / lantai", f"{lab.building} / {lab.floor}" if lab else "-"),
        ("Kursi", repair.seat_label or "-"),
        ("Dilaporkan", local(repair.reported_at).strftime("%d-%m-%Y %H:%M")),
    ]
    pdf.set_font(pdf.family, "", 11)
    for label, value in rows:
        pdf.set_font(pdf.family, "B", 11)
        pdf.cell(45, 7, pdf.text_ok(label), border=1)
        pdf.set_font(pdf.family, "", 11)
        pdf.cell(0, 7, pdf.text_ok(value), border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.line_text("Uraian kerusakan:", bold=True)
    pdf.line_text(repair.problem)
    pdf.ln(3)
    pdf.line_text(f"Mohon tanggapan dengan menyebut nomor {repair.number}. Atas perhatian dan "
                  "kerja samanya kami ucapkan terima kasih.")
    pdf.ln(12)
    pdf.line_text(f"{unit},", bold=False)
    pdf.ln(18)
    pdf.line_text(sender or "Kabag. YANSI", bold=True)
    return bytes(pdf.output())
