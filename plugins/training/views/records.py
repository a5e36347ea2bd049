"""Records of trainings: the numbered report, certificates and their public verification,
the yearly summary, and the trainer directory."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from core.accounts.access import public, require
from core.instance import ruang
from plugins.training import certificates, clock, participants, parties, report, service
from plugins.training.errors import TrainingError
from plugins.training.forms import LABELS, form_dict
from plugins.training.models import Certificate, Trainer
from plugins.training.summary import to_csv, to_xlsx, year_summary, years
from plugins.training.views import bp
from plugins.training.views.common import refusal, refuse, training_or_404


def _pdf(data: bytes, number: str) -> Response:
    name = number.replace("/", "-")
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}.pdf"'})


@bp.route("/<int:training_id>/report.pdf")
@require("training.view_all")
def report_pdf(training_id: int) -> Response:
    with ruang().db.session() as session:
        training = training_or_404(session, training_id, staff=True)
    try:
        data = report.report_bytes(ruang().db, training, current_user)
    except TrainingError as exc:
        abort(exc.http, description=refusal(exc))
    return _pdf(data, training.report_number or "laporan")


@bp.post("/<int:training_id>/report")
@require("training.manage")
def report_again(training_id: int) -> Response:
    try:
        with ruang().db.session() as session:
            number = service.get(session, training_id).report_number or ""
        report.publish(ruang().db, training_id, current_user)
        flash(_("Report %(number)s printed again.", number=number), "success")
    except TrainingError as exc:
        return refuse(exc, ".documentation", training_id=training_id)
    return redirect(url_for(".documentation", training_id=training_id))


# -- certificates ----------------------------------------------------------------------------


@bp.post("/<int:training_id>/certificates")
@require("training.manage")
def certificates_issue(training_id: int) -> Response:
    participant_id = request.form.get("participant", "")
    try:
        with ruang().db.transaction() as session:
            training = service.get(session, training_id)
            if participant_id.isdigit():
                person = participants.get(session, training, int(participant_id))
                cert = certificates.issue(session, training, person, current_user)
                flash(_("Certificate %(number)s issued.", number=cert.number), "success")
            else:
                issued, skipped = certificates.issue_all(session, training, current_user)
                flash(_("%(n)s certificate(s) issued.", n=issued), "success")
                for line in skipped[:10]:
                    flash(line, "warning")
    except TrainingError as exc:
        return refuse(exc, ".documentation", training_id=training_id)
    return redirect(url_for(".documentation", training_id=training_id))


def _certificate(session: Session, training_id: int, cert_id: int) -> Certificate:
    cert = session.get(Certificate, cert_id)
    if cert is None or cert.training_id != training_id:
        abort(404)
    return cert


@bp.route("/<int:training_id>/certificates/<int:cert_id>.pdf")
@require("training.view_all")
def certificate_pdf(training_id: int, cert_id: int) -> Response:
    with ruang().db.session() as session:
        training_or_404(session, training_id, staff=True)
        cert = _certificate(session, training_id, cert_id)
        data = certificates.pdf(session, cert)
    return _pdf(data, cert.number)


@bp.post("/<int:training_id>/certificates/<int:cert_id>/revoke")
@require("training.manage")
def certificate_revoke(training_id: int, cert_id: int) -> Response:
    try:
        with ruang().db.transaction() as session:
            cert = _certificate(session, training_id, cert_id)
            certificates.revoke(session, cert, form_dict(request.form), current_user)
        flash(_("Certificate %(number)s was revoked.", number=cert.number), "success")
    except TrainingError as exc:
        return refuse(exc, ".documentation", training_id=training_id)
    return redirect(url_for(".documentation", training_id=training_id))


@bp.route("/verify", defaults={"code": ""})
@bp.route("/verify/<code>")
@public
def verify(code: str) -> Response:
    """The check moved to the core's page; addresses printed in QR codes keep working."""
    args: dict[str, Any] = request.args.to_dict()
    if code:
        args["code"] = code
    return redirect(url_for("certificates.verify", **args), code=301)


