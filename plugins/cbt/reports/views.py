"""Pages and downloads of CBT reports: item analysis (with charts fed by a JSON endpoint),
results as CSV/XLSX, result slips and the minutes as PDF, and the public check of a slip.

Thin: the numbers come from :mod:`plugins.cbt.analysis.source` and
:mod:`plugins.cbt.reports.source`; each download of personal data is audited.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from core.accounts.access import public, require
from core.audit.service import record as audit
from core.db import utcnow
from core.instance import ruang
from core.records.service import as_local
from plugins.cbt.analysis.source import exam_analysis
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
