"""Read an exam's submitted papers from the CBT tables as plain analysis input.

Each submitted attempt's items are scored here from the candidates' latest answers (the
delivery answer log, mapped back to authored option ids by ``plugins.cbt.delivery.paper``)
with the same rules as ``plugins.cbt.scoring``, and the exam's negative marking, under
the exam's key corrections (``plugins.cbt.marking.corrections``: a corrected key, or an
item voided with full marks or dropped). Essays stay unscored (``None``) until their
final mark (``plugins.cbt.marking.ratings``), so the analysis counts them as pending.
Nothing here is stored: the same data always gives the same scores. Time on an item is
estimated from the answer log: the time from the previous change (or the start) to each
change of that item, summed; an item never answered has no time.

The delivery tables are read only when they exist (the plugin's migration made them); an
instance without them yields no papers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from plugins.cbt import scoring
from plugins.cbt.analysis.stats import ExamAnalysis, ItemSpec, Response, analyse
from plugins.cbt.models import Attempt, Candidate, Exam, ExamSection, ItemVersion

DELIVERY_TABLES = ("cbt_delivery_attempts", "cbt_answers")
CHOICE_TYPES = ("single", "multiple", "truefalse")


@dataclass(frozen=True)
class ScoredItem:
    position: int
    spec: ItemSpec
    item_type: str
    score: float | None
    choices: tuple[str, ...]
    answered: bool
    seconds: float | None
    section_id: int | None


@dataclass(frozen=True)
class ScoredPaper:
    attempt_id: int
    candidate: Candidate
    submitted_at: datetime | None
    items: list[ScoredItem]


def delivery_ready(session: Session) -> bool:
    names = set(inspect(session.get_bind()).get_table_names())
    return all(t in names for t in DELIVERY_TABLES)


def _plain(text: str, limit: int = 80) -> str:
    words = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text))).strip()
    return words if len(words) <= limit else words[:limit - 1].rstrip() + "…"


def _answered(value: Any) -> bool:
    if value is None or value == "" or value == [] or value == {}:
        return False
    if isinstance(value, list):
        return any(v is not None for v in value)
    return True


def _spec(session: Session, version: ItemVersion, points: float,
          cache: dict[int, tuple[Any, Any]], corrected: Any = None) -> tuple[ItemSpec, Any, Any]:
    from plugins.cbt.bank import open_version

    if version.id not in cache:
        cache[version.id] = open_version(session, version)
    content, key = cache[version.id]
    if corrected is not None:
        key = corrected
    title = content.title or _plain(content.stem) or f"Soal {version.item_id}"
    label = f"#{version.item_id} {title}"
    if version.type in ("single", "multiple"):
        options = tuple(c.id for c in content.choices)
        correct = frozenset(cid for cid, w in key.weights.items() if w > 0 and cid in options)
        spec = ItemSpec(str(version.id), label, points, options, correct)
    elif version.type == "truefalse":
        truth = "true" if key.truth else "false"
        spec = ItemSpec(str(version.id), label, points, ("true", "false"),
                        frozenset({truth}), ("Benar", "Salah"))
    else:
        spec = ItemSpec(str(version.id), label, points)
    return spec, content, key


def _choices(item_type: str, response: Any) -> tuple[str, ...]:
    if item_type == "single" and isinstance(response, str):
        return (response,)
    if item_type == "multiple" and isinstance(response, list):
        return tuple(str(x) for x in response)
    if item_type == "truefalse" and isinstance(response, bool):
        return ("true" if response else "false",)
    return ()


def _seconds(started: datetime | None, log: list[tuple[int, datetime]]) -> dict[int, float]:
    spent: dict[int, float] = {}
    previous = started
    for position, at in log:
        if previous is not None and at >= previous:
            spent[position] = spent.get(position, 0.0) + (at - previous).total_seconds()
        previous = at
    return spent


def scored_papers(session: Session, exam: Exam) -> Iterator[ScoredPaper]:
    """Every submitted attempt of ``exam``, item by item, scored."""
    if not delivery_ready(session):
        return
    from plugins.cbt.delivery.models import Answer, DeliveryAttempt
    from plugins.cbt.delivery.paper import responses
    from plugins.cbt.marking.corrections import active_corrections
    from plugins.cbt.marking.ratings import final_marks

    corrections = active_corrections(session, exam)
    marks = final_marks(session, exam)
    cache: dict[int, tuple[Any, Any]] = {}
    rows = session.execute(
        select(Attempt, DeliveryAttempt, Candidate)
        .join(DeliveryAttempt, DeliveryAttempt.attempt_id == Attempt.id)
        .join(Candidate, Candidate.id == Attempt.candidate_id)
        .where(Attempt.exam_id == exam.id, DeliveryAttempt.state == "submitted")
        .order_by(Candidate.participant_number, Attempt.number))
    for attempt, delivery, candidate in rows:
        log = list(session.execute(
            select(Answer.position, Answer.value, Answer.at)
            .where(Answer.attempt_id == attempt.id).order_by(Answer.seq)))
        latest = {int(p): v for p, v, _at in log}
        authored = responses(session, attempt, latest)
        spent = _seconds(delivery.started_at, [(int(p), at) for p, _v, at in log])
        items: list[ScoredItem] = []
        for ai in attempt.items:
            version = session.get(ItemVersion, ai.item_version_id)
            if version is None:
                continue
            fix = corrections.get(version.id)
            if fix is not None and fix.kind == "drop":
                continue  # voided and left out: in no total, no maximum, no statistic
            spec, content, key = _spec(session, version, ai.points, cache,
                                       fix.key if fix is not None else None)
            response = authored.get(ai.position)
            answered = _answered(latest.get(ai.position)) and _answered(response)
            if fix is not None and fix.kind == "full":
                points: float | None = ai.points
            elif version.type == "essay":
                points = marks.get(ai.id)
            else:
                share = scoring.fraction(version.type, content, key,
                                         response if answered else None)
                points = scoring.points(share, ai.points, exam.negative_marking,
                                        answered=answered)
            items.append(ScoredItem(
                ai.position, spec, version.type, points,
                _choices(version.type, response) if answered else (), answered,
                spent.get(ai.position), ai.section_id))
        yield ScoredPaper(attempt.id, candidate, delivery.submitted_at, items)


def section_titles(session: Session, exam: Exam) -> dict[int, str]:
    rows = session.scalars(select(ExamSection).where(ExamSection.exam_id == exam.id)
                           .order_by(ExamSection.position, ExamSection.id))
    return {s.id: s.title or f"Bagian {i}" for i, s in enumerate(rows, start=1)}


def exam_analysis(session: Session, exam: Exam, *, bins: int = 10) -> ExamAnalysis:
    """The item analysis of ``exam`` over its submitted attempts (the last per candidate)."""
    sections = section_titles(session, exam)
    specs: dict[str, ItemSpec] = {}
    by_candidate: dict[str, list[Response]] = {}
    for paper in scored_papers(session, exam):
        who = paper.candidate.participant_number
        out: list[Response] = []
        for item in paper.items:
            spec = item.spec
            if item.section_id in sections and not spec.section:
                spec = ItemSpec(spec.id, spec.label, spec.max_points, spec.options, spec.key,
                                spec.option_labels, sections[item.section_id])
            specs.setdefault(spec.id, spec)
            out.append(Response(who, spec.id, item.score, item.choices, item.seconds,
                                item.answered))
        by_candidate[who] = out  # a later attempt replaces an earlier one
    responses = [r for rows in by_candidate.values() for r in rows]
    order = {title: i for i, title in enumerate(sections.values())}
    # The exam's order: section by section, then by item (papers may be shuffled).
    items = sorted(specs.values(), key=lambda s: (order.get(s.section, len(order)),
                                                  int(s.id) if s.id.isdigit() else 0, s.id))
    return analyse(items, responses, bins=bins)
