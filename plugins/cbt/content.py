"""What an item is made of, per type: the part candidates see and the part that scores.

:class:`ItemContent` is what a paper may show (stem, options, matching lists); it is
sealed as one field. :class:`ItemKey` is what gives the answer away (weights, accepted
answers, tolerances, pairs, feedback, the essay rubric); it is sealed apart and never
leaves the server. :class:`ItemDraft` is an item as authors, forms and import files give
it, validated by :func:`check` with messages an author can act on.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from plugins.cbt.richtext import sanitize

ItemType = Literal["single", "multiple", "truefalse", "short", "numeric", "matching", "essay"]
ITEM_TYPES: tuple[ItemType, ...] = (
    "single", "multiple", "truefalse", "short", "numeric", "matching", "essay",
)
TYPE_LABELS: dict[str, str] = {
    "single": "Single choice",
    "multiple": "Multiple response",
    "truefalse": "True/false",
    "short": "Short answer",
    "numeric": "Numeric",
    "matching": "Matching",
    "essay": "Essay",
}
SpaceRule = Literal["exact", "trim", "collapse", "ignore"]
_EPS = 1e-6


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Choice(_Model):
    id: str = Field(min_length=1, max_length=20)
    html: str = Field(max_length=50_000)

    @field_validator("html")
    @classmethod
    def _clean(cls, value: str) -> str:
        return sanitize(value)


class MatchPrompt(Choice):
    """A left-hand entry of a matching item."""


class MatchAnswer(Choice):
    """A right-hand entry of a matching item (an answer or a distractor)."""


class ItemContent(_Model):
    title: str = Field(default="", max_length=300)
    stem: str = Field(max_length=200_000)
    choices: list[Choice] = Field(default_factory=list)
    prompts: list[MatchPrompt] = Field(default_factory=list)
    answers: list[MatchAnswer] = Field(default_factory=list)
    max_words: int | None = Field(default=None, ge=1, le=100_000)

    @field_validator("stem")
    @classmethod
    def _clean(cls, value: str) -> str:
        return sanitize(value)


class Accepted(_Model):
    text: str = Field(min_length=1, max_length=1000)
    fraction: float = Field(default=1.0, ge=-1.0, le=1.0)


class NumericAnswer(_Model):
    value: float
    tolerance: float = Field(default=0.0, ge=0.0)
    fraction: float = Field(default=1.0, ge=-1.0, le=1.0)


class RubricLevel(_Model):
    """One level of a rubric criterion: what it describes and the points it is worth."""

    label: str = Field(min_length=1, max_length=300)
    points: float = Field(ge=0, le=1000)


class RubricCriterion(_Model):
    """A criterion of an essay's rubric; a rater picks one of its levels."""

    id: str = Field(min_length=1, max_length=20)
    title: str = Field(min_length=1, max_length=300)
    levels: list[RubricLevel] = Field(min_length=2, max_length=10)


class ItemKey(_Model):
    # single, multiple: choice id -> share of the item's points (1.0 = full marks).
    weights: dict[str, float] = Field(default_factory=dict)
    truth: bool | None = None
    accepted: list[Accepted] = Field(default_factory=list)
    case_sensitive: bool = False
    spaces: SpaceRule = "collapse"
    numbers: list[NumericAnswer] = Field(default_factory=list)
    pairs: dict[str, str] = Field(default_factory=dict)  # prompt id -> answer id
    scoring: Literal["partial", "all_or_nothing"] = "partial"
    # Per choice id (or "true"/"false", or an accepted answer's text): shown on review.
    feedback: dict[str, str] = Field(default_factory=dict)
    general_feedback: str = Field(default="", max_length=200_000)
    rubric: str = Field(default="", max_length=200_000)
    # Essays: the scored rubric (criteria with point levels); ``rubric`` is its notes.
    criteria: list[RubricCriterion] = Field(default_factory=list, max_length=30)

    @field_validator("general_feedback", "rubric")
    @classmethod
    def _clean(cls, value: str) -> str:
        return sanitize(value) if value else ""

    @field_validator("feedback")
    @classmethod
    def _clean_all(cls, value: dict[str, str]) -> dict[str, str]:
        return {k: sanitize(v) for k, v in value.items() if v}


