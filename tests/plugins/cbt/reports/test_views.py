"""The report pages and downloads over HTTP: who may open them, what they return, the
public slip check; and the item analysis page drawing its charts in headless Chromium."""

from __future__ import annotations

import csv
import io
import re
from io import BytesIO
from typing import Any

import pytest

# The delivery part of the plugin (attempts, answers) is what the reports read.
pytest.importorskip("plugins.cbt.delivery.signin")

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from core.audit.models import AuditEntry
from tests.plugins.cbt.reports import held


@pytest.fixture
def event(db) -> held.Held:
    return held.build(db)


def test_staff_download_results_and_each_download_is_audited(db, login, event):
    wdm = login("wdm")
    resp = wdm.get(f"/cbt/reports/exams/{event.exam_id}/results.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert 'filename="hasil-UTS-LAP.csv"' in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["K-0001", "K-0002", "K-0003", "K-0004"]
    assert rows[1][5] == "7.0" and rows[4][8] == "Tidak hadir"
    resp = wdm.get(f"/cbt/reports/exams/{event.exam_id}/results.xlsx")
    book = load_workbook(BytesIO(resp.get_data()))
    assert book["Hasil"]["C3"].value == "عبد الله بن عمر"
    with db.session() as s:
        exported = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "cbt.results.exported")).all()
        assert [e.details["format"] for e in exported] == ["csv", "xlsx"]
        wdm_id = held.user(s, "wdm").id
        assert all(e.actor_id == wdm_id for e in exported)


def test_others_may_not(login, guest, event):
    for who in ("pemohon", "pengawas", "peserta"):
        assert login(who).get(f"/cbt/reports/exams/{event.exam_id}/results.csv"
                              ).status_code == 403, who
    assert guest.get(f"/cbt/reports/exams/{event.exam_id}/analysis").status_code in (302, 401)
    assert login("pemohon").get(f"/cbt/reports/events/{event.event_id}/minutes.pdf"
                                ).status_code == 403


def test_minutes_pdf_download(login, event):
    resp = login("wdm").get(f"/cbt/reports/events/{event.event_id}/minutes.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert re.search(r'filename="berita-acara-BA-CBT-\d+-BPTI-\d{4}\.pdf"',
                     resp.headers["Content-Disposition"])
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(resp.get_data())).pages)
    assert "Andi Pratama" in text and "PC-A3 mati" in text


def test_result_slip_and_its_public_check(login, guest, event):
    resp = login("wdm").get(f"/cbt/reports/exams/{event.exam_id}/slips/K-0002.pdf")
    assert resp.status_code == 200
    page = PdfReader(BytesIO(resp.get_data())).pages[0]
    text = re.sub(r"\s+", " ", page.extract_text())
    assert "4 / 7" in text and "LULUS" in text
    import zxingcpp
    from PIL import Image

    (url,) = [str(f.text) for image in page.images
              for f in zxingcpp.read_barcodes(Image.open(BytesIO(image.data)).convert("L"))]
    path = re.sub(r"^https?://[^/]+", "", url)
    assert path.startswith("/cbt/reports/verify/UTS-LAP/K-0002/")
    check = guest.get(path)
    assert check.status_code == 200
    body = check.get_data(as_text=True)
    assert 'badge ok' in body and "K-0002" in body
    # A code for another result, or made up, is refused.
    forged = guest.get(path.replace("/K-0002/", "/K-0001/"))
    assert forged.status_code == 404 and "badge bad" in forged.get_data(as_text=True)
    assert login("wdm").get(f"/cbt/reports/exams/{event.exam_id}/slips/NOPE.pdf"
                            ).status_code == 404


def test_analysis_page_and_json(login, event):
    wdm = login("wdm")
    page = wdm.get(f"/cbt/reports/exams/{event.exam_id}/analysis")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="cbt-chart-scores"' in html and "chart.umd.min.js" in html
    assert "<script>" not in html  # CSP: no inline scripts
    data = wdm.get(f"/cbt/reports/exams/{event.exam_id}/analysis.json").get_json()
    assert data["candidates"] == 3 and data["exam"]["code"] == "UTS-LAP"
    assert len(data["items"]) == 4 and "flagged" in data["items"][0]
    assert sum(b["count"] for b in data["distribution"]["bins"]) == 3


@pytest.mark.browser
@pytest.mark.live
def test_analysis_charts_draw_in_a_browser(live_server, page, instance, event):
    from tests.conftest import DEMO_PASSWORDS
    from tests.fixtures.browser import screenshot

    server = live_server()
    page.goto(server.url + "/login")
    page.fill("input[name=username]", "wdm")
    page.fill("input[name=password]", DEMO_PASSWORDS["wdm"])
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    errors: list[Any] = []
    page.on("pageerror", lambda exc: errors.append(exc))
    page.goto(server.url + f"/cbt/reports/exams/{event.exam_id}/analysis")
    page.wait_for_selector("#cbt-analysis[data-ready='1']", state="attached", timeout=15_000)
    assert errors == []
    # Chart.js has drawn on both canvases (it sizes them to their boxes).
    for canvas in ("#cbt-chart-scores", "#cbt-chart-items"):
        box = page.locator(canvas).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
    screenshot(page, "cbt-item-analysis")
