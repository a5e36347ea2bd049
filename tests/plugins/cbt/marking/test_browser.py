"""Marking in headless Chromium: a rater opens the queue, marks an essay blind with the
rubric's levels, and the results page shows the essay points and who still waits."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("plugins.cbt.delivery.signin")

from tests.plugins.cbt.reports import held

SHOTS = Path("/tmp/shots-s")


@pytest.fixture
def event(db) -> held.Held:
    return held.build(db, document=False, essay=True)


def shot(page: Any, name: str) -> None:
    from tests.fixtures.browser import screenshot

    path = screenshot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


@pytest.mark.browser
@pytest.mark.live
def test_rater_marks_in_the_browser(live_server, page, instance, event):
    from tests.conftest import DEMO_PASSWORDS

    server = live_server()
    page.goto(server.url + "/login")
    page.fill("input[name=username]", "wdm")
    page.fill("input[name=password]", DEMO_PASSWORDS["wdm"])
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    errors: list[Any] = []
    page.on("pageerror", lambda exc: errors.append(exc))

    page.goto(server.url + f"/cbt/marking/exams/{event.exam_id}")
    rows = page.locator("#queue tbody tr")
    assert rows.count() == 3
    shot(page, "cbt-marking-queue")
    first = rows.first.get_attribute("data-code")
    page.locator(f"#queue tr[data-code='{first}'] a.btn").click()
    page.wait_for_selector("#score-form")
    body = page.inner_text("body")
    assert first in body and "Siti" not in body and "K-000" not in body
    shot(page, "cbt-marking-response")
    page.check("input[name=level-isi][value='2']")
    page.check("input[name=level-bahasa][value='1']")
    page.fill("textarea[name=comment]", "Cukup baik")
    page.click("#score-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/cbt/marking/exams/{event.exam_id}$"))
    assert "Dinilai" in page.inner_text("#queue") or "Final" in page.inner_text("#queue")

    page.goto(server.url + f"/cbt/reports/exams/{event.exam_id}/results")
    page.wait_for_selector("#results")
    assert "Menunggu penilaian" in page.inner_text("#results")
    shot(page, "cbt-results")
    page.goto(server.url + f"/cbt/marking/exams/{event.exam_id}/keys")
    page.locator("details summary").first.click()
    shot(page, "cbt-answer-keys")
    assert errors == []
