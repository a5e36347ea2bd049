"""The public pages on a phone, in real headless Chromium against a real server process."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.fixture
def browser_context_options() -> dict[str, Any]:
    return {"viewport": {"width": 375, "height": 740}, "locale": "id-ID",
            "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def _fits(page: Any) -> None:
    page.wait_for_load_state()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the phone"


def test_a_guest_files_and_checks_a_complaint_on_a_phone(live_server, page, tmp_path):
    server = live_server()
    page.goto(server.url + "/helpdesk/")
    _fits(page)
    page.click("#file-link")
    page.wait_for_selector("#filing-form")
    _fits(page)
    page.fill("input[name=name]", "Putri Ayu")
    page.fill("input[name=phone]", "0812 7777 8888")
    page.fill("input[name=subject]", "PC lab tidak menyala")
    page.fill("textarea[name=description]", "PC di kursi C4 Lab Komputer 1 tidak menyala.")
    shot = tmp_path / "foto.png"
    from tests.plugins.helpdesk.conftest import png_bytes

    shot.write_bytes(png_bytes())
    page.set_input_files("input[name=files]", str(shot))
    page.click("#filing-form button[type=submit]")
    page.wait_for_selector("#ticket-number")
    _fits(page)
    number = page.inner_text("#ticket-number").strip()
    assert number.startswith("TIK-")

    # On another phone, the number and the phone number open the ticket.
    other = page.context.browser.new_context(viewport={"width": 375, "height": 740})
    try:
        p2 = other.new_page()
        p2.goto(server.url + "/helpdesk/status")
        _fits(p2)
        p2.fill("input[name=number]", number)
        p2.fill("input[name=contact]", "+62 812-7777-8888")
        p2.click("#status-form button[type=submit]")
        p2.wait_for_selector("#ticket")
        _fits(p2)
        assert "PC lab tidak menyala" in p2.inner_text("h1")
        assert "Baru" in p2.inner_text(".hd-meta")
        assert "foto.png" in p2.inner_text("body")
    finally:
        other.close()


def test_an_oversized_file_is_flagged_before_upload(live_server, page, tmp_path):
    server = live_server()
    page.goto(server.url + "/helpdesk/new")
    big = tmp_path / "video.txt"
    big.write_bytes(b"a" * (11 * 1024 * 1024))
    page.set_input_files("input[name=files]", str(big))
    message = page.locator("[data-file-error]")
    message.wait_for(state="visible")
    assert "video.txt" in message.inner_text()
