"""A session token typed before the kiosk's link is up still starts the exam.

In a full lab the socket may connect seconds after the waiting screen shows; a click on
"start" then must not vanish. Real headless Chromium against ``ruang serve``: the page's
Socket.IO client is held back until the test lets it go.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.plugins.cbt.delivery.conftest import (
    enrol,
    enrolled_kiosk,
    exam_room,
    sign_in_and_type_token,
)

pytestmark = [pytest.mark.browser, pytest.mark.live]

# Wraps the socket.io client so it does not connect until ``window.releaseLink()``.
HOLD_LINK = """
(() => {
  let real;
  const held = [];
  window.releaseLink = () => { held.splice(0).forEach((s) => s.connect()); };
  Object.defineProperty(window, "io", {
    configurable: true,
    get() { return real && function (nsp, opts) {
      const socket = real(nsp, Object.assign({}, opts, { autoConnect: false }));
      held.push(socket);
      return socket;
    }; },
    set(value) { real = value; },
  });
})();
"""


def test_a_token_typed_before_the_link_is_up_starts_the_exam_when_it_is(live_server,
                                                                           browser, db):
    server = live_server()
    room = exam_room(db, 1)
    number = room.numbers[0]
    token = enrol(db, room.seats[number])
    context = enrolled_kiosk(browser, server.url, token, HOLD_LINK)
    page: Any = context.new_page()
    try:
        page.goto(server.url + "/cbt/kiosk/")
        sign_in_and_type_token(page, db, room, number)
        expect(page.locator("#waiting-error")).to_have_text(re.compile(r"^Menghubungkan"))
        assert page.locator("#screen-paper").is_hidden()
        page.evaluate("window.releaseLink()")
        page.wait_for_selector("#screen-paper:not([hidden])")
        expect(page.locator("#countdown")).to_have_text(re.compile(r"^\d+:\d\d$"))
    finally:
        context.close()
