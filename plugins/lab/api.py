"""JSON endpoints for the academic information system: labs, and when they are taken.

``GET /api/v1/lab/labs`` lists the labs with their capacity (working PCs);
``GET /api/v1/lab/labs/<code>/busy?start=...&end=...`` lists what holds one lab in a span
(ISO 8601 times with a zone; at most 92 days). Both need the ``labs:read`` scope.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import request
from pydantic import AwareDatetime, BaseModel, ValidationError

from core.api.errors import ApiError
from core.contracts import ApiRoute
from core.instance import ruang
from core.rooms import service as rooms
from plugins.lab import catalog, holds

MAX_SPAN = timedelta(days=92)


class LabOut(BaseModel):
    code: str
    name: str
    building: str
    floor: str
    seats: int
    working_pcs: int
    bookable: bool


class LabsOut(BaseModel):
    labs: list[LabOut]


class BusyItem(BaseModel):
    start: datetime
    end: datetime
    kind: str
    title: str
    source: str


class BusyOut(BaseModel):
    lab: str
    start: datetime
    end: datetime
    busy: list[BusyItem]


class _Span(BaseModel):
    start: AwareDatetime
    end: AwareDatetime


def list_labs(user: Any) -> LabsOut:
    with ruang().db.session() as session:
        out = [LabOut(code=s.lab.code, name=s.lab.name, building=s.lab.building,
                      floor=s.lab.floor, seats=s.seats, working_pcs=s.working,
                      bookable=s.profile.bookable)
               for s in catalog.summaries(session)]
    return LabsOut(labs=out)


def lab_busy(user: Any, code: str) -> BusyOut:
    try:
        span = _Span.model_validate({"start": request.args.get("start"),
                                     "end": request.args.get("end")})
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise ApiError(422, "invalid", f"{err['loc'][0]}: {err['msg']} (ISO 8601 with a "
                       "time zone, e.g. 2026-03-02T08:00:00+07:00)") from None
    if span.end <= span.start or span.end - span.start > MAX_SPAN:
        raise ApiError(422, "invalid", "end must be after start, at most 92 days later")
    with ruang().db.session() as session:
        lab = rooms.lab_by_code(session, code)
        if lab is None:
            raise ApiError(404, "not_found", f"no lab with code {code}")
        found = [BusyItem(start=h.starts_at, end=h.ends_at, kind=h.kind,
                          title=h.title if h.kind != "reservation" else h.source,
                          source=h.source)
                 for h in holds.holds_between(session, span.start, span.end, lab.id)]
    return BusyOut(lab=lab.code, start=span.start, end=span.end, busy=found)


def routes() -> list[ApiRoute]:
    return [
        ApiRoute("/lab/labs", "GET", list_labs, "labs:read",
                 "Labs with their seats and working PCs", response=LabsOut),
        ApiRoute("/lab/labs/<code>/busy", "GET", lab_busy, "labs:read",
                 "When a lab is booked, reserved or closed in a span", response=BusyOut),
    ]
