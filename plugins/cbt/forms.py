"""The item editor's form: fields in, an :class:`ItemDraft` out (and back, for editing).

One form serves every type; fields that do not apply to the chosen type are ignored.
The same fields arrive as a form post (save) and as JSON (live preview), validated here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from plugins.cbt.bank import ItemData
from plugins.cbt.content import (
    ITEM_TYPES,
    Accepted,
    Choice,
    ItemContent,
    ItemDraft,
    ItemKey,
    MatchAnswer,
    MatchPrompt,
    NumericAnswer,
    RubricCriterion,
    RubricLevel,
    SpaceRule,
    check,
    choice_ids,
)
from plugins.cbt.scoring import parse_number

MAX_CHOICES = 8


class FormError(ValueError):
    """The form cannot make an item; ``errors`` lists every reason."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class ItemForm(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    type: str
    category: str = Field(default="", max_length=300)
    tags: str = Field(default="", max_length=1000)
    points: str = "1"
    title: str = Field(default="", max_length=300)
    stem: str = Field(default="", max_length=200_000)
    feedback: str = Field(default="", max_length=200_000)
    choices: list[str] = Field(default_factory=list)
    correct: list[str] = Field(default_factory=list)
    weights: list[str] = Field(default_factory=list)
    scoring: str = "partial"
    truth: str = ""
    accepted: str = ""
    case_sensitive: bool = False
    spaces: str = "collapse"
    numbers: str = ""
    pairs: str = ""
    max_words: str = ""
    rubric: str = ""
    criteria: str = Field(default="", max_length=20_000)

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if value not in ITEM_TYPES:
            raise ValueError("choose an item type")
        return value


def from_request(form: Mapping[str, Any], *, is_json: bool = False) -> ItemForm:
    """The form's fields from ``request.form`` (a MultiDict) or a JSON object."""
    data: dict[str, Any] = {}
    getlist = getattr(form, "getlist", None)
    for key in ItemForm.model_fields:
        if key in ("choices", "weights"):
            data[key] = [str(form.get(f"{key[:-1]}_{i}", "") or "")
                         for i in range(1, MAX_CHOICES + 1)]
        elif key == "correct":
            raw = getlist("correct") if getlist and not is_json else form.get("correct", [])
            data[key] = [str(x) for x in (raw if isinstance(raw, list) else [raw])]
        elif key == "case_sensitive":
            data[key] = str(form.get(key, "")).lower() in ("on", "true", "1", "yes")
        elif key in form:
            data[key] = str(form.get(key) or "")
    try:
        return ItemForm.model_validate(data)
    except ValidationError as exc:
        raise FormError([str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]) \
            from None


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def to_draft(f: ItemForm) -> ItemDraft:
    """Build the item; raises :class:`FormError` with every problem."""
    errors: list[str] = []
    points = parse_number(f.points) if f.points else 1.0
    if points is None or not 0 < points <= 1000:
        errors.append("points must be a number above 0")
        points = 1.0
    content = ItemContent(stem=f.stem, title=f.title)
    key = ItemKey(general_feedback=f.feedback)
    t = f.type
    if t in ("single", "multiple"):
        filled = [(i + 1, html) for i, html in enumerate(f.choices) if html.strip()]
        ids = choice_ids(len(filled))
        content.choices = [Choice(id=cid, html=html) for cid, (_n, html) in zip(ids, filled,
                                                                                 strict=True)]
        correct = {int(c) for c in f.correct if c.isdigit()}
        by_number = {n: cid for cid, (n, _h) in zip(ids, filled, strict=True)}
        given = {}
        for n, cid in by_number.items():
            raw = f.weights[n - 1] if n - 1 < len(f.weights) else ""
            if raw:
                value = parse_number(raw)
                if value is None:
                    errors.append(f"the weight of option {n} is not a number")
                else:
                    given[cid] = value / 100
        right = [by_number[n] for n in sorted(correct) if n in by_number]
        if t == "single":
            key.weights = {cid: w for cid, w in given.items() if w}
            if len(right) > 1:
                errors.append("mark one right option (use multiple response for several)")
            for cid in right[:1]:
                key.weights[cid] = 1.0
        elif given:
            key.weights = {cid: w for cid, w in given.items() if w}
        elif right:
            share = round(1 / len(right), 6)
            key.weights = {cid: share if cid in right else -share for cid in ids}
        key.scoring = "all_or_nothing" if f.scoring == "all_or_nothing" else "partial"
    elif t == "truefalse":
        key.truth = {"true": True, "false": False}.get(f.truth)
    elif t == "short":
        for line in _lines(f.accepted):
            text, _sep, pct = line.partition("|")
            fraction: float | None = parse_number(pct) if pct.strip() else 100.0
            if fraction is None:
                errors.append(f"{line!r}: the part after | must be a percentage")
                continue
            key.accepted.append(Accepted(text=text.strip(), fraction=fraction / 100))
        key.case_sensitive = f.case_sensitive
        if f.spaces in ("exact", "trim", "collapse", "ignore"):
            key.spaces = f.spaces  # type: ignore[assignment]
    elif t == "numeric":
        for line in _lines(f.numbers):
            parts = [p.strip() for p in re.split(r"\||±", line)]
            value = parse_number(parts[0])
            slack = parse_number(parts[1]) if len(parts) > 1 and parts[1] else 0.0
            percent = parse_number(parts[2]) if len(parts) > 2 and parts[2] else 100.0
            if value is None or slack is None or percent is None or slack < 0:
                errors.append(f"{line!r}: write value | tolerance | percent, e.g. 3,14 | 0,01")
                continue
            key.numbers.append(NumericAnswer(value=value, tolerance=slack, fraction=percent / 100))
    elif t == "matching":
        for line in _lines(f.pairs):
            if "->" not in line:
                errors.append(f"{line!r}: write left -> right (or -> right for a distractor)")
                continue
            left, target = (p.strip() for p in line.split("->", 1))
            answer = next((a for a in content.answers if a.html == target), None)
            if answer is None:
                answer = MatchAnswer(id=f"a{len(content.answers) + 1}", html=target)
                content.answers.append(answer)
            if left:
                pid = f"p{len(content.prompts) + 1}"
                content.prompts.append(MatchPrompt(id=pid, html=left))
                key.pairs[pid] = answer.id
        key.scoring = "all_or_nothing" if f.scoring == "all_or_nothing" else "partial"
    elif t == "essay":
        if f.max_words:
            words = parse_number(f.max_words)
            if words is None or words < 1:
                errors.append("the word limit must be a whole number")
            else:
                content.max_words = int(words)
        key.rubric = f.rubric
        key.criteria = _criteria(f.criteria, errors)
    tags = [t.strip() for t in f.tags.split(",") if t.strip()]
    draft = ItemDraft(type=t, content=content, key=key, points=points,  # type: ignore[arg-type]
                      category=f.category, tags=tags)
    errors.extend(check(draft))
    if errors:
        raise FormError(errors)
    return draft


