"""Repair requests to Biro Aset: the list, one repair with its workflow, and its steps."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError
from werkzeug.wrappers import Response

from core.accounts.access import require
from core.instance import ruang
from core.rooms import service as rooms
from core.workflow.engine import WorkflowError
from core.workflow.panel import panel
from plugins.lab import people, repairs
from plugins.lab.errors import N_, LabError
from plugins.lab.flows import REPAIR, REPAIR_FORM_ACTIONS
from plugins.lab.views import bp
from plugins.lab.views.common import flash_refusal, repair_or_404

REPAIR_SOURCES = {
    "lab_page": N_("lab page"), "seat": N_("QR sticker"), "kiosk": N_("kiosk of the PC"),
    "checkout": N_("check-out"), "helpdesk": N_("helpdesk"), "registry": N_("rooms registry"),
    "import": N_("import"),
}
REPAIR_BADGES = {"reported": "warn", "sent": "info", "in_repair": "info", "done": "ok",
                 "cancelled": "plain"}


@bp.app_context_processor
def _repair_context() -> dict[str, Any]:
    return {"repair_badges": REPAIR_BADGES, "repair_label": lambda s: _(REPAIR.label(s)),
            "repair_source": lambda s: _(REPAIR_SOURCES.get(s, s))}


@bp.route("/repairs", endpoint="repairs")
@require("lab.repair")
def repairs_list() -> str:
    state = request.args.get("state", "open")
    with ruang().db.session() as session:
        if state == "open":
            rows = repairs.repairs(session, open_only=True)
        elif state in REPAIR.states:
            rows = repairs.repairs(session, state=state)
        else:
            rows = repairs.repairs(session)
        codes = {lab.id: lab.code for lab in rooms.labs(session)}
    return render_template("lab/repairs.html", rows=rows, state=state, codes=codes,
                           states=REPAIR.states, age=repairs.age)



@bp.route("/repairs/<int:repair_id>")
@require("lab.repair")
def repair_detail(repair_id: int) -> str:
    with ruang().db.session() as session:
        repair = repair_or_404(session, repair_id)
        wf = panel(session, REPAIR, repair, current_user,
                   url_for("lab.repair_workflow", repair_id=repair.id))
        wf = dataclasses.replace(
            wf, buttons=[b for b in wf.buttons if b.action not in REPAIR_FORM_ACTIONS])
        allowed = {t.action for t in REPAIR.allowed(repair, current_user)}
        lab = rooms.get_lab(session, repair.lab_id) if repair.lab_id else None
        html = render_template("lab/repair_detail.html", repair=repair, panel=wf,
                               allowed=allowed, lab=lab, age=repairs.age(repair),
                               reporter=people.name_of(session, repair.reported_by))
    return html


@bp.route("/repairs/<int:repair_id>/workflow", methods=["POST"])
@require("lab.repair")
def repair_workflow(repair_id: int) -> Response:
    action = request.form.get("action", "")
    comment = request.form.get("comment", "").strip()
    try:
        with ruang().db.transaction() as session:
            repair = repair_or_404(session, repair_id)
            if action == "send":
                repairs.send(session, repair, current_user, comment)
                message = _("The repair request went to Biro Aset.")
            elif action == "pick_up":
                repairs.pick_up(session, repair, current_user, comment,
                                request.form.get("asset_office_ref", ""))
                message = _("The PC is with Biro Aset.")
            elif action == "cancel":
                repairs.cancel(session, repair, current_user, comment)
                message = _("The repair was cancelled; the PC is in service again.")
            else:
                abort(400, description=_("Unknown action."))
    except (LabError, WorkflowError) as exc:
        if isinstance(exc, WorkflowError) and exc.kind == "role":
            abort(403, description=str(exc))
        flash_refusal(exc)
    else:
        flash(message, "success")
    return redirect(url_for("lab.repair_detail", repair_id=repair_id))


@bp.route("/repairs/<int:repair_id>/complete", methods=["POST"])
@require("lab.repair")
def repair_complete(repair_id: int) -> Response:
    try:
        form = repairs.CompleteForm.model_validate(request.form.to_dict())
    except ValidationError:
        flash(_("Say how the PC was repaired (at least 3 characters)."), "error")
        return redirect(url_for("lab.repair_detail", repair_id=repair_id))
    try:
        with ruang().db.transaction() as session:
            repair = repair_or_404(session, repair_id)
            repairs.complete(session, repair, current_user, form)
    except (LabError, WorkflowError) as exc:
        flash_refusal(exc)
    else:
        flash(_("The PC is back in service."), "success")
    return redirect(url_for("lab.repair_detail", repair_id=repair_id))



@bp.route("/repairs/<int:repair_id>/letter.pdf")
@require("lab.repair")
def repair_letter(repair_id: int) -> Response:
    """The request as a letter to print, sign and hand to Biro Aset."""
    from plugins.lab.letters import repair_letter as build

    with ruang().db.session() as session:
        repair = repair_or_404(session, repair_id)
        lab = rooms.get_lab(session, repair.lab_id) if repair.lab_id else None
        body = build(repair, lab, current_user.display_name)
        name = repair.number.replace("/", "-")
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}.pdf"'})
