"""The minutes (berita acara) of a CBT event as a PDF, built from plain data.

:class:`MinutesData` holds what the minutes say: the event, each session with its lab,
times, proctors, present and absent candidates, incidents and the actions taken, and who
signs. :func:`minutes_pdf` prints it. The number comes from the records service (type
``CBT-BA``, issued when the event's minutes are issued); minutes without a number print
as a draft, marked so across every page, so a preview cannot pass for the record.
:mod:`plugins.cbt.reports.source` fills :class:`MinutesData` from the CBT tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from fpdf.enums import TableCellFillMode
from fpdf.fonts import FontFace

from plugins.cbt.reports.document import (
    MUTED,
    SHADE,
    FontSet,
    ReportPDF,
    id_date,
    id_day,
    id_time,
)

DEFAULT_LETTERHEAD = ("BADAN PENGEMBANGAN TEKNOLOGI INFORMASI (BPTI)",
                      "Bagian Website dan Multimedia (WDM)")


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str = ""  # NIP / NIK printed under the signature
    role: str = ""


@dataclass(frozen=True)
class Attendee:
    participant_number: str
    name: str
    student_number: str = ""
    class_name: str = ""
    programme: str = ""
    seat: str = ""
    note: str = ""  # "datang terlambat 08.12 WIB", "pindah ke PC-07"


@dataclass(frozen=True)
class Incident:
    at: datetime | None
    description: str
    action: str = ""
    subject: str = ""  # who or which seat; empty for the whole room
    by: str = ""


@dataclass(frozen=True)
class SessionMinutes:
    label: str
    lab: str
    starts_at: datetime
    ends_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    proctors: Sequence[Person] = ()
    present: Sequence[Attendee] = ()
    absent: Sequence[Attendee] = ()
    incidents: Sequence[Incident] = ()


@dataclass(frozen=True)
class MinutesData:
    event_title: str
    unit: str
    exam_title: str
    exam_code: str
    held_on: date
    sessions: Sequence[SessionMinutes]
    number: str = ""  # from the records service; empty prints a draft
    letter_number: str = ""
    head_wdm: Person = field(default_factory=lambda: Person("", role="Kabag. WDM"))
    place: str = ""
    signed_on: date | None = None
    notes: str = ""
    institution: str = "BPTI"
    letterhead: Sequence[str] = DEFAULT_LETTERHEAD

    @property
    def registered(self) -> int:
        return sum(len(s.present) + len(s.absent) for s in self.sessions)

    @property
    def present(self) -> int:
        return sum(len(s.present) for s in self.sessions)


def _span(start: datetime, end: datetime) -> str:
    day = "" if start.date() == end.date() else f" ({id_day(end.date())})"
    return f"{id_time(start).split(' ')[0]} – {id_time(end)}{day}"


def _table(pdf: ReportPDF, headings: Sequence[str], rows: Sequence[Sequence[str]],
           widths: Sequence[float], aligns: Sequence[str]) -> None:
    pdf.font(8.5)
    head = FontFace(emphasis="BOLD", fill_color=SHADE)
    with pdf.table(col_widths=tuple(widths), headings_style=head, line_height=4.6,
                   text_align=tuple(aligns), repeat_headings=1, padding=(1, 1.2),
                   cell_fill_mode=TableCellFillMode.NONE) as table:
        heading = table.row()
        for text in headings:
            heading.cell(text)
        for values in rows:
            row = table.row()
            for text in values:
                row.cell(text or "-")
    pdf.ln(2)


def _attendance(pdf: ReportPDF, people: Sequence[Attendee]) -> None:
    headings = ("No", "No. Peserta", "Nama", "NIM", "Kelas / Prodi",
                "Kursi", "Keterangan")
    rows = [(str(i), a.participant_number, a.name, a.student_number,
             " / ".join(v for v in (a.class_name, a.programme) if v), a.seat, a.note)
            for i, a in enumerate(people, start=1)]
    _table(pdf, headings, rows, (7, 24, 42, 20, 34, 12, 35),
           ("RIGHT", "LEFT", "LEFT", "LEFT", "LEFT", "CENTER", "LEFT"))


def _incidents(pdf: ReportPDF, incidents: Sequence[Incident]) -> None:
    rows = [(str(i), id_time(x.at), x.subject, x.description, x.action, x.by)
            for i, x in enumerate(incidents, start=1)]
    _table(pdf, ("No", "Waktu", "Peserta / Kursi", "Kejadian", "Tindakan", "Oleh"), rows,
           (7, 18, 30, 47, 47, 25), ("RIGHT", "LEFT", "LEFT", "LEFT", "LEFT", "LEFT"))


def _signatures(pdf: ReportPDF, data: MinutesData) -> None:
    proctors = _proctors(data)
    blocks: list[tuple[str, str, Person]] = [
        ("", p.role or ("Pengawas" if len(proctors) == 1 else f"Pengawas {i}"), p)
        for i, p in enumerate(proctors, start=1)]
    blocks.append(("Mengetahui,", data.head_wdm.role or "Kabag. WDM", data.head_wdm))
    width = pdf.w - pdf.l_margin - pdf.r_margin
    per_row = 3 if len(blocks) > 2 else 2
    col = width / per_row
    rows = [blocks[i:i + per_row] for i in range(0, len(blocks), per_row)]
    block_h = 36.0
    needed = 12 + block_h * len(rows)
    if pdf.get_y() + min(needed, 12 + block_h) > pdf.page_break_trigger:
        pdf.add_page()
    pdf.font(9.5)
    signed = data.signed_on or data.held_on
    place = f"{data.place}, " if data.place else ""
    pdf.cell(0, 5, f"{place}{id_day(signed)}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for row in rows:
        if pdf.get_y() + block_h > pdf.page_break_trigger:
            pdf.add_page()
        top = pdf.get_y()
        offset = (width - col * len(row)) / 2  # a short last row sits in the middle
        for index, (caption, title, person) in enumerate(row):
            x = pdf.l_margin + offset + index * col
            pdf.set_xy(x, top)
            pdf.font(9.5)
            pdf.cell(col, 5, caption, align="C")
            pdf.set_xy(x, top + 5)
            pdf.cell(col, 5, title, align="C")
            pdf.set_xy(x, top + 25)
            pdf.font(9.5, bold=True)
            name = person.name or "(.................................)"
            pdf.cell(col, 5, name, align="C")
            if person.name:
                text_w = min(pdf.get_string_width(name), col - 6)
                pdf.line(x + (col - text_w) / 2, top + 29.6, x + (col + text_w) / 2, top + 29.6)
            pdf.font(8.5)
            pdf.set_xy(x, top + 30)
            pdf.cell(col, 4.5, f"NIP. {person.id_number}" if person.id_number else "",
                     align="C")
        pdf.set_y(top + block_h)


def _proctors(data: MinutesData) -> list[Person]:
    """Every proctor once, in the order the sessions name them."""
    seen: dict[str, Person] = {}
    for s in data.sessions:
        for p in s.proctors:
            seen.setdefault(p.id_number or p.name, p)
    return list(seen.values())


def minutes_pdf(data: MinutesData, *, fonts: FontSet | None = None) -> bytes:
    """The minutes as PDF bytes."""
    title = "Berita Acara Pelaksanaan CBT"
    pdf = ReportPDF(title=f"{title} {data.number}".strip(), institution=data.institution,
                    footer=f"{title} · {data.number or 'DRAF'} · {data.event_title}"[:120],
                    fonts=fonts)
    if not data.number:
        pdf.draft_mark = "DRAF"
    pdf.add_page()
    pdf.letterhead(data.letterhead)
    pdf.font(12.5, bold=True)
    pdf.cell(0, 6, "BERITA ACARA PELAKSANAAN", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, "UJIAN BERBASIS KOMPUTER (COMPUTER BASED TEST)", align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.font(10)
    pdf.cell(0, 6, f"Nomor: {data.number or '(draf, belum bernomor)'}", align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    labs = sorted({s.lab for s in data.sessions if s.lab})
    letter = f" dengan surat pengajuan nomor {data.letter_number}" if data.letter_number else ""
    pdf.paragraph(
        f"Pada hari ini, {id_date(data.held_on)}, bertempat di {', '.join(labs) or '-'}, "
        f"telah dilaksanakan ujian berbasis komputer (CBT) \u201c{data.event_title}\u201d atas "
        f"pengajuan {data.unit}{letter}, dengan materi ujian {data.exam_title} "
        f"({data.exam_code}). Pelaksanaan ujian diselenggarakan oleh {data.institution} "
        "dengan rincian sebagai berikut.")
    registered, present = data.registered, data.present
    pdf.pairs([
        ("Kegiatan", data.event_title),
        ("Unit pengaju", data.unit),
        ("Materi ujian", f"{data.exam_title} ({data.exam_code})"),
        ("Jumlah sesi", str(len(data.sessions))),
        ("Peserta", f"terdaftar {registered}, hadir {present}, "
                    f"tidak hadir {registered - present}"),
    ])

    for number, s in enumerate(data.sessions, start=1):
        pdf.heading(f"{number}. Sesi {s.label}" if s.label else f"{number}. Sesi {number}",
                    keep=60)
        actual = "-"
        if s.started_at or s.ended_at:
            actual = (f"dimulai {id_time(s.started_at)}, "
                      f"selesai {id_time(s.ended_at)}")
        pdf.pairs([
            ("Laboratorium", s.lab),
            ("Jadwal", f"{id_date(s.starts_at.date())}, {_span(s.starts_at, s.ends_at)}"),
            ("Pelaksanaan", actual),
            ("Pengawas", ", ".join(p.name for p in s.proctors) or "-"),
            ("Kehadiran", f"terdaftar {len(s.present) + len(s.absent)}, hadir "
                          f"{len(s.present)}, tidak hadir {len(s.absent)}"),
        ])
        pdf.heading("Peserta hadir", size=9.5)
        if s.present:
            _attendance(pdf, s.present)
        else:
            pdf.paragraph("Tidak ada peserta yang hadir.", size=9)
        pdf.heading("Peserta tidak hadir", size=9.5)
        if s.absent:
            _attendance(pdf, s.absent)
        else:
            pdf.paragraph("Semua peserta hadir.", size=9)
        pdf.heading("Kejadian dan tindakan", size=9.5)
        if s.incidents:
            _incidents(pdf, s.incidents)
        else:
            pdf.paragraph("Tidak ada kejadian yang dicatat selama sesi ini.", size=9)

    if data.notes.strip():
        pdf.heading("Catatan")
        pdf.paragraph(data.notes.strip())
    pdf.ln(2)
    pdf.paragraph("Demikian berita acara ini dibuat dengan sebenarnya untuk dipergunakan "
                  "sebagaimana mestinya.")
    _signatures(pdf, data)
    if not data.number:
        pdf.font(7.5)
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(0, 4, "Draf: nomor berita acara diterbitkan oleh layanan nomor "
                       "rekaman mutu saat berita acara kegiatan diterbitkan.",
                       new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
