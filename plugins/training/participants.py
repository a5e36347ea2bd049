"""Participants: invitations, registration within the capacity, a waiting list, imports
from a spreadsheet, and attendance (QR check-in or by staff).

Capacity is a promise: a registration that would exceed it goes on the waiting list, and
the first person waiting moves up when someone withdraws. On PostgreSQL the training's row
is locked while seats are counted; on SQLite every write transaction already holds the
database's write lock.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.roles import Role
from core.audit.service import lock_chain
from core.audit.service import record as audit
from core.db import utcnow
from plugins.training import clock, notices
from plugins.training.errors import N_, TrainingError
from plugins.training.errors import t as _
from plugins.training.flow import ACTIVE
from plugins.training.forms import LABELS, ParticipantForm, parse
from plugins.training.models import (
    Participant,
    ParticipantKind,
    ParticipantStatus,
    Training,
)

MAX_IMPORT_ROWS = 2000
MAX_IMPORT_BYTES = 2 * 1024 * 1024
HEADERS = {
    "name": ("name", "nama"),
    "email": ("email", "e-mail", "surel"),
    "kind": ("kind", "jenis", "status"),
    "identifier": ("identifier", "nip", "nim", "nip/nim", "nip / nim"),
    "unit": ("unit", "unit kerja", "fakultas", "prodi"),
}
KIND_WORDS = {"staff": "staff", "staf": "staff", "pegawai": "staff", "dosen": "staff",
              "tendik": "staff", "student": "student", "mahasiswa": "student",
              "students": "student"}


def _lock(session: Session, training: Training) -> None:
    """Serialise seat counting per training (PostgreSQL); SQLite is serialised already.

    Taken before anything is written: a new participant's foreign key share-locks the
    training's row, and two transactions that both did so could not then both upgrade to
    this lock. The audit chain's lock comes first, as everywhere in Ruang, since every
    change here is audited.
    """
    if session.get_bind().dialect.name == "postgresql":
        lock_chain(session)
        session.execute(select(Training.id).where(Training.id == training.id).with_for_update())


def get(session: Session, training: Training, participant_id: int) -> Participant:
    person = session.get(Participant, participant_id)
    if person is None or person.training_id != training.id:
        raise TrainingError(N_("That person is not a participant of this training."),
                            kind="not_found", http=404)
    return person


def of_training(session: Session, training_id: int, *, status: str | None = None
                ) -> list[Participant]:
    stmt = select(Participant).where(Participant.training_id == training_id)
    if status:
        stmt = stmt.where(Participant.status == status)
    return list(session.scalars(stmt.order_by(Participant.name, Participant.id)))


def _registered(session: Session, training_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Participant).where(
        Participant.training_id == training_id,
        Participant.status == ParticipantStatus.REGISTERED.value)) or 0)


def _open_for_people(training: Training) -> None:
    if training.state not in ACTIVE:
        raise TrainingError(N_("Participants are invited and registered once Ka. BPTI has "
                            "approved the training and until it ends."), kind="state", http=409)


def _by_email(session: Session, training: Training, email: str) -> Participant | None:
    return session.scalar(select(Participant).where(
        Participant.training_id == training.id, func.lower(Participant.email) == email.lower()))


# -- invitations -----------------------------------------------------------------------------


@dataclass
class InviteResult:
    invited: list[Participant] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already on the list


def _new(training: Training, form: ParticipantForm, status: str,
         user_id: int | None = None) -> Participant:
    now = utcnow()
    return Participant(training_id=training.id, user_id=user_id, name=form.name,
                       email=form.email, kind=form.kind, identifier=form.identifier,
                       unit=form.unit, status=status,
                       invited_at=now if status == ParticipantStatus.INVITED.value else None,
                       registered_at=now if status == ParticipantStatus.REGISTERED.value
                       else None)


def _user_id_for(session: Session, email: str) -> int | None:
    return session.scalar(select(User.id).where(func.lower(User.email) == email.lower(),
                                                User.active.is_(True)).limit(1))


def invite(session: Session, training: Training, people: Iterable[Mapping[str, Any]],
           actor: Any) -> InviteResult:
    """Invite people (name, email, kind, identifier, unit): each gets an e-mail with their
    personal link to accept or decline. People already on the list are skipped."""
    _open_for_people(training)
    forms = [parse(ParticipantForm, p) for p in people]
    _lock(session, training)
    result = InviteResult()
    seen: set[str] = set()
    for form in forms:
        if form.email in seen or _by_email(session, training, form.email) is not None:
            result.skipped.append(form.email)
            continue
        seen.add(form.email)
        person = _new(training, form, ParticipantStatus.INVITED.value,
                      _user_id_for(session, form.email))
        session.add(person)
        session.flush()
        notices.invitation(session, training, person)
        result.invited.append(person)
    audit(session, "training.invite", actor=actor, object_type="training",
          object_id=training.id, details={"invited": [p.email for p in result.invited],
                                          "skipped": result.skipped})
    return result


GROUPS = {
    "staff": ((Role.STAFF.value, Role.HEAD.value), ParticipantKind.STAFF.value),
    "students": ((Role.CANDIDATE.value,), ParticipantKind.STUDENT.value),
}


def group_members(session: Session, group: str, division: str = "") -> list[dict[str, Any]]:
    """Accounts of a group (``staff``, optionally of one division, or ``students``) with an
    e-mail address, as invitation rows."""
    if group not in GROUPS:
        raise TrainingError(N_("Unknown group %(group)s; choose staff or students."), group=group)
    roles, kind = GROUPS[group]
    stmt = select(User).where(User.role.in_(roles), User.active.is_(True), User.email != "")
    if division:
        stmt = stmt.where(User.division == division)
    return [{"name": u.display_name, "email": u.email, "kind": kind, "unit": u.unit or "",
             "identifier": ""} for u in session.scalars(stmt.order_by(User.full_name))]


# -- registration ----------------------------------------------------------------------------


def _seat_or_wait(session: Session, training: Training, person: Participant) -> str:
    _lock(session, training)
    if _registered(session, training.id) < training.capacity:
        person.status = ParticipantStatus.REGISTERED.value
        person.registered_at = utcnow()
    else:
        person.status = ParticipantStatus.WAITLISTED.value
    person.cancelled_at = None
    session.flush()
    return person.status


def register(session: Session, training: Training, data: Mapping[str, Any], actor: Any,
             *, user_id: int | None = None) -> Participant:
    """Staff register someone (a walk-in too); a full training puts them on the waiting list."""
    _open_for_people(training)
    form = parse(ParticipantForm, data)
    _lock(session, training)
    person = _by_email(session, training, form.email)
    if person is not None and person.status in (ParticipantStatus.REGISTERED.value,
                                                ParticipantStatus.WAITLISTED.value):
        raise TrainingError(N_("%(email)s is already on the list (%(status)s)."), kind="duplicate",
                            http=409, fields={"email": "duplicate"}, email=form.email,
                            status=status_label(person.status))
    if person is None:
        person = _new(training, form, ParticipantStatus.INVITED.value,
                      user_id if user_id is not None else _user_id_for(session, form.email))
        person.invited_at = None
        session.add(person)
        session.flush()
    status = _seat_or_wait(session, training, person)
    audit(session, "training.register", actor=actor, object_type="training",
          object_id=training.id, details={"participant": person.id, "email": person.email,
                                          "status": status})
    notices.registered(session, training, person)
    return person


def self_register(session: Session, training: Training, user: User) -> Participant:
    """A signed-in person registers on the portal while registration is open."""
    if not training.registration_open or training.state not in ACTIVE:
        raise TrainingError(N_("Registration for this training is closed."), kind="closed",
                            http=409)
    _lock(session, training)
    if not user.email:
        raise TrainingError(N_("Your account has no e-mail address; ask BPTI to add one."),
                            kind="invalid")
    person = session.scalar(select(Participant).where(Participant.training_id == training.id,
                                                      Participant.user_id == user.id))
    if person is None:
        person = _by_email(session, training, user.email)
    if person is not None:
        if person.status in (ParticipantStatus.REGISTERED.value,
                             ParticipantStatus.WAITLISTED.value):
            return person
        person.user_id = user.id
        status = _seat_or_wait(session, training, person)
    else:
        kind = (ParticipantKind.STUDENT.value if user.role == Role.CANDIDATE.value
                else ParticipantKind.STAFF.value)
        person = register(session, training, {"name": user.display_name, "email": user.email,
                                              "kind": kind, "unit": user.unit or ""},
                          user, user_id=user.id)
        return person
    audit(session, "training.register", actor=user, object_type="training",
          object_id=training.id, details={"participant": person.id, "status": status})
    notices.registered(session, training, person)
    return person


def accept(session: Session, training: Training, person: Participant) -> str:
    """The invited person accepts through their personal link."""
    _open_for_people(training)
    _lock(session, training)
    if person.status in (ParticipantStatus.REGISTERED.value,
                         ParticipantStatus.WAITLISTED.value):
        return person.status
    status = _seat_or_wait(session, training, person)
    audit(session, "training.accept", actor=f"peserta:{person.email}", object_type="training",
          object_id=training.id, details={"participant": person.id, "status": status})
    notices.registered(session, training, person)
    return status


def cancel(session: Session, training: Training, person: Participant, actor: Any) -> None:
    """Withdraw (or decline an invitation); the first person waiting takes the seat."""
    if person.status == ParticipantStatus.CANCELLED.value:
        return
    if person.checked_in_at is not None:
        raise TrainingError(N_("%(name)s attended already; attendance is not withdrawn."),
                            kind="state", http=409, name=person.name)
    if training.state not in ACTIVE:
        raise TrainingError(N_("The list of participants is closed."), kind="state", http=409)
    _lock(session, training)
    held_seat = person.status == ParticipantStatus.REGISTERED.value
    person.status = ParticipantStatus.CANCELLED.value
    person.cancelled_at = utcnow()
    session.flush()
    audit(session, "training.withdraw", actor=actor if actor is not None
          else f"peserta:{person.email}", object_type="training", object_id=training.id,
          details={"participant": person.id})
    if held_seat:
        promote(session, training)


def promote(session: Session, training: Training) -> list[Participant]:
    """Move people from the waiting list into free seats, first come first served."""
    moved = []
    while _registered(session, training.id) < training.capacity:
        first = session.scalar(select(Participant).where(
            Participant.training_id == training.id,
            Participant.status == ParticipantStatus.WAITLISTED.value)
            .order_by(Participant.created_at, Participant.id).limit(1))
        if first is None:
            break
        first.status = ParticipantStatus.REGISTERED.value
        first.registered_at = utcnow()
        session.flush()
        audit(session, "training.promote", actor="system", object_type="training",
              object_id=training.id, details={"participant": first.id})
        notices.registered(session, training, first)
        moved.append(first)
    return moved


def status_label(status: str) -> str:
    return _({"invited": N_("invited"), "registered": N_("registered"),
              "waitlisted": N_("waiting list"), "cancelled": N_("cancelled")}.get(status, status))


# -- import ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str


class ImportRefused(TrainingError):
    """Rows were refused; ``problems`` says which line and why. Nothing was stored."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        shown = "; ".join(_("line %(n)s", n=p.line) + f": {p.message}" for p in problems[:20])
        more = len(problems) - 20
        if more > 0:
            shown += "; " + _("and %(n)s more", n=more)
        super().__init__(N_("The list was not imported: %(problems)s"), kind="import",
                         problems=shown)


