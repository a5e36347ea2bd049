"""Bulk import of a lab's PCs from an XLSX sheet, with an error for every bad row.

The sheet has a header row; columns are found by name (English or Indonesian), in any order:
``seat`` (``A1``...), ``asset_number``, ``hostname``, optional ``status`` (working / faulty /
in_repair, or baik / rusak / diperbaiki) and ``notes``. Each good row goes in on its own (a
savepoint), so one bad row does not keep the others out, and a bad row changes nothing.
``dry_run`` checks every row and stores nothing. :func:`template` writes the sheet to fill
in, with the lab's seats and the PCs already registered.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.rooms import service as rooms
from core.rooms.models import DeviceStatus, Lab
from plugins.lab.errors import N_, LabError, describe, tr

MAX_ROWS = 2000
COLUMNS: dict[str, tuple[str, ...]] = {
    "seat": ("seat", "kursi", "meja", "label", "posisi"),
    "asset_number": ("asset_number", "asset number", "asset", "nomor aset", "no aset",
                     "no. aset", "nomor_aset", "aset"),
    "hostname": ("hostname", "host", "host name", "nama host", "nama komputer", "komputer"),
    "status": ("status", "kondisi"),
    "notes": ("notes", "note", "catatan", "keterangan"),
}
STATUS_WORDS = {
    "working": DeviceStatus.WORKING, "baik": DeviceStatus.WORKING, "ok": DeviceStatus.WORKING,
    "normal": DeviceStatus.WORKING, "faulty": DeviceStatus.FAULTY,
    "rusak": DeviceStatus.FAULTY, "in_repair": DeviceStatus.IN_REPAIR,
    "in repair": DeviceStatus.IN_REPAIR, "diperbaiki": DeviceStatus.IN_REPAIR,
    "perbaikan": DeviceStatus.IN_REPAIR,
}


class PcRow(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    seat: str = Field(min_length=2, max_length=10)
    asset_number: str = Field(min_length=1, max_length=60)
    hostname: str = Field(default="", max_length=100)
    status: DeviceStatus | None = None
    notes: str = Field(default="", max_length=2000)

    @field_validator("seat", mode="before")
    @classmethod
    def _seat(cls, value: Any) -> Any:
        return str(value).strip().upper() if value is not None else value

    @field_validator("asset_number", "hostname", "notes", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # an asset number typed as a number in the sheet
        return str(value)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        word = str(value).strip().lower()
        if word not in STATUS_WORDS:
            raise ValueError(N_("Use working, faulty or in_repair (baik, rusak, diperbaiki)."))
        return STATUS_WORDS[word]


@dataclass
class RowResult:
    line: int
    seat: str
    asset_number: str
    outcome: str  # created, updated, unchanged, error
    message: str = ""


@dataclass
class ImportReport:
    lab: str
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)

    @property
    def errors(self) -> list[RowResult]:
        return [r for r in self.rows if r.outcome == "error"]

    @property
    def stored(self) -> list[RowResult]:
        return [r for r in self.rows if r.outcome in ("created", "updated", "unchanged")]

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)


def _(msgid: str, **params: Any) -> str:
    return tr(msgid, **params)


def _read(stream: IO[bytes]) -> list[tuple[int, dict[str, Any]]]:
    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise LabError(N_("The file is not an XLSX workbook (%(why)s)."), why=str(exc)[:200]
                       ) from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise LabError(N_("The sheet is empty."))
    names = [str(h).strip().lower() if h is not None else "" for h in header]
    index: dict[str, int] = {}
    for key, aliases in COLUMNS.items():
        for pos, name in enumerate(names):
            if name in aliases:
                index[key] = pos
                break
    missing = [k for k in ("seat", "asset_number") if k not in index]
    if missing:
        raise LabError(N_("The first row must name the columns; missing: %(cols)s (found: "
                          "%(found)s)."), cols=", ".join(missing),
                       found=", ".join(n for n in names if n) or "-")
    out: list[tuple[int, dict[str, Any]]] = []
    for line, values in enumerate(rows, start=2):
        if values is None or all(v in (None, "") for v in values):
            continue
        if len(out) >= MAX_ROWS:
            raise LabError(N_("At most %(n)d rows per file."), n=MAX_ROWS)
        record = {key: values[pos] if pos < len(values) else None for key, pos in index.items()}
        out.append((line, record))
    book.close()
    return out


def import_pcs(session: Session, lab: Lab, stream: IO[bytes], actor: Any, *,
               dry_run: bool = False) -> ImportReport:
    """Import the sheet into ``lab``; see the module docstring."""
    report = ImportReport(lab=lab.code, dry_run=dry_run)
    seen_assets: dict[str, int] = {}
    seen_seats: dict[str, int] = {}
    outer = session.begin_nested() if dry_run else None
    for line, record in _read(stream):
        seat_text = str(record.get("seat") or "").strip().upper()
        asset_text = str(record.get("asset_number") or "").strip()
        try:
            row = PcRow.model_validate(record)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            column = str(err["loc"][0]) if err["loc"] else "?"
            report.rows.append(RowResult(line, seat_text, asset_text, "error",
                                         f"{column}: {describe(err)}"))
            continue
        if row.seat in seen_seats:
            report.rows.append(RowResult(line, row.seat, row.asset_number, "error", _(
                "seat %(seat)s is already on line %(line)d", seat=row.seat,
                line=seen_seats[row.seat])))
            continue
        if row.asset_number in seen_assets:
            report.rows.append(RowResult(line, row.seat, row.asset_number, "error", _(
                "asset number %(asset)s is already on line %(line)d", asset=row.asset_number,
                line=seen_assets[row.asset_number])))
            continue
        seat = rooms.seat_by_label(session, lab.id, row.seat)
        if seat is None or seat.row > lab.rows or seat.col > lab.cols:
            report.rows.append(RowResult(line, row.seat, row.asset_number, "error", _(
                "lab %(lab)s has no seat %(seat)s (its grid is %(rows)d rows x %(cols)d "
                "columns)", lab=lab.code, seat=row.seat, rows=lab.rows, cols=lab.cols)))
            continue
        if not seat.active:
            report.rows.append(RowResult(line, row.seat, row.asset_number, "error", _(
                "seat %(seat)s is switched off in the seat map", seat=row.seat)))
            continue
        seen_seats[row.seat] = line
        seen_assets[row.asset_number] = line
        before = rooms.device_at(session, seat.id)
        snapshot = None if before is None else (before.asset_number, before.hostname,
                                                before.notes, before.status)
        try:
            with session.begin_nested():
                device = rooms.save_device(session, seat, asset_number=row.asset_number,
                                           hostname=row.hostname, notes=row.notes, actor=actor)
                if row.status is not None and row.status.value != device.status:
                    rooms.set_device_status(session, device, row.status.value, actor=actor,
                                            reason=_("imported from a sheet"))
        except rooms.RoomError as exc:
            report.rows.append(RowResult(line, row.seat, row.asset_number, "error", str(exc)))
            continue
        if snapshot is None:
            outcome = "created"
        elif snapshot == (device.asset_number, device.hostname, device.notes, device.status):
            outcome = "unchanged"
        else:
            outcome = "updated"
        report.rows.append(RowResult(line, row.seat, row.asset_number, outcome))
    if outer is not None:
        outer.rollback()
        session.expire_all()
    elif report.stored:
        audit(session, "lab.import_pcs", actor=actor, object_type="lab", object_id=lab.id,
              details={"created": report.count("created"), "updated": report.count("updated"),
                       "errors": len(report.errors)})
    return report


def template(session: Session, lab: Lab) -> bytes:
    """An XLSX to fill in: one row per active seat, with the PC registered there."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = lab.code[:31]
    sheet.append(["seat", "asset_number", "hostname", "status", "notes"])
    for seat in rooms.seats_of(session, lab.id, include_inactive=False):
        if seat.row > lab.rows or seat.col > lab.cols:
            continue
        device = rooms.device_at(session, seat.id)
        sheet.append([seat.label, device.asset_number if device else "",
                      device.hostname if device else "", device.status if device else "",
                      device.notes if device else ""])
    for column, width in zip("ABCDE", (8, 20, 20, 12, 40), strict=True):
        sheet.column_dimensions[column].width = width
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