class ItemDraft(_Model):
    """An item as a form or an import gives it, before it is stored."""

    type: ItemType
    content: ItemContent
    key: ItemKey = Field(default_factory=ItemKey)
    points: float = Field(default=1.0, gt=0, le=1000)
    category: str = Field(default="", max_length=300)
    tags: list[str] = Field(default_factory=list)
    # Images not stored yet, by the name ``cbt-file:<name>`` refers to: (mime, bytes).
    files: dict[str, tuple[str, bytes]] = Field(default_factory=dict)

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        parts = [p.strip() for p in value.replace("\\", "/").split("/")]
        return "/".join(p for p in parts if p)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for tag in value:
            tag = tag.strip()[:80]
            if tag and tag not in out:
                out.append(tag)
        return out


def check(draft: ItemDraft) -> list[str]:
    """What is wrong with ``draft`` for its type, as messages (empty when it is fine)."""
    c, k, t = draft.content, draft.key, draft.type
    errors: list[str] = []
    if not c.stem.strip():
        errors.append("the question text is empty")
    ids = [ch.id for ch in c.choices]
    if len(set(ids)) != len(ids):
        errors.append("two options have the same id")
    if t in ("single", "multiple"):
        if len(c.choices) < 2:
            errors.append("a choice item needs at least two options")
        if any(not ch.html.strip() for ch in c.choices):
            errors.append("an option is empty")
        unknown = set(k.weights) - set(ids)
        if unknown:
            errors.append(f"the key names options that do not exist: {', '.join(sorted(unknown))}")
        if any(not -1 - _EPS <= w <= 1 + _EPS for w in k.weights.values()):
            errors.append("an option's weight is outside -100%..100%")
        positive = [w for w in k.weights.values() if w > _EPS]
        if t == "single":
            if not positive or abs(max(positive) - 1) > 1e-3:
                errors.append("no option is marked correct (one option must be worth 100%)")
            elif sum(1 for w in positive if abs(w - 1) <= 1e-3) > 1:
                errors.append("more than one option is worth 100%; use multiple response")
        else:
            if not positive:
                errors.append("no option is marked correct")
            elif abs(sum(positive) - 1) > 0.011:
                errors.append(f"the correct options' weights add up to "
                              f"{sum(positive) * 100:g}%, not 100%")
    elif t == "truefalse":
        if k.truth is None:
            errors.append("say whether the statement is true or false")
    elif t == "short":
        if not k.accepted:
            errors.append("a short-answer item needs at least one accepted answer")
        elif max(a.fraction for a in k.accepted) < 1 - 1e-3:
            errors.append("no accepted answer is worth 100%")
    elif t == "numeric":
        if not k.numbers:
            errors.append("a numeric item needs a correct value")
        elif max(n.fraction for n in k.numbers) < 1 - 1e-3:
            errors.append("no numeric answer is worth 100%")
    elif t == "matching":
        if len(c.prompts) < 2:
            errors.append("a matching item needs at least two pairs")
        answer_ids = {a.id for a in c.answers}
        prompt_ids = {p.id for p in c.prompts}
        if len(answer_ids) != len(c.answers) or len(prompt_ids) != len(c.prompts):
            errors.append("two matching entries have the same id")
        missing = prompt_ids - set(k.pairs)
        if missing:
            errors.append("a matching prompt has no answer")
        if set(k.pairs.values()) - answer_ids or set(k.pairs) - prompt_ids:
            errors.append("the key pairs entries that do not exist")
        if any(not p.html.strip() for p in c.prompts) or any(not a.html.strip() for a in c.answers):
            errors.append("a matching entry is empty")
    elif t == "essay" and k.criteria:
        crit_ids = [cr.id for cr in k.criteria]
        if len(set(crit_ids)) != len(crit_ids):
            errors.append("two rubric criteria have the same id")
        top = sum(max(lv.points for lv in cr.levels) for cr in k.criteria)
        if abs(top - draft.points) > 1e-6:
            errors.append(f"the rubric's best levels add up to {top:g} points, "
                          f"the item is worth {draft.points:g}")
    if t not in ("single", "multiple") and c.choices:
        errors.append(f"a {TYPE_LABELS[t].lower()} item has no options")
    return errors


def choice_ids(n: int) -> list[str]:
    """Option ids ``a``, ``b``, ... ``z``, ``aa``...: stable, short, order-free."""
    out = []
    for i in range(n):
        name = ""
        i += 1
        while i:
            i, r = divmod(i - 1, 26)
            name = chr(97 + r) + name
        out.append(name)
    return out