def _rows_from(filename: str, data: bytes) -> list[tuple[int, dict[str, str]]]:
    if not data:
        raise TrainingError(N_("The file is empty."))
    if len(data) > MAX_IMPORT_BYTES:
        raise TrainingError(N_("The file is larger than 2 MB."))
    name = filename.lower()
    raw_rows: list[list[str]]
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise TrainingError(N_("%(name)s is not a readable .xlsx workbook."),
                                name=filename) from None
        sheet = book.worksheets[0]
        raw_rows = [["" if v is None else str(v).strip() for v in row]
                    for row in sheet.iter_rows(values_only=True)]
        book.close()
    elif name.endswith(".csv") or name.endswith(".txt"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise TrainingError(N_("%(name)s is not UTF-8 text; save it as CSV UTF-8."),
                                name=filename) from None
        try:
            dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        raw_rows = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]
    else:
        raise TrainingError(N_("Send a .csv or .xlsx file (got %(name)s)."), name=filename)
    if not raw_rows:
        raise TrainingError(N_("The file is empty."))
    header = [h.strip().lower() for h in raw_rows[0]]
    columns: dict[str, int] = {}
    for key, words in HEADERS.items():
        for i, h in enumerate(header):
            if h in words:
                columns[key] = i
                break
    missing = [k for k in ("name", "email") if k not in columns]
    if missing:
        raise TrainingError(N_("The first row must name the columns; %(missing)s missing "
                            "(columns: name, email, kind, identifier, unit)."),
                            missing=", ".join(missing))
    out = []
    for n, row in enumerate(raw_rows[1:], start=2):
        if not any(row):
            continue
        out.append((n, {key: row[i] if i < len(row) else "" for key, i in columns.items()}))
    if len(out) > MAX_IMPORT_ROWS:
        raise TrainingError(N_("At most %(n)s rows are imported at once."), n=MAX_IMPORT_ROWS)
    return out


