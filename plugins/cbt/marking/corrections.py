"""Answer-key corrections: fix an item's key for one exam, or void the item, and rescore.

Scores are recomputed from the answer log, the keys and these corrections every time
results are read (``plugins.cbt.analysis.source.scored_papers``), so a correction is a
new row, never an edit of stored scores. What it changed is logged: each submitted
attempt's total and maximum before and after, in a :class:`RescoreRun` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from plugins.cbt import crypto
from plugins.cbt.content import ItemKey
from plugins.cbt.marking.models import KeyCorrection, RescoreRun
from plugins.cbt.models import Attempt, AttemptItem, Exam, ItemVersion

Kind = Literal["key", "full", "drop"]
KIND_TEXT = {"key": "Kunci dikoreksi", "full": "Soal dianulir: nilai penuh untuk semua",
             "drop": "Soal dianulir: tidak dihitung"}
TABLE = KeyCorrection.__tablename__


class CorrectionError(ValueError):
    """A correction refused; the message says why."""


class CorrectionForm(BaseModel):
    """A correction as staff give it: ``correct`` names the options (choice ids) to accept
    for choice items; ``truth`` the right answer of a true/false item."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    item_version_id: int
    kind: Kind
    reason: str = Field(min_length=5, max_length=2000)
    correct: list[str] = Field(default_factory=list, max_length=26)
    truth: bool | None = None

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say why the key is corrected")
        return value


@dataclass(frozen=True)
class Applied:
    kind: Kind
    key: ItemKey | None


def active_corrections(session: Session, exam: Exam) -> dict[int, Applied]:
    """The correction that applies to each corrected item version of ``exam``."""
    from plugins.cbt.marking.ratings import marking_ready

    if not marking_ready(session):
        return {}
    out: dict[int, Applied] = {}
    for row in session.scalars(select(KeyCorrection).where(
            KeyCorrection.exam_id == exam.id, KeyCorrection.revoked.is_(False))
            .order_by(KeyCorrection.id)):
        key = None
        if row.kind == "key":
            key = ItemKey.model_validate(crypto.unseal_json(
                session, exam.data_key_id, TABLE, row.id, "key", row.key_enc))
        out[row.item_version_id] = Applied(row.kind, key)  # type: ignore[arg-type]
    return out


def used_versions(session: Session, exam: Exam) -> list[ItemVersion]:
    """The item versions on the exam's papers (what a correction may apply to)."""
    ids = session.scalars(select(AttemptItem.item_version_id).distinct()
                          .join(Attempt, Attempt.id == AttemptItem.attempt_id)
                          .where(Attempt.exam_id == exam.id))
    versions = [session.get(ItemVersion, v) for v in ids]
    return sorted((v for v in versions if v is not None), key=lambda v: (v.item_id, v.id))


def corrected_key(original: ItemKey, item_type: str, form: CorrectionForm,
                  option_ids: list[str]) -> ItemKey:
    """The new key ``form`` asks for, built on the item's own (feedback etc. stay)."""
    if item_type in ("single", "multiple"):
        chosen = [c for c in dict.fromkeys(form.correct)]
        unknown = set(chosen) - set(option_ids)
        if unknown:
            raise CorrectionError(f"the item has no option {', '.join(sorted(unknown))}")
        if not chosen:
            raise CorrectionError("choose the option(s) to accept as correct")
        if item_type == "single":
            # Accepting two options of a single-choice item: either earns full marks.
            weights = {c: 1.0 for c in chosen}
        else:
            share = 1.0 / len(chosen)
            weights = {c: share for c in chosen}
            weights |= {c: w for c, w in original.weights.items() if w < 0 and c not in chosen}
        return original.model_copy(update={"weights": weights})
    if item_type == "truefalse":
        if form.truth is None:
            raise CorrectionError("say whether the statement is true or false")
        return original.model_copy(update={"truth": form.truth})
    raise CorrectionError("only choice and true/false keys can be corrected here; void the "
                          "item instead")


def totals(session: Session, exam: Exam) -> dict[int, tuple[float, float, bool]]:
    """Each submitted attempt's (score, maximum, essays pending), recomputed now."""
    from plugins.cbt.analysis.source import scored_papers

    out: dict[int, tuple[float, float, bool]] = {}
    for paper in scored_papers(session, exam):
        out[paper.attempt_id] = (
            round(sum(i.score or 0.0 for i in paper.items), 4),
            round(sum(i.spec.max_points for i in paper.items), 4),
            any(i.score is None for i in paper.items))
    return out


def correct(session: Session, exam: Exam, form: CorrectionForm, actor: Any) -> RescoreRun:
    """Apply ``form`` to ``exam``, rescore every attempt and log what changed, with why."""
    from plugins.cbt.bank import open_version

    version = session.get(ItemVersion, form.item_version_id)
    if version is None or version.id not in {v.id for v in used_versions(session, exam)}:
        raise CorrectionError("this item version is not on any paper of the exam")
    key: ItemKey | None = None
    if form.kind == "key":
        if version.type == "essay":
            raise CorrectionError("an essay has no key to correct; void it or re-mark it")
        content, original = open_version(session, version)
        current = active_corrections(session, exam).get(version.id)
        if current is not None and current.key is not None:
            original = current.key
        key = corrected_key(original, version.type, form, [c.id for c in content.choices])
    before = totals(session, exam)
    row = KeyCorrection(exam_id=exam.id, item_version_id=version.id, kind=form.kind,
                        reason=form.reason, created_by=getattr(actor, "id", None))
    session.add(row)
    session.flush()
    if key is not None:
        row.key_enc = crypto.seal_json(session, exam.data_key_id, TABLE, row.id, "key",
                                       key.model_dump(mode="json"))
    session.flush()
    after = totals(session, exam)
    changes: list[dict[str, Any]] = []
    for attempt_id in sorted(set(before) | set(after)):
        b = before.get(attempt_id, (0.0, 0.0, False))
        a = after.get(attempt_id, (0.0, 0.0, False))
        changes.append({"attempt": attempt_id, "before": b[0], "after": a[0],
                        "max_before": b[1], "max_after": a[1]})
    changed = sum(1 for c in changes
                  if c["before"] != c["after"] or c["max_before"] != c["max_after"])
    run = RescoreRun(exam_id=exam.id, correction_id=row.id, reason=form.reason,
                     attempts=len(changes), changed=changed, totals=changes,
                     by=getattr(actor, "id", None))
    session.add(run)
    session.flush()
    audit(session, "cbt.key.corrected", actor=actor, object_type="cbt_exam", object_id=exam.id,
          details={"item_version": version.id, "item": version.item_id, "kind": form.kind,
                   "reason": form.reason, "attempts": len(changes), "changed": changed,
                   "correction": row.id, "rescore": run.id})
    return run


def history(session: Session, exam: Exam) -> list[tuple[KeyCorrection, RescoreRun | None]]:
    runs = {r.correction_id: r for r in session.scalars(
        select(RescoreRun).where(RescoreRun.exam_id == exam.id))}
    rows = session.scalars(select(KeyCorrection).where(KeyCorrection.exam_id == exam.id)
                           .order_by(KeyCorrection.id.desc()))
    return [(c, runs.get(c.id)) for c in rows]
