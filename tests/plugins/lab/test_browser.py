"""The lab pages in real headless Chromium against a real ``ruang serve``: a requester books
a lab from a phone (the availability check runs as they type), and the live seat map turns a
PC green when its kiosk starts sending heartbeats, without a reload. Screenshots are saved
under ``.test-artifacts/screenshots/lab-*.png``."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from core.db import Database
from tests.conftest import DEMO_PASSWORDS, make_settings
from tests.fixtures.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "id-ID", "timezone_id": "Asia/Jakarta"}


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORDS[username])
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def no_sideways_scroll(page: Any) -> bool:
    """Nothing wider than the phone's screen (a mobile browser would widen its layout
    viewport to fit, so compare with the screen width itself)."""
    width = int(page.evaluate("document.documentElement.scrollWidth"))
    return width <= PHONE["viewport"]["width"] + 1  # type: ignore[index]


def test_requester_books_a_lab_from_a_phone(live_server, browser, instance):
    base = live_server().url
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        sign_in(page, base, "pemohon")
        page.goto(base + "/lab/")
        assert no_sideways_scroll(page)
        page.click("a.btn:has-text('Pinjam lab')")
        page.wait_for_url(re.compile(r"/lab/request"))
        assert page.locator("#lab-weekly").is_hidden()  # the weekly fields wait for the box
        day = date.today() + timedelta(weeks=75)
        day -= timedelta(days=day.weekday())
        lab2 = page.locator("select[name=lab_id] option", has_text="LAB-2").get_attribute("value")
        page.select_option("select[name=lab_id]", value=lab2)
        page.fill("input[name=first_day]", day.isoformat())
        page.fill("input[name=start_time]", "13:00")
        page.fill("input[name=end_time]", "15:00")
        page.locator("input[name=end_time]").dispatch_event("change")
        # The live check answers before anything is submitted.
        page.wait_for_selector("#lab-availability li.free")
        assert page.locator("#lab-availability li.free").count() == 1
        page.check("input[name=weekly]")
        assert page.locator("#lab-weekly").is_visible()
        page.uncheck("input[name=weekly]")
        page.fill("input[name=purpose]", "Praktikum Grafika Komputer")
        page.fill("input[name=participants]", "18")
        page.fill("textarea[name=software_needed]", "Blender")
        assert no_sideways_scroll(page)
        screenshot(page, "lab-phone-request-form")
        page.click("button[name=action][value=submit]")
        page.wait_for_url(re.compile(r"/lab/requests/\d+"))
        assert page.locator("#request-state").get_attribute("data-state") == "submitted"
        assert "LAB-" in page.locator("h1").inner_text()
        assert "Blender" in page.locator("main").inner_text()
        assert no_sideways_scroll(page)
        screenshot(page, "lab-phone-request-page")
    finally:
        context.close()


def test_live_map_turns_a_pc_online_without_reload(live_server, page, instance):
    server = live_server()
    db = Database(make_settings(instance).sqlalchemy_url)
    from core.rooms import kiosks
    from core.rooms import service as rooms

    with db.transaction() as s:
        lab = rooms.lab_by_code(s, "LAB-2")
        assert lab is not None
        code = kiosks.new_code(s, lab).code
        kiosk_id = kiosks.enrol(s, code, seat_label="B2").kiosk.id
    with db.transaction() as s:
        from sqlalchemy import update

        from core.rooms.models import Kiosk

        s.execute(update(Kiosk).where(Kiosk.id == kiosk_id).values(last_seen_at=None))
    sign_in(page, server.url, "yansi")
    page.goto(server.url + "/lab/labs/LAB-2/live")
    cell = page.locator("#live-map [data-seat='B2']")
    assert cell.get_attribute("data-state") == "offline"
    kiosks.heartbeat(db, kiosk_id, check=True)  # the PC's kiosk says hello
    # The page polls every 5 s (a function wait would need eval, which the CSP forbids).
    page.wait_for_selector("#live-map [data-seat='B2'][data-state='online']", timeout=15_000)
    assert "s-online" in (cell.get_attribute("class") or "")
    screenshot(page, "lab-live-map")
    db.dispose()
