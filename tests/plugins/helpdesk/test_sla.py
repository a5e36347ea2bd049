"""Service levels: business hours and holidays, warnings, escalation to the head of the
division by e-mail, the clock stopping while the ticket waits on the user."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from plugins.helpdesk import options, service, sla
from plugins.helpdesk.models import Ticket
from plugins.helpdesk.sla import BusinessCalendar
from tests.plugins.helpdesk.conftest import deliver, staff_mail

JKT = ZoneInfo("Asia/Jakarta")
HOURS = {"mon": "08:00-12:00,13:00-16:00", "tue": "08:00-12:00,13:00-16:00",
         "wed": "08:00-12:00,13:00-16:00", "thu": "08:00-12:00,13:00-16:00",
         "fri": "08:00-11:30,13:30-16:30", "sat": "", "sun": ""}


def at(y, mo, d, h, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=JKT)


def _ticket(s: Session, number: str) -> Ticket:
    t = service.by_number(s, number)
    assert t is not None, f"ticket {number} not found"
    return t


def test_business_minutes_skip_breaks_nights_weekends_and_holidays():
    # 2026-08-17 (Monday) is Independence Day.
    cal = BusinessCalendar.from_hours(HOURS, [date(2026, 8, 17)], JKT)
    # Friday 11:00 + 60 min: 30 before the Friday prayer break, 30 after it.
    assert cal.add(at(2026, 8, 14, 11), 60) == at(2026, 8, 14, 14).astimezone(UTC)
    # Friday 16:00 + 60 min: 30 on Friday, then Monday is a holiday: Tuesday 08:30.
    assert cal.add(at(2026, 8, 14, 16), 60) == at(2026, 8, 18, 8, 30).astimezone(UTC)
    # Filed on Saturday night: the clock starts on Tuesday morning.
    assert cal.add(at(2026, 8, 15, 21), 30) == at(2026, 8, 18, 8, 30).astimezone(UTC)
    assert cal.between(at(2026, 8, 14, 16), at(2026, 8, 18, 8, 30)) == timedelta(minutes=60)
    assert cal.between(at(2026, 8, 18, 12), at(2026, 8, 18, 13)) == timedelta(0)


def test_a_bad_business_hours_setting_is_refused_and_changes_nothing(app, login):
    admin = login("yansi")
    admin.get("/helpdesk/admin/")
    resp = admin.post("/helpdesk/admin/hours", {**HOURS, "mon": "16:00-08:00"})
    assert resp.status_code == 400
    assert "Jam kerja tidak disimpan" in resp.get_data(as_text=True)
    with app.extensions["ruang"].db.session() as s:
        assert options.get(s, "helpdesk.business_hours") == options.DEFAULT_HOURS
    assert admin.post("/helpdesk/admin/hours", HOURS).status_code == 303


def _always_open(app):
    from core import settings_store

    r = app.extensions["ruang"]
    with r.db.transaction() as s:
        settings_store.set_value(s, r.plugins, "helpdesk.business_hours",
                                 {d: "00:00-24:00" for d in options.WEEKDAYS})


def _file(app, login, **kw):
    from plugins.helpdesk import service
    from plugins.helpdesk.forms import Filing

    r = app.extensions["ruang"]
    form = Filing(name="Dewi", email="dewi@kampus.ac.id", subject="Internet lambat sekali",
                  description="Internet di perpustakaan lambat sekali sejak kemarin.", **kw)
    with r.db.transaction() as s:
        t = service.file_ticket(s, form)
        return t.number


def test_warning_then_escalation_to_the_head_of_the_division(app, login, smtp_server):
    _always_open(app)
    number = _file(app, login)  # normal priority: 240 min to respond, 1440 to resolve
    login("yansi").post(f"/helpdesk/desk/t/{number}/forward", {"division": "JDS"})
    r = app.extensions["ruang"]
    with r.db.session() as s:
        t = _ticket(s, number)
        created, due = t.created_at, t.first_response_due
    assert due is not None
    assert due - created == timedelta(minutes=240)
    with r.db.transaction() as s:
        assert not sla.check(s, now=created + timedelta(minutes=100))
    with r.db.transaction() as s:
        result = sla.check(s, now=created + timedelta(minutes=190))
    assert result.warned == [number] and result.escalated == []
    with r.db.transaction() as s:
        assert not sla.check(s, now=created + timedelta(minutes=200))  # warned once
    with r.db.transaction() as s:
        result = sla.check(s, now=created + timedelta(minutes=241))
    assert result.escalated == [number]
    deliver()
    mails = [m for m in smtp_server.wait_for(1) if staff_mail("jds") in m.rcpt_tos]
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while len(mails) < 3 and datetime.now(UTC) < deadline:  # forwarded, warning, escalation
        deliver()
        mails = [m for m in smtp_server.messages if staff_mail("jds") in m.rcpt_tos]
    subjects = " | ".join(m.subject for m in mails)
    assert "Target layanan hampir lewat" in subjects
    assert "Eskalasi, target layanan terlewati" in subjects
    with r.db.session() as s:
        t = _ticket(s, number)
        assert t.response_breached and t.escalated_at is not None
    desk = login("jds").get(f"/helpdesk/desk/t/{number}").get_data(as_text=True)
    assert "Target layanan terlewati (tanggapan pertama)" in desk
    assert number in login("jds").get("/helpdesk/desk/?view=breached").get_data(as_text=True)


def test_the_clock_stops_while_the_ticket_waits_on_the_user(app, login):
    _always_open(app)
    number = _file(app, login)
    yansi = login("yansi")
    yansi.post(f"/helpdesk/desk/t/{number}/forward", {"division": "YANSI"})
    yansi.post(f"/helpdesk/desk/t/{number}/workflow", {"action": "begin"})
    r = app.extensions["ruang"]
    with r.db.session() as s:
        due_before = _ticket(s, number).resolution_due
    assert due_before is not None
    yansi.post(f"/helpdesk/desk/t/{number}/workflow",
               {"action": "wait", "comment": "Di lantai berapa?"})
    with r.db.transaction() as s:
        t = _ticket(s, number)
        assert t.state == "waiting" and t.paused_at is not None
        t.paused_at -= timedelta(hours=3)  # the user took three hours to answer
        # Waiting tickets are not escalated, however late it is.
        assert not sla.check(s, now=t.created_at + timedelta(days=5))
    with r.db.transaction() as s:
        t = _ticket(s, number)
        service.requester_reply(s, t, None, "Lantai 3, ruang baca.")
    with r.db.session() as s:
        t = _ticket(s, number)
        assert t.state == "in_progress" and t.paused_at is None
        assert t.resolution_due is not None
        moved = t.resolution_due - due_before
    assert timedelta(hours=2, minutes=59) <= moved <= timedelta(hours=3, minutes=1)


def test_the_sla_check_and_auto_close_are_background_jobs(app):
    from core.jobs import registered_jobs

    keys = {job.key for job in registered_jobs()}
    assert {"helpdesk.sla", "helpdesk.autoclose", "helpdesk.purge"} <= keys


def test_resolved_tickets_close_by_themselves_after_the_set_days(app, login, smtp_server):
    number = _file(app, login)
    yansi = login("yansi")
    yansi.post(f"/helpdesk/desk/t/{number}/workflow",
               {"action": "resolve", "comment": "Sudah normal kembali."})
    r = app.extensions["ruang"]
    with r.db.transaction() as s:
        assert service.auto_close(s) == []
        resolved = _ticket(s, number)
        assert resolved.resolved_at is not None
        resolved.resolved_at -= timedelta(days=8)
    with r.db.transaction() as s:
        assert service.auto_close(s) == [number]
    with r.db.session() as s:
        assert _ticket(s, number).state == "closed"
