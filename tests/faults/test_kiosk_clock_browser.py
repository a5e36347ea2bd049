"""The exam page on a kiosk whose clock is an hour wrong shows the right time left.

Real headless Chromium whose clock (``Date``, timers) Playwright sets an hour ahead, then
an hour behind, against a real ``ruang serve``. The page measures its offset to the
server's clock and counts down to the server's deadline, so the countdown it shows is the
server's remaining time, to the second.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest

from core.db import utcnow
from plugins.cbt.delivery.models import DeliveryAttempt
from tests.plugins.cbt.delivery.conftest import (
    enrol,
    enrolled_kiosk,
    exam_room,
    sign_in_and_type_token,
)

pytestmark = [pytest.mark.browser, pytest.mark.live]


def seconds(text: str) -> int:
    total = 0
    for part in text.split(":"):
        total = total * 60 + int(part)
    return total


@pytest.mark.parametrize("skew", [timedelta(hours=1), timedelta(hours=-1)])
def test_the_countdown_is_the_servers_whatever_the_kiosk_clock(live_server, browser, db,
                                                               skew):
    server = live_server()
    room = exam_room(db, 1, duration_min=45)
    number = room.numbers[0]
    token = enrol(db, room.seats[number])
    context = enrolled_kiosk(browser, server.url, token)
    page: Any = context.new_page()
    try:
        page.clock.install(time=(utcnow() + skew).timestamp())
        page.goto(server.url + "/cbt/kiosk/")
        assert abs(page.evaluate("Date.now()") / 1000 - (time.time() + skew.total_seconds())) < 60
        sign_in_and_type_token(page, db, room, number)
        page.wait_for_selector("#screen-paper:not([hidden])")
        page.wait_for_function("/^\\d+:\\d\\d$/.test(document.getElementById('countdown')"
                               ".textContent)")
        with db.session() as s:
            d = s.query(DeliveryAttempt).one()
            deadline = d.deadline_at
        assert deadline is not None
        shown = seconds(page.locator("#countdown").inner_text())
        true_left = (deadline - utcnow()).total_seconds()
        assert abs(shown - true_left) <= 3, (shown, true_left)
        assert re.fullmatch(r"4[45]:\d\d", page.locator("#countdown").inner_text())
    finally:
        context.close()
