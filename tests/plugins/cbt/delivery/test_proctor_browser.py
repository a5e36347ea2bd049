"""The proctor's live room page in real headless Chromium, with a real kiosk page beside it.

The proctor opens the exam room: the candidate's seat shows them waiting, turns to working
when the kiosk starts with the token, and the answered count follows the kiosk's answers,
without a reload. The proctor pauses the candidate from the seat's panel (a reason is
required): the kiosk shows the paused screen with the clock stopped; resumes; locks: the
kiosk shows the lock screen; sends a message the kiosk shows. Screenshots go to
``.test-artifacts/screenshots/proctor-*.png`` (and /tmp/shots-p/ when it exists).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

import kiosk as kiosk_pkg
from core.rooms.kiosks import TOKEN_COOKIE
from plugins.cbt.delivery import tokens
from tests.fixtures.browser import screenshot
from tests.plugins.cbt.delivery.conftest import enrol, exam_room
from tests.plugins.cbt.delivery.test_kiosk_browser import item_index, staff_page

pytestmark = [pytest.mark.browser, pytest.mark.live]

SHOTS = Path("/tmp/shots-p")


def shot(page: Any, name: str, full_page: bool = False) -> None:
    path = screenshot(page, name, full_page=full_page)
    if SHOTS.is_dir():
        shutil.copy(path, SHOTS / path.name)


def kiosk_page(browser: Any, base: str, token: str) -> Any:
    """A lab PC's browser, already enrolled (its token in the cookie and local storage)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID")
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": TOKEN_COOKIE, "value": token, "url": base}])
    context.add_init_script(
        f"window.localStorage.setItem({kiosk_pkg.TOKEN_STORAGE_KEY!r}, {token!r});")
    page = context.new_page()
    page.goto(base + "/cbt/kiosk/")
    return page


def test_a_proctor_watches_a_seat_start_and_pauses_locks_and_messages_it(live_server, browser,
                                                                          db):
    server = live_server()
    base = server.url
    room = exam_room(db, 6)
    number = room.numbers[0]
    seat = room.seats[number]
    kiosk = kiosk_page(browser, base, enrol(db, seat))

    kiosk.wait_for_selector("#screen-signin:not([hidden])")
    kiosk.fill("#signin-number", number)
    kiosk.fill("#signin-password", room.passwords[number])
    kiosk.click("#signin-submit")
    kiosk.wait_for_selector("#screen-waiting:not([hidden])")

    proctor = staff_page(browser, base, "pengawas")
    proctor.goto(f"{base}/cbt/exam-rooms/{room.session_id}")
    proctor.wait_for_selector("#room[data-ready='1']")
    expect(proctor.locator("#room-live")).to_have_attribute("data-live", "1")
    tile = proctor.locator(f".seat[data-state]:has(.seat-number:text-is('{number}'))")
    expect(tile).to_have_attribute("data-state", "ready")
    expect(tile).to_have_attribute("data-online", "1")
    expect(proctor.locator(".seat[data-state='absent']")).to_have_count(5)
    token = proctor.locator("#token").inner_text().strip()
    # The page may have been drawn just before a 15-minute change: the previous token is
    # still good for its grace period, as it is for the kiosk.
    assert tokens.check(db, room.session_id, token)
    shot(proctor, "proctor-room-waiting")

    # The kiosk starts with the token: the seat turns to working, no reload.
    kiosk.fill("#token-input", token)
    kiosk.click("#token-submit")
    kiosk.wait_for_selector("#screen-paper:not([hidden])")
    expect(tile).to_have_attribute("data-state", "running", timeout=3000)
    expect(tile.locator(".seat-time")).to_have_text(re.compile(r"\d+:\d\d"))
    truefalse = item_index(kiosk, "truefalse")
    assert truefalse >= 0
    kiosk.locator("#question .cbt-tf label").nth(0).click()
    expect(kiosk.locator("#save-state")).to_have_attribute("data-state", "saved")
    expect(tile.locator(".seat-counts")).to_have_text(re.compile(r"^1/7"), timeout=3000)
    shot(proctor, "proctor-room-running", full_page=True)

    # Pause from the seat's panel: a reason is required.
    tile.click()
    expect(proctor.locator("#panel")).to_be_visible()
    shot(proctor, "proctor-room-panel")
    proctor.click("#panel-actions [data-act='pause']")
    proctor.click("#act-submit")
    expect(proctor.locator("#act-error")).not_to_be_empty()
    proctor.fill("#act-reason", "Listrik di baris A padam")
    shot(proctor, "proctor-room-dialog")
    proctor.click("#act-submit")
    expect(proctor.locator("#act-dialog")).to_be_hidden()
    expect(tile).to_have_attribute("data-state", "paused", timeout=3000)
    expect(kiosk.locator("#hold")).to_be_visible(timeout=3000)
    expect(kiosk.locator("#hold-title")).to_have_text("Ujian dijeda")
    frozen = kiosk.locator("#hold-clock").inner_text()
    kiosk.wait_for_timeout(1500)
    assert kiosk.locator("#hold-clock").inner_text() == frozen  # the clock stopped
    shot(kiosk, "proctor-kiosk-paused")

    proctor.click("#panel-actions [data-act='resume']")
    proctor.fill("#act-reason", "Listrik menyala")
    proctor.click("#act-submit")
    expect(kiosk.locator("#hold")).to_be_hidden(timeout=3000)
    expect(tile).to_have_attribute("data-state", "running", timeout=3000)

    proctor.click("#panel-actions [data-act='lock']")
    proctor.fill("#act-reason", "Membuka ponsel")
    proctor.click("#act-submit")
    expect(kiosk.locator("#hold")).to_have_attribute("data-kind", "locked", timeout=3000)
    expect(tile).to_have_attribute("data-state", "locked", timeout=3000)
    shot(kiosk, "proctor-kiosk-locked")
    proctor.click("#panel-actions [data-act='unlock']")
    proctor.fill("#act-reason", "Ponsel dititipkan")
    proctor.click("#act-submit")
    expect(kiosk.locator("#hold")).to_be_hidden(timeout=3000)

    # A message to the whole room.
    proctor.click("#panel-close")
    proctor.click("#room-all [data-act='message']")
    proctor.fill("#act-text", "Sisa waktu 15 menit.")
    proctor.click("#act-submit")
    expect(kiosk.locator("#message")).to_be_visible(timeout=3000)
    expect(kiosk.locator("#message-text")).to_have_text("Sisa waktu 15 menit.")
    shot(kiosk, "proctor-kiosk-message")
    kiosk.click("#message-close")

    # Filters and the list view.
    proctor.select_option("#filter-state", "running")
    expect(proctor.locator("#seatmap .seat")).to_have_count(1)
    proctor.click("#view-list")
    expect(proctor.locator("#seatlist tr")).to_have_count(1)
    expect(proctor.locator("#seatmap")).to_be_hidden()
    proctor.select_option("#filter-state", "")
    expect(proctor.locator("#seatlist tr")).to_have_count(6)
    shot(proctor, "proctor-room-list", full_page=True)
    proctor.click("#view-grid")
    proctor.fill("#filter-text", number)
    expect(proctor.locator("#seatmap .seat")).to_have_count(1)
    proctor.fill("#filter-text", "")

    project = proctor.context.new_page()
    project.goto(f"{base}/cbt/exam-rooms/{room.session_id}/project")
    expect(project.locator("#token")).to_have_text(token)
    shot(project, "proctor-project-token")
