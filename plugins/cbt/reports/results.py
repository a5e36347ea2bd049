"""Results of an exam as rows, and their export to CSV and XLSX.

A :class:`ResultRow` is one candidate's result as staff read it. The exports have the same
columns: participant number, student number, name, class, study programme, score, maximum,
percent, the verdict (Lulus / Tidak lulus / Menunggu penilaian esai / Belum dinilai /
Tidak hadir), one column per
section, and when the attempt was submitted (local time).

Names come from uploaded rosters, so a cell never becomes a formula: in CSV a text that a
spreadsheet would run (``=``, ``+``, ``-``, ``@``, tab, carriage return first) gets a
leading apostrophe; in XLSX it is stored as a string cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BASE_HEADERS = ("No. Peserta", "NIM", "Nama", "Kelas", "Program Studi", "Nilai",
                "Nilai Maksimal", "Persen", "Keterangan")
SUBMITTED_HEADER = "Waktu Kumpul"


@dataclass(frozen=True)
class ResultRow:
    participant_number: str
    name: str
    class_name: str = ""
    programme: str = ""
    student_number: str = ""
    score: float | None = None  # None: not scored yet, or absent
    max_score: float = 0.0
    passed: bool | None = None  # None: no verdict yet
    sections: Mapping[str, float | None] = field(default_factory=dict)
    submitted_at: datetime | None = None  # local time
    absent: bool = False
    marking_pending: bool = False  # essays of the attempt wait for their final mark

    @property
    def percent(self) -> float | None:
        if self.score is None or self.max_score <= 0:
            return None
        return 100.0 * self.score / self.max_score

    @property
    def verdict(self) -> str:
        if self.absent:
            return "Tidak hadir"
        if self.marking_pending:
            return "Menunggu penilaian esai"
        if self.passed is None:
            return "Belum dinilai"
        return "Lulus" if self.passed else "Tidak lulus"


def section_titles(rows: Sequence[ResultRow], sections: Sequence[str] | None = None
                   ) -> list[str]:
    """The section columns: ``sections`` if given, else every title in the order first seen."""
    if sections is not None:
        return list(sections)
    seen: dict[str, None] = {}
    for row in rows:
        for title in row.sections:
            seen.setdefault(title, None)
    return list(seen)


def headers(sections: Sequence[str]) -> list[str]:
    return [*BASE_HEADERS, *sections, SUBMITTED_HEADER]


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def values(row: ResultRow, sections: Sequence[str]) -> list[Any]:
    """One row's cells in :func:`headers` order (numbers as numbers, times as datetimes)."""
    return [
        row.participant_number, row.student_number, row.name, row.class_name, row.programme,
        _round(row.score), _round(row.max_score), _round(row.percent), row.verdict,
        *(_round(row.sections.get(title)) for title in sections),
        row.submitted_at,
    ]


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def to_csv(rows: Sequence[ResultRow], sections: Sequence[str] | None = None) -> bytes:
    """UTF-8 CSV with a byte-order mark, so spreadsheet programs read names correctly."""
    titles = section_titles(rows, sections)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_safe_text(h) for h in headers(titles)])
    for row in rows:
        cells: list[Any] = []
        for value in values(row, titles):
            if value is None:
                cells.append("")
            elif isinstance(value, datetime):
                cells.append(value.strftime("%Y-%m-%d %H:%M:%S"))
            elif isinstance(value, str):
                cells.append(_safe_text(value))
            else:
                cells.append(value)
        writer.writerow(cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[ResultRow], sections: Sequence[str] | None = None, *,
            title: str = "", summary: Sequence[tuple[str, Any]] = ()) -> bytes:
    """A workbook: sheet ``Hasil`` with a row per candidate, sheet ``Ringkasan`` with
    ``summary`` pairs and the counts."""
    titles = section_titles(rows, sections)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Hasil"
    head = headers(titles)
    ws.append(head)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EDF4")
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    number_cols = {head.index(h) + 1 for h in ("Nilai", "Nilai Maksimal", "Persen")}
    number_cols |= {len(BASE_HEADERS) + i + 1 for i in range(len(titles))}
    submitted_col = len(head)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(values(row, titles), start=1):
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.replace(tzinfo=None)  # XLSX has no time zones: local time
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            if c in number_cols:
                cell.number_format = "0.00"
            elif c == submitted_col:
                cell.number_format = "dd/mm/yyyy hh:mm"
    widths = [14, 14, 32, 12, 24, 9, 9, 9, 14, *([12] * len(titles)), 17]
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "D2"
    ws.auto_filter.ref = ws.dimensions

    info = wb.create_sheet("Ringkasan")
    scored = [r for r in rows if r.score is not None]
    pairs: list[tuple[str, Any]] = [("Ujian", title)] if title else []
    pairs += list(summary)
    pairs += [
        ("Peserta", len(rows)),
        ("Tidak hadir", sum(1 for r in rows if r.absent)),
        ("Dinilai", len(scored)),
        ("Lulus", sum(1 for r in rows if r.passed)),
        ("Tidak lulus", sum(1 for r in rows if r.passed is False)),
        ("Rata-rata persen", round(sum(r.percent or 0 for r in scored) / len(scored), 2)
         if scored else None),
    ]
    for label, value in pairs:
        info.append([label, value])
        info.cell(row=info.max_row, column=1).font = bold
        if isinstance(value, str):
            info.cell(row=info.max_row, column=2).data_type = "s"
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 48
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
