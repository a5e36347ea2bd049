"""Search by number, requester and text with filters (fast on 100,000 tickets); the report
page with its charts, the XLSX exports, the dashboard widgets."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from loadtests.helpdesk_search import seed_tickets
from plugins.helpdesk import search, service
from plugins.helpdesk.forms import Filing
from plugins.helpdesk.models import Ticket


def _file(app, **kw):
    data = {"name": "Fajar Nugroho", "email": "fajar@kampus.ac.id", "phone": "0857 1234 5678",
            "subject": "Printer fakultas tidak mencetak",
            "description": "Printer di ruang dosen Fakultas Hukum menolak semua dokumen."}
    data.update(kw)
    with app.extensions["ruang"].db.transaction() as s:
        return service.file_ticket(s, Filing.model_validate(data)).number


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
def test_search_finds_the_right_tickets_among_100000(app, login):
    # How long it takes is measured by `python -m loadtests.helpdesk_search`, not here.
    r = app.extensions["ruang"]
    assert seed_tickets(r.db, 100_000) >= 100_000
    yansi = login("yansi")
    page = yansi.get("/helpdesk/desk/?view=all&q=user4242@kampus.ac.id").get_data(as_text=True)
    assert "TIK-LOAD-004242" in page
    assert "TIK-LOAD-042420" not in page
    page = yansi.get("/helpdesk/desk/?view=all&q=pelapor 99999").get_data(as_text=True)
    assert "TIK-LOAD-099999" in page


def test_search_words_are_looked_up_through_the_index_not_scanned(app):
    """The property that keeps search fast on a big table: every word of a query is a range
    on the terms index; a plan that scans the terms table would grow with the tickets."""
    r = app.extensions["ruang"]
    if r.db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    condition = search.matches("wifi putus lab")
    assert condition is not None
    query = select(Ticket.id).where(condition)
    compiled = query.compile(r.db.engine, compile_kwargs={"literal_binds": True})
    with r.db.session() as s:
        plan = [row[-1] for row in s.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
    terms = [step for step in plan if "helpdesk_search_terms" in step]
    assert terms, plan
    assert all("USING" in step and "INDEX" in step for step in terms), plan


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
        assert t is not None
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
