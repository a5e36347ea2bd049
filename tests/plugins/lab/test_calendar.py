"""Calendars: per-lab and all-labs pages (day, week, month), iCal feeds that the
``icalendar`` library parses and that hold the bookings, and the utilisation report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar
from sqlalchemy import select

from core.contracts import RoomRequest
from core.rooms import service as rooms
from plugins.lab import requests as lab_requests
from plugins.lab.models import LabProfile
from plugins.lab.timeslots import local
from tests.plugins.lab.conftest import lab, user


def soon(days: int) -> date:
    """A weekday ``days`` from today (feeds cover two months back and seven ahead).

    Callers ask for 90 days or more: the demo data books LAB-1 every Monday for the next
    eight weeks, and a test that lands on one of those Mondays is refused."""
    assert days >= 90, "inside the demo data's weekly series"
    day = date.today() + timedelta(days=days)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day


def approved(db, lab_id: int, day: date, start: str, end: str, purpose: str) -> int:
    with db.transaction() as s:
        req, _ = lab_requests.submit(s, lab_requests.parse_form({
            "lab_id": lab_id, "first_day": day.isoformat(), "start_time": start,
            "end_time": end, "purpose": purpose, "participants": 10}), user(db, "pemohon"))
        lab_requests.approve(s, req, user(db, "kabpti"), delegate=False)
        return req.id


def feed_url(login, code: str) -> str:
    page = login("yansi").get(f"/lab/labs/{code}").get_data(as_text=True)
    start = page.index("/lab/ical/")
    return page[start:page.index('"', start)]


def test_ical_feed_parses_and_holds_the_bookings(login, app, db):
    lab1 = lab(db, "LAB-1")
    day = soon(100)
    approved(db, lab1.id, day, "13:00", "15:00", "Seminar Kecerdasan Buatan")
    with db.transaction() as s:
        start = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
        assert rooms.reserve(s, RoomRequest(lab_id=lab1.id, start=start,
                                            end=start + timedelta(hours=1),
                                            purpose="CBT Remedial", source="cbt",
                                            source_ref="cbt_session:77")).granted
    url = feed_url(login, "LAB-1")
    client = app.test_client()  # no session: calendar apps do not sign in
    answer = client.get(url)
    assert answer.status_code == 200 and answer.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(answer.data)
    events = [c for c in cal.walk("VEVENT")]
    titles = {str(e["SUMMARY"]) for e in events}
    assert any("Seminar Kecerdasan Buatan" in t for t in titles)
    assert "CBT Remedial" in titles  # another service's reservation shows too
    seminar = next(e for e in events if "Seminar" in str(e["SUMMARY"]))
    starts = seminar.decoded("DTSTART")
    assert local(starts).strftime("%Y-%m-%d %H:%M") == f"{day.isoformat()} 13:00"
    assert seminar.decoded("DTEND") - starts == timedelta(hours=2)
    assert str(seminar["UID"]).endswith("@ruang")
    assert "LAB-1" in str(seminar["LOCATION"]) and "Gedung BPTI" in str(seminar["LOCATION"])
    assert str(seminar["URL"]).startswith("http")
    assert client.get("/lab/ical/not-a-real-key-at-all.ics").status_code == 404
    # A new address revokes the old one.
    login("yansi").post("/lab/labs/LAB-1/feed-key", {})
    assert client.get(url).status_code == 404


def test_all_labs_feed_and_calendar_pages(login, db):
    lab1, lab2 = lab(db, "LAB-1"), lab(db, "LAB-2")
    day = soon(105)
    approved(db, lab1.id, day, "08:00", "09:00", "Kuliah Umum Satu")
    approved(db, lab2.id, day, "10:00", "12:00", "Kuliah Umum Dua")
    yansi = login("yansi")
    page = yansi.get("/lab/calendar").get_data(as_text=True)
    start = page.index("/lab/ical/")
    url = page[start:page.index('"', start)]
    cal = icalendar.Calendar.from_ical(yansi.client.application.test_client().get(url).data)
    titles = [str(e["SUMMARY"]) for e in cal.walk("VEVENT")]
    assert any(t.startswith("[LAB-1]") and "Kuliah Umum Satu" in t for t in titles)
    assert any(t.startswith("[LAB-2]") and "Kuliah Umum Dua" in t for t in titles)

    pemohon = login("pemohon")
    for view in ("day", "week", "month"):
        html = pemohon.get(f"/lab/calendar?view={view}&date={day.isoformat()}").get_data(
            as_text=True)
        assert f'data-view="{view}"' in html
        assert "Kuliah Umum Satu" in html and "Kuliah Umum Dua" in html, view
    one = pemohon.get(f"/lab/calendar?view=week&date={day.isoformat()}&lab=LAB-2").get_data(
        as_text=True)
    assert "Kuliah Umum Dua" in one and "Kuliah Umum Satu" not in one
    assert pemohon.get("/lab/calendar?lab=NOPE").status_code == 404
    assert pemohon.get("/lab/calendar?date=kemarin").status_code == 400


def test_pending_requests_show_to_staff_only(login, db):
    lab2 = lab(db, "LAB-2")
    day = soon(110)
    with db.transaction() as s:
        lab_requests.submit(s, lab_requests.parse_form({
            "lab_id": lab2.id, "first_day": day.isoformat(), "start_time": "14:00",
            "end_time": "15:00", "purpose": "Usulan Kelas Sore", "participants": 4}),
            user(db, "pemohon"))
    url = f"/lab/calendar?view=day&date={day.isoformat()}"
    assert "Usulan Kelas Sore" in login("kabpti").get(url).get_data(as_text=True)
    assert 'data-kind="pending"' in login("kabpti").get(url).get_data(as_text=True)
    assert "Usulan Kelas Sore" not in login("pemohon").get(url).get_data(as_text=True)
    assert login("peserta").get(url).status_code == 403


def test_utilisation_report_and_csv(login, db):
    lab2 = lab(db, "LAB-2")
    with db.session() as s:
        prof = s.scalar(select(LabProfile).where(LabProfile.lab_id == lab2.id))
        open_days = prof.open_days if prof else "123456"
    day = soon(95)
    approved(db, lab2.id, day, "08:00", "12:00", "Ujian Praktik")
    month = day.strftime("%Y-%m")
    page = login("kabpti").get(f"/lab/utilisation?month={month}&lab=LAB-2")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-lab="LAB-2"' in html
    assert 'id="lab-chart-data"' in html and "chart.umd.js" in html
    from plugins.lab import reports

    with db.session() as s:
        found = rooms.lab_by_code(s, "LAB-2")
        assert found is not None
        report = reports.month_report(s, found, day.year, day.month)
    assert report.booked_hours >= 4 and report.sessions >= 1
    assert 0 < report.utilisation <= 1
    assert report.open_hours == sum(
        14 for d in range(1, 32) if _valid(day.year, day.month, d)
        and str(date(day.year, day.month, d).isoweekday()) in open_days)
    csv_text = login("kabpti").get(f"/lab/utilisation.csv?month={month}").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("lab,month,open_hours")
    assert any(line.startswith("LAB-2,") for line in csv_text.splitlines())
    assert login("pemohon").get("/lab/utilisation").status_code == 403


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True