def import_file(session: Session, training: Training, filename: str, data: bytes,
                actor: Any, *, mode: str = "invite") -> InviteResult:
    """Invite (or register) everyone listed in a CSV or XLSX file, all or nothing: one bad
    row refuses the file, and the error names every bad line."""
    from plugins.training.errors import form_error

    _open_for_people(training)
    if mode not in ("invite", "register"):
        raise TrainingError(N_("Unknown import mode %(mode)s."), mode=mode)
    rows = _rows_from(filename, data)
    if not rows:
        raise TrainingError(N_("The file lists nobody."))
    problems: list[RowProblem] = []
    people: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        kind = KIND_WORDS.get(row.get("kind", "").strip().lower(), row.get("kind", "") or "staff")
        candidate = {**row, "kind": kind}
        try:
            form = ParticipantForm.model_validate(candidate)
        except ValidationError as exc:
            err = form_error(exc, LABELS)
            problems.append(RowProblem(line, err.translated()))
            continue
        if form.email in seen:
            problems.append(RowProblem(line, _("%(email)s is also on line %(other)s",
                                               email=form.email, other=seen[form.email])))
            continue
        seen[form.email] = line
        people.append(form.model_dump())
    if problems:
        raise ImportRefused(problems)
    if mode == "invite":
        return invite(session, training, people, actor)
    result = InviteResult()
    for person in people:
        existing = _by_email(session, training, person["email"])
        if existing is not None and existing.status != ParticipantStatus.CANCELLED.value:
            result.skipped.append(person["email"])
            continue
        result.invited.append(register(session, training, person, actor))
    return result


