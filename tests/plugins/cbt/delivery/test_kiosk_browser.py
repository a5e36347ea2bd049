"""The exam on a lab kiosk, end to end, in real headless Chromium against ``ruang serve``.

A lab PC is enrolled with the code staff show, the proctor sends the lab's kiosks to the
exam, the candidate signs in and gets the encrypted paper, starts with the session token
the proctor shows, answers, loses the network, answers more, gets it back and sees every
answer acknowledged, reloads and resumes, and submits. Screenshots are saved under
``.test-artifacts/screenshots/exam-*.png``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.rooms.service import lab_by_code
from plugins.cbt.delivery.models import Answer, DeliveryAttempt, IntegrityEvent
from tests.conftest import DEMO_PASSWORDS
from tests.fixtures.browser import screenshot
from tests.plugins.cbt.delivery.conftest import exam_room

pytestmark = [pytest.mark.browser, pytest.mark.live]


def staff_page(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    context.set_default_timeout(15_000)
    desk = context.new_page()
    desk.goto(base + "/login")
    desk.fill("input[name=username]", username)
    desk.fill("input[name=password]", DEMO_PASSWORDS[username])
    desk.click("form.stack button[type=submit]")
    desk.wait_for_url(re.compile(r"/$"))
    return desk


def enrol_in_browser(page: Any, desk: Any, base: str, lab_id: int, seat: str) -> None:
    desk.goto(f"{base}/rooms/{lab_id}/enrol")
    desk.click("text=Tampilkan kode pendaftaran")
    code = desk.locator("#enrol-code").inner_text().strip()
    page.goto(base + "/kiosk")
    page.fill("#code-input", code)
    page.click("#code-submit")
    page.click(f"#seat-grid .seat:text-is('{seat}')")
    page.click("#confirm-yes")
    page.wait_for_selector("#status[data-online='1']")


def answers_in_db(db: Any, attempt_id: int) -> list[tuple[int, Any]]:
    with db.session() as s:
        return [(int(q), v) for q, v in s.execute(
            select(Answer.position, Answer.value).where(Answer.attempt_id == attempt_id)
            .order_by(Answer.seq))]


def item_index(page: Any, kind: str) -> int:
    """Where the first item of type ``kind`` is in this candidate's (shuffled) paper."""
    buttons = page.locator("#qnav-grid .qnav-item")
    for i in range(buttons.count()):
        buttons.nth(i).click()
        if page.locator(f"#question article[data-type='{kind}']").count():
            return i
    raise AssertionError(f"no {kind} item on the paper")


