"""Utilisation per lab and month, with charts, and the usage log, both exportable as CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, time, timedelta

from flask import Response, abort, render_template, request
from markupsafe import Markup

from core.accounts.access import require
from core.instance import ruang
from core.rooms import service as rooms
from plugins.lab import live, people, reports
from plugins.lab.models import UsageEntry
from plugins.lab.timeslots import at_local, local
from plugins.lab.views import bp
from plugins.lab.views.common import parse_day, parse_month


@bp.route("/utilisation")
@require("lab.reports")
def utilisation() -> str:
    year, month = parse_month(request.args.get("month"))
    code = request.args.get("lab", "").strip()
    with ruang().db.session() as session:
        labs = rooms.labs(session)
        if code:
            chosen = [lab for lab in labs if lab.code == code.upper()]
            if not chosen:
                abort(404)
        else:
            chosen = labs
        found = [reports.month_report(session, lab, year, month) for lab in chosen]
    chart = {
        "labels": [r.lab.code for r in found],
        "utilisation": [round(r.utilisation * 100, 1) for r in found],
        "usage": [round(r.usage * 100, 1) for r in found],
        "days": {r.lab.code: {"labels": [d.strftime("%d") for d, *_ in r.days],
                              "booked": [b for _d, b, _u, _o in r.days],
                              "used": [u for _d, _b, u, _o in r.days]} for r in found},
    }
    prev_month = (year - (month == 1), (month - 2) % 12 + 1)
    next_month = (year + (month == 12), month % 12 + 1)
    return render_template(
        "lab/utilisation.html", reports=found, year=year, month=month, labs=labs, code=code,
        month_start=date(year, month, 1),
        chart_json=Markup(json.dumps(chart).replace("<", "\\u003c")),  # noqa: S704
        prev=f"{prev_month[0]}-{prev_month[1]:02d}", next=f"{next_month[0]}-{next_month[1]:02d}")


@bp.route("/utilisation.csv")
@require("lab.reports")
def utilisation_csv() -> Response:
    year, month = parse_month(request.args.get("month"))
    with ruang().db.session() as session:
        data = reports.to_csv(reports.all_labs(session, year, month))
    return Response(data, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="utilisasi-lab-{year}-{month:02d}.csv"'})


def _usage_rows() -> tuple[list[UsageEntry], dict[int, str], dict[int, str], str, str, str]:
    code = request.args.get("lab", "").strip()
    first = parse_day(request.args.get("from"))
    last = parse_day(request.args.get("to"), default=first)
    if request.args.get("from") is None:
        first = first - timedelta(days=7)
    start, end = at_local(first, time(0)), at_local(last + timedelta(days=1), time(0))
    with ruang().db.session() as session:
        lab = rooms.lab_by_code(session, code) if code else None
        if code and lab is None:
            abort(404)
        log = list(live.usage_log(session, lab_id=lab.id if lab else None, start=start,
                                  end=end, limit=5000))
        names = {e.actor_id: people.name_of(session, e.actor_id) for e in log if e.actor_id}
        codes = {lab_.id: lab_.code for lab_ in rooms.labs(session)}
    return log, names, codes, code, first.isoformat(), last.isoformat()


@bp.route("/usage")
@require("lab.reports")
def usage() -> str:
    log, names, codes, code, first, last = _usage_rows()
    with ruang().db.session() as session:
        labs = rooms.labs(session)
    return render_template("lab/usage.html", log=log, names=names, codes=codes, code=code,
                           first=first, last=last, labs=labs, show_lab=True)


@bp.route("/usage.csv")
@require("lab.reports")
def usage_csv() -> Response:
    log, names, codes, _code, first, last = _usage_rows()
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["time", "lab", "kind", "occupant", "details", "by"])
    for e in log:
        writer.writerow([local(e.at).strftime("%Y-%m-%d %H:%M"), codes.get(e.lab_id, ""),
                         e.kind, e.occupant, json.dumps(e.details, ensure_ascii=False),
                         names.get(e.actor_id, "") if e.actor_id else ""])
    return Response(buf.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="log-lab-{first}-{last}.csv"'})
