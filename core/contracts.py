"""The values that cross the plugin API: what hooks take and return.

They are small frozen dataclasses so a plugin can build them without importing Flask or
SQLAlchemy; the pydantic schemas at the HTTP and socket boundaries live with their views.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel


@dataclass(frozen=True)
class MenuItem:
    """One entry of the navigation. ``endpoint`` is a Flask endpoint name."""

    label: str
    endpoint: str
    icon: str = ""
    order: int = 100
    section: str = "main"


@dataclass(frozen=True)
class Widget:
    """A dashboard card. ``html`` is already escaped markup (render it with a template)."""

    title: str
    html: str
    order: int = 100
    link_endpoint: str | None = None


@dataclass(frozen=True)
class Permission:
    """A named permission and the roles that hold it by default."""

    name: str
    description: str
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class SettingSpec:
    """A setting staff can change on the admin page, validated against ``type``."""

    key: str
    type: type
    default: Any
    description: str


@dataclass(frozen=True)
class SocketHandler:
    """A Socket.IO event handler.

    ``permission`` is checked before ``handler`` runs (``None`` means any connected client
    that ``authenticate`` accepts); ``schema`` validates the payload, which the handler then
    receives as a model instance. Whatever the handler returns is the acknowledgement.
    """

    event: str
    handler: Callable[..., Any]
    namespace: str = "/"
    permission: str | None = None
    schema: type[BaseModel] | None = None


@dataclass(frozen=True)
class ApiRoute:
    """A JSON endpoint under ``/api/v1``; listed in the OpenAPI document.

    ``path`` is relative to ``/api/v1`` and uses Flask converters, for example
    ``/exams/<int:exam_id>/results``. Before ``handler`` runs, the core checks the bearer
    token (401), that the route's plugin is enabled (404), that the token holds ``scope``
    and its user is active (403), and validates the JSON body against ``body`` (422 with a
    list of ``{field, message}``). The handler is then called with keyword arguments only::

        handler(user=<User of the token>, body=<instance of body>, **path_parameters)

    (``body=`` only when ``body`` is set). It returns one of: an instance of ``response``;
    anything ``response.model_validate`` accepts (a dict, or an object with attributes);
    a ``(value, status)`` tuple; ``None`` for ``204 No Content``; or a Flask ``Response``,
    sent as it is (a file download). Without ``response`` a dict or list is sent as it is.
    To refuse a request, raise ``core.api.errors.ApiError(status, error, message)`` or call
    ``flask.abort``; either becomes ``{"error": ..., "message": ...}``. The handler opens
    its own database sessions (``ruang().db``); inside it ``flask_login.current_user`` is
    the token's user, so audit entries name them.
    """

    path: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    handler: Callable[..., Any]
    scope: str
    summary: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None


@dataclass(frozen=True)
class RecordType:
    """A kind of numbered quality record and its default number format.

    ``fmt`` is a Python format string with the fields ``seq``, ``year``, ``month``,
    ``roman_month`` and ``unit``; ``reset`` says when ``seq`` starts again from 1.
    Example: ``BA-{seq:02d}/BPTI/{year}`` gives ``BA-01/BPTI/2026``.
    """

    code: str
    description: str
    fmt: str
    reset: Literal["never", "yearly", "monthly"] = "yearly"


@dataclass(frozen=True)
class RoomRequest:
    """A request to hold a lab (or some of its seats) for a time span."""

    lab_id: int
    start: datetime
    end: datetime
    purpose: str
    source: str
    source_ref: str
    requested_by: int | None = None
    seats: int | None = None


@dataclass(frozen=True)
class RoomReservation:
    """The answer to a :class:`RoomRequest`: granted with a reference, or refused with a reason."""

    granted: bool
    reference: str = ""
    reason: str = ""
    conflicts: tuple[str, ...] = ()


@dataclass(frozen=True)
class CalendarItem:
    """Something that happens in a room or to a person, for calendars and iCal feeds."""

    uid: str
    title: str
    start: datetime
    end: datetime
    source: str
    lab_id: int | None = None
    url: str = ""


@dataclass(frozen=True)
class Notification:
    """A message for one person, delivered by every channel that can reach them."""

    subject: str
    body: str
    email: str = ""
    phone: str = ""
    user_id: int | None = None
    html: str = ""
    topic: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class NotificationChannel(Protocol):
    """Delivers a notification; raises on a temporary failure so the outbox retries."""

    name: str

    def can_deliver(self, notification: Notification) -> bool: ...

    def deliver(self, notification: Notification) -> None: ...


@dataclass(frozen=True)
class BackgroundJob:
    """A job the scheduler runs every ``interval_s`` seconds, once across all nodes."""

    name: str
    interval_s: float
    run: Callable[[], None]


@dataclass(frozen=True)
class WorkflowEvent:
    """A transition that has just been made in a workflow (committed with the change)."""

    workflow: str
    object_type: str
    object_id: int
    action: str
    from_state: str
    to_state: str
    actor_id: int | None
    comment: str = ""


@dataclass(frozen=True)
class Complaint:
    """A complaint one plugin files with the helpdesk, for a person or a place.

    For instance the CBT plugin files one when a proctor reports a PC that broke during an
    exam: ``seat_id`` (or ``device_id``) names it and ``device_faulty`` marks the PC faulty
    in the rooms registry. ``category`` is a helpdesk category code (a hint; unknown codes
    are ignored), ``priority`` one of low, normal, high, urgent. ``email``/``phone`` (or
    the reporter's account) are told about the ticket's progress.
    """

    subject: str
    description: str
    source: str
    source_ref: str = ""
    reporter_id: int | None = None
    name: str = ""
    email: str = ""
    phone: str = ""
    category: str = ""
    priority: str = ""
    lab_id: int | None = None
    seat_id: int | None = None
    device_id: int | None = None
    device_faulty: bool = False


@dataclass(frozen=True)
class ThirdParty:
    """An outside vendor or trainer, as one plugin shares it with another."""

    ref: str
    name: str
    contact: str = ""
    email: str = ""
    source: str = ""


@dataclass(frozen=True)
class Assessment:
    """An exam one plugin offers another as a knowledge check (a training's pre-test).

    ``ref`` is opaque to the caller and stable (``cbt:exam:12``); ``url`` opens the exam's
    page for staff, when there is one.
    """

    ref: str
    title: str
    source: str = ""
    url: str = ""
    opens_at: datetime | None = None
    closes_at: datetime | None = None


@dataclass(frozen=True)
class AssessmentScore:
    """One person's result in an :class:`Assessment`, as a percentage of the maximum.

    People are matched by ``identifier`` (NIP or NIM), else by ``email``, else by
    ``user_id``; fill in what the plugin knows.
    """

    ref: str
    score: float
    identifier: str = ""
    email: str = ""
    user_id: int | None = None
    name: str = ""
    finished_at: datetime | None = None
