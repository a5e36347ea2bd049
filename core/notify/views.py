"""The outbox page: what was sent, what waits, what failed and why, with a retry button."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from core.accounts.access import require
from core.instance import ruang
from core.notify import service
from core.notify.models import STATUSES

bp = Blueprint("notify", __name__, template_folder="templates")


def _local(moment: datetime | None) -> datetime | None:
    """A stored UTC time on the instance's wall clock, for display."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(ruang().settings.timezone))


@bp.route("/admin/outbox")
@require("settings.manage")
def outbox() -> str:
    status = request.args.get("status", "").strip() or None
    if status is not None and status not in STATUSES:
        status = None
    with ruang().db.session() as session:
        rows = service.messages(session, status, limit=200)
        counts = service.counts(session)
    return render_template("notify/outbox.html", rows=rows, counts=counts, selected=status,
                           statuses=STATUSES, local=_local, tz_name=ruang().settings.timezone)


@bp.route("/admin/outbox/<int:message_id>/retry", methods=["POST"])
@require("settings.manage")
def retry(message_id: int) -> Response:
    try:
        with ruang().db.transaction() as session:
            service.retry(session, message_id, actor=current_user)
    except service.UnknownMessage as exc:
        abort(404, description=str(exc))
    except service.OutboxError:
        flash(_("Message %(id)s was not retried: it is already sent or being sent.",
                id=message_id), "error")
        return redirect(url_for("notify.outbox"))
    flash(_("Message %(id)s will be sent again within a few seconds.", id=message_id), "success")
    back = request.form.get("back", "")
    return redirect(url_for("notify.outbox", status=back if back in STATUSES else None))


@bp.route("/admin/outbox/retry-failed", methods=["POST"])
@require("settings.manage")
def retry_failed() -> Response:
    with ruang().db.transaction() as session:
        count = service.retry_failed(session, actor=current_user)
    if count:
        flash(_("%(count)s failed message(s) will be sent again within a few seconds.",
                count=count), "success")
    else:
        flash(_("No failed messages."), "success")
    return redirect(url_for("notify.outbox"))
