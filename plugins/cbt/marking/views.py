"""Pages of marking: the essay queue, the blind marking form, the marking plan, and the
answer-key corrections of an exam. Thin: the rules live in :mod:`.ratings` and
:mod:`.corrections`; each change runs in one transaction and is audited there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from core.accounts.access import can, require
from core.accounts.models import User
from core.instance import ruang
from core.records.service import as_local
from plugins.cbt.content import TYPE_LABELS
from plugins.cbt.marking import corrections, ratings
from plugins.cbt.models import Exam
from plugins.cbt.render import render_item, with_image_urls

bp = Blueprint("cbt_marking", __name__, url_prefix="/cbt/marking",
               template_folder="templates", static_folder="static",
               static_url_path="/static")


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"local_time": local_time}


def local_time(moment: datetime | None) -> str:
    return as_local(moment).strftime("%d-%m-%Y %H:%M") if moment is not None else ""


def _exam(session: Any, exam_id: int) -> Exam:
    exam = session.get(Exam, exam_id)
    if exam is None:
        abort(404)
    return exam


def errors_text(exc: ValidationError) -> str:
    """Pydantic's messages without its prefixes, one per problem."""
    out = []
    for e in exc.errors():
        msg = str(e["msg"]).removeprefix("Value error, ")
        loc = ".".join(str(x) for x in e["loc"])
        out.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(out)


def _asset_url(aid: int) -> str:
    return url_for("cbt.asset", asset_id=aid)


def _people(session: Any) -> list[User]:
    return list(session.scalars(select(User).where(
        User.active.is_(True), User.role.in_(("staff", "head", "requester", "admin")))
        .order_by(User.full_name, User.username)))


@bp.route("/exams/<int:exam_id>")
@require("cbt.view")
def queue(exam_id: int) -> str:
    with ruang().db.session() as session:
        exam = _exam(session, exam_id)
        if not ratings.may_open_marking(session, exam, current_user):
            abort(403)
        responses = ratings.essay_responses(session, exam)
        roles = {r.code: ratings.role_for(session, exam, r, current_user) for r in responses}
        done = {r.code for r in responses
                if any(x.rater_id == current_user.id for x in r.ratings)}
        stats = ratings.progress(session, exam, responses, current_user)
        plan = ratings.plan_of(session, exam)
        people = _people(session) if can(current_user, "cbt.author") else []
        names = {u.id: u.full_name or u.username for u in people}
        return render_template(
            "cbt_marking/queue.html", exam=exam, responses=responses, roles=roles, done=done,
            stats=stats, plan=plan, people=people, names=names,
            adjudicator=ratings.adjudicator_id(plan, exam),
            manage=can(current_user, "cbt.author"))


@bp.route("/exams/<int:exam_id>/plan", methods=["POST"])
@require("cbt.author")
def plan(exam_id: int) -> WerkzeugResponse:
    try:
        form = ratings.PlanForm.model_validate({
            "raters_per_response": request.form.get("raters_per_response", "1"),
            "threshold": request.form.get("threshold", "1").replace(",", ".") or "0",
            "rater_ids": [int(x) for x in request.form.getlist("rater_ids") if x.isdigit()],
            "adjudicator_id": request.form.get("adjudicator_id", type=int) or None,
        })
        with ruang().db.transaction() as session:
            ratings.save_plan(session, _exam(session, exam_id), form, current_user)
    except ValidationError as exc:
        flash(errors_text(exc), "error")
    except ratings.MarkingError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Marking plan saved."), "success")
    return redirect(url_for("cbt_marking.queue", exam_id=exam_id))


@bp.route("/exams/<int:exam_id>/responses/<code>", methods=["GET", "POST"])
@require("cbt.view")
def response(exam_id: int, code: str) -> str | WerkzeugResponse:
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = {"score": request.form.get("score", "").replace(",", ".").strip() or None,
                  "levels": {k.removeprefix("level-"): v for k, v in request.form.items()
                             if k.startswith("level-") and v != ""},
                  "comment": request.form.get("comment", "")}
        try:
            with ruang().db.transaction() as session:
                exam = _exam(session, exam_id)
                found = ratings.response_by_code(session, exam, code)
                if found is None:
                    abort(404)
                _content, key = ratings.item_text(session, found.version_id)
                form = ratings.score_form(values, found, key)
                ratings.rate(session, exam, code, current_user, form)
        except ValidationError as exc:
            flash(errors_text(exc), "error")
        except ratings.MarkingError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Mark saved."), "success")
            return redirect(url_for("cbt_marking.queue", exam_id=exam_id))
    with ruang().db.session() as session:
        exam = _exam(session, exam_id)
        if not ratings.may_open_marking(session, exam, current_user):
            abort(403)
        found = ratings.response_by_code(session, exam, code)
        if found is None:
            abort(404)
        content, key = ratings.item_text(session, found.version_id)
        role = ratings.role_for(session, exam, found, current_user)
        mine = next((r for r in found.ratings if r.rater_id == current_user.id), None)
        # An adjudicator sees the two raters' marks; a rater never sees another's.
        others = found.ratings if role == "adjudicator" or (
            can(current_user, "cbt.author") and found.state == "final" and mine is None) else []
        stem = render_item("essay", content, _asset_url)
        rubric = Markup(with_image_urls(key.rubric, _asset_url))  # noqa: S704 - sanitised
        return render_template("cbt_marking/response.html", exam=exam, r=found, key=key,
                               stem=stem, rubric=rubric, role=role, mine=mine, others=others,
                               values=values)


@bp.route("/exams/<int:exam_id>/keys", methods=["GET", "POST"])
@require("cbt.author")
def keys(exam_id: int) -> str | WerkzeugResponse:
    if request.method == "POST":
        truth = request.form.get("truth", "")
        try:
            form = corrections.CorrectionForm.model_validate({
                "item_version_id": request.form.get("item_version_id", type=int) or 0,
                "kind": request.form.get("kind", ""),
                "reason": request.form.get("reason", ""),
                "correct": request.form.getlist("correct"),
                "truth": {"true": True, "false": False}.get(truth),
            })
            with ruang().db.transaction() as session:
                run = corrections.correct(session, _exam(session, exam_id), form, current_user)
                changed, attempts = run.changed, run.attempts
        except ValidationError as exc:
            flash(errors_text(exc), "error")
        except corrections.CorrectionError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Key corrected: %(n)s of %(total)s attempts rescored with a different "
                    "total.", n=changed, total=attempts), "success")
        return redirect(url_for("cbt_marking.keys", exam_id=exam_id))
    with ruang().db.session() as session:
        from plugins.cbt.bank import open_version

        exam = _exam(session, exam_id)
        applied = corrections.active_corrections(session, exam)
        items = []
        for v in corrections.used_versions(session, exam):
            content, key = open_version(session, v)
            fix = applied.get(v.id)
            shown = fix.key if fix is not None and fix.key is not None else key
            items.append({"version": v, "content": content, "key": shown, "fix": fix,
                          "html": render_item(v.type, content, _asset_url, key=shown)})
        history = corrections.history(session, exam)
        names = {u.id: u.full_name or u.username for u in session.scalars(select(User))}
        return render_template("cbt_marking/keys.html", exam=exam, items=items,
                               history=history, names=names, kinds=corrections.KIND_TEXT,
                               types={t: _(label) for t, label in TYPE_LABELS.items()})
