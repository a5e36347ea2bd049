"""The training pages in real headless Chromium against a real ``ruang serve``: a staff
member checks participants in on the scanner page (the answer appears without a reload),
the evaluation charts draw from the locally served Chart.js, and a participant opens their
QR code on a phone. Screenshots go to ``.test-artifacts/screenshots/training-*.png``."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.app import create_app
from tests.conftest import DEMO_PASSWORDS, make_settings
from tests.fixtures.browser import screenshot
from tests.plugins.training.conftest import build, user

pytestmark = [pytest.mark.browser, pytest.mark.live]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "id-ID", "timezone_id": "Asia/Jakarta"}


def _prepare(instance: Any) -> dict[str, Any]:
    """A held training with three participants, scores and evaluations, written through the
    plugin's services before the server starts."""
    from plugins.training import evaluation, participants, quiz, service
    from plugins.training.tokens import checkin_url, page_token

    app = create_app(make_settings(instance))
    r = app.extensions["ruang"]
    try:
        with app.app_context():
            tid = build(r.db, state="held", people=4)
            with r.db.transaction() as s:
                tr = service.get(s, tid)
                people = participants.of_training(s, tid)
                qs = quiz.questions(s, tid)
                for p in people[:2]:
                    participants.check_in(s, tr, p, user(r.db, "wdm"))
                for n, p in enumerate(people[:2]):
                    s.refresh(p)
                    p.pre_score = 25.0 + 25 * n
                    p.post_score = 75.0 + 25 * n
                    evaluation.submit(s, tr, p, {k: 4 + n for k in (
                        "content", "trainer", "materials", "facilities", "usefulness",
                        "overall")})
                assert qs
                door, home = people[2], people[3]
                return {"id": tid, "code": checkin_url(door.id, tid), "name": door.name,
                        "token": page_token(home.id, tid)}
    finally:
        r.db.dispose()


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORDS[username])
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def test_scanner_charts_and_the_participants_qr(live_server, browser, page, instance):
    data = _prepare(instance)
    base = live_server().url
    # The scanner: what a USB scanner types is posted by the page's script.
    sign_in(page, base, "wdm")
    page.goto(f"{base}/training/{data['id']}/scan")
    assert page.locator("#scanner-count").inner_text() == "2"
    page.fill("#scanner-code", data["code"])
    page.press("#scanner-code", "Enter")
    page.wait_for_selector("#scanner-result.ok")
    assert data["name"] in page.locator("#scanner-result").inner_text()
    assert page.locator("#scanner-count").inner_text() == "3"
    assert page.url.endswith("/scan")  # no reload happened
    page.fill("#scanner-code", "bukan-kode")
    page.press("#scanner-code", "Enter")
    page.wait_for_selector("#scanner-result.bad")
    screenshot(page, "training-scanner")

    # The evaluation page: both charts are drawn by Chart.js served from /assets.
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/training/{data['id']}/evaluation")
    # (wait_for_function would evaluate a string, which the page's CSP forbids)
    drawn = "() => !!(window.Chart && Chart.getChart('training-chart-ratings') " \
            "&& Chart.getChart('training-chart-scores'))"
    for _ in range(50):
        if page.evaluate(drawn):
            break
        page.wait_for_timeout(100)
    assert page.evaluate(drawn), f"the charts were not drawn: {errors}"
    averages = page.evaluate(
        "() => Chart.getChart('training-chart-ratings').data.datasets[0].data")
    assert averages == [4.5] * 6
    screenshot(page, "training-evaluation")
    for tab in ("", "/preparation", "/participants", "/check", "/supervision",
                "/documentation"):
        response = page.goto(f"{base}/training/{data['id']}{tab}")
        assert response is not None and response.ok, tab
        screenshot(page, "training-tab" + (tab.replace("/", "-") or "-overview"))
    assert errors == []

    # The participant's own page on a phone: the QR code fits the screen.
    context = browser.new_context(**PHONE)
    phone = context.new_page()
    try:
        phone.goto(f"{base}/training/p/{data['token']}")
        assert phone.locator("#my-status").inner_text().strip()
        width = int(phone.evaluate("document.documentElement.scrollWidth"))
        assert width <= PHONE["viewport"]["width"] + 1  # type: ignore[index]
        box = phone.locator("#qr svg").bounding_box()
        assert box is not None and box["width"] > 150
        screenshot(phone, "training-phone-ticket")
    finally:
        context.close()
