"""Login cards as a PDF (fpdf2): eight cards on an A4 page, to cut and hand out.

Each card shows the exam, the candidate's name, student number, class and programme,
the participant number and the one-time password in large type, and the lab and seat
when the candidate has been seated. DejaVu Sans (Debian's fonts-dejavu) is used when it
is installed so that any name prints; otherwise the PDF core font, with letters outside
Latin-1 replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF

from plugins.cbt.models import Candidate, Exam

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
CARD_W, CARD_H = 95.0, 66.0
MARGIN_X, MARGIN_Y = 10.0, 12.0


def _font(pdf: FPDF) -> tuple[str, bool]:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        mono = folder / "DejaVuSansMono-Bold.ttf"
        if regular.exists() and bold.exists() and mono.exists():
            pdf.add_font("card", "", str(regular))
            pdf.add_font("card", "B", str(bold))
            pdf.add_font("cardmono", "B", str(mono))
            return "card", True
    return "helvetica", False


def login_cards(exam: Exam, entries: Sequence[tuple[Candidate, str]],
                institution: str = "BPTI") -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(f"Kartu peserta {exam.code}")
    pdf.set_creator("Ruang")
    family, unicode_ok = _font(pdf)
    mono = "cardmono" if unicode_ok else "courier"

    def text(value: str) -> str:
        return value if unicode_ok else value.encode("latin-1", "replace").decode("latin-1")

    for index, (cand, password) in enumerate(entries):
        slot = index % 8
        if slot == 0:
            pdf.add_page()
        x = MARGIN_X + (slot % 2) * CARD_W
        y = MARGIN_Y + (slot // 2) * CARD_H
        pdf.set_draw_color(150, 150, 150)
        pdf.set_dash_pattern(dash=1, gap=1)
        pdf.rect(x, y, CARD_W, CARD_H)
        pdf.set_dash_pattern()
        pdf.set_fill_color(30, 64, 120)
        pdf.rect(x, y, CARD_W, 9, style="F")
        pdf.set_text_color(255, 255, 255)
        pdf.set_font(family, "B", 10)
        pdf.set_xy(x + 3, y + 1.5)
        pdf.cell(CARD_W - 6, 6, text(f"KARTU PESERTA CBT · {institution}"))
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(family, "", 8)
        pdf.set_xy(x + 3, y + 10.5)
        pdf.cell(CARD_W - 6, 4, text(f"{exam.title} ({exam.code})"[:90]))
        rows = [("Nama", cand.name), ("NIM", cand.student_number),
                ("Kelas / Prodi", " / ".join(v for v in (cand.class_name, cand.programme) if v)
                 or "-")]
        if cand.lab or cand.seat:
            rows.append(("Lab / Kursi", " / ".join(v for v in (cand.lab, cand.seat) if v)))
        line_y = y + 16
        for label, value in rows:
            pdf.set_xy(x + 3, line_y)
            pdf.set_font(family, "", 8)
            pdf.cell(22, 5, text(label))
            size = 9.0
            pdf.set_font(family, "B", size)
            while size > 5.5 and pdf.get_string_width(text(value)) > CARD_W - 28:
                size -= 0.5
                pdf.set_font(family, "B", size)
            pdf.cell(CARD_W - 28, 5, text(value))
            line_y += 5
        box_y = y + CARD_H - 24
        for offset, (label, value) in enumerate((("No. Peserta", cand.participant_number),
                                                 ("Password", password))):
            bx = x + 3 + offset * (CARD_W - 6) / 2
            pdf.set_fill_color(238, 242, 247)
            pdf.rect(bx, box_y, (CARD_W - 8) / 2, 18, style="F")
            pdf.set_xy(bx + 2, box_y + 1)
            pdf.set_font(family, "", 7)
            pdf.cell(30, 4, label)
            pdf.set_xy(bx + 2, box_y + 7)
            pdf.set_font(mono, "B", 11 if offset == 0 else 14)
            pdf.cell((CARD_W - 12) / 2, 8, text(value))
        pdf.set_xy(x + 3, y + CARD_H - 5)
        pdf.set_font(family, "", 6)
        pdf.cell(CARD_W - 6, 4, text("Jangan berikan password kepada orang lain. "
                                     "Password berlaku sekali cetak."))
    if not entries:
        pdf.add_page()
        pdf.set_font(family, "", 12)
        pdf.cell(0, 10, text(f"{exam.code}: belum ada peserta"))
    return bytes(pdf.output())