# -- the yearly summary ----------------------------------------------------------------------


def _year() -> int:
    try:
        year = int(request.args.get("year", "") or clock.today().year)
    except ValueError:
        abort(400, description=_("Choose a year."))
    if not 2000 <= year <= 2100:
        abort(400, description=_("Choose a year between 2000 and 2100."))
    return year


@bp.route("/summary")
@require("training.reports")
def summary() -> str:
    year = _year()
    with ruang().db.session() as session:
        s = year_summary(session, year)
        known = years(session)
    months = [_("Jan"), _("Feb"), _("Mar"), _("Apr"), _("May"), _("Jun"), _("Jul"), _("Aug"),
              _("Sep"), _("Oct"), _("Nov"), _("Dec")]
    chart = {"months": months, "per_month": s.by_month,
             "themes": list(s.by_theme.keys()), "per_theme": list(s.by_theme.values()),
             "trainings": [r.training.code for r in s.held],
             "ratings": [r.rating for r in s.held], "gains": [r.gain for r in s.held],
             "labels": {"trainings": _("Trainings"), "rating": _("Average rating"),
                        "gain": _("Normalised gain")}}
    return render_template("training/summary.html", s=s, year=year, years=known,
                           chart=chart)


@bp.route("/summary.<fmt>")
@require("training.reports")
def summary_export(fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        abort(404)
    year = _year()
    with ruang().db.session() as session:
        s = year_summary(session, year)
    if fmt == "csv":
        return Response(to_csv(s), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="diklat-{year}.csv"'})
    return Response(to_xlsx(s), mimetype=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), headers={
        "Content-Disposition": f'attachment; filename="diklat-{year}.xlsx"'})


# -- trainers --------------------------------------------------------------------------------


@bp.route("/trainers", methods=["GET", "POST"])
@require("training.manage")
def trainers() -> Any:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"external": "1", "active": "1"}
    if request.method == "POST":
        values = form_dict(request.form)
        try:
            with ruang().db.transaction() as session:
                trainer = parties.save_trainer(session, values, current_user)
            flash(_("%(name)s was added to the directory.", name=trainer.name), "success")
            return redirect(url_for(".trainers"))
        except TrainingError as exc:
            flash(exc.translated(), "error")
            errors = exc.fields
    with ruang().db.session() as session:
        rows = parties.trainers(session)
        others = [p for p in parties.directory(session, "") if p.source != "training"]
    status = 400 if request.method == "POST" else 200
    return render_template("training/trainers.html", rows=rows, others=others,
                           errors=errors, values=values, labels=LABELS), status


@bp.route("/trainers/<int:trainer_id>", methods=["GET", "POST"])
@require("training.manage")
def trainer_edit(trainer_id: int) -> Any:
    errors: dict[str, str] = {}
    with ruang().db.session() as session:
        trainer = session.get(Trainer, trainer_id)
        if trainer is None:
            abort(404)
    values: dict[str, Any] = {
        "name": trainer.name, "organisation": trainer.organisation, "email": trainer.email,
        "phone": trainer.phone, "expertise": trainer.expertise,
        "external": "1" if trainer.external else "", "active": "1" if trainer.active else ""}
    if request.method == "POST":
        values = form_dict(request.form)
        try:
            with ruang().db.transaction() as session:
                found = session.get(Trainer, trainer_id)
                parties.save_trainer(session, values, current_user, found)
            flash(_("Saved."), "success")
            return redirect(url_for(".trainers"))
        except TrainingError as exc:
            flash(exc.translated(), "error")
            errors = exc.fields
    status = 400 if request.method == "POST" else 200
    return render_template("training/trainer_form.html", trainer=trainer, values=values,
                           errors=errors, labels=LABELS), status
