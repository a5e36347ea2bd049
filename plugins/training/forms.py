"""What crosses the plugin's boundaries, validated with pydantic: proposal, participants,
checklist, notes, questions, answers, feedback. Labels are English msgids, translated
where they are shown; :func:`parse` turns every problem into one :class:`TrainingError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from plugins.training.errors import N_, form_error, problem

M = TypeVar("M", bound=BaseModel)

LABELS: dict[str, str] = {
    "title": N_("Title"),
    "theme": N_("Theme"),
    "description": N_("Description"),
    "audience": N_("Audience"),
    "audience_notes": N_("Who should come"),
    "goals": N_("Goals"),
    "starts_at": N_("Starts"),
    "ends_at": N_("Ends"),
    "venue": N_("Venue"),
    "lab_id": N_("Lab"),
    "capacity": N_("Capacity"),
    "budget": N_("Budget (Rp)"),
    "budget_notes": N_("Budget details"),
    "third_party_ref": N_("Third party"),
    "trainer_refs": N_("Trainers from the directory"),
    "trainer_lines": N_("Other trainers"),
    "check_mode": N_("Knowledge check"),
    "pre_ref": N_("Pre-test exam"),
    "post_ref": N_("Post-test exam"),
    "name": N_("Name"),
    "email": N_("E-mail"),
    "kind": N_("Staff or student"),
    "identifier": N_("NIP / NIM"),
    "unit": N_("Unit"),
    "label": N_("Task"),
    "text": N_("Text"),
    "category": N_("Kind of note"),
    "options": N_("Options"),
    "correct": N_("Correct option"),
    "content": N_("Content"),
    "trainer": N_("Trainer"),
    "materials": N_("Materials"),
    "facilities": N_("Facilities"),
    "usefulness": N_("Usefulness for my work"),
    "overall": N_("Overall"),
    "liked": N_("What was good"),
    "improve": N_("What should improve"),
    "status": N_("Status"),
    "organisation": N_("Organisation"),
    "phone": N_("Phone"),
    "expertise": N_("Expertise"),
    "reason": N_("Reason"),
}

MAX_TEXT = 5000
TRAINER_LINE = re.compile(r"^(?P<name>[^;]{2,200})(;(?P<role>[^;]{0,80}))?(;(?P<email>[^;]*))?$")


def parse(model: type[M], data: Mapping[str, Any]) -> M:
    """``data`` as ``model``, or one :class:`TrainingError` naming every bad field."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise form_error(exc, LABELS) from None


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class Strict(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class TrainerLine(Strict):
    name: str = Field(min_length=2, max_length=200)
    role: str = Field(default="", max_length=80)
    email: EmailStr | None = None


class ProposalForm(Strict):
    """A proposal as staff draft it (and edit it while it is a draft or in preparation)."""

    title: str = Field(min_length=5, max_length=200)
    theme: str = Field(min_length=2, max_length=120)
    description: str = Field(default="", max_length=MAX_TEXT)
    audience: Literal["staff", "students", "mixed"] = "mixed"
    audience_notes: str = Field(default="", max_length=2000)
    goals: str = Field(min_length=5, max_length=MAX_TEXT)
    starts_at: datetime
    ends_at: datetime
    venue: str = Field(default="", max_length=200)
    lab_id: int | None = Field(default=None, ge=1)
    capacity: int = Field(ge=1, le=2000)
    budget: int = Field(default=0, ge=0, le=100_000_000_000)
    budget_notes: str = Field(default="", max_length=MAX_TEXT)
    third_party_ref: str = Field(default="", max_length=100)
    trainer_refs: list[str] = Field(default_factory=list, max_length=20)
    trainer_lines: list[TrainerLine] = Field(default_factory=list, max_length=20)
    check_mode: Literal["none", "quiz", "external"] = "quiz"
    pre_ref: str = Field(default="", max_length=100)
    post_ref: str = Field(default="", max_length=100)

    @field_validator("lab_id", mode="before")
    @classmethod
    def _lab(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("budget", mode="before")
    @classmethod
    def _rupiah(cls, value: Any) -> Any:
        # People write 2.500.000 or 2,500,000 or "Rp 2.500.000".
        if isinstance(value, str):
            cleaned = re.sub(r"^\s*rp\.?\s*", "", value, flags=re.I).replace(".", "")
            cleaned = cleaned.replace(",", "").replace(" ", "")
            return cleaned or "0"
        return value

    @field_validator("trainer_lines", mode="before")
    @classmethod
    def _lines(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        out = []
        for n, line in enumerate(value.splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            m = TRAINER_LINE.match(line)
            if m is None:
                raise problem(N_("line %(line)s: write 'Name; role; e-mail' (role and "
                                 "e-mail may be left out)"), line=n)
            out.append({"name": m["name"].strip(), "role": (m["role"] or "").strip(),
                        "email": _blank_to_none((m["email"] or "").strip())})
        return out

    @field_validator("trainer_refs", mode="before")
    @classmethod
    def _refs(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value] if value.strip() else []
        return [v for v in value if str(v).strip()] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _consistent(self) -> ProposalForm:
        if self.ends_at <= self.starts_at:
            raise problem(N_("the training must end after it starts"))
        if (self.ends_at - self.starts_at).days > 31:
            raise problem(N_("a training lasts at most 31 days; propose longer ones in parts"))
        if self.lab_id is None and not self.venue:
            raise problem(N_("choose a lab or write where the training takes place"))
        if self.check_mode == "external" and not (self.pre_ref and self.post_ref):
            raise problem(N_("choose the exams for the pre-test and the post-test"))
        return self


class ParticipantForm(Strict):
    name: str = Field(min_length=2, max_length=200)
    email: EmailStr
    kind: Literal["staff", "student"] = "staff"
    identifier: str = Field(default="", max_length=40, pattern=r"^[0-9A-Za-z./-]*$")
    unit: str = Field(default="", max_length=200)

    @field_validator("email", mode="after")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class ChecklistForm(Strict):
    label: str = Field(min_length=2, max_length=300)


class NoteForm(Strict):
    category: Literal["observation", "problem", "action"] = "observation"
    text: str = Field(min_length=2, max_length=MAX_TEXT)


class QuestionForm(Strict):
    text: str = Field(min_length=3, max_length=2000)
    options: list[str] = Field(min_length=2, max_length=6)
    correct: int = Field(ge=1, le=6)

    @field_validator("options", mode="before")
    @classmethod
    def _options(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.splitlines()
        if isinstance(value, list):
            return [str(v).strip() for v in value if str(v).strip()]
        return value

    @field_validator("options", mode="after")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if any(len(v) > 500 for v in value):
            raise problem(N_("an option has at most 500 characters"))
        if len({v.casefold() for v in value}) != len(value):
            raise problem(N_("two options are the same"))
        return value

    @model_validator(mode="after")
    def _in_range(self) -> QuestionForm:
        if self.correct > len(self.options):
            raise problem(N_("the correct option must be one of 1-%(n)s"), n=len(self.options))
        return self


class FeedbackForm(Strict):
    content: int = Field(ge=1, le=5)
    trainer: int = Field(ge=1, le=5)
    materials: int = Field(ge=1, le=5)
    facilities: int = Field(ge=1, le=5)
    usefulness: int = Field(ge=1, le=5)
    overall: int = Field(ge=1, le=5)
    liked: str = Field(default="", max_length=MAX_TEXT)
    improve: str = Field(default="", max_length=MAX_TEXT)


RATINGS: tuple[tuple[str, str], ...] = tuple(
    (name, LABELS[name]) for name in
    ("content", "trainer", "materials", "facilities", "usefulness", "overall"))


class TrainerForm(Strict):
    name: str = Field(min_length=2, max_length=200)
    organisation: str = Field(default="", max_length=200)
    email: EmailStr | None = None
    phone: str = Field(default="", max_length=40, pattern=r"^[0-9+() .-]*$")
    expertise: str = Field(default="", max_length=MAX_TEXT)
    external: bool = True
    active: bool = True

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> Any:
        return _blank_to_none(value)


class ThirdPartyStatusForm(Strict):
    status: Literal["contacted", "confirmed", "declined"]
    text: str = Field(default="", max_length=2000)


class RevokeForm(Strict):
    reason: str = Field(min_length=5, max_length=2000)


def form_dict(form: Any, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """A werkzeug ``MultiDict`` as a plain dict; fields in ``lists`` keep every value."""
    out: dict[str, Any] = {}
    for key in form:
        out[key] = form.getlist(key) if key in lists else form.get(key)
    return out
