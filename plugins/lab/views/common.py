"""What the lab pages share: finding things or answering 404, flashing refusals, dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import abort, flash, request
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from core.rooms import service as rooms
from core.rooms.models import Lab, Seat
from core.workflow.engine import WorkflowError
from plugins.lab.errors import LabError
from plugins.lab.models import LabRequest, Occurrence, Repair
from plugins.lab.timeslots import today


def lab_or_404(session: Session, code: str) -> Lab:
    lab = rooms.lab_by_code(session, code)
    if lab is None:
        abort(404, description=_("No lab with code %(code)s.", code=code))
    return lab


def seat_or_404(session: Session, lab: Lab, label: str) -> Seat:
    seat = rooms.seat_by_label(session, lab.id, label)
    if seat is None:
        abort(404, description=_("Lab %(lab)s has no seat %(seat)s.", lab=lab.code, seat=label))
    return seat


def request_or_404(session: Session, request_id: int) -> LabRequest:
    req = session.get(LabRequest, request_id)
    if req is None:
        abort(404, description=_("No such lab request."))
    return req


def occurrence_or_404(session: Session, occurrence_id: int) -> Occurrence:
    occ = session.get(Occurrence, occurrence_id)
    if occ is None:
        abort(404, description=_("No such session."))
    return occ


def repair_or_404(session: Session, repair_id: int) -> Repair:
    repair = session.get(Repair, repair_id)
    if repair is None:
        abort(404, description=_("No such repair request."))
    return repair


def refusal(exc: Exception) -> str:
    """The sentence to show for a refused action."""
    if isinstance(exc, LabError):
        return exc.translated()
    if isinstance(exc, rooms.RoomError):
        return str(exc)
    if isinstance(exc, WorkflowError):
        return _("Not possible: %(why)s", why=str(exc))
    return str(exc)


def flash_refusal(exc: Exception) -> None:
    flash(refusal(exc), "error")


def form_dict() -> dict[str, Any]:
    """The posted fields, multi-valued ones (checkbox groups) as lists."""
    out: dict[str, Any] = {}
    for key in request.form:
        values = request.form.getlist(key)
        out[key] = values if len(values) > 1 or key.endswith("[]") else values[0]
    return {k.removesuffix("[]"): v for k, v in out.items()}


def parse_day(text: str | None, default: date | None = None) -> date:
    if text:
        try:
            return date.fromisoformat(text)
        except ValueError:
            abort(400, description=_("Dates are written YYYY-MM-DD."))
    return default or today()


def parse_month(text: str | None) -> tuple[int, int]:
    if text:
        try:
            moment = datetime.strptime(text, "%Y-%m")
            return moment.year, moment.month
        except ValueError:
            abort(400, description=_("Months are written YYYY-MM."))
    now = today()
    return now.year, now.month


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"
