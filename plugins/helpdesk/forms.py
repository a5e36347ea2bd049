"""The shapes of what people send (pydantic), and errors they can read, per field.

Messages are English msgids; views show them through gettext, so an Indonesian user reads
``Subject: at least 5 characters`` as ``Judul: minimal 5 karakter``.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from plugins.helpdesk.models import Channel, Priority
from plugins.helpdesk.search import phone_digits

M = TypeVar("M", bound=BaseModel)

LABELS: dict[str, str] = {
    "name": "Name", "email": "E-mail", "phone": "Phone / WhatsApp", "unit": "Unit",
    "subject": "Subject", "description": "Description", "category_id": "Category",
    "lab_id": "Lab", "seat_label": "Seat", "channel": "Channel", "priority": "Priority",
    "requester_username": "Requester's account", "body": "Message", "number": "Ticket number",
    "contact": "E-mail or phone", "division": "Division", "assignee_id": "Assignee",
    "target": "Ticket to merge into", "score": "Rating", "comment": "Comment",
    "title": "Title", "code": "Code", "first_response_min": "First response (minutes)",
    "resolution_min": "Resolution (minutes)", "day": "Date", "default_priority": "Priority",
    "files": "Attachments", "file": "File", "device_status": "PC at that seat",
}


class FormError(ValueError):
    """Bad input: ``errors`` maps field names to messages (msgid, params)."""

    def __init__(self, errors: dict[str, tuple[str, dict[str, Any]]]) -> None:
        super().__init__("; ".join(f"{k}: {m % p if p else m}" for k, (m, p) in errors.items()))
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str, **params: Any) -> FormError:
        return cls({field: (message, params)})


def _explain(err: Any) -> tuple[str, dict[str, Any]]:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and not err.get("input")):
        return "required", {}
    if kind == "string_too_short":
        return "at least %(n)s characters", {"n": ctx.get("min_length")}
    if kind == "string_too_long":
        return "at most %(n)s characters", {"n": ctx.get("max_length")}
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number", {}
    if kind in ("greater_than_equal", "less_than_equal"):
        return "must be between %(lo)s and %(hi)s", {"lo": ctx.get("ge", "-"),
                                                     "hi": ctx.get("le", "-")}
    if kind in ("enum", "literal_error"):
        return "is not one of the choices", {}
    if kind == "value_error":
        error = ctx.get("error")
        text = str(error) if error is not None else err.get("msg", "")
        return text, {}
    return "is not valid", {}


def parse(model: type[M], data: dict[str, Any]) -> M:
    """``model`` from form data, or :class:`FormError` with one message per bad field."""
    clean = {k: (None if v == "" and k.endswith("_id") else v) for k, v in data.items()}
    try:
        return model.model_validate(clean)
    except ValidationError as exc:
        errors: dict[str, tuple[str, dict[str, Any]]] = {}
        for err in exc.errors(include_url=False):
            field = str(err["loc"][0]) if err["loc"] else "form"
            errors.setdefault(field, _explain(err))
        raise FormError(errors) from None


def clean_email(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("is not an e-mail address") from None
    return checked.normalized


def clean_phone(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if not re.fullmatch(r"\+?[\d\s().-]{6,25}", value):
        raise ValueError("use digits only, e.g. 0812 3456 7890")
    digits = phone_digits(value)
    if not 8 <= len(digits) <= 15:
        raise ValueError("must have 8 to 15 digits")
    return digits


class _Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class Filing(_Form):
    """A complaint, from the portal or typed in by staff."""

    name: str = Field(min_length=2, max_length=200)
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=40)
    unit: str = Field(default="", max_length=200)
    subject: str = Field(min_length=5, max_length=200)
    description: str = Field(min_length=10, max_length=20000)
    category_id: int | None = None
    lab_id: int | None = None
    seat_label: str = Field(default="", max_length=10)
    # staff entry only (the portal ignores them)
    channel: Channel = Channel.PORTAL
    priority: Priority | None = None
    requester_username: str = Field(default="", max_length=80)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return clean_email(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return clean_phone(value)

    @field_validator("seat_label")
    @classmethod
    def _seat(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _contact(self) -> Filing:
        # Another plugin's complaint (a PC broken during an exam) may name nobody to tell.
        if not self.email and not self.phone and self.channel != Channel.SYSTEM:
            raise ValueError("give an e-mail or a phone number, so we can tell you the status")
        return self


class Lookup(_Form):
    number: str = Field(min_length=3, max_length=60)
    contact: str = Field(min_length=3, max_length=254)


class Reply(_Form):
    body: str = Field(min_length=1, max_length=20000)
    internal: bool = False


class Forward(_Form):
    division: str = Field(pattern=r"^(YANSI|WDM|JDS|ADD)$")
    assignee_id: int | None = None
    comment: str = Field(default="", max_length=4000)


class Assign(_Form):
    assignee_id: int | None = None


class Merge(_Form):
    target: str = Field(min_length=3, max_length=60)
    comment: str = Field(default="", max_length=4000)


class Link(_Form):
    lab_id: int | None = None
    seat_label: str = Field(default="", max_length=10)
    device_status: str = Field(default="", pattern=r"^(|faulty|working)$")


class Update(_Form):
    subject: str = Field(min_length=5, max_length=200)
    priority: Priority
    category_id: int | None = None


class Rating(_Form):
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


class CategoryForm(_Form):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,39}$")
    name: str = Field(min_length=2, max_length=120)
    description: str = Field(default="", max_length=2000)
    division: str = Field(default="", pattern=r"^(|YANSI|WDM|JDS|ADD)$")
    auto_forward: bool = False
    default_priority: Priority = Priority.NORMAL
    active: bool = True
    position: int = Field(default=100, ge=0, le=10000)


class CannedForm(_Form):
    title: str = Field(min_length=2, max_length=120)
    body: str = Field(min_length=2, max_length=10000)
    division: str = Field(default="", pattern=r"^(|YANSI|WDM|JDS|ADD)$")
    active: bool = True


class PolicyForm(_Form):
    category_id: int | None = None
    priority: Priority
    first_response_min: int = Field(ge=1, le=525600)
    resolution_min: int = Field(ge=1, le=525600)

    @model_validator(mode="after")
    def _order(self) -> PolicyForm:
        if self.resolution_min < self.first_response_min:
            raise ValueError("the resolution target cannot be shorter than the first response "
                             "target")
        return self
