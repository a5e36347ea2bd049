"""Trainers and third parties: this plugin's own trainer directory, offered to the other
plugins through ``ruang_third_parties``, and look-ups across every plugin's vendors
through ``core.directory`` (the certification plugin's vendors when it is enabled).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.contracts import ThirdParty
from core.directory import third_parties
from plugins.training.errors import N_, TrainingError
from plugins.training.forms import TrainerForm, parse
from plugins.training.models import Trainer

REF_PREFIX = "training:trainer:"


def ref_of(trainer: Trainer) -> str:
    return f"{REF_PREFIX}{trainer.id}"


def as_party(trainer: Trainer) -> ThirdParty:
    contact = " · ".join(p for p in (trainer.organisation, trainer.phone) if p)
    return ThirdParty(ref=ref_of(trainer), name=trainer.name, contact=contact,
                      email=trainer.email, source="training")


def own_parties(session: Session, query: str) -> list[ThirdParty]:
    """Answer ``ruang_third_parties``: active trainers whose name or organisation matches."""
    stmt = select(Trainer).where(Trainer.active.is_(True)).order_by(Trainer.name).limit(200)
    query = query.strip()
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(or_(func.lower(Trainer.name).like(like),
                              func.lower(Trainer.organisation).like(like)))
    return [as_party(t) for t in session.scalars(stmt)]


def directory(session: Session, query: str = "") -> list[ThirdParty]:
    """Every third party enabled plugins know (this plugin's trainers included)."""
    return third_parties(session, query)


def find(session: Session, ref: str) -> ThirdParty | None:
    """The third party ``ref`` as the plugin that owns it describes it now, or ``None``
    (unknown, or its plugin is disabled)."""
    if not ref:
        return None
    for party in directory(session, ""):
        if party.ref == ref:
            return party
    return None


def trainers(session: Session, *, include_inactive: bool = True) -> list[Trainer]:
    stmt = select(Trainer).order_by(Trainer.active.desc(), Trainer.name)
    if not include_inactive:
        stmt = stmt.where(Trainer.active.is_(True))
    return list(session.scalars(stmt))


def save_trainer(session: Session, data: Mapping[str, Any], actor: Any,
                 trainer: Trainer | None = None) -> Trainer:
    raw = dict(data)
    for flag in ("external", "active"):
        # An unticked checkbox sends nothing at all.
        if isinstance(raw.get(flag), str):
            raw[flag] = raw[flag].lower() in ("1", "on", "true", "yes")
        elif flag not in raw:
            raw[flag] = False
    form = parse(TrainerForm, raw)
    values = form.model_dump()
    values["email"] = (values["email"] or "").lower()
    clash = session.scalar(select(Trainer.id).where(
        func.lower(Trainer.name) == form.name.lower(),
        Trainer.id != (trainer.id if trainer else -1)))
    if clash is not None:
        raise TrainingError(N_("A trainer named %(name)s is already in the directory."),
                            kind="duplicate", http=409, fields={"name": "duplicate"},
                            name=form.name)
    created = trainer is None
    if trainer is None:
        trainer = Trainer(created_by=getattr(actor, "id", None), **values)
        session.add(trainer)
        changes = values
    else:
        changes = {k: v for k, v in values.items() if getattr(trainer, k) != v}
        for key, value in changes.items():
            setattr(trainer, key, value)
    session.flush()
    audit(session, "training.trainer.create" if created else "training.trainer.update",
          actor=actor, object_type="training_trainer", object_id=trainer.id,
          details={"changes": sorted(changes)})
    return trainer