# -- attendance ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckIn:
    participant: Participant
    already: bool


def check_in(session: Session, training: Training, person: Participant, actor: Any,
             method: str = "staff") -> CheckIn:
    """Mark ``person`` present. Checking in twice is harmless: the first time stands."""
    if method not in ("qr", "staff"):
        raise TrainingError(N_("Unknown check-in method %(method)s."), method=method)
    if person.training_id != training.id:
        raise TrainingError(N_("This code belongs to another training."), kind="wrong_training",
                            http=409)
    if training.state != "held":
        raise TrainingError(N_("Check-in opens when staff start the training (it is now "
                            "%(state)s)."), kind="state", http=409,
                            state=_state(training.state))
    if person.status != ParticipantStatus.REGISTERED.value:
        raise TrainingError(N_("%(name)s is not registered (%(status)s); register them first."),
                            kind="not_registered", http=409, name=person.name,
                            status=status_label(person.status))
    if person.checked_in_at is not None:
        return CheckIn(person, True)
    person.checked_in_at = utcnow()
    person.checked_in_by = getattr(actor, "id", None)
    person.checkin_method = method
    session.flush()
    audit(session, "training.checkin", actor=actor, object_type="training",
          object_id=training.id, details={"participant": person.id, "method": method})
    return CheckIn(person, False)


def undo_check_in(session: Session, training: Training, person: Participant, actor: Any
                  ) -> None:
    if training.state != "held":
        raise TrainingError(N_("Attendance is changed only while the training is held."),
                            kind="state", http=409)
    if person.checked_in_at is None:
        return
    was = clock.fmt(person.checked_in_at)
    person.checked_in_at = None
    person.checked_in_by = None
    person.checkin_method = ""
    session.flush()
    audit(session, "training.checkin.undo", actor=actor, object_type="training",
          object_id=training.id, details={"participant": person.id, "was": was})


def _state(state: str) -> str:
    from plugins.training.flow import state_label

    return state_label(state).lower()
