"""Staff pages: programmes and their proposal to WR II, fields and quotas, sessions,
registrations and payments, attendance, results and certificates."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from core.accounts.access import can, public, require
from core.accounts.models import User
from core.instance import ruang
from core.rooms import service as rooms
from core.workflow.engine import WorkflowError
from core.workflow.panel import panel
from plugins.certification import (
    certificates,
    delivery,
    participants,
    programmes,
    registrations,
    vendors,
)
from plugins.certification.errors import N_, CertError
from plugins.certification.flows import PROGRAMME
from plugins.certification.models import (
    ACTIVE,
    CertField,
    Certificate,
    CertPayment,
    CertProgramme,
    CertRegistration,
    CertSession,
    RegStatus,
)
from plugins.certification.views import bp, get_or_404, refuse

FORM_KEYS = ("title", "description", "vendor_id", "starts_on", "ends_on",
             "registration_opens_at", "registration_closes_at", "cancel_until", "offer_hours",
             "one_field_only", "min_attendance", "validity_months", "signer_name",
             "signer_title")


def _db() -> Any:
    return ruang().db


def _form() -> dict[str, Any]:
    return {k: v for k, v in request.form.items() if k != "csrf_token"}


def _back(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values))


# -- programmes ------------------------------------------------------------------------------


@bp.route("/")
@require("certification.view")
def index() -> str:
    with _db().session() as s:
        rows = programmes.visible(s)
        counts = programmes.counts_by_state(s)
        seats = {p.id: (sum(f.quota for f in p.fields), sum(f.seats_held for f in p.fields))
                 for p in rows}
    return render_template("certification/index.html", rows=rows, counts=counts, seats=seats)


def _programme_form_page(prog: CertProgramme | None, values: dict[str, Any]) -> str:
    with _db().session() as s:
        vendor_list = vendors.listing(s, active_only=True)
    return render_template("certification/programme_form.html", prog=prog, values=values,
                           vendors=vendor_list)


def _values_of(prog: CertProgramme) -> dict[str, Any]:
    from plugins.certification.clock import local

    out: dict[str, Any] = {}
    for key in FORM_KEYS:
        value = getattr(prog, key)
        if key in ("registration_opens_at", "registration_closes_at", "cancel_until"):
            moment = local(value)
            value = moment.strftime("%Y-%m-%dT%H:%M") if moment else ""
        out[key] = "" if value is None else value
    return out


@bp.route("/programmes/new", methods=["GET", "POST"])
@require("certification.manage")
def programme_new() -> Any:
    if request.method == "GET":
        return _programme_form_page(None, {"offer_hours": 24, "min_attendance": 75,
                                           "signer_title": "Kepala BPTI"})
    try:
        with _db().transaction() as s:
            prog = programmes.create(s, _form(), actor=current_user)
            new_id = prog.id
    except CertError as exc:
        refuse(exc)
        return _programme_form_page(None, _form()), 400
    flash(_("Programme drafted. Add its fields and budget, then submit it to WR II."), "success")
    return _back("certification.programme", programme_id=new_id)


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@require("certification.manage")
def programme_edit(programme_id: int) -> Any:
    with _db().session() as s:
        prog = get_or_404(s, CertProgramme, programme_id)
        values = _values_of(prog)
    if request.method == "GET":
        return _programme_form_page(prog, values)
    try:
        with _db().transaction() as s:
            prog = get_or_404(s, CertProgramme, programme_id)
            programmes.update(s, prog, _form(), actor=current_user)
    except CertError as exc:
        refuse(exc)
        return _programme_form_page(prog, _form()), 400
    flash(_("Saved."), "success")
    return _back("certification.programme", programme_id=programme_id)


@bp.route("/programmes/<int:programme_id>")
@require("certification.view")
def programme(programme_id: int) -> str:
    with _db().session() as s:
        prog = get_or_404(s, CertProgramme, programme_id)
        wf = panel(s, PROGRAMME, prog, current_user,
                   url_for("certification.programme_workflow", programme_id=prog.id))
        vendor = s.get(vendors.CertVendor, prog.vendor_id) if prog.vendor_id else None
        fields = list(prog.fields)
        waiting = {f.id: registrations.waiting(s, f.id) for f in fields}
        sessions = {f.id: list(f.sessions) for f in fields}
        costs = list(prog.costs)
        total = programmes.total_cost(prog)
        labs = {lab.id: lab for lab in rooms.labs(s)}
    return render_template("certification/programme.html", prog=prog, panel=wf, vendor=vendor,
                           fields=fields, waiting=waiting, sessions=sessions, costs=costs,
                           total=total, labs=labs)


@bp.post("/programmes/<int:programme_id>/workflow")
@require("certification.view")
def programme_workflow(programme_id: int) -> Response:
    try:
        with _db().transaction() as s:
            prog = get_or_404(s, CertProgramme, programme_id)
            action = programmes.act(s, prog, request.form, actor=current_user)
    except (WorkflowError, CertError) as exc:
        return refuse(exc) or _back("certification.programme", programme_id=programme_id)
    messages = {"submit": _("Submitted to WR II."), "approve": _("Approved."),
                "return": _("Returned to BPTI with your comments."),
                "reject": _("Rejected."), "publish": _("Published on the portal."),
                "cancel": _("Programme cancelled; registrants were told.")}
    flash(messages.get(action, _("Done.")), "success")
    return _back("certification.programme", programme_id=programme_id)


@bp.post("/programmes/<int:programme_id>/costs")
@require("certification.manage")
def cost_add(programme_id: int) -> Response:
    try:
        with _db().transaction() as s:
            prog = get_or_404(s, CertProgramme, programme_id)
            programmes.add_cost(s, prog, _form(), actor=current_user)
    except CertError as exc:
        refuse(exc)
    return redirect(url_for("certification.programme", programme_id=programme_id) + "#budget")


@bp.post("/programmes/<int:programme_id>/costs/<int:cost_id>/delete")
@require("certification.manage")
def cost_remove(programme_id: int, cost_id: int) -> Response:
    try:
        with _db().transaction() as s:
            prog = get_or_404(s, CertProgramme, programme_id)
            programmes.remove_cost(s, prog, cost_id, actor=current_user)
    except CertError as exc:
        refuse(exc)
    return redirect(url_for("certification.programme", programme_id=programme_id) + "#budget")


@bp.post("/programmes/<int:programme_id>/fields")
@require("certification.manage")
def field_add(programme_id: int) -> Response:
    try:
        with _db().transaction() as s:
            prog = get_or_404(s, CertProgramme, programme_id)
            field = programmes.add_field(s, prog, _form(), actor=current_user)
            field_id = field.id
    except CertError as exc:
        refuse(exc)
        return redirect(url_for("certification.programme", programme_id=programme_id)
                        + "#fields")
    flash(_("Field added."), "success")
    return _back("certification.field", field_id=field_id)


# -- fields ----------------------------------------------------------------------------------


@bp.route("/fields/<int:field_id>")
@require("certification.view")
def field(field_id: int) -> str:
    status = request.args.get("status", "")
    with _db().session() as s:
        f = get_or_404(s, CertField, field_id)
        prog = f.programme
        statuses = [status] if status in {st.value for st in RegStatus} else None
        roster = registrations.roster(s, f.id, statuses)
        results = {r.registration_id: r for r in s.scalars(
            select(delivery.CertResult).where(delivery.CertResult.registration_id.in_(
                [r.id for r in roster] or [0])))}
        certs = {c.registration_id: c for c in s.scalars(
            select(Certificate).where(Certificate.registration_id.in_(
                [r.id for r in roster] or [0])))}
        rates = {r.id: delivery.attendance_rate(s, r) for r in roster
                 if r.status == RegStatus.CONFIRMED}
        positions = {r.id: registrations.position(s, r) for r in roster
                     if r.status == RegStatus.WAITLISTED}
        people = {r.id: r.participant for r in roster}
        sessions = list(f.sessions)
        labs = rooms.labs(s, include_inactive=False)
        lab_names = {lab.id: lab.name for lab in rooms.labs(s)}
        waiting = registrations.waiting(s, f.id)
        exams = delivery.exam_choices(s)
    return render_template("certification/field.html", f=f, prog=prog, roster=roster, exams=exams,
                           results=results, certs=certs, rates=rates, positions=positions,
                           people=people, sessions=sessions, labs=labs, lab_names=lab_names,
                           status=status, waiting=waiting)


@bp.post("/fields/<int:field_id>/edit")
@require("certification.manage")
def field_edit(field_id: int) -> Response:
    try:
        with _db().transaction() as s:
            f = get_or_404(s, CertField, field_id)
            programmes.update_field(s, f, _form(), actor=current_user)
    except CertError as exc:
        return refuse(exc) or _back("certification.field", field_id=field_id)
    flash(_("Saved."), "success")
    return _back("certification.field", field_id=field_id)


@bp.post("/fields/<int:field_id>/open")
@require("certification.manage")
def field_toggle(field_id: int) -> Response:
    with _db().transaction() as s:
        f = get_or_404(s, CertField, field_id)
        programmes.set_open(s, f, request.form.get("open") == "1", actor=current_user)
        is_open = f.open
    flash(_("Registration for this field is open.") if is_open
          else _("Registration for this field is closed."), "success")
    return _back("certification.field", field_id=field_id)


@bp.post("/fields/<int:field_id>/delete")
@require("certification.manage")
def field_remove(field_id: int) -> Response:
    try:
        with _db().transaction() as s:
            f = get_or_404(s, CertField, field_id)
            programme_id = f.programme_id
            programmes.remove_field(s, f, actor=current_user)
    except CertError as exc:
        return refuse(exc) or _back("certification.field", field_id=field_id)
    flash(_("Field removed."), "success")
    return _back("certification.programme", programme_id=programme_id)


@bp.post("/fields/<int:field_id>/sessions")
@require("certification.manage")
def session_add(field_id: int) -> Response:
    try:
        with _db().transaction() as s:
            f = get_or_404(s, CertField, field_id)
            programmes.add_session(s, f, _form(), actor=current_user)
    except CertError as exc:
        return refuse(exc) or _back("certification.field", field_id=field_id)
    flash(_("Session scheduled."), "success")
    return redirect(url_for("certification.field", field_id=field_id) + "#sessions")


@bp.post("/sessions/<int:session_id>/delete")
@require("certification.manage")
def session_remove(session_id: int) -> Response:
    with _db().transaction() as s:
        row = get_or_404(s, CertSession, session_id)
        field_id = row.field_id
        programmes.remove_session(s, row, actor=current_user)
    flash(_("Session removed; its lab reservation was released."), "success")
    return redirect(url_for("certification.field", field_id=field_id) + "#sessions")


@bp.route("/sessions/<int:session_id>/attendance", methods=["GET", "POST"])
@require("certification.deliver")
def attendance(session_id: int) -> Any:
    if request.method == "POST":
        try:
            present = {int(v) for v in request.form.getlist("present") if v.isdigit()}
            with _db().transaction() as s:
                row = get_or_404(s, CertSession, session_id)
                here, away = delivery.mark(s, row, present, actor=current_user)
        except CertError as exc:
            return refuse(exc) or _back("certification.attendance", session_id=session_id)
        flash(_("Attendance saved: %(here)d present, %(away)d absent.", here=here, away=away),
              "success")
        return _back("certification.attendance", session_id=session_id)
    with _db().session() as s:
        row = get_or_404(s, CertSession, session_id)
        f = row.field
        roster = registrations.roster(s, f.id, [RegStatus.CONFIRMED.value])
        people = {r.id: r.participant for r in roster}
        marks = delivery.attendance_of(s, row.id)
        prog = f.programme
    return render_template("certification/attendance.html", row=row, f=f, prog=prog,
                           roster=roster, people=people, marks=marks)


@bp.post("/fields/<int:field_id>/results")
@require("certification.deliver")
def results_save(field_id: int) -> Response:
    rows: dict[int, tuple[Any, Any]] = {}
    for key, value in request.form.items():
        if key.startswith("score-") and key[6:].isdigit():
            reg_id = int(key[6:])
            rows[reg_id] = (value, request.form.get(f"passed-{reg_id}", ""))
        elif key.startswith("passed-") and key[7:].isdigit():
            reg_id = int(key[7:])
            rows.setdefault(reg_id, ("", value))
    try:
        with _db().transaction() as s:
            f = get_or_404(s, CertField, field_id)
            n = delivery.enter_results(s, f, rows, actor=current_user)
    except CertError as exc:
        return refuse(exc) or redirect(url_for("certification.field", field_id=field_id)
                                       + "#results")
    flash(_("%(n)d result(s) saved.", n=n), "success")
    return redirect(url_for("certification.field", field_id=field_id) + "#results")


@bp.post("/fields/<int:field_id>/results/import")
@require("certification.deliver")
def results_import(field_id: int) -> Response:
    try:
        with _db().transaction() as s:
            f = get_or_404(s, CertField, field_id)
            report = delivery.import_exam(s, f, actor=current_user)
    except CertError as exc:
        return refuse(exc) or _back("certification.field", field_id=field_id)
    if not report.available:
        flash(_("No results came from the CBT plugin for this exam (is it enabled, and has "
                "the exam finished?). Enter the results by hand instead."), "error")
    else:
        flash(_("%(m)d result(s) taken from CBT; %(u)d candidate(s) not registered here, "
                "%(k)d skipped.", m=report.matched, u=report.unmatched, k=report.skipped),
              "success")
    return redirect(url_for("certification.field", field_id=field_id) + "#results")


@bp.post("/fields/<int:field_id>/certificates")
@require("certification.certificates")
def certificates_issue(field_id: int) -> Response:
    with _db().transaction() as s:
        f = get_or_404(s, CertField, field_id)
        issued, skipped = certificates.issue_all(s, f, actor=current_user)
    flash(_("%(n)d certificate(s) issued.", n=issued), "success")
    for line in skipped[:20]:
        flash(_("Not issued: %(why)s", why=line), "info")
    return redirect(url_for("certification.field", field_id=field_id) + "#results")


@bp.post("/fields/<int:field_id>/registrations")
@require("certification.registrations")
def registration_add(field_id: int) -> Response:
    """Staff register someone (a walk-in, a letter): an account by user name, or an outsider
    whose address staff vouch for."""
    username = request.form.get("username", "").strip()
    try:
        with _db().transaction() as s:
            if username:
                user = s.scalar(select(User).where(User.username == username))
                if user is None:
                    raise CertError(N_("No account with user name %(name)s."), name=username)
                p = participants.of_user(s, user)
            else:
                form = participants.check_external(_form())
                p = participants.external(s, form)
                if p.email_verified_at is None:
                    from plugins.certification.clock import now

                    p.email_verified_at = now()  # staff checked the address in person
            assert p is not None
            reg = registrations.register(s, field_id, p, actor=current_user, source="staff")
            code, status = reg.code, reg.status
    except CertError as exc:
        return refuse(exc) or _back("certification.field", field_id=field_id)
    flash(_("Registered %(code)s: %(status)s.", code=code, status=_(status)), "success")
    return _back("certification.field", field_id=field_id)


@bp.route("/fields/<int:field_id>/export.xlsx")
@require("certification.view")
def field_export(field_id: int) -> Response:
    from openpyxl import Workbook

    with _db().session() as s:
        f = get_or_404(s, CertField, field_id)
        roster = registrations.roster(s, f.id)
        wb = Workbook()
        ws = wb.active
        ws.title = f.code
        ws.append(["Kode", "Status", "Kursi", "Nama", "E-mail", "Telepon", "Instansi",
                   "Prodi", "Internal", "Daftar", "Biaya", "Dibayar", "Status bayar",
                   "Nilai", "Lulus", "Sertifikat"])
        for r in roster:
            p = r.participant
            res = delivery.result_of(s, r.id)
            cert = certificates.of_registration(s, r.id)
            ws.append([r.code, r.status, r.seat_no, p.full_name, p.email, p.phone,
                       p.institution, p.study_programme, "ya" if p.internal else "tidak",
                       r.created_at.replace(tzinfo=None), r.fee, r.paid_amount,
                       r.payment_status, res.score if res else None,
                       (("ya" if res.passed else "tidak") if res else None),
                       cert.number if cert else None])
        name = f"sertifikasi-{f.programme_id}-{f.code}.xlsx"
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    return send_file(out, as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# -- registrations ---------------------------------------------------------------------------


@bp.route("/registrations/<int:registration_id>")
@require("certification.view")
def registration(registration_id: int) -> str:
    from core.audit.models import AuditEntry

    with _db().session() as s:
        reg = get_or_404(s, CertRegistration, registration_id)
        p = reg.participant
        f = reg.field
        prog = f.programme
        payments = list(s.scalars(select(CertPayment).where(
            CertPayment.registration_id == reg.id).order_by(CertPayment.id)))
        result = delivery.result_of(s, reg.id)
        cert = certificates.of_registration(s, reg.id)
        blocker = certificates.why_not(s, reg) if cert is None else None
        rate = delivery.attendance_rate(s, reg)
        history = list(s.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "cert_registration",
            AuditEntry.object_id == str(reg.id)).order_by(AuditEntry.id)))
        position = registrations.position(s, reg)
    return render_template("certification/registration.html", reg=reg, p=p, f=f, prog=prog,
                           payments=payments, result=result, cert=cert, blocker=blocker,
                           rate=rate, history=history, position=position, active=ACTIVE)


@bp.post("/registrations/<int:registration_id>/<any(cancel, payment, waive, certificate, "
         "accept):action>")
@require("certification.registrations")
def registration_action(registration_id: int, action: str) -> Response:
    form = _form()
    try:
        with _db().transaction() as s:
            reg = get_or_404(s, CertRegistration, registration_id)
            if action == "cancel":
                registrations.cancel(s, reg, actor=current_user, reason=form.get("reason", ""),
                                     by_staff=True)
                message = _("Registration cancelled; a freed seat went to the waiting list.")
            elif action == "payment":
                registrations.record_payment(s, reg, form, actor=current_user)
                message = _("Payment recorded.")
            elif action == "waive":
                registrations.waive(s, reg, actor=current_user, reason=form.get("reason", ""))
                message = _("Fee waived.")
            elif action == "accept":
                registrations.accept_offer(s, reg, actor=current_user)
                message = _("Seat offer accepted on the participant's behalf.")
            else:
                if not can(current_user, "certification.certificates"):
                    abort(403)
                cert = certificates.issue(s, reg, actor=current_user)
                message = _("Certificate %(number)s issued.", number=cert.number)
    except CertError as exc:
        return refuse(exc) or _back("certification.registration",
                                    registration_id=registration_id)
    flash(message, "success")
    return _back("certification.registration", registration_id=registration_id)


# -- certificates ----------------------------------------------------------------------------


@bp.route("/certificates/<int:certificate_id>.pdf")
@public  # the holder may have no account (portal session); the check is per certificate below
def certificate_pdf(certificate_id: int) -> Response:
    """The PDF, for staff and for the holder (signed in, or through the portal's session)."""
    from plugins.certification.views.portal import current_participant_id

    with _db().session() as s:
        cert = get_or_404(s, Certificate, certificate_id)
        reg = s.get(CertRegistration, cert.registration_id)
        assert reg is not None
        mine = current_participant_id(s) == reg.participant_id
        if not mine and not can(current_user, "certification.view"):
            if not current_user.is_authenticated and not session.get("cert_participant"):
                return redirect(url_for("certification.portal_signin"))
            abort(403)
        data = certificates.pdf_for(s, cert)
        name = "sertifikat-" + "".join(ch if ch.isalnum() else "-" for ch in cert.number)
    return send_file(BytesIO(data), mimetype="application/pdf", download_name=name + ".pdf",
                     as_attachment=request.args.get("download") == "1")


@bp.post("/certificates/<int:certificate_id>/revoke")
@require("certification.certificates")
def certificate_revoke(certificate_id: int) -> Response:
    try:
        with _db().transaction() as s:
            cert = get_or_404(s, Certificate, certificate_id)
            reg_id = cert.registration_id
            certificates.revoke(s, cert, reason=request.form.get("reason", ""),
                                actor=current_user)
    except CertError as exc:
        with _db().session() as s:
            cert = get_or_404(s, Certificate, certificate_id)
            reg_id = cert.registration_id
        return refuse(exc) or _back("certification.registration", registration_id=reg_id)
    flash(_("Certificate revoked; its verification page now says so."), "success")
    return _back("certification.registration", registration_id=reg_id)
