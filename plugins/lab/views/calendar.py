"""The labs' calendars (day, week, month; one lab or all) and their iCal feeds."""

from __future__ import annotations

import hashlib
import hmac

from flask import abort, current_app, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from core.accounts.access import can, public, require
from core.db import utcnow
from core.instance import ruang
from core.rooms import service as rooms
from plugins.lab import agenda, catalog, notices
from plugins.lab.models import LabProfile
from plugins.lab.timeslots import today
from plugins.lab.views import bp
from plugins.lab.views.common import parse_day


def all_labs_key() -> str:
    """The secret part of the all-labs feed: derived from the instance's secret key."""
    secret = current_app.config["SECRET_KEY"]
    key = secret if isinstance(secret, bytes) else str(secret).encode()
    return hmac.new(key, b"lab-ical-all-labs", hashlib.sha256).hexdigest()[:32]


@bp.route("/calendar")
@require("lab.view")
def calendar() -> str:
    view = request.args.get("view", "week")
    if view not in agenda.VIEWS:
        view = "week"
    anchor = parse_day(request.args.get("date"))
    code = request.args.get("lab", "").strip()
    with ruang().db.session() as session:
        lab = rooms.lab_by_code(session, code) if code else None
        if code and lab is None:
            abort(404)
        cal = agenda.page(session, view, anchor, current_user, lab=lab,
                          include_pending=can(current_user, "lab.requests_all"))
        labs = rooms.labs(session, include_inactive=False)
        feed = None
        if can(current_user, "lab.manage"):
            if lab is not None:
                with ruang().db.transaction() as writer:
                    key = catalog.feed_key(writer, lab.id)
            else:
                key = all_labs_key()
            feed = notices.link(url_for("lab.ical_feed", key=key))
        html = render_template("lab/calendar.html", cal=cal, lab=lab, labs=labs, view=view,
                               prev=agenda.step(view, anchor, False),
                               next=agenda.step(view, anchor, True), feed=feed,
                               today_date=today())
    return html


@bp.route("/ical/<key>.ics")
@public
def ical_feed(key: str) -> Response:
    """A lab's (or all labs') bookings for calendar clients; the key in the address is the
    only credential, as calendar clients cannot sign in."""
    with ruang().db.session() as session:
        if hmac.compare_digest(key, all_labs_key()):
            lab = None
        else:
            prof = session.query(LabProfile).filter(LabProfile.feed_key == key).first() \
                if len(key) >= 16 else None
            if prof is None:
                abort(404)
            lab = rooms.get_lab(session, prof.lab_id)
            if lab is None:
                abort(404)
        body = agenda.feed(session, lab, utcnow())
    name = f"lab-{lab.code}.ics" if lab else "lab-semua.ics"
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'inline; filename="{name}"',
                             "Cache-Control": "private, max-age=300"})
