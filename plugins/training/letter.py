"""The numbered letter of an approved training: Ka. BPTI's approval of the proposal, with
what was approved (theme, audience, goals, schedule, trainers, budget, third party).

The number is issued by the records service when Ka. BPTI approves; the PDF is drawn
from the training whenever it is asked for, in the instance's language.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.rooms.service import get_lab
from core.workflow.engine import history
from plugins.training import clock
from plugins.training.errors import N_, TrainingError, record_language
from plugins.training.errors import t as _
from plugins.training.flow import WORKFLOW_NAME
from plugins.training.models import Training
from plugins.training.options import setting
from plugins.training.pdfdoc import Document, rupiah

AUDIENCES = {"staff": N_("Staff"), "students": N_("Students"), "mixed": N_("Staff and students")}


def where_text(training: Training, lab: Any) -> str:
    """"Lab Komputer 1 (LAB-1), lantai 2" from the lab (or ``None``) and the venue."""
    parts = []
    if lab is not None:
        parts.append(f"{lab.name} ({lab.code})")
    if training.venue:
        parts.append(training.venue)
    return ", ".join(parts)


def where(session: Session, training: Training) -> str:
    lab = get_lab(session, training.lab_id) if training.lab_id is not None else None
    return where_text(training, lab)


def approver(session: Session, training: Training) -> tuple[str, str]:
    """(name, date) of the approval, from the workflow's history."""
    for step in reversed(history(session, WORKFLOW_NAME, training.id)):
        if step.action == "approve":
            return step.actor_name, clock.fmt(step.at, "%d-%m-%Y")
    return "", ""


def proposal_pairs(session: Session, training: Training) -> list[tuple[str, Any]]:
    trainers = "\n".join(f"{x.name}" + (f" ({x.role})" if x.role else "")
                         for x in training.trainers)
    party = training.third_party_name
    if party and training.third_party_contact:
        party += f" ({training.third_party_contact})"
    return [
        (_("Title"), training.title),
        (_("Theme"), training.theme),
        (_("Audience"), _(AUDIENCES.get(training.audience, training.audience))
         + (f" — {training.audience_notes}" if training.audience_notes else "")),
        (_("Goals"), training.goals),
        (_("Schedule"), clock.span(training.starts_at, training.ends_at)),
        (_("Venue"), where(session, training)),
        (_("Capacity"), _("%(n)s participants", n=training.capacity)),
        (_("Trainers"), trainers),
        (_("Third party"), party),
        (_("Budget"), rupiah(training.budget)
         + (f"\n{training.budget_notes}" if training.budget_notes else "")),
    ]


def pdf(session: Session, training: Training) -> bytes:
    with record_language():
        return _pdf(session, training)


def _pdf(session: Session, training: Training) -> bytes:
    if not training.letter_number:
        raise TrainingError(N_("The letter is issued when Ka. BPTI approves the proposal."),
                            kind="state", http=409)
    doc = Document(_("Training approval letter"), training.letter_number)
    doc.add_page()
    doc.title_block(_("APPROVAL OF A TRAINING (DIKLAT)"),
                    _("Number: %(number)s", number=training.letter_number))
    name, day = approver(session, training)
    doc.pairs([(_("Subject"), _("Holding the training \"%(title)s\"", title=training.title)),
               (_("Date"), day or clock.fmt(training.letter_at, "%d-%m-%Y"))])
    doc.ln(3)
    doc.paragraph(_("Ka. BPTI approves the training proposed by BPTI described below. The "
                    "responsible staff prepare it, invite the participants, supervise and "
                    "evaluate it, and document it in a report."))
    doc.ln(2)
    doc.pairs(proposal_pairs(session, training))
    signer_title = str(setting(session, "training.signer_title") or "Kepala BPTI")
    signer = str(setting(session, "training.signer_name") or "") or name
    doc.signature(day or clock.fmt(training.letter_at, "%d-%m-%Y"), signer_title, signer)
    return doc.finish()
