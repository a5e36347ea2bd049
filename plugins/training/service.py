"""Trainings from proposal to documented event: create, edit, move through the workflow.

Every change goes through here, inside the caller's ``db.transaction()``, and is audited.
:func:`act` is the one way to move a training: it takes the workflow transition and does
what goes with it (the numbered letter on approval, the room while it is prepared, the
numbered report when it is documented), so that either all of it happens or none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.accounts.access import can
from core.audit.service import record as audit
from core.contracts import RoomRequest
from core.db import utcnow
from core.records.service import issue as issue_number
from core.rooms import service as rooms
from core.workflow.engine import WorkflowError
from plugins.training import clock, parties
from plugins.training.errors import N_, TrainingError
from plugins.training.flow import ACTIVE, EDITABLE, TRAINING
from plugins.training.forms import (
    ChecklistForm,
    ProposalForm,
    ThirdPartyStatusForm,
    parse,
)
from plugins.training.models import (
    ChecklistItem,
    CheckMode,
    Participant,
    ParticipantStatus,
    SupervisionNote,
    Training,
    TrainingTrainer,
)
from plugins.training.options import setting

LETTER_CODE = "DIKLAT"
REPORT_CODE = "DIKLAT-LAP"
CERT_CODE = "DIKLAT-SRT"
ROOM_SOURCE = "training"

# What staff may still change once Ka. BPTI approved: the practical details, not what was
# approved (theme, goals, budget).
PREPARATION_FIELDS = ("description", "audience_notes", "starts_at", "ends_at", "venue",
                      "lab_id", "capacity", "trainer_refs", "trainer_lines", "check_mode",
                      "pre_ref", "post_ref")


# -- reading ---------------------------------------------------------------------------------


def get(session: Session, training_id: int) -> Training:
    training = session.get(Training, training_id)
    if training is None:
        raise TrainingError(N_("There is no training %(id)s."), kind="not_found", http=404,
                            id=training_id)
    return training


def sees_all(user: Any) -> bool:
    return can(user, "training.view_all")


def participant_of(session: Session, training: Training, user: Any) -> Participant | None:
    uid = getattr(user, "id", None)
    if uid is None:
        return None
    return session.scalar(select(Participant).where(Participant.training_id == training.id,
                                                    Participant.user_id == uid))


def may_see(session: Session, training: Training, user: Any) -> bool:
    """Staff see every training; others see the ones open for registration and their own."""
    if sees_all(user):
        return True
    if training.registration_open and training.state in ACTIVE:
        return True
    return participant_of(session, training, user) is not None


def listing(session: Session, user: Any, *, state: str = "", year: int | None = None,
            query: str = "") -> list[Training]:
    stmt = select(Training).order_by(Training.starts_at.desc())
    if state:
        stmt = stmt.where(Training.state == state)
    if year:
        start = datetime(year, 1, 1, tzinfo=clock.tz())
        stmt = stmt.where(Training.starts_at >= start,
                          Training.starts_at < start.replace(year=year + 1))
    if query.strip():
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Training.title).like(like),
                              func.lower(Training.theme).like(like)))
    if not sees_all(user):
        mine = select(Participant.training_id).where(
            Participant.user_id == getattr(user, "id", -1))
        stmt = stmt.where(or_(
            (Training.registration_open.is_(True)) & Training.state.in_(ACTIVE),
            Training.id.in_(mine)))
    return list(session.scalars(stmt.limit(500)))


def counts(session: Session, training_id: int) -> dict[str, int]:
    """Participants by status, and how many attended."""
    rows = session.execute(select(Participant.status, func.count()).where(
        Participant.training_id == training_id).group_by(Participant.status)).all()
    out = {s.value: 0 for s in ParticipantStatus}
    out.update({status: int(n) for status, n in rows})
    out["attended"] = int(session.scalar(select(func.count()).select_from(Participant).where(
        Participant.training_id == training_id,
        Participant.checked_in_at.is_not(None))) or 0)
    return out


def seats_left(session: Session, training: Training) -> int:
    return max(training.capacity - counts(session, training.id)["registered"], 0)


# -- proposal --------------------------------------------------------------------------------


def _proposal(data: Mapping[str, Any]) -> ProposalForm:
    return parse(ProposalForm, data)


def _check_lab(session: Session, lab_id: int | None) -> None:
    if lab_id is None:
        return
    lab = rooms.get_lab(session, lab_id)
    if lab is None:
        raise TrainingError(N_("There is no lab %(id)s."), fields={"lab_id": "unknown"},
                            id=lab_id)
    if not lab.active:
        raise TrainingError(N_("Lab %(code)s is not in use."), fields={"lab_id": "inactive"},
                            code=lab.code)


def _resolve_party(session: Session, ref: str, training: Training | None
                   ) -> tuple[str, str, str]:
    """(ref, name, contact) of the chosen third party, checked against the directory.

    A ref that is no longer listed (its plugin was switched off) may stay as it was.
    """
    if not ref:
        return "", "", ""
    party = parties.find(session, ref)
    if party is None:
        if training is not None and training.third_party_ref == ref:
            return ref, training.third_party_name, training.third_party_contact
        raise TrainingError(N_("The third party %(ref)s is not in the directory."),
                            fields={"third_party_ref": "unknown"}, ref=ref)
    contact = " · ".join(p for p in (party.contact, party.email) if p)
    return party.ref, party.name, contact[:300]


def _trainer_rows(session: Session, form: ProposalForm, training: Training | None
                  ) -> list[TrainingTrainer]:
    kept = {t.ref: t for t in (training.trainers if training else []) if t.ref}
    rows: list[TrainingTrainer] = []
    for ref in dict.fromkeys(form.trainer_refs):
        party = parties.find(session, ref)
        if party is None:
            old = kept.get(ref)
            if old is None:
                raise TrainingError(N_("The trainer %(ref)s is not in the directory."),
                                    fields={"trainer_refs": "unknown"}, ref=ref)
            rows.append(TrainingTrainer(name=old.name, role=old.role, ref=ref,
                                        email=old.email))
            continue
        rows.append(TrainingTrainer(name=party.name, role="", ref=party.ref,
                                    email=party.email))
    for line in form.trainer_lines:
        rows.append(TrainingTrainer(name=line.name, role=line.role, ref="",
                                    email=str(line.email or "").lower()))
    for position, row in enumerate(rows):
        row.position = position
    return rows


def _check_refs(session: Session, form: ProposalForm) -> None:
    if form.check_mode != CheckMode.EXTERNAL.value:
        return
    from plugins.training.assessments import available

    known = {a.ref for a in available(session)}
    for field in ("pre_ref", "post_ref"):
        ref = getattr(form, field)
        if ref not in known:
            raise TrainingError(N_("The exam %(ref)s is not offered by any enabled plugin."),
                                fields={field: "unknown"}, ref=ref)


def _apply(training: Training, form: ProposalForm, only: Sequence[str] | None = None
           ) -> dict[str, Any]:
    values: dict[str, Any] = form.model_dump(exclude={"trainer_refs", "trainer_lines",
                                                      "third_party_ref"})
    values["starts_at"] = clock.aware(form.starts_at)
    values["ends_at"] = clock.aware(form.ends_at)
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if only is not None and key not in only:
            continue
        old = getattr(training, key, None)
        if old != value:
            changes[key] = [_jsonable(old), _jsonable(value)]
            setattr(training, key, value)
    return changes


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def create(session: Session, data: Mapping[str, Any], actor: Any) -> Training:
    """A new proposal in the draft state, drafted by ``actor`` (BPTI staff)."""
    form = _proposal(data)
    _check_lab(session, form.lab_id)
    _check_refs(session, form)
    ref, name, contact = _resolve_party(session, form.third_party_ref, None)
    training = Training(created_by=getattr(actor, "id", None),
                        division=getattr(actor, "division", None),
                        third_party_ref=ref, third_party_name=name,
                        third_party_contact=contact)
    _apply(training, form)
    training.trainers = _trainer_rows(session, form, None)
    TRAINING.start(session, training, actor)
    audit(session, "training.create", actor=actor, object_type="training",
          object_id=training.id, details={"title": training.title, "theme": training.theme})
    return training


def update(session: Session, training: Training, data: Mapping[str, Any], actor: Any
           ) -> dict[str, Any]:
    """Change a proposal: everything while it is a draft, the practical details while it is
    prepared. A new time or lab moves the room reservation; the capacity cannot drop
    below the people already registered. Returns the changed fields."""
    if training.state not in (*EDITABLE, "preparation"):
        raise TrainingError(N_("A training that is %(state)s cannot be changed."), kind="state",
                            http=409, state=_state_word(training.state))
    form = _proposal(data)
    _check_lab(session, form.lab_id)
    _check_refs(session, form)
    registered = counts(session, training.id)["registered"]
    if form.capacity < registered:
        raise TrainingError(N_("%(n)s people are registered; the capacity cannot be lower."),
                            fields={"capacity": "below"}, n=registered)
    drafting = training.state in EDITABLE
    before_room = (training.lab_id, training.starts_at, training.ends_at, training.capacity)
    changes = _apply(training, form, None if drafting else PREPARATION_FIELDS)
    if drafting:
        ref, name, contact = _resolve_party(session, form.third_party_ref, training)
        if ref != training.third_party_ref:
            changes["third_party"] = [training.third_party_name, name]
        training.third_party_ref, training.third_party_name = ref, name
        training.third_party_contact = contact
    old_trainers = [(t.name, t.ref) for t in training.trainers]
    new_rows = _trainer_rows(session, form, training)
    if [(t.name, t.ref) for t in new_rows] != old_trainers:
        training.trainers = new_rows
        changes["trainers"] = [[n for n, _r in old_trainers], [t.name for t in new_rows]]
    session.flush()
    after_room = (training.lab_id, training.starts_at, training.ends_at, training.capacity)
    if training.state == "preparation" and before_room != after_room:
        _move_room(session, training, actor)
    if changes:
        audit(session, "training.update", actor=actor, object_type="training",
              object_id=training.id, details={"changes": changes})
        if training.state == "preparation" and ("starts_at" in changes or "ends_at" in changes
                                                or "lab_id" in changes or "venue" in changes):
            from plugins.training import notices

            notices.rescheduled(session, training)
    return changes


def _state_word(state: str) -> str:
    from plugins.training.flow import state_label

    return state_label(state).lower()


# -- the workflow ----------------------------------------------------------------------------


def act(session: Session, training: Training, action: str, actor: Any,
        comment: str = "") -> str:
    """Take workflow ``action`` on ``training`` and everything that goes with it; returns
    the new state. A refusal raises :class:`WorkflowError` or :class:`TrainingError`."""
    if action == "begin" and training.check_mode == CheckMode.QUIZ.value:
        from plugins.training.quiz import questions

        if not questions(session, training.id):
            raise TrainingError(N_("Write the questions of the knowledge check first, or choose "
                                "no knowledge check."), kind="state", http=409)
    TRAINING.apply(session, training, action, actor, comment)
    if action == "approve":
        _on_approve(session, training, actor)
    elif action in ("cancel", "reject"):
        training.registration_open = False
        if training.room_reference:
            release_room(session, training, actor)
    elif action == "evaluate":
        training.registration_open = False
    elif action == "document":
        from plugins.training.report import issue_report

        issue_report(session, training, actor)
    session.flush()
    return training.state


def _on_approve(session: Session, training: Training, actor: Any) -> None:
    record = issue_number(session, LETTER_CODE, ref_type="training", ref_id=training.id,
                          actor=actor)
    training.letter_number = record.number
    training.letter_at = record.issued_at
    labels = [str(x) for x in (setting(session, "training.checklist") or [])]
    if training.third_party_name:
        labels.insert(0, f"Hubungi pihak ketiga: {training.third_party_name}")
    existing = {item.label for item in training.checklist}
    for label in labels:
        if label and label not in existing:
            training.checklist.append(ChecklistItem(label=label[:300],
                                                    position=len(training.checklist)))
    if training.third_party_ref:
        training.third_party_status = "to_contact"
    if training.lab_id is not None:
        try:
            reserve_room(session, training, actor)
        except TrainingError as exc:
            # Approval stands; the refusal shows on the page and staff choose again.
            training.room_notes = str(exc)


# -- the room --------------------------------------------------------------------------------


def reserve_room(session: Session, training: Training, actor: Any) -> str:
    """Reserve the training's lab through ``core.rooms`` (the lab plugin answers when it is
    enabled); returns the reference, or raises :class:`TrainingError` with the reason."""
    if training.lab_id is None:
        raise TrainingError(N_("Choose a lab first."), kind="state", http=409)
    if training.state not in ACTIVE:
        raise TrainingError(N_("Only an approved training reserves a lab."), kind="state", http=409)
    answer = rooms.reserve(session, RoomRequest(
        lab_id=training.lab_id, start=training.starts_at, end=training.ends_at,
        purpose=f"Diklat: {training.title}"[:200], source=ROOM_SOURCE,
        source_ref=f"training:{training.id}", requested_by=getattr(actor, "id", None),
        seats=training.capacity))
    if not answer.granted:
        training.room_reference = ""
        raise TrainingError(N_("The lab was not reserved: %(reason)s"), kind="room", http=409,
                            reason=answer.reason + (
                                " (" + "; ".join(answer.conflicts) + ")"
                                if answer.conflicts else ""))
    training.room_reference = answer.reference
    # Without the lab plugin the core lists what ruang_room_busy reports, this training too.
    own = f"Diklat: {training.title} ({ROOM_SOURCE})"
    conflicts = tuple(c for c in answer.conflicts if c != own)
    training.room_notes = "; ".join(conflicts)
    audit(session, "training.room.reserve", actor=actor, object_type="training",
          object_id=training.id, details={"reference": answer.reference,
                                          "lab_id": training.lab_id,
                                          "conflicts": list(conflicts)})
    return answer.reference


def release_room(session: Session, training: Training, actor: Any) -> None:
    if not training.room_reference:
        return
    rooms.release(session, training.room_reference)
    audit(session, "training.room.release", actor=actor, object_type="training",
          object_id=training.id, details={"reference": training.room_reference})
    training.room_reference = ""


def _move_room(session: Session, training: Training, actor: Any) -> None:
    if training.room_reference:
        release_room(session, training, actor)
    training.room_notes = ""
    if training.lab_id is not None:
        reserve_room(session, training, actor)


# -- preparation -----------------------------------------------------------------------------


def _preparing(training: Training) -> None:
    if training.state not in ACTIVE:
        raise TrainingError(N_("The preparation of a training that is %(state)s is closed."),
                            kind="state", http=409, state=_state_word(training.state))


def add_checklist_item(session: Session, training: Training, data: Mapping[str, Any],
                       actor: Any) -> ChecklistItem:
    _preparing(training)
    form = parse(ChecklistForm, data)
    item = ChecklistItem(label=form.label, position=len(training.checklist))
    training.checklist.append(item)
    session.flush()
    audit(session, "training.checklist.add", actor=actor, object_type="training",
          object_id=training.id, details={"label": form.label})
    return item


def tick(session: Session, training: Training, item_id: int, done: bool, actor: Any
         ) -> ChecklistItem:
    _preparing(training)
    item = next((i for i in training.checklist if i.id == item_id), None)
    if item is None:
        raise TrainingError(N_("That checklist item is not part of this training."),
                            kind="not_found", http=404)
    if item.done == done:
        return item
    item.done = done
    item.done_at = utcnow() if done else None
    item.done_by = getattr(actor, "id", None) if done else None
    item.done_by_name = str(getattr(actor, "display_name", "") or "") if done else ""
    session.flush()
    audit(session, "training.checklist.tick" if done else "training.checklist.untick",
          actor=actor, object_type="training", object_id=training.id,
          details={"item": item.id, "label": item.label})
    return item


def set_registration(session: Session, training: Training, open_: bool, actor: Any) -> None:
    if open_ and training.state not in ACTIVE:
        raise TrainingError(N_("Registration opens once Ka. BPTI has approved the training."),
                            kind="state", http=409)
    if training.registration_open == open_:
        return
    training.registration_open = open_
    session.flush()
    audit(session, "training.registration.open" if open_ else "training.registration.close",
          actor=actor, object_type="training", object_id=training.id)


def set_third_party_status(session: Session, training: Training, data: Mapping[str, Any],
                           actor: Any) -> None:
    """Record where the contact with the third party stands (the SOP's "contact the third
    party"): contacted, confirmed or declined, with a note."""
    if not training.third_party_ref and not training.third_party_name:
        raise TrainingError(N_("This training involves no third party."), kind="state", http=409)
    _preparing(training)
    form = parse(ThirdPartyStatusForm, data)
    old = training.third_party_status
    training.third_party_status = form.status
    if form.text:
        session.add(SupervisionNote(
            training_id=training.id, category="third_party",
            text=f"{training.third_party_name}: {form.text}",
            author_id=getattr(actor, "id", None),
            author_name=str(getattr(actor, "display_name", "") or "")))
    session.flush()
    audit(session, "training.third_party", actor=actor, object_type="training",
          object_id=training.id, details={"from": old, "to": form.status,
                                          "party": training.third_party_ref})


# -- supervision -----------------------------------------------------------------------------


def add_note(session: Session, training: Training, data: Mapping[str, Any], actor: Any
             ) -> SupervisionNote:
    from plugins.training.forms import NoteForm

    if training.state not in ("preparation", "held", "evaluated"):
        raise TrainingError(N_("Supervision notes are written while the training is prepared, "
                            "held or evaluated."), kind="state", http=409)
    form = parse(NoteForm, data)
    note = SupervisionNote(training_id=training.id, category=form.category, text=form.text,
                           author_id=getattr(actor, "id", None),
                           author_name=str(getattr(actor, "display_name", "") or ""))
    session.add(note)
    session.flush()
    audit(session, "training.note", actor=actor, object_type="training",
          object_id=training.id, details={"note": note.id, "category": form.category})
    return note


def notes(session: Session, training_id: int) -> list[SupervisionNote]:
    return list(session.scalars(select(SupervisionNote).where(
        SupervisionNote.training_id == training_id).order_by(SupervisionNote.created_at,
                                                             SupervisionNote.id)))


__all__ = ["CERT_CODE", "LETTER_CODE", "REPORT_CODE", "TrainingError", "WorkflowError", "act",
           "create", "get", "update"]
