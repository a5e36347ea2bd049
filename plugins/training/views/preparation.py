"""Staff pages of one training: preparation (checklist, third party, registration,
materials), the knowledge check, supervision notes, evaluation results, documentation."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from core.accounts.access import require
from core.instance import ruang
from plugins.training import assessments, certificates, evaluation, files, quiz, service
from plugins.training.errors import TrainingError
from plugins.training.forms import RATINGS, form_dict
from plugins.training.models import FileKind
from plugins.training.participants import of_training
from plugins.training.views import bp
from plugins.training.views.common import refuse, training_or_404


def _uploads() -> list[files.Upload]:
    return [files.Upload(s.filename or "", s.read()) for s in request.files.getlist("files")
            if s is not None and (s.filename or "")]


# -- preparation -----------------------------------------------------------------------------


@bp.route("/<int:training_id>/preparation")
@require("training.view_all")
def preparation(training_id: int) -> str:
    with ruang().db.session() as session:
        training = training_or_404(session, training_id, staff=True)
        materials = files.of_training(session, training.id, FileKind.MATERIAL.value)
        counts = service.counts(session, training.id)
    return render_template("training/preparation.html", training=training,
                           materials=materials, counts=counts,
                           accepted=", ".join(sorted(files.ACCEPTED)))


@bp.post("/<int:training_id>/checklist")
@require("training.manage")
def checklist_add(training_id: int) -> Response:
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            service.add_checklist_item(session, training, form_dict(request.form),
                                       current_user)
    except TrainingError as exc:
        return refuse(exc, ".preparation", training_id=training_id)
    return redirect(url_for(".preparation", training_id=training_id))


@bp.post("/<int:training_id>/checklist/<int:item_id>")
@require("training.manage")
def checklist_tick(training_id: int, item_id: int) -> Response:
    done = request.form.get("done") == "1"
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            service.tick(session, training, item_id, done, current_user)
    except TrainingError as exc:
        return refuse(exc, ".preparation", training_id=training_id)
    return redirect(url_for(".preparation", training_id=training_id))


@bp.post("/<int:training_id>/registration")
@require("training.manage")
def registration(training_id: int) -> Response:
    open_ = request.form.get("open") == "1"
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            service.set_registration(session, training, open_, current_user)
        flash(_("Registration is open.") if open_ else _("Registration is closed."), "success")
    except TrainingError as exc:
        return refuse(exc, ".preparation", training_id=training_id)
    return redirect(url_for(".preparation", training_id=training_id))


@bp.post("/<int:training_id>/third-party")
@require("training.manage")
def third_party(training_id: int) -> Response:
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            service.set_third_party_status(session, training, form_dict(request.form),
                                           current_user)
        flash(_("Saved."), "success")
    except TrainingError as exc:
        return refuse(exc, ".preparation", training_id=training_id)
    return redirect(url_for(".preparation", training_id=training_id))


# -- files -----------------------------------------------------------------------------------


@bp.post("/<int:training_id>/files")
@require("training.manage")
def files_add(training_id: int) -> Response:
    kind = request.form.get("kind", "")
    back = ".preparation" if kind == FileKind.MATERIAL.value else ".documentation"
    try:
        with ruang().db.session() as session:
            limit = files.max_bytes(session)
        # Checked before the write transaction: opening images takes a moment.
        checked = files.check_all(_uploads(), kind, max_bytes=limit)
        with files.Pending() as pending, ruang().db.transaction() as session:
            training = service.get(session, training_id)
            rows = files.attach(session, training, checked, kind, current_user,
                                title=request.form.get("title", ""), pending=pending)
        flash(_("%(n)s file(s) attached.", n=len(rows)), "success")
    except TrainingError as exc:
        return refuse(exc, back, training_id=training_id)
    return redirect(url_for(back, training_id=training_id))


@bp.post("/<int:training_id>/files/<int:file_id>/delete")
@require("training.manage")
def files_delete(training_id: int, file_id: int) -> Response:
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            name = files.delete(session, training, file_id, current_user)
        files.remove(ruang().settings.instance, [name])
        flash(_("The file was removed."), "success")
    except TrainingError as exc:
        return refuse(exc, ".documentation", training_id=training_id)
    back = ".preparation" if request.form.get("back") == "preparation" else ".documentation"
    return redirect(url_for(back, training_id=training_id))


def send_training_file(training_id: int, file_id: int) -> Response:
    from plugins.training.models import TrainingFile

    with ruang().db.session() as session:
        row = session.get(TrainingFile, file_id)
        if row is None or row.training_id != training_id:
            abort(404)
    try:
        path = files.path_of(ruang().settings.instance, row.storage_name)
    except TrainingError:
        abort(404)
    if not path.exists():
        abort(404, description=_("The file is missing from the server."))
    inline = row.content_type.startswith("image/") or row.content_type == "application/pdf"
    response = send_file(path, mimetype=row.content_type, as_attachment=not inline,
                         download_name=row.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/<int:training_id>/files/<int:file_id>")
@require("training.view_all")
def file_download(training_id: int, file_id: int) -> Response:
    with ruang().db.session() as session:
        training_or_404(session, training_id, staff=True)
    return send_training_file(training_id, file_id)


# -- knowledge check -------------------------------------------------------------------------


@bp.route("/<int:training_id>/check")
@require("training.view_all")
def check(training_id: int) -> str:
    with ruang().db.session() as session:
        training = training_or_404(session, training_id, staff=True)
        questions = quiz.questions(session, training.id)
        answered = quiz.answered(session, training.id)
        gain = quiz.gain(session, training.id)
        exams = {a.ref: a for a in assessments.available(session)}
    return render_template("training/check.html", training=training, questions=questions,
                           answered=answered, gain=gain, exams=exams)


@bp.post("/<int:training_id>/questions")
@require("training.manage")
def question_add(training_id: int) -> Response:
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            quiz.add_question(session, training, form_dict(request.form), current_user)
        flash(_("Question added."), "success")
    except TrainingError as exc:
        return refuse(exc, ".check", training_id=training_id)
    return redirect(url_for(".check", training_id=training_id))


@bp.post("/<int:training_id>/questions/<int:question_id>/delete")
@require("training.manage")
def question_delete(training_id: int, question_id: int) -> Response:
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            quiz.delete_question(session, training, question_id, current_user)
    except TrainingError as exc:
        return refuse(exc, ".check", training_id=training_id)
    return redirect(url_for(".check", training_id=training_id))


@bp.post("/<int:training_id>/scores/collect")
@require("training.manage")
def scores_collect(training_id: int) -> Response:
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            found = assessments.collect(session, training, current_user)
        flash(" ".join(_("%(phase)s: %(matched)s matched, %(unmatched)s not found.",
                         phase=c.phase, matched=c.matched, unmatched=c.unmatched)
                       for c in found), "success")
    except TrainingError as exc:
        return refuse(exc, ".check", training_id=training_id)
    return redirect(url_for(".check", training_id=training_id))


# -- supervision -----------------------------------------------------------------------------


@bp.route("/<int:training_id>/supervision")
@require("training.view_all")
def supervision(training_id: int) -> str:
    with ruang().db.session() as session:
        training = training_or_404(session, training_id, staff=True)
        notes = service.notes(session, training.id)
        counts = service.counts(session, training.id)
    return render_template("training/supervision.html", training=training, notes=notes,
                           counts=counts)


@bp.post("/<int:training_id>/notes")
@require("training.manage")
def note_add(training_id: int) -> Response:
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            service.add_note(session, training, form_dict(request.form), current_user)
        flash(_("Note saved."), "success")
    except TrainingError as exc:
        return refuse(exc, ".supervision", training_id=training_id)
    return redirect(url_for(".supervision", training_id=training_id))


# -- evaluation ------------------------------------------------------------------------------


@bp.route("/<int:training_id>/evaluation")
@require("training.reports")
def evaluation_page(training_id: int) -> str:
    with ruang().db.session() as session:
        training = training_or_404(session, training_id, staff=True)
        res = evaluation.results(session, training.id)
    chart = res.chart_data()
    chart["labels"] = {"aspects": [_(label) for _n, label in RATINGS],
                       "pre": _("Pre-test"), "post": _("Post-test"),
                       "average": _("Average rating"), "count": _("Answers"),
                       "bands": [_("high"), _("medium"), _("low")],
                       "participant": _("Participant")}
    return render_template("training/evaluation.html", training=training, res=res,
                           chart=chart)


# -- documentation ---------------------------------------------------------------------------


@bp.route("/<int:training_id>/documentation")
@require("training.view_all")
def documentation(training_id: int) -> str:
    with ruang().db.session() as session:
        training = training_or_404(session, training_id, staff=True)
        attached = [f for f in files.of_training(session, training.id)
                    if f.kind != FileKind.MATERIAL.value]
        certs = {c.participant_id: c for c in certificates.of_training(session, training.id)}
        attendees = [p for p in of_training(session, training.id)
                     if p.checked_in_at is not None]
    return render_template("training/documentation.html", training=training,
                           attached=attached, certs=certs, attendees=attendees,
                           accepted=", ".join(sorted(files.ACCEPTED)))

