"""Proposals: the list of trainings, drafting and editing, the workflow, the letter."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from core.accounts.access import require
from core.instance import ruang
from core.rooms import service as rooms
from core.workflow.engine import WorkflowError
from core.workflow.panel import TransitionForm, panel
from plugins.training import clock, letter, parties, service
from plugins.training.assessments import available
from plugins.training.errors import TrainingError
from plugins.training.flow import STATES, TRAINING
from plugins.training.forms import LABELS, form_dict
from plugins.training.models import Training
from plugins.training.participants import of_training
from plugins.training.views import bp
from plugins.training.views.common import refusal, refuse, training_or_404

LIST_FIELDS = ("trainer_refs",)


@bp.route("/")
@require("training.join")
def index() -> str:
    state = request.args.get("state", "")
    if state not in STATES:
        state = ""
    query = request.args.get("q", "")[:100]
    try:
        year = int(request.args.get("year", "") or 0) or None
    except ValueError:
        year = None
    with ruang().db.session() as session:
        rows = service.listing(session, current_user, state=state, year=year, query=query)
        counts = {t.id: service.counts(session, t.id) for t in rows}
        mine = {p.training_id: p for t in rows
                if (p := service.participant_of(session, t, current_user)) is not None}
    return render_template("training/index.html", rows=rows, counts=counts, mine=mine,
                           state=state, query=query, year=year or "")


def _choices(session: Any, training: Training | None = None) -> dict[str, Any]:
    labs = rooms.labs(session, include_inactive=False)
    directory = parties.directory(session, "")
    known = {p.ref for p in directory}
    # A party chosen earlier whose plugin is now switched off is still shown as chosen.
    extra = []
    if training is not None:
        if training.third_party_ref and training.third_party_ref not in known:
            extra.append((training.third_party_ref, training.third_party_name))
        extra += [(t.ref, t.name) for t in training.trainers
                  if t.ref and t.ref not in known]
    return {"labs": labs, "directory": directory, "extra_parties": extra,
            "exams": available(session)}


def _form_values(training: Training | None) -> dict[str, Any]:
    if training is None:
        return {"audience": "mixed", "capacity": 30, "budget": 0, "check_mode": "quiz",
                "trainer_refs": []}
    return {
        "title": training.title, "theme": training.theme, "description": training.description,
        "audience": training.audience, "audience_notes": training.audience_notes,
        "goals": training.goals, "starts_at": clock.input_value(training.starts_at),
        "ends_at": clock.input_value(training.ends_at), "venue": training.venue,
        "lab_id": training.lab_id or "", "capacity": training.capacity,
        "budget": training.budget, "budget_notes": training.budget_notes,
        "third_party_ref": training.third_party_ref,
        "trainer_refs": [t.ref for t in training.trainers if t.ref],
        "trainer_lines": "\n".join("; ".join((t.name, t.role, t.email)).rstrip("; ")
                                   for t in training.trainers if not t.ref),
        "check_mode": training.check_mode, "pre_ref": training.pre_ref,
        "post_ref": training.post_ref,
    }


@bp.route("/new", methods=["GET", "POST"])
@require("training.manage")
def new() -> Any:
    r = ruang()
    errors: dict[str, str] = {}
    values = _form_values(None)
    if request.method == "POST":
        values = form_dict(request.form, LIST_FIELDS)
        try:
            with r.db.transaction() as session:
                training = service.create(session, values, current_user)
            flash(_("Proposal %(code)s saved as a draft.", code=training.code), "success")
            return redirect(url_for(".show", training_id=training.id))
        except TrainingError as exc:
            flash(exc.translated(), "error")
            errors = exc.fields
    with r.db.session() as session:
        choices = _choices(session)
    status = 400 if errors or request.method == "POST" else 200
    return render_template("training/form.html", training=None, values=values,
                           errors=errors, labels=LABELS, **choices), status


@bp.route("/<int:training_id>/edit", methods=["GET", "POST"])
@require("training.manage")
def edit(training_id: int) -> Any:
    r = ruang()
    errors: dict[str, str] = {}
    with r.db.session() as session:
        training = training_or_404(session, training_id, staff=True)
        values = _form_values(training)
    if training.state not in ("draft", "preparation"):
        flash(_("A training that is %(state)s cannot be changed.",
                state=_(STATES[training.state]).lower()), "error")
        return redirect(url_for(".show", training_id=training_id))
    if request.method == "POST":
        values = form_dict(request.form, LIST_FIELDS)
        try:
            with r.db.transaction() as session:
                training = service.get(session, training_id)
                changes = service.update(session, training, values, current_user)
            flash(_("Saved.") if changes else _("Nothing changed."), "success")
            return redirect(url_for(".show", training_id=training_id))
        except TrainingError as exc:
            flash(exc.translated(), "error")
            errors = exc.fields
    with r.db.session() as session:
        training = training_or_404(session, training_id, staff=True)
        choices = _choices(session, training)
    status = 400 if errors or request.method == "POST" else 200
    return render_template("training/form.html", training=training, values=values,
                           errors=errors, labels=LABELS, **choices), status


@bp.route("/<int:training_id>")
@require("training.join")
def show(training_id: int) -> str:
    r = ruang()
    with r.db.session() as session:
        training = training_or_404(session, training_id)
        staff = service.sees_all(current_user)
        wf = panel(session, TRAINING, training, current_user,
                   url_for(".workflow", training_id=training.id)) if staff else None
        me = service.participant_of(session, training, current_user)
        lab = rooms.get_lab(session, training.lab_id) if training.lab_id else None
        counts = service.counts(session, training.id)
        participants = of_training(session, training.id) if staff else []
    from plugins.training.tokens import page_url

    return render_template("training/overview.html", training=training, panel=wf, me=me,
                           my_page=page_url(me.id, training.id) if me else "", lab=lab,
                           counts=counts, staff=staff, participants=participants,
                           where=letter.where_text(training, lab))


@bp.post("/<int:training_id>/workflow")
@require("training.view_all")
def workflow(training_id: int) -> Response:
    r = ruang()
    try:
        form = TransitionForm.model_validate({k: request.form.get(k) for k in
                                              ("action", "comment") if request.form.get(k)})
    except Exception:
        abort(400, description=_("Choose an action."))
    try:
        with r.db.transaction() as session:
            training = service.get(session, training_id)
            state = service.act(session, training, form.action, current_user, form.comment)
        flash(_("The training is now: %(state)s.", state=_(STATES[state])), "success")
        if form.action == "document":
            from plugins.training.report import publish

            # Drawn after the commit: the write lock is not held while the PDF is made.
            publish(r.db, training_id, current_user)
    except (WorkflowError, TrainingError) as exc:
        return refuse(exc, ".show", training_id=training_id)
    return redirect(url_for(".show", training_id=training_id))


@bp.route("/<int:training_id>/letter.pdf")
@require("training.view_all")
def letter_pdf(training_id: int) -> Response:
    with ruang().db.session() as session:
        training = training_or_404(session, training_id, staff=True)
        try:
            data = letter.pdf(session, training)
        except TrainingError as exc:
            abort(exc.http, description=refusal(exc))
    name = (training.letter_number or "surat").replace("/", "-")
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}.pdf"'})


@bp.post("/<int:training_id>/room")
@require("training.manage")
def room(training_id: int) -> Response:
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            ref = service.reserve_room(session, training, current_user)
        flash(_("The lab is reserved (%(ref)s).", ref=ref), "success")
    except TrainingError as exc:
        return refuse(exc, ".show", training_id=training_id)
    return redirect(url_for(".show", training_id=training_id))