def test_a_candidate_takes_the_exam_on_a_kiosk_through_a_network_cut_and_a_reload(
        live_server, browser, page, db):
    server = live_server()
    base = server.url
    room = exam_room(db, 2)
    number = room.numbers[0]
    seat = room.seats[number]
    with db.session() as s:
        lab = lab_by_code(s, "LAB-1")
        assert lab is not None
    wdm = staff_page(browser, base, "wdm")
    enrol_in_browser(page, wdm, base, lab.id, seat)
    wdm.context.close()

    # The proctor opens the exam room and sends the lab's kiosks to the exam page.
    proctor = staff_page(browser, base, "pengawas")
    proctor.goto(f"{base}/cbt/exam-rooms")
    proctor.click(f"#exam-rooms tr[data-session='{room.session_id}'] a")
    token = proctor.locator("#token").inner_text().strip()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", token)
    screenshot(proctor, "exam-proctor-room")
    proctor.click("#open-kiosks")
    page.wait_for_url(re.compile(r"/cbt/kiosk/$"))

    # Sign in: the paper comes down encrypted, and waits for its key.
    page.wait_for_selector("#screen-signin:not([hidden])")
    screenshot(page, "exam-signin")
    page.fill("#signin-number", number)
    page.fill("#signin-password", "salah")
    page.click("#signin-submit")
    expect(page.locator("#signin-error")).to_contain_text("salah")
    page.fill("#signin-number", number.lower())
    page.fill("#signin-password", room.passwords[number])
    page.click("#signin-submit")
    page.wait_for_selector("#screen-waiting:not([hidden])")
    expect(page.locator("#waiting-paper")).to_contain_text("terkunci")
    expect(page.locator("#waiting-who")).to_contain_text(number)
    expect(page.locator("#waiting-instructions")).to_contain_text("jujur")
    screenshot(page, "exam-waiting")
    with db.session() as s:
        d = s.scalar(select(DeliveryAttempt))
        attempt_id = d.attempt_id
        assert d.state == "ready"

    # Start with the token the proctor shows.
    page.fill("#token-input", "AAAAAA")
    page.click("#token-submit")
    expect(page.locator("#waiting-error")).to_contain_text(re.compile(r"Token (tidak tepat|salah)"))
    page.fill("#token-input", token.lower())
    page.click("#token-submit")
    page.wait_for_selector("#screen-paper:not([hidden])")
    expect(page.locator("#question-label")).to_have_text("Soal 1 dari 7")
    expect(page.locator("#count-total")).to_have_text("7")
    assert re.fullmatch(r"\d+:\d\d", page.locator("#countdown").inner_text())
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")

    # Answer the single-choice item: saved, counted.
    single = item_index(page, "single")
    page.locator("#question .cbt-option label").nth(0).click()
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    expect(page.locator("#count-answered")).to_have_text("1")
    assert page.locator("#question .katex").count() >= 1  # KaTeX typeset the formula
    screenshot(page, "exam-question")
    assert len(answers_in_db(db, attempt_id)) == 1

    # The network goes: answers wait on the kiosk.
    page.context.set_offline(True)
    expect(page.locator("#save-state")).to_have_attribute("data-state", "offline")
    truefalse = item_index(page, "truefalse")
    page.locator("#question .cbt-tf label").nth(0).click()
    short = item_index(page, "short")
    page.fill("#question .cbt-answer-line", "jawaban saya")
    page.click("#flag")  # leaving the field sends it; the flag is a change of its own
    expect(page.locator("#save-state .save-text")).to_contain_text("3 jawaban menunggu")
    expect(page.locator("#count-answered")).to_have_text("3")
    expect(page.locator("#count-flagged")).to_have_text("1")
    screenshot(page, "exam-offline")
    assert len(answers_in_db(db, attempt_id)) == 1
    kept = page.evaluate(f"window.RuangStore.list({attempt_id}).then(l => l.length)")
    assert kept == 3

    # It comes back: everything is sent and acknowledged.
    page.context.set_offline(False)
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved", timeout=20_000)
    stored = answers_in_db(db, attempt_id)
    assert len(stored) == 4
    positions = {q for q, _v in stored}
    assert {single + 1, truefalse + 1, short + 1} == positions
    assert ("jawaban saya" in [v for _q, v in stored])
    assert page.evaluate(f"window.RuangStore.list({attempt_id}).then(l => l.length)") == 0

    # Reload: the same exam, the same answers, the same clock.
    before = page.locator("#countdown").inner_text()
    page.reload()
    page.wait_for_selector("#screen-paper:not([hidden])")
    expect(page.locator("#count-answered")).to_have_text("3")
    expect(page.locator("#count-flagged")).to_have_text("1")
    page.locator("#qnav-grid .qnav-item").nth(short).click()
    expect(page.locator("#question .cbt-answer-line")).to_have_value("jawaban saya")
    page.locator("#qnav-grid .qnav-item").nth(single).click()
    assert page.locator("#question input[type=radio]").nth(0).is_checked()
    after = page.locator("#countdown").inner_text()
    assert _seconds(before) - _seconds(after) < 30
    with db.session() as s:
        kinds = set(s.scalars(select(IntegrityEvent.kind).where(
            IntegrityEvent.attempt_id == attempt_id)))
    assert "reload" in kinds

    # Submit.
    page.click("#submit-open")
    expect(page.locator("#confirm-unanswered")).to_contain_text("4 soal belum dijawab")
    screenshot(page, "exam-submit-confirm")
    page.click("#confirm-yes")
    page.wait_for_selector("#screen-done:not([hidden])")
    expect(page.locator("#done-count")).to_contain_text(re.compile(r"3 dari 7 soal (ter|di)jawab"))
    screenshot(page, "exam-done")
    with db.session() as s:
        d = s.get(DeliveryAttempt, attempt_id)
        assert d.state == "submitted" and d.submitted_by == "candidate"
    # The kiosk forgets the candidate: the next one signs in on a clean page.
    page.click("#done-finish")
    page.wait_for_selector("#screen-signin:not([hidden])")
    assert page.evaluate("localStorage.getItem('ruang.exam.login')") is None
    proctor.context.close()


def _seconds(text: str) -> int:
    parts = [int(p) for p in text.split(":")]
    total = 0
    for p in parts:
        total = total * 60 + p
    return total