def _criteria(text: str, errors: list[str]) -> list[RubricCriterion]:
    """``Title: level = points; level = points`` per line (levels from worst to best)."""
    out: list[RubricCriterion] = []
    for n, line in enumerate(_lines(text), start=1):
        title, sep, rest = line.partition(":")
        levels: list[RubricLevel] = []
        for part in (p.strip() for p in rest.split(";") if p.strip()):
            label, eq, number = part.rpartition("=")
            value = parse_number(number) if eq else None
            if value is None or value < 0 or not label.strip():
                errors.append(f"rubric line {n}: write each level as 'description = points'")
                break
            levels.append(RubricLevel(label=label.strip()[:300], points=value))
        else:
            if not sep or not title.strip() or len(levels) < 2:
                errors.append(f"rubric line {n}: write 'criterion: level = points; level = "
                              f"points' with at least two levels")
                continue
            out.append(RubricCriterion(id=f"k{n}", title=title.strip()[:300], levels=levels))
    return out


def criteria_text(criteria: list[RubricCriterion]) -> str:
    return "\n".join(f"{c.title}: " + "; ".join(f"{lv.label} = {lv.points:g}" for lv in c.levels)
                     for c in criteria)


def values_of(data: ItemData) -> dict[str, Any]:
    """The form's fields for an existing item (to edit it)."""
    c, k = data.content, data.key
    choices = [ch.html for ch in c.choices] + [""] * (MAX_CHOICES - len(c.choices))
    weights = [""] * MAX_CHOICES
    correct = []
    for i, ch in enumerate(c.choices):
        w = k.weights.get(ch.id, 0.0)
        full = data.type == "single" and abs(w - 1) < 1e-9
        if full or (data.type == "multiple" and w > 0):
            correct.append(str(i + 1))
        if w and not (data.type == "single" and abs(w - 1) < 1e-9):
            weights[i] = f"{w * 100:g}"
    answers = {a.id: a.html for a in c.answers}
    used = set(k.pairs.values())
    pairs = [f"{p.html} -> {answers.get(k.pairs.get(p.id, ''), '')}" for p in c.prompts]
    pairs += [f"-> {html}" for aid, html in answers.items() if aid not in used]
    spaces: SpaceRule = k.spaces
    return {
        "type": data.type, "category": data.category, "tags": ", ".join(data.tags),
        "points": f"{data.points:g}", "title": c.title, "stem": c.stem,
        "feedback": k.general_feedback, "choices": choices, "weights": weights,
        "correct": correct, "scoring": k.scoring,
        "truth": "" if k.truth is None else ("true" if k.truth else "false"),
        "accepted": "\n".join(a.text + ("" if a.fraction == 1 else f" | {a.fraction * 100:g}")
                              for a in k.accepted),
        "case_sensitive": k.case_sensitive, "spaces": spaces,
        "numbers": "\n".join(f"{n.value:g} | {n.tolerance:g}" +
                             ("" if n.fraction == 1 else f" | {n.fraction * 100:g}")
                             for n in k.numbers),
        "pairs": "\n".join(pairs), "max_words": str(c.max_words or ""), "rubric": k.rubric,
        "criteria": criteria_text(k.criteria),
    }


def blank(item_type: str = "single") -> dict[str, Any]:
    return {"type": item_type, "category": "", "tags": "", "points": "1", "title": "",
            "stem": "", "feedback": "", "choices": [""] * MAX_CHOICES,
            "weights": [""] * MAX_CHOICES, "correct": [], "scoring": "partial", "truth": "",
            "accepted": "", "case_sensitive": False, "spaces": "collapse", "numbers": "",
            "pairs": "", "max_words": "", "rubric": "", "criteria": ""}
