"""Candidates of an exam: roster import, participant numbers and one-time passwords.

A roster comes from XLSX or CSV (student number, name, class, study programme); every
row that cannot be used is reported with its row number, the others are added together.
Each candidate gets a participant number made from the exam code (``UTS-KAL-24-0007``)
and, when login cards are printed, a fresh random password. Only its argon2 hash is
stored, so a password is shown once, on the card; printing again issues new passwords
and the old cards stop working.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import utcnow
from plugins.cbt.formats import Problem, decode_text
from plugins.cbt.formats.package import PackageError, read_zip
from plugins.cbt.models import Candidate, Exam

# 32 symbols without look-alikes (0/O, 1/I/L): 8 of them are 40 bits, typed from a card.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 8
MAX_ROWS = 5000
# A one-time password is random, not chosen by a person, so the cost can be lower than for
# staff passwords and a lab's cards still print in seconds (OWASP's argon2id minimum).
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY = _hasher.hash("ruang-dummy-candidate")
_T = TypeVar("_T")

_ALIASES = {
    "nim": "student_number", "npm": "student_number", "nis": "student_number",
    "nomor induk": "student_number", "no induk": "student_number",
    "nomor mahasiswa": "student_number", "student number": "student_number",
    "student_number": "student_number",
    "nama": "name", "nama lengkap": "name", "name": "name",
    "kelas": "class_name", "class": "class_name", "rombel": "class_name",
    "prodi": "programme", "program studi": "programme", "programme": "programme",
    "program": "programme", "study programme": "programme", "jurusan": "programme",
}


class CandidateError(ValueError):
    pass


class RosterRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    student_number: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    class_name: str = Field(default="", max_length=80)
    programme: str = Field(default="", max_length=200)

    @field_validator("student_number")
    @classmethod
    def _number(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9./-]+", value):
            raise ValueError("use letters, digits, '.', '/' or '-' only")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return re.sub(r"\s+", " ", value)


@dataclass
class Roster:
    rows: list[tuple[int, RosterRow]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table(data: bytes, filename: str) -> list[list[str]]:
    if data[:2] == b"PK" or filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            read_zip(data)
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except PackageError as exc:
            raise CandidateError(str(exc)) from None
        except Exception as exc:  # openpyxl raises many kinds of error for a bad file
            raise CandidateError(f"the file is not an Excel workbook (.xlsx): {exc}") from None
        ws = wb.worksheets[0]
        rows = [[_cell(v) for v in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
        return rows
    text = decode_text(data)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:5000], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]


def parse_roster(data: bytes, filename: str = "") -> Roster:
    """Rows of a roster file, and every problem with its row number (header is row 1)."""
    roster = Roster()
    try:
        table = _table(data, filename)
    except CandidateError as exc:
        roster.problems.append(Problem(0, str(exc)))
        return roster
    if not table:
        roster.problems.append(Problem(0, "the file is empty"))
        return roster
    cols: dict[str, int] = {}
    for i, name in enumerate(table[0]):
        key = _ALIASES.get(re.sub(r"[\s._]+", " ", name.lower()).strip())
        if key:
            cols.setdefault(key, i)
    missing = [label for label, key in (("NIM", "student_number"), ("Nama", "name"))
               if key not in cols]
    if missing:
        roster.problems.append(Problem(1, f"the first row has no column {' or '.join(missing)} "
                                          "(expected: NIM, Nama, Kelas, Prodi)"))
        return roster
    seen: dict[str, int] = {}
    for number, row in enumerate(table[1:], start=2):
        if number > MAX_ROWS + 1:
            roster.problems.append(Problem(number, f"more than {MAX_ROWS} rows; split the file"))
            break
        values = {k: (row[i] if i < len(row) else "") for k, i in cols.items()}
        if not any(values.values()):
            continue
        try:
            parsed = RosterRow(**values)
        except ValidationError as exc:
            err = exc.errors()[0]
            label = {"student_number": "NIM", "name": "Nama", "class_name": "Kelas",
                     "programme": "Prodi"}.get(str(err["loc"][0]), str(err["loc"][0]))
            if err["type"] == "string_too_short":
                message = f"{label} is empty"
            else:
                message = f"{label}: {str(err['msg']).removeprefix('Value error, ')}"
            roster.problems.append(Problem(number, message))
            continue
        if parsed.student_number in seen:
            roster.problems.append(Problem(number, f"NIM {parsed.student_number} is already on "
                                                   f"row {seen[parsed.student_number]}"))
            continue
        seen[parsed.student_number] = number
        roster.rows.append((number, parsed))
    return roster


def check_against(session: Session, exam: Exam, roster: Roster) -> Roster:
    """The roster without candidates the exam already has (each reported as a problem)."""
    existing = set(session.scalars(select(Candidate.student_number).where(
        Candidate.exam_id == exam.id)))
    out = Roster(problems=list(roster.problems))
    for number, row in roster.rows:
        if row.student_number in existing:
            out.problems.append(Problem(number, f"NIM {row.student_number} is already on the "
                                                "roster of this exam"))
        else:
            out.rows.append((number, row))
    out.problems.sort(key=lambda p: p.line)
    return out


def add_candidates(session: Session, exam: Exam, roster: Roster,
                   actor: Any = None) -> list[Candidate]:
    """Add the roster's rows with new participant numbers (in the caller's transaction)."""
    last = session.scalar(select(func.count()).select_from(Candidate).where(
        Candidate.exam_id == exam.id)) or 0
    used = set(session.scalars(select(Candidate.participant_number).where(
        Candidate.exam_id == exam.id)))
    added = []
    seq = int(last)
    for _line, row in roster.rows:
        seq += 1
        number = f"{exam.code}-{seq:04d}"
        while number in used:
            seq += 1
            number = f"{exam.code}-{seq:04d}"
        cand = Candidate(exam_id=exam.id, student_number=row.student_number, name=row.name,
                         class_name=row.class_name, programme=row.programme,
                         participant_number=number)
        session.add(cand)
        added.append(cand)
    session.flush()
    audit(session, "cbt.candidates.added", actor=actor, object_type="cbt_exam", object_id=exam.id,
          details={"added": len(added)})
    return added


def candidates(session: Session, exam: Exam) -> list[Candidate]:
    return list(session.scalars(select(Candidate).where(Candidate.exam_id == exam.id)
                                .order_by(Candidate.participant_number)))


def new_password() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(PASSWORD_LENGTH))


def set_password(cand: Candidate, password: str) -> None:
    """Store ``password`` as the candidate's sign-in password (argon2, this module's cost)."""
    cand.password_hash = _hasher.hash(password)
    cand.password_set_at = utcnow()


def issue_passwords(session: Session, exam: Exam, chosen: list[Candidate] | None = None,
                    actor: Any = None, progress: Any = None) -> list[tuple[Candidate, str]]:
    """New one-time passwords for ``chosen`` (default: everyone), for printing once."""
    targets = chosen if chosen is not None else candidates(session, exam)
    out = []
    for cand in targets:
        if cand.exam_id != exam.id:
            raise CandidateError(f"{cand.participant_number} is not on this exam's roster")
        password = new_password()
        set_password(cand, password)
        out.append((cand, password))
        if progress is not None:
            progress(1)
    audit(session, "cbt.candidates.passwords_issued", actor=actor, object_type="cbt_exam",
          object_id=exam.id, details={"count": len(out)})
    return out


def _off_loop(fn: Callable[..., _T], *args: Any) -> _T:
    """``fn(*args)`` in a real OS thread when this process runs on an event loop.

    ``ruang serve`` monkey-patches the process for gevent or eventlet (``RUANG_ASYNC_MODE``,
    see ``core.entry``); every connection is then served by one OS thread, and argon2 (tens
    of milliseconds of CPU, by design) would hold all of them. argon2-cffi releases the
    GIL, so in the hub's thread pool (gevent) or eventlet's ``tpool`` it runs beside the
    loop. Unpatched (threading mode, the CLI, tests) it runs here.
    """
    if "gevent" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("threading"):
            import gevent

            result: _T = gevent.get_hub().threadpool.apply(fn, args)
            return result
    if "eventlet" in sys.modules:
        from eventlet import patcher

        if patcher.is_monkey_patched("thread"):
            from eventlet import tpool

            executed: _T = tpool.execute(fn, *args)
            return executed
    return fn(*args)


def _password_ok(stored: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def password_ok(stored: str, password: str) -> bool:
    """Whether ``password`` matches the argon2 hash ``stored``, verified off the event
    loop (:func:`_off_loop`). An empty ``stored`` costs the same and never matches."""
    ok = _off_loop(_password_ok, stored or _DUMMY, password)
    return ok and bool(stored)


def verify(session: Session, participant_number: str, password: str) -> Candidate | None:
    """The candidate whose participant number and password these are, or ``None``."""
    number = participant_number.strip().upper()
    cand = session.scalar(select(Candidate).where(Candidate.participant_number == number))
    stored = cand.password_hash if cand is not None else ""
    return cand if password_ok(stored or "", password.strip().upper()) else None
