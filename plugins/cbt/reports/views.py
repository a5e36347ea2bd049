"""Pages and downloads of CBT reports: item analysis (with charts fed by a JSON endpoint),
results as CSV/XLSX, result slips and the minutes as PDF, and the public check of a slip.

Thin: the numbers come from :mod:`plugins.cbt.analysis.source` and
:mod:`plugins.cbt.reports.source`; each download of personal data is audited.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from core.accounts.access import public, require
from core.audit.service import record as audit
from core.db import utcnow
from core.instance import ruang
from core.records.service import as_local
from plugins.cbt.analysis.source import exam_analysis
from plugins.cbt.marking import release as releases
from plugins.cbt.marking.ratings import essay_responses
from plugins.cbt.models import Candidate, CbtEvent, Exam
from plugins.cbt.reports.minutes import minutes_pdf
from plugins.cbt.reports.results import to_csv, to_xlsx
from plugins.cbt.reports.slip import SlipData, result_slip, verification_code
from plugins.cbt.reports.source import minutes_data, result_rows, section_maxima

bp = Blueprint("cbt_reports", __name__, url_prefix="/cbt/reports",
               template_folder="templates", static_folder="static",
               static_url_path="/static")

SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _exam(session: Any, exam_id: int) -> Exam:
    exam = session.get(Exam, exam_id)
    if exam is None:
        abort(404)
    return exam


def _download(data: bytes, mimetype: str, name: str) -> Response:
    resp = Response(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{SAFE_NAME.sub("_", name)}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _audit(action: str, object_type: str, object_id: object, **details: Any) -> None:
    with ruang().db.transaction() as session:
        audit(session, action, actor=current_user, object_type=object_type,
              object_id=object_id, details=details)


def _secret() -> bytes:
    key = current_app.secret_key
    return key.encode() if isinstance(key, str) else bytes(key or b"")


# -- item analysis ---------------------------------------------------------------------------


@bp.route("/exams/<int:exam_id>/analysis")
@require("cbt.author")
def analysis(exam_id: int) -> str:
    with ruang().db.session() as session:
        exam = _exam(session, exam_id)
        result = exam_analysis(session, exam)
        return render_template("cbt_reports/analysis.html", exam=exam, result=result)


@bp.route("/exams/<int:exam_id>/analysis.json")
@require("cbt.author")
def analysis_json(exam_id: int) -> Response:
    with ruang().db.session() as session:
        exam = _exam(session, exam_id)
        data = exam_analysis(session, exam).to_dict()
    data["exam"] = {"id": exam_id, "code": exam.code, "title": exam.title}
    resp = jsonify(data)
    resp.headers["Cache-Control"] = "no-store"
    return resp


# -- results ---------------------------------------------------------------------------------


@bp.route("/exams/<int:exam_id>/results.<any(csv, xlsx):fmt>")
@require("cbt.author")
def results(exam_id: int, fmt: str) -> Response:
    with ruang().db.session() as session:
        exam = _exam(session, exam_id)
        rows, sections = result_rows(session, exam)
        code, title, pass_mark = exam.code, exam.title, exam.pass_mark
    _audit("cbt.results.exported", "cbt_exams", exam_id, format=fmt, rows=len(rows))
    if fmt == "csv":
        return _download(to_csv(rows, sections), "text/csv; charset=utf-8",
                         f"hasil-{code}.csv")
    data = to_xlsx(rows, sections, title=f"{title} ({code})",
                   summary=[("Batas lulus", f"{pass_mark:g}%")])
    return _download(data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     f"hasil-{code}.xlsx")


@bp.route("/exams/<int:exam_id>/results")
@require("cbt.author")
def results_page(exam_id: int) -> str:
    with ruang().db.session() as session:
        exam = _exam(session, exam_id)
        rows, sections = result_rows(session, exam)
        release = releases.release_of(session, exam)
        essays = essay_responses(session, exam)
        event = session.get(CbtEvent, exam.event_id) if exam.event_id else None
        tz = ZoneInfo(ruang().settings.timezone)
        release_at = (release.release_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
                      if release is not None and release.release_at else "")
        return render_template(
            "cbt_reports/results.html", exam=exam, rows=rows, sections=sections,
            release=release, release_at=release_at, policies=releases.POLICIES,
            policy_text=releases.describe(exam, release),
            now_released=releases.released(exam, release, submitted=True),
            essays_open=sum(1 for e in essays if e.state != "final"), essays=len(essays),
            event=event)


@bp.route("/exams/<int:exam_id>/release", methods=["POST"])
@require("cbt.author")
def release_action(exam_id: int) -> WerkzeugResponse:
    action = request.form.get("action", "")
    try:
        with ruang().db.transaction() as session:
            exam = _exam(session, exam_id)
            if action == "policy":
                when = request.form.get("release_at", "").strip()
                try:
                    moment = (datetime.fromisoformat(when).replace(
                        tzinfo=ZoneInfo(ruang().settings.timezone)) if when else None)
                except ValueError:
                    raise releases.ReleaseError(_("Write the date as YYYY-MM-DD HH:MM.")) \
                        from None
                form = releases.ReleaseForm(policy=request.form.get("policy", ""),  # type: ignore[arg-type]
                                            release_at=moment)
                releases.set_policy(session, exam, form, current_user)
            elif action in ("release", "withdraw"):
                releases.release_now(session, exam, current_user, withdraw=action == "withdraw")
            else:
                abort(400)
    except ValidationError as exc:
        flash("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()),
              "error")
    except releases.ReleaseError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("cbt_reports.results_page", exam_id=exam_id))


@bp.route("/result", methods=["GET", "POST"])
@public
def lookup() -> tuple[str, int]:
    """A candidate's own result, with the participant number and password of the login card."""
    outcome: Any = None
    status = 200
    if request.method == "POST":
        try:
            form = releases.LookupForm(
                participant_number=request.form.get("participant_number", ""),
                password=request.form.get("password", ""))
        except ValidationError:
            outcome = releases.Lookup("refused")
        else:
            with ruang().db.transaction() as session:
                outcome = releases.lookup(session, form, request.remote_addr or "")
                if outcome.exam is not None:
                    exam_view = {"code": outcome.exam.code, "title": outcome.exam.title}
                    outcome = releases.Lookup(outcome.outcome, None, exam_view, outcome.row)
        status = {"refused": 403, "throttled": 429}.get(outcome.outcome, 200)
    return render_template("cbt_reports/lookup.html", outcome=outcome), status


