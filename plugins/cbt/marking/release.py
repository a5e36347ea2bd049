"""When candidates see their results: the exam's policy, its date, the staff's release.

Policies (stored in ``Exam.show_score``): ``never``; ``after_submit`` (as soon as the
candidate's attempt is submitted); ``after_close`` (when the exam closes); ``at_date``
(from :attr:`ResultRelease.release_at`); ``manual`` (when staff release them, which they
may also withdraw). Candidates have no Ruang account (a roster row has a participant
number and the password printed on the login card), so they look their result up with
those two, like at the kiosk; what they see is only ever what is released.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.accounts.models import LoginFailure
from core.audit.service import record as audit
from core.db import utcnow
from plugins.cbt.marking.models import ResultRelease
from plugins.cbt.models import Candidate, Exam

ReleasePolicy = Literal["never", "after_submit", "after_close", "at_date", "manual"]
POLICIES: tuple[ReleasePolicy, ...] = ("never", "after_submit", "after_close", "at_date",
                                       "manual")
LOOKUP_WINDOW = timedelta(minutes=15)
LOOKUP_FAILURES = 5  # per participant number; four times that per address


class ReleaseError(ValueError):
    """A release action refused; the message says why."""


class ReleaseForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: ReleasePolicy
    release_at: datetime | None = None

    @field_validator("release_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the time zone (e.g. +07:00)")
        return value

    @model_validator(mode="after")
    def _date(self) -> ReleaseForm:
        if self.policy == "at_date" and self.release_at is None:
            raise ValueError("give the date and time the results are released")
        return self


class LookupForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    participant_number: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=100)


def release_of(session: Session, exam: Exam) -> ResultRelease | None:
    return session.get(ResultRelease, exam.id)


def _row(session: Session, exam: Exam) -> ResultRelease:
    row = session.get(ResultRelease, exam.id)
    if row is None:
        row = ResultRelease(exam_id=exam.id)
        session.add(row)
    return row


def set_policy(session: Session, exam: Exam, form: ReleaseForm, actor: Any) -> None:
    before = exam.show_score
    exam.show_score = form.policy
    row = _row(session, exam)
    row.release_at = form.release_at if form.policy == "at_date" else None
    row.updated_at = utcnow()
    audit(session, "cbt.results.policy", actor=actor, object_type="cbt_exam",
          object_id=exam.id, details={"policy": form.policy, "before": before,
                                      "release_at": form.release_at.isoformat()
                                      if form.release_at else None})


def release_now(session: Session, exam: Exam, actor: Any, *, withdraw: bool = False) -> None:
    """Staff release the results of a ``manual`` exam (or withdraw the release)."""
    if exam.show_score != "manual":
        raise ReleaseError("results of this exam are released by its policy, not by hand; "
                           "set the policy to 'manually by staff' first")
    row = _row(session, exam)
    if withdraw:
        if row.released_at is None:
            raise ReleaseError("the results are not released")
        row.released_at, row.released_by = None, None
    else:
        if row.released_at is not None:
            raise ReleaseError("the results are already released")
        row.released_at, row.released_by = utcnow(), getattr(actor, "id", None)
    row.updated_at = utcnow()
    audit(session, "cbt.results.withdrawn" if withdraw else "cbt.results.released",
          actor=actor, object_type="cbt_exam", object_id=exam.id)


def released(exam: Exam, release: ResultRelease | None, *, submitted: bool,
             now: datetime | None = None) -> bool:
    """Whether a candidate whose attempt is (or is not) submitted may see the score now."""
    now = now or utcnow()
    policy = exam.show_score
    if policy == "after_submit":
        return submitted
    if policy == "after_close":
        return exam.status == "closed" or (exam.closes_at is not None and now >= exam.closes_at)
    if policy == "at_date":
        return release is not None and release.release_at is not None \
            and now >= release.release_at
    if policy == "manual":
        return release is not None and release.released_at is not None
    return False


def N_(text: str) -> str:  # noqa: N802 - the name pybabel extracts
    """Marks an English msgid for extraction; the page translates it when shown."""
    return text


def describe(exam: Exam, release: ResultRelease | None) -> str:
    """The policy in words (an English msgid)."""
    return {"never": N_("Never shown to candidates"),
            "after_submit": N_("Shown as soon as the candidate submits"),
            "after_close": N_("Shown when the exam closes"),
            "at_date": N_("Shown from a set date"),
            "manual": N_("Shown when staff release them")}.get(exam.show_score, exam.show_score)


# -- the candidate's lookup --------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    outcome: Literal["shown", "not_released", "no_result", "refused", "throttled"]
    candidate: Candidate | None = None
    exam: Any = None  # the Exam (or, once its session is closed, a dict of code and title)
    row: Any = None  # a ResultRow when shown


def _throttled(session: Session, keys: list[str], now: datetime) -> bool:
    for key in keys:
        count = session.scalar(select(func.count()).select_from(LoginFailure).where(
            LoginFailure.key == key, LoginFailure.at >= now - LOOKUP_WINDOW)) or 0
        limit = LOOKUP_FAILURES if key.startswith("cbt-result:no:") else LOOKUP_FAILURES * 4
        if count >= limit:
            return True
    return False


def lookup(session: Session, form: LookupForm, ip: str, now: datetime | None = None
           ) -> Lookup:
    """A candidate's own result, if the card's credentials are right and it is released.

    Wrong credentials are counted per participant number and per address (the sign-in
    throttle of staff accounts), so the lookup cannot be used to guess card passwords.
    """
    from plugins.cbt.candidates import verify
    from plugins.cbt.reports.source import result_rows

    now = now or utcnow()
    number = form.participant_number.upper()
    keys = [f"cbt-result:no:{number}", f"cbt-result:ip:{ip}"]
    if _throttled(session, keys, now):
        return Lookup("throttled")
    cand = verify(session, number, form.password)
    if cand is None:
        for key in keys:
            session.add(LoginFailure(key=key, at=now))
        audit(session, "cbt.results.lookup_failed", object_type="cbt_candidate",
              object_id=number[:40], ip=ip)
        return Lookup("refused")
    exam = session.get(Exam, cand.exam_id)
    assert exam is not None
    audit(session, "cbt.results.lookup", actor=f"peserta:{cand.participant_number}",
          object_type="cbt_candidate", object_id=cand.id, ip=ip)
    rows, _sections = result_rows(session, exam)
    row = next((r for r in rows if r.participant_number == cand.participant_number), None)
    # Only submitted attempts have a result row with a submission time.
    if row is None or row.absent or row.submitted_at is None:
        return Lookup("no_result", cand, exam)
    if not released(exam, release_of(session, exam), submitted=True, now=now):
        return Lookup("not_released", cand, exam)
    return Lookup("shown", cand, exam, row)
