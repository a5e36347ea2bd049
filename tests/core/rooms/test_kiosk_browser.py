"""The kiosk in real headless Chromium against a real ``ruang serve``.

A lab PC opens /kiosk, types the code staff show, picks its seat on the map and waits for
an exam with a live Socket.IO connection; staff see it online on the seat map, revoke it,
and the PC goes back to the enrolment screen by itself. Screenshots are saved under
``.test-artifacts/screenshots/kiosk-*.png``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.rooms import kiosks, service
from tests.conftest import DEMO_PASSWORDS
from tests.fixtures.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_a_lab_pc_enrols_waits_online_and_is_sent_back_when_revoked(live_server, browser,
                                                                    page, db):
    server = live_server()
    base = server.url
    with db.session() as session:
        lab = service.lab_by_code(session, "LAB-1")
    assert lab is not None, "the demo lab LAB-1 is missing"

    staff = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    staff.set_default_timeout(15_000)
    desk = staff.new_page()
    desk.goto(base + "/login")
    desk.fill("input[name=username]", "wdm")
    desk.fill("input[name=password]", DEMO_PASSWORDS["wdm"])
    desk.click("form.stack button[type=submit]")
    desk.wait_for_url(re.compile(r"/$"))
    desk.goto(f"{base}/rooms/{lab.id}/enrol")
    desk.click("text=Tampilkan kode pendaftaran")
    code = desk.locator("#enrol-code").inner_text().strip()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", code)
    screenshot(desk, "kiosk-enrol-code-projector")

    # The lab PC.
    page.goto(base + "/kiosk")
    assert page.locator("h1").inner_text() == "Daftarkan komputer ini"
    page.fill("#code-input", "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY")
    page.click("#code-submit")
    # (Not wait_for_function: the page's CSP forbids the eval it uses.)
    expect(page.locator("#enrol-error")).to_contain_text("tidak berlaku")
    page.fill("#code-input", code.lower())
    page.click("#code-submit")
    page.wait_for_selector("#seat-grid .seat")
    assert page.locator("#seat-grid .seat").count() == 40
    screenshot(page, "kiosk-seat-map")
    page.click("#seat-grid .seat:text-is('B2')")
    assert "B2" in page.locator("#confirm-text").inner_text()
    page.click("#confirm-yes")

    page.wait_for_selector("#waiting")
    assert page.locator("#seat-label").inner_text() == "B2"
    assert page.locator("#waiting-message").inner_text() == "Menunggu ujian"
    page.wait_for_selector("#status[data-online='1']")  # Socket.IO connected
    token = page.evaluate("localStorage.getItem('ruang.kiosk.token')")
    assert token and len(token) >= 40
    assert page.evaluate("document.cookie").find(kiosks.TOKEN_COOKIE) < 0  # HttpOnly
    screenshot(page, "kiosk-waiting")

    # Staff see the PC online on the seat map, then revoke it.
    desk.goto(f"{base}/rooms/{lab.id}")
    assert desk.locator("a.cell[data-seat='B2'] .kdot.on").count() == 1
    desk.goto(f"{base}/rooms/{lab.id}/kiosks")
    desk.click("tr[data-seat='B2'] button[type=submit]")
    desk.wait_for_selector(".flash.success")

    # The PC hears it over Socket.IO and returns to the enrolment screen by itself.
    page.wait_for_selector("#enrol", timeout=15_000)
    assert page.evaluate("localStorage.getItem('ruang.kiosk.token')") is None
    with db.session() as session:
        assert kiosks.authenticate_token(session, token) is None
    staff.close()


def test_the_kiosk_page_fits_a_phone_sized_screen(live_server, page):
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(live_server().url + "/kiosk")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    screenshot(page, "kiosk-enrol-phone")


@pytest.mark.parametrize("width", [1280, 390])
def test_seat_map_is_readable_on_a_desk_and_on_a_phone(live_server, page, width):
    base = live_server().url
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(base + "/login")
    page.fill("input[name=username]", "pengawas")
    page.fill("input[name=password]", DEMO_PASSWORDS["pengawas"])
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    page.goto(base + "/rooms/")
    screenshot(page, f"rooms-index-{width}")
    page.click("#labs article[data-lab='LAB-1'] h2 a")
    page.wait_for_selector("#seatmap")
    assert page.locator("#seatmap a.cell").count() == 40
    assert page.locator("#seatmap a.cell.faulty").count() == 1
    # The grid scrolls inside its frame; the page itself never gets wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"rooms-seatmap-{width}")
