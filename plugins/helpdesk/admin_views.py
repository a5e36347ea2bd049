"""Helpdesk settings: categories that pre-route, service levels, business hours, holidays,
canned replies. For admins, Ka. BPTI and Kabag. YANSI."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from core.accounts.access import require
from core.instance import ruang
from plugins.helpdesk import access, admin, options, web
from plugins.helpdesk.forms import FormError

bp = Blueprint("helpdesk_admin", __name__, url_prefix="/helpdesk/admin",
               template_folder="templates")


@bp.context_processor
def _globals() -> dict[str, Any]:
    return web.template_globals()


@bp.before_request
def _managers_only() -> None:
    if not getattr(current_user, "is_authenticated", False):
        abort(redirect(url_for("accounts.login", next=request.full_path)))
    if not access.may_manage(current_user):
        abort(403)


def _page(errors: dict[str, str] | None = None, summary: list[str] | None = None,
          code: int = 200) -> Any:
    with ruang().db.session() as s:
        ctx = admin.overview(s)
        hours = options.get(s, "helpdesk.business_hours") or options.DEFAULT_HOURS
    return render_template("helpdesk/admin.html", hours=hours, weekdays=options.WEEKDAYS,
                           divisions=web.division_choices(), errors=errors or {},
                           summary=summary or [], **ctx), code


@bp.route("/")
@require("helpdesk.work")
def index() -> Any:
    return _page()


def _do(work: Any, done: str) -> Any:
    try:
        with ruang().db.transaction() as s:
            work(s)
    except FormError as exc:
        errors = web.form_errors(exc)
        return _page(errors, web.error_summary(errors), 400)
    except admin.AdminError as exc:
        return _page({}, [_(exc.message, **exc.params)], 400)
    flash(done, "success")
    return redirect(url_for(".index"), code=303)


def _form() -> dict[str, Any]:
    data = request.form.to_dict()
    data.pop("csrf_token", None)
    return data


@bp.route("/categories", methods=["POST"])
@require("helpdesk.work")
def save_category() -> Any:
    data = _form()
    for flag in ("auto_forward", "active"):
        data[flag] = data.get(flag) == "1"
    return _do(lambda s: admin.save_category(s, data, current_user),
               _("The category was saved."))


@bp.route("/policies", methods=["POST"])
@require("helpdesk.work")
def save_policy() -> Any:
    return _do(lambda s: admin.save_policy(s, _form(), current_user),
               _("The service level was saved."))


@bp.route("/policies/<int:policy_id>/delete", methods=["POST"])
@require("helpdesk.work")
def delete_policy(policy_id: int) -> Any:
    return _do(lambda s: admin.delete_policy(s, policy_id, current_user),
               _("The service level was removed."))


@bp.route("/hours", methods=["POST"])
@require("helpdesk.work")
def save_hours() -> Any:
    hours = {day: request.form.get(day, "").strip() for day in options.WEEKDAYS}
    return _do(lambda s: admin.save_hours(s, hours, current_user),
               _("The business hours were saved."))


@bp.route("/holidays", methods=["POST"])
@require("helpdesk.work")
def add_holiday() -> Any:
    return _do(lambda s: admin.add_holiday(s, request.form.get("day", ""),
                                           request.form.get("name", ""), current_user),
               _("The holiday was added."))


@bp.route("/holidays/import", methods=["POST"])
@require("helpdesk.work")
def import_holidays() -> Any:
    upload = request.files.get("file")
    data = upload.read() if upload else b""
    result: dict[str, int] = {}

    def work(s: Any) -> None:
        result["added"] = admin.import_holidays(s, data, current_user)

    resp = _do(work, "")
    if isinstance(resp, Response) and "added" in result:
        flash(_("%(n)s holidays were imported.", n=result["added"]), "success")
    return resp


@bp.route("/holidays/<int:holiday_id>/delete", methods=["POST"])
@require("helpdesk.work")
def delete_holiday(holiday_id: int) -> Any:
    return _do(lambda s: admin.delete_holiday(s, holiday_id, current_user),
               _("The holiday was removed."))


@bp.route("/canned", methods=["POST"])
@require("helpdesk.work")
def save_canned() -> Any:
    data = _form()
    data["active"] = data.get("active") == "1"
    return _do(lambda s: admin.save_canned(s, data, current_user),
               _("The canned reply was saved."))


@bp.route("/canned/<int:canned_id>/delete", methods=["POST"])
@require("helpdesk.work")
def delete_canned(canned_id: int) -> Any:
    return _do(lambda s: admin.delete_canned(s, canned_id, current_user),
               _("The canned reply was removed."))
