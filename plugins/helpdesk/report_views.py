"""The report page: volumes, routing, times against targets, satisfaction, XLSX export."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from core.accounts.access import require
from core.db import utcnow
from core.instance import ruang
from plugins.helpdesk import reports, sla, web
from plugins.helpdesk.desk_views import _xlsx, _xlsx_labels
from plugins.helpdesk.models import Ticket

bp = Blueprint("helpdesk_reports", __name__, url_prefix="/helpdesk/reports",
               template_folder="templates")

MAX_DAYS = 731


@bp.context_processor
def _globals() -> dict[str, Any]:
    return web.template_globals()


def _period() -> tuple[reports.Period, str | None, str]:
    today = utcnow().astimezone(sla._tz()).date()
    error = ""

    def _day(name: str, default: date) -> date:
        nonlocal error
        raw = request.args.get(name, "")
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            error = _("Dates are written like 2026-08-17.")
            return default

    end = _day("end", today)
    start = _day("start", end - timedelta(days=29))
    if start > end:
        start, end = end, start
    if (end - start).days >= MAX_DAYS:
        start = end - timedelta(days=MAX_DAYS - 1)
        error = _("A report covers at most two years.")
    division = request.args.get("division") or None
    if division not in dict(web.division_choices()):
        division = None
    return reports.Period(start, end), division, error


@bp.route("/")
@require("helpdesk.reports")
def index() -> str:
    period, division, error = _period()
    with ruang().db.session() as s:
        report = reports.build(s, period, division=division)
    labels = web.labels()
    return render_template("helpdesk/reports.html", report=report, error=error,
                           chart=reports.chart_data(report, labels),
                           divisions=web.division_choices())


@bp.route("/export.xlsx")
@require("helpdesk.reports")
def export() -> Response:
    period, division, _error = _period()
    tz = sla._tz()
    lo, hi = period.bounds(tz)
    with ruang().db.session() as s:
        report = reports.build(s, period, division=division)
        stmt = select(Ticket).where(Ticket.created_at >= lo, Ticket.created_at < hi)
        if division:
            stmt = stmt.where(Ticket.division == division)
        tickets = s.scalars(stmt.order_by(Ticket.created_at)).all()
        data = reports.export_xlsx(s, tickets, report=report, labels=_xlsx_labels())
    return _xlsx(data, f"laporan-helpdesk-{period.start}-{period.end}.xlsx")
