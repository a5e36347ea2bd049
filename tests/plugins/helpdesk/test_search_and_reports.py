"""Search by number, requester and text with filters (fast on 100,000 tickets); the report
page with its charts, the XLSX exports, the dashboard widgets."""

from __future__ import annotations

import io
import random
import time
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert

from core.db import utcnow
from plugins.helpdesk import search, service
from plugins.helpdesk.forms import Filing
from plugins.helpdesk.models import Ticket


def _file(app, **kw):
    data = {"name": "Fajar Nugroho", "email": "fajar@kampus.ac.id", "phone": "0857 1234 5678",
            "subject": "Printer fakultas tidak mencetak",
            "description": "Printer di ruang dosen Fakultas Hukum menolak semua dokumen."}
    data.update(kw)
    with app.extensions["ruang"].db.transaction() as s:
        return service.file_ticket(s, Filing(**data)).number


def test_search_by_number_requester_phone_and_words(app, login):
    a = _file(app)
    b = _file(app, name="Gita", email="gita@kampus.ac.id", phone="", subject="VPN putus",
              description="Koneksi VPN dari rumah putus setiap lima menit.")
    yansi = login("yansi")

    def found(q, **filters):
        args = "&".join(f"{k}={v}" for k, v in filters.items())
        page = yansi.get(f"/helpdesk/desk/?view=all&q={q}&{args}").get_data(as_text=True)
        return {n for n in (a, b) if n in page}

    # A whole number jumps straight to the ticket.
    resp = yansi.get(f"/helpdesk/desk/?q={b.lower()}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/t/{b}")
    assert found("fajar") == {a}
    assert found("gita@kampus.ac.id") == {b}
    assert found("0857-1234-5678") == {a}
    assert found("+6285712345678") == {a}
    assert found("printer hukum") == {a}
    assert found("print") == {a}  # prefixes match
    assert found("printer vpn") == set()  # every word must match
    assert found("kampus") == {a, b}
    assert found("kampus", state="new") == {a, b}
    assert found("kampus", state="resolved") == set()
    # Replies are searchable too.
    yansi.post(f"/helpdesk/desk/t/{b}/reply", {"body": "Sertifikat FortiClient kedaluwarsa",
                                               "internal": "1"})
    assert found("forticlient") == {b}


@pytest.mark.slow
def test_search_stays_fast_on_100000_tickets(app, login):
    r = app.extensions["ruang"]
    words = ["wifi", "printer", "akun", "sso", "siakad", "website", "proyektor", "lab",
             "email", "vpn", "server", "lambat", "putus", "rusak", "lupa", "sandi", "terkunci",
             "gagal", "login", "nilai", "krs", "jaringan"]
    rng = random.Random(7)
    now = utcnow()
    rows = []
    for i in range(100_000):
        subject = " ".join(rng.sample(words, 3))
        rows.append({
            "number": f"TIK-LOAD-{i:06d}", "subject": subject,
            "description": " ".join(rng.sample(words, 6)), "state": rng.choice(
                ["new", "forwarded", "in_progress", "resolved", "closed"]),
            "priority": "normal", "channel": "portal",
            "division": rng.choice([None, "YANSI", "WDM", "JDS", "ADD"]),
            "requester_name": f"Pelapor {i}", "requester_email": f"user{i}@kampus.ac.id",
            "requester_phone": f"62812{i:07d}", "created_at": now - timedelta(minutes=i),
            "updated_at": now - timedelta(minutes=i),
        })
    started = time.monotonic()
    with r.db.transaction() as s:
        s.execute(insert(Ticket.__table__), rows)
    started = time.monotonic()
    with r.db.transaction() as s:
        assert search.reindex(s) >= 100_000
    indexing = time.monotonic() - started
    yansi = login("yansi")
    timings = {}
    for query in ("user4242@kampus.ac.id", "wifi putus", "62812%2B0031337", "pelapor 99999",
                  "sandi&state=new", "lab&division=JDS"):
        started = time.monotonic()
        resp = yansi.get(f"/helpdesk/desk/?view=all&q={query}")
        timings[query] = time.monotonic() - started
        assert resp.status_code == 200
    page = yansi.get("/helpdesk/desk/?view=all&q=user4242@kampus.ac.id").get_data(as_text=True)
    assert "TIK-LOAD-004242" in page
    slowest = max(timings.values())
    assert slowest < 1.5, f"search too slow: {timings} (indexing took {indexing:.1f}s)"


def test_reports_page_charts_and_xlsx(app, login):
    a = _file(app, category_id=None)
    b = _file(app, subject="Akun SSO terkunci", description="Akun SSO terkunci sejak tadi pagi.")
    yansi = login("yansi")
    yansi.post(f"/helpdesk/desk/t/{a}/forward", {"division": "JDS"})
    yansi.post(f"/helpdesk/desk/t/{b}/forward", {"division": "WDM"})
    yansi.post(f"/helpdesk/desk/t/{b}/forward", {"division": "ADD"})  # sent on: not first time
    yansi.post(f"/helpdesk/desk/t/{a}/workflow", {"action": "resolve", "comment": "Beres."})
    with app.extensions["ruang"].db.transaction() as s:
        t = service.by_number(s, a)
        service.rate(s, t, None, 4)
    page = login("kabpti").get("/helpdesk/reports/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-kpi="total">2<' in html
    assert 'data-kpi="routed">100.0%' in html
    assert "langsung ke bagian yang tepat: 50.0%" in html
    assert 'data-kpi="satisfaction">4.0<' in html
    assert 'id="report-data"' in html and "chart.umd.min.js" in html
    assert login("wr2").get("/helpdesk/reports/").status_code == 200
    assert login("pemohon").get("/helpdesk/reports/").status_code == 403
    bad = login("kabpti").get("/helpdesk/reports/?start=kemarin")
    assert "Tanggal ditulis seperti 2026-08-17." in bad.get_data(as_text=True)

    xlsx = login("kabpti").get("/helpdesk/reports/export.xlsx")
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.data))
    assert wb.sheetnames == ["Ringkasan", "Tiket"]
    summary = {row[0]: row[1] for row in wb["Ringkasan"].iter_rows(values_only=True) if row}
    assert summary["Pengaduan"] == 2 and summary["Kepuasan (1-5)"] == 4
    numbers = {row[0] for row in wb["Tiket"].iter_rows(min_row=2, values_only=True)}
    assert numbers == {a, b}

    desk = login("jds").get("/helpdesk/desk/export.xlsx?view=all")
    sheet = load_workbook(io.BytesIO(desk.data)).active
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == {a}


def test_dashboard_widgets(app, login):
    a = _file(app)
    dash = login("yansi").get("/").get_data(as_text=True)
    assert 'data-count="triage">1<' in dash
    pemohon = login("pemohon")
    pemohon.get("/helpdesk/new")
    from tests.plugins.helpdesk.conftest import file_as_guest, number_in

    mine = number_in(pemohon.get(file_as_guest(pemohon).headers["Location"]).get_data(
        as_text=True))
    dash = pemohon.get("/").get_data(as_text=True)
    assert mine in dash and a not in dash
