"""A participant's own page, opened with the signed link of their invitation or
registration (no account needed): accept or decline, the QR code for the door, the pre-
and post-test, the evaluation form, materials and the certificate."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from core.accounts.access import public
from core.instance import ruang
from plugins.training import (
    certificates,
    evaluation,
    files,
    participants,
    quiz,
    service,
    tokens,
)
from plugins.training.errors import TrainingError
from plugins.training.forms import RATINGS, form_dict
from plugins.training.models import FileKind, Participant, Training
from plugins.training.views import bp
from plugins.training.views.common import refusal
from plugins.training.views.preparation import send_training_file


def _load(token: str) -> tuple[Training, Participant]:
    data = tokens.read_page_token(token)
    if data is None:
        abort(404, description=_("This link is not valid. Use the link of your latest e-mail."))
    with ruang().db.session() as session:
        training = session.get(Training, data.training_id)
        person = session.get(Participant, data.participant_id)
    if training is None or person is None or person.training_id != training.id:
        abort(404, description=_("This link is not valid. Use the link of your latest e-mail."))
    return training, person


def _fresh(session: Session, participant_id: int) -> Participant:
    person = session.get(Participant, participant_id)
    if person is None:
        abort(404)
    return person


def _back(token: str) -> Response:
    return redirect(url_for(".ticket", token=token))


@bp.route("/p/<token>")
@public
def ticket(token: str) -> str:
    training, person = _load(token)
    with ruang().db.session() as session:
        training = service.get(session, training.id)
        materials = files.of_training(session, training.id, FileKind.MATERIAL.value)
        cert = certificates.of_participant(session, person.id)
        pre = quiz.attempt_of(session, person.id, "pre")
        post = quiz.attempt_of(session, person.id, "post")
        can_pre = quiz.why_not(session, training, person, "pre") is None
        can_post = quiz.why_not(session, training, person, "post") is None
        feedback = evaluation.feedback_of(session, person.id)
        can_feedback = evaluation.why_not(session, training, person) is None
        where = ""
        if training.lab_id:
            from core.rooms.service import get_lab
            from plugins.training.letter import where_text

            where = where_text(training, get_lab(session, training.lab_id))
        else:
            where = training.venue
    qr = Markup(tokens.qr_svg(tokens.checkin_url(person.id, training.id)))  # noqa: S704 - qrcode drew it
    return render_template("training/ticket.html", training=training, person=person,
                           token=token, qr=qr, materials=materials, cert=cert, pre=pre,
                           post=post, can_pre=can_pre, can_post=can_post, feedback=feedback,
                           can_feedback=can_feedback, where=where)


@bp.post("/p/<token>/accept")
@public
def accept(token: str) -> Response:
    training, person = _load(token)
    try:
        with ruang().db.transaction() as session:
            current = service.get(session, training.id)
            status = participants.accept(session, current,
                                         participants.get(session, current, person.id))
        flash(_("You are registered.") if status == "registered"
              else _("The training is full; you are on the waiting list."), "success")
    except TrainingError as exc:
        flash(refusal(exc), "error")
    return _back(token)


@bp.post("/p/<token>/decline")
@public
def decline(token: str) -> Response:
    training, person = _load(token)
    try:
        with ruang().db.transaction() as session:
            current = service.get(session, training.id)
            participants.cancel(session, current, participants.get(session, current, person.id),
                                None)
        flash(_("You will not take part. Thank you for letting us know."), "success")
    except TrainingError as exc:
        flash(refusal(exc), "error")
    return _back(token)


@bp.route("/p/<token>/test/<phase>", methods=["GET", "POST"])
@public
def test(token: str, phase: str) -> Any:
    if phase not in quiz.PHASES:
        abort(404)
    training, person = _load(token)
    r = ruang()
    if request.method == "POST":
        try:
            with r.db.transaction() as session:
                current = service.get(session, training.id)
                who = participants.get(session, current, person.id)
                attempt = quiz.submit(session, current, who, phase, request.form)
            flash(_("Thank you! Your score: %(score)s (%(correct)s of %(total)s correct).",
                    score=f"{attempt.score:.0f}", correct=attempt.correct,
                    total=attempt.total), "success")
            return _back(token)
        except TrainingError as exc:
            flash(refusal(exc), "error")
            if exc.kind == "closed":
                return _back(token)
    with r.db.session() as session:
        training, person = service.get(session, training.id), _fresh(session, person.id)
        reason = quiz.why_not(session, training, person, phase)
        questions = quiz.questions(session, training.id)
    if reason:
        flash(_(reason), "error")
        return _back(token)
    status = 400 if request.method == "POST" else 200
    return render_template("training/test.html", training=training, person=person,
                           token=token, phase=phase, questions=questions,
                           chosen=dict(request.form)), status


@bp.route("/p/<token>/feedback", methods=["GET", "POST"])
@public
def feedback(token: str) -> Any:
    training, person = _load(token)
    r = ruang()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            with r.db.transaction() as session:
                current = service.get(session, training.id)
                who = participants.get(session, current, person.id)
                evaluation.submit(session, current, who, form_dict(request.form))
            flash(_("Thank you for your evaluation!"), "success")
            return _back(token)
        except TrainingError as exc:
            flash(refusal(exc), "error")
            errors = exc.fields
            if exc.kind == "closed":
                return _back(token)
    with r.db.session() as session:
        training, person = service.get(session, training.id), _fresh(session, person.id)
        reason = evaluation.why_not(session, training, person)
    if reason:
        flash(_(reason), "error")
        return _back(token)
    status = 400 if request.method == "POST" else 200
    return render_template("training/feedback.html", training=training, person=person,
                           token=token, ratings=RATINGS, errors=errors,
                           values=dict(request.form)), status


@bp.route("/p/<token>/certificate.pdf")
@public
def my_certificate(token: str) -> Response:
    _training, person = _load(token)
    with ruang().db.session() as session:
        cert = certificates.of_participant(session, person.id)
        if cert is None or cert.revoked_at is not None:
            abort(404, description=_("There is no valid certificate for you yet."))
        data = certificates.pdf(session, cert)
    return _pdf(data, cert.number)


@bp.route("/p/<token>/files/<int:file_id>")
@public
def my_file(token: str, file_id: int) -> Response:
    training, _person = _load(token)
    from plugins.training.models import TrainingFile

    with ruang().db.session() as session:
        row = session.get(TrainingFile, file_id)
        if row is None or row.kind != FileKind.MATERIAL.value:
            abort(404)
    return send_training_file(training.id, file_id)


def _pdf(data: bytes, number: str) -> Response:
    name = number.replace("/", "-")
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}.pdf"'})
