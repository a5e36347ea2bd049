"""The admin page of quality records: formats per type and the numbers issued."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, Field, ValidationError
from werkzeug.wrappers import Response

from core.accounts.access import require
from core.instance import ruang
from core.records import service

bp = Blueprint("records", __name__, template_folder="templates")


class FormatForm(BaseModel):
    action: str = Field(pattern="^(save|reset)$")
    fmt: str = Field(default="", max_length=500)


@bp.route("/admin/records")
@require("settings.manage")
def admin_records() -> str:
    code = request.args.get("type", "").strip() or None
    with ruang().db.session() as session:
        types = service.type_infos(session)
        known = {t.code for t in types}
        if code is not None and code not in known:
            code = None
        rows = service.issued(session, code, limit=200)
    return render_template("records/admin.html", types=types, rows=rows, selected=code,
                           local=service.as_local)


@bp.route("/admin/records/<code>", methods=["POST"])
@require("settings.manage")
def change_format(code: str) -> Response | tuple[str, int]:
    try:
        form = FormatForm.model_validate(request.form.to_dict())
    except ValidationError:
        abort(400, description=_("Unknown action."))
    r = ruang()
    try:
        with r.db.transaction() as session:
            service.record_type(code)
            if form.action == "reset":
                service.clear_format(session, code, actor=current_user)
            else:
                service.set_format(session, code, form.fmt, actor=current_user)
    except service.FormatError as exc:
        flash(_("The format was not changed: %(reason)s", reason=str(exc)), "error")
        with r.db.session() as session:
            types = service.type_infos(session)
            rows = service.issued(session, None, limit=200)
        html = render_template("records/admin.html", types=types, rows=rows, selected=None,
                               local=service.as_local, rejected={code: form.fmt})
        return html, 400
    except service.RecordError as exc:
        abort(404, description=str(exc))
    if form.action == "reset":
        flash(_("%(code)s uses its default format again.", code=code), "success")
    else:
        flash(_("The format of %(code)s was saved.", code=code), "success")
    return redirect(url_for("records.admin_records"))