@bp.route("/exams/<int:exam_id>/slips/<number>.pdf")
@require("cbt.author")
def slip(exam_id: int, number: str) -> Response:
    with ruang().db.session() as session:
        exam = _exam(session, exam_id)
        rows, _sections = result_rows(session, exam)
        row = next((r for r in rows if r.participant_number == number), None)
        if row is None:
            abort(404)
        event = session.get(CbtEvent, exam.event_id) if exam.event_id else None
        cand = session.scalar(select(Candidate).where(Candidate.exam_id == exam.id,
                                                      Candidate.participant_number == number))
        section_max = section_maxima(session, exam, cand) if cand is not None else {}
        code = verification_code(_secret(), exam.code, row)
        data = SlipData(
            exam.title, exam.code, row, event.title if event else "",
            row.submitted_at.date() if row.submitted_at else None, exam.pass_mark,
            section_max,
            url_for("cbt_reports.verify", exam_code=exam.code, number=number, code=code,
                    _external=True),
            code, as_local(utcnow()))
    _audit("cbt.results.slip", "cbt_exams", exam_id, candidate=number)
    return _download(result_slip(data), "application/pdf", f"slip-{exam.code}-{number}.pdf")


@bp.route("/verify/<exam_code>/<number>/<code>")
@public
def verify(exam_code: str, number: str, code: str) -> tuple[str, int]:
    """Anyone holding a slip checks it: the result it states is the one stored now."""
    with ruang().db.session() as session:
        exam = session.scalar(select(Exam).where(Exam.code == exam_code.upper()))
        row = None
        if exam is not None:
            rows, _sections = result_rows(session, exam)
            row = next((r for r in rows if r.participant_number == number), None)
        valid = row is not None and exam is not None and code == verification_code(
            _secret(), exam.code, row)
        return render_template("cbt_reports/verify.html", valid=valid,
                               row=row if valid else None, exam=exam if valid else None,
                               code=code), (200 if valid else 404)


# -- minutes ---------------------------------------------------------------------------------


@bp.route("/events/<int:event_id>/minutes.pdf")
@require("cbt.events.manage")
def minutes(event_id: int) -> Response:
    with ruang().db.session() as session:
        event = session.get(CbtEvent, event_id)
        if event is None:
            abort(404)
        data = minutes_data(session, event)
    _audit("cbt.minutes.printed", "cbt_events", event_id, number=data.number or "draft")
    name = f"berita-acara-{data.number or 'draf-' + str(event_id)}.pdf"
    return _download(minutes_pdf(data), "application/pdf", name.replace("/", "-"))
