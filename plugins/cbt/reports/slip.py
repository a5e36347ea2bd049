"""A candidate's result slip as a PDF, with a QR code to the page that verifies it.

The verification code is an HMAC of what the slip states (exam, participant, score,
verdict) under the instance's secret, so a verifier recomputes it from the stored result:
an edited slip, or a slip for a result that was later corrected, no longer matches, and
nothing extra has to be stored per slip.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import qrcode

from plugins.cbt.reports.document import (
    MUTED,
    SHADE,
    FontSet,
    ReportPDF,
    id_date,
    id_day,
    id_number,
    id_time,
)
from plugins.cbt.reports.minutes import DEFAULT_LETTERHEAD
from plugins.cbt.reports.results import ResultRow


def verification_code(secret: bytes, exam_code: str, row: ResultRow) -> str:
    """``ABCD-EFGH-JKLM-NPQR``: 80 bits of HMAC-SHA256 over the slip's statements."""
    score = "" if row.score is None else f"{row.score:.4f}"
    message = "\x1f".join(("cbt-slip-v1", exam_code, row.participant_number, score,
                           f"{row.max_score:.4f}", row.verdict))
    digest = hmac.new(secret, message.encode("utf-8"), hashlib.sha256).digest()
    text = base64.b32encode(digest[:10]).decode("ascii")
    return "-".join(text[i:i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True)
class SlipData:
    exam_title: str
    exam_code: str
    row: ResultRow
    event_title: str = ""
    held_on: date | None = None
    pass_mark: float | None = None  # percent
    section_max: Mapping[str, float] = field(default_factory=dict)
    verify_url: str = ""
    verify_code: str = ""
    issued_at: datetime | None = None
    institution: str = "BPTI"
    letterhead: Sequence[str] = DEFAULT_LETTERHEAD


def _qr_png(url: str) -> bytes:
    image = qrcode.make(url, box_size=6, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def result_slip(data: SlipData, *, fonts: FontSet | None = None) -> bytes:
    """One A4 page (more if the exam has many sections) with the candidate's result."""
    row = data.row
    pdf = ReportPDF(title=f"Hasil CBT {data.exam_code} {row.participant_number}",
                    institution=data.institution,
                    footer=f"Slip hasil CBT · {data.exam_code} · {row.participant_number}",
                    fonts=fonts)
    pdf.add_page()
    pdf.letterhead(data.letterhead)
    pdf.font(13, bold=True)
    pdf.cell(0, 7, "SLIP HASIL UJIAN BERBASIS KOMPUTER (CBT)", align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    top = pdf.get_y()
    qr_size = 34.0
    if data.verify_url:
        pdf.image(io.BytesIO(_qr_png(data.verify_url)), x=pdf.w - pdf.r_margin - qr_size,
                  y=top, w=qr_size, h=qr_size)
        pdf.set_right_margin(pdf.r_margin + qr_size + 4)
    details = [
        ("Ujian", f"{data.exam_title} ({data.exam_code})"),
        ("Kegiatan", data.event_title),
        ("Tanggal", id_date(data.held_on) if data.held_on else "-"),
        ("No. Peserta", row.participant_number),
        ("NIM", row.student_number),
        ("Nama", row.name),
        ("Kelas / Prodi", " / ".join(v for v in (row.class_name, row.programme) if v)),
        ("Waktu kumpul", (f"{id_day(row.submitted_at.date())}, {id_time(row.submitted_at)}"
                          if row.submitted_at else "-")),
    ]
    pdf.pairs([(label, value) for label, value in details if label != "Kegiatan" or value],
              label_w=32)
    if data.verify_url:
        pdf.set_right_margin(pdf.r_margin - qr_size - 4)
        pdf.set_y(max(pdf.get_y(), top + qr_size + 2))

    pdf.ln(3)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    box_top = pdf.get_y()
    pdf.set_fill_color(*SHADE)
    pdf.rect(pdf.l_margin, box_top, width, 24, style="F")
    cells = [
        ("Nilai", f"{id_number(row.score)} / {id_number(row.max_score)}"
         if row.score is not None else "-"),
        ("Persen", f"{id_number(row.percent)}%" if row.percent is not None else "-"),
        ("Keterangan", row.verdict.upper()),
    ]
    for index, (label, value) in enumerate(cells):
        x = pdf.l_margin + index * width / 3
        pdf.set_xy(x, box_top + 3)
        pdf.font(8.5)
        pdf.set_text_color(*MUTED)
        pdf.cell(width / 3, 5, label, align="C")
        pdf.set_text_color(0, 0, 0)
        pdf.set_xy(x, box_top + 10)
        pdf.font(16, bold=True)
        pdf.cell(width / 3, 9, value, align="C")
    pdf.set_y(box_top + 28)
    if data.pass_mark is not None:
        pdf.font(8.5)
        pdf.cell(0, 5, f"Batas lulus: {id_number(data.pass_mark)}% dari nilai maksimal.",
                 new_x="LMARGIN", new_y="NEXT")

    if row.sections:
        pdf.heading("Nilai per bagian", size=10)
        pdf.font(9)
        with pdf.table(col_widths=(70, 35, 35, 34), text_align=("LEFT", "RIGHT", "RIGHT",
                                                                "RIGHT"),
                       line_height=5, padding=(1, 1.5)) as table:
            head = table.row()
            for text in ("Bagian", "Nilai", "Maksimal", "Persen"):
                head.cell(text)
            for title, score in row.sections.items():
                top_score = data.section_max.get(title)
                pct = (100 * score / top_score if score is not None and top_score
                       else None)
                line = table.row()
                line.cell(title or "-")
                line.cell(id_number(score))
                line.cell(id_number(top_score))
                line.cell(f"{id_number(pct)}%" if pct is not None else "-")

    pdf.ln(4)
    pdf.font(8)
    pdf.set_text_color(*MUTED)
    lines = []
    if data.verify_url:
        lines.append("Keaslian slip ini dapat diperiksa dengan memindai kode QR atau membuka "
                     f"{data.verify_url}")
    if data.verify_code:
        lines.append(f"Kode verifikasi: {data.verify_code}")
    if data.issued_at is not None:
        lines.append(f"Dicetak {id_day(data.issued_at.date())}, {id_time(data.issued_at)} "
                     f"oleh Ruang ({data.institution}).")
    for text in lines:
        pdf.multi_cell(0, 4.2, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    return bytes(pdf.output())
