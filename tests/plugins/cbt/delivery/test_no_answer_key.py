"""Everything a kiosk receives during an exam, captured and searched for the answer key.

The kiosk is real Chromium against ``ruang serve``: every HTTP response and every
WebSocket frame it receives is recorded, from opening the exam page to the submission.
The paper is decrypted with the key the kiosk was sent, and nothing of the answer keys
(markers written only into keys, feedback, rubrics; the key's field names) appears in any
of it. Another candidate signed in at the next seat: neither their paper nor their key
ever reaches this kiosk.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.rooms import kiosks
from plugins.cbt.delivery.models import Answer, DeliveryAttempt
from plugins.cbt.delivery.paper import open_envelope
from tests.conftest import DEMO_PASSWORDS
from tests.fixtures.browser import screenshot
from tests.plugins.cbt.delivery.conftest import SECRETS, enrol, exam_room
from tests.plugins.cbt.delivery.pykiosk import PyKiosk

pytestmark = [pytest.mark.browser, pytest.mark.live]

KEY_FIELDS = ("weights", "truth", "accepted", "pairs", "rubric", "feedback", "tolerance",
              "general_feedback", "case_sensitive")


def socket_json(frame: str) -> Any:
    """The JSON of a Socket.IO packet as it travels on the WebSocket (``42/exam,7[...]``)."""
    m = re.match(r"^\d+(?:/[^,]*,)?\d*(.*)$", frame, re.S)
    if not m or not m.group(1):
        return None
    try:
        return json.loads(m.group(1))
    except ValueError:
        return None


def test_no_payload_a_kiosk_receives_carries_the_answer_key(live_server, browser, page, db):
    server = live_server()
    base = server.url
    room = exam_room(db, 2)
    mine, neighbour = room.numbers
    # The neighbour signs in and starts first, so their paper and key exist.
    other = PyKiosk(base, enrol(db, room.seats[neighbour]))
    assert other.sign_in(neighbour, room.passwords[neighbour])["ok"]
    other_envelope = other.paper()

    token = enrol(db, room.seats[mine])
    page.context.add_cookies([{"name": kiosks.TOKEN_COOKIE, "value": token, "url": base}])
    bodies: list[tuple[str, bytes]] = []
    frames: list[str] = []

    def on_response(response: Any) -> None:
        try:
            bodies.append((response.url, response.body()))
        except Exception:  # a redirect has no body
            bodies.append((response.url, b""))

    page.on("response", on_response)
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda payload: frames.append(
            payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))))

    page.goto(base + "/cbt/kiosk/")
    page.fill("#signin-number", mine)
    page.fill("#signin-password", room.passwords[mine])
    page.click("#signin-submit")
    page.wait_for_selector("#screen-waiting:not([hidden])")
    expect(page.locator("#waiting-paper")).to_contain_text("terkunci")

    # The proctor starts everyone signed in: the key arrives over the socket.
    desk_context = browser.new_context(locale="id-ID")
    desk = desk_context.new_page()
    desk.goto(base + "/login")
    desk.fill("input[name=username]", "pengawas")
    desk.fill("input[name=password]", DEMO_PASSWORDS["pengawas"])
    desk.click("form.stack button[type=submit]")
    desk.goto(f"{base}/cbt/exam-rooms/{room.session_id}")
    other.connect()
    desk.click("#start-all")
    desk.wait_for_selector(".flash.success")
    page.wait_for_selector("#screen-paper:not([hidden])")
    other_key = next(data["key"] for name, data in other.events if name == "started")

    # Answer every item, then submit.
    total = page.locator("#qnav-grid .qnav-item").count()
    for i in range(total):
        page.locator("#qnav-grid .qnav-item").nth(i).click()
        article = page.locator("#question article")
        kind = article.get_attribute("data-type")
        if kind in ("single", "multiple"):
            page.locator("#question .cbt-option label").nth(0).click()
        elif kind == "truefalse":
            page.locator("#question .cbt-tf label").nth(1).click()
        elif kind in ("short", "numeric"):
            page.fill("#question .cbt-answer-line", "42")
            page.click("#flag")
        elif kind == "essay":
            page.fill("#question .cbt-essay", "Ketuhanan Yang Maha Esa")
            page.click("#flag")
        elif kind == "matching":
            for sel in range(page.locator("#question select").count()):
                page.locator("#question select").nth(sel).select_option(index=1)
    page.wait_for_selector("#save-state[data-state='saved']")
    page.click("#submit-open")
    page.click("#confirm-yes")
    page.wait_for_selector("#screen-done:not([hidden])")
    screenshot(page, "exam-captured-done")
    desk_context.close()
    other.close()

    with db.session() as s:
        attempt_id = s.scalar(select(DeliveryAttempt.attempt_id).where(
            DeliveryAttempt.attempt_id != other.attempt))
        stored = s.scalars(select(Answer.position).where(Answer.attempt_id == attempt_id)).all()
    assert len(set(stored)) == total

    # What the kiosk was given: its paper, its key (once, over the socket), nothing else.
    papers = [json.loads(body) for url, body in bodies if "/cbt/kiosk/paper/" in url]
    assert len(papers) == 1 and papers[0]["aad"] == f"ruang-paper/v1/{attempt_id}"
    packets = [p for p in (socket_json(f) for f in frames) if p is not None]
    keys = [p[1]["key"] for p in packets
            if isinstance(p, list) and len(p) > 1 and p[0] == "started"]
    assert len(keys) == 1 and len(base64.b64decode(keys[0])) == 32
    opened = open_envelope(base64.b64decode(keys[0]), papers[0])
    assert len(opened["items"]) == total

    texts = [body.decode("utf-8", "replace") for _url, body in bodies] + frames + [
        json.dumps(opened, ensure_ascii=False)]
    everything = "\n".join(texts)
    for secret in SECRETS:
        assert secret not in everything, f"{secret} reached the kiosk"
    ours = [body.decode() for url, body in bodies if "/cbt/kiosk/" in url and body[:1] == b"{"]
    structured = "\n".join([*ours, *frames, json.dumps(opened)])
    for field in KEY_FIELDS:
        assert f'"{field}"' not in structured, f"{field} reached the kiosk"
    # The options carry no authored ids (a, b, ...) that could hint at the key.
    assert all(isinstance(o, str) for item in opened["items"] for o in item.get("options", []))
    assert '"id"' not in json.dumps(opened["items"])
    # The neighbour's paper and key never came here.
    assert other_envelope["aad"] not in everything
    assert other_envelope["data"][:40] not in everything
    assert other_key not in everything
