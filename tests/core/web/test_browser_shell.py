"""The shell in real headless Chromium against a real ``ruang serve``.

Sign in, read the dashboard, switch language, switch the helpdesk plugin off and on, and
look at the admin pages, on a desktop screen and on a phone. Screenshots are saved under
``.test-artifacts/screenshots/shell-*.png`` for people to look at.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import DEMO_PASSWORDS
from tests.fixtures.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORDS[username])
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def test_admin_signs_in_switches_language_and_plugins(live_server, page):
    base = live_server().url
    page.on("dialog", lambda dialog: dialog.accept())  # "Disable helpdesk?" confirmation

    page.goto(base + "/")
    page.wait_for_url(re.compile(r"/login"))
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("h1").inner_text() == "Masuk"
    screenshot(page, "shell-login-id")

    sign_in(page, base, "admin")
    assert page.locator("h1").inner_text() == "Selamat datang, Administrator Ruang"
    assert page.locator("nav.sidenav a[data-endpoint='web.dashboard']").inner_text() == "Dasbor"
    assert page.locator("#services a.tile").count() >= 5  # the five SOP plugins
    screenshot(page, "shell-dashboard-id")

    page.click("form.lang-switch button[data-lang=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.locator("h1").inner_text() == "Welcome, Administrator Ruang"
    assert page.locator("form.lang-switch button[data-lang=en]").get_attribute(
        "aria-pressed") == "true"
    screenshot(page, "shell-dashboard-en")
    page.click("form.lang-switch button[data-lang=id]")
    page.wait_for_selector("html[lang=id]")
    assert page.locator("h1").inner_text() == "Selamat datang, Administrator Ruang"

    helpdesk_link = page.locator("nav.sidenav a[data-endpoint='helpdesk.index']")
    assert helpdesk_link.count() == 1
    page.click("nav.sidenav a[data-endpoint='web.admin_plugins']")
    page.wait_for_url(base + "/admin/plugins")
    row = page.locator("tr[data-plugin=helpdesk]")
    assert row.locator(".badge").inner_text() == "aktif"
    screenshot(page, "shell-plugins-id")

    row.locator("button[type=submit]").click()
    page.wait_for_selector("tr[data-plugin=helpdesk] .badge.off")
    assert "Plugin helpdesk sekarang nonaktif." in page.locator(".flash.success").inner_text()
    assert helpdesk_link.count() == 0
    screenshot(page, "shell-plugins-helpdesk-off")
    resp = page.goto(base + "/helpdesk/")
    assert resp is not None and resp.status == 404
    assert page.locator("h1").inner_text() == "Halaman tidak ditemukan"
    screenshot(page, "shell-404")

    page.goto(base + "/admin/plugins")
    page.locator("tr[data-plugin=helpdesk] button[type=submit]").click()
    page.wait_for_selector("tr[data-plugin=helpdesk] .badge.ok")
    assert helpdesk_link.count() == 1
    resp = page.goto(base + "/helpdesk/")
    assert resp is not None and resp.status == 200


def test_admin_pages_settings_and_audit(live_server, page):
    base = live_server().url
    sign_in(page, base, "admin")

    page.goto(base + "/admin/settings")
    field = page.locator("[data-setting='ui.unit_name'] input[name=value]")
    field.fill("")
    page.locator("[data-setting='ui.unit_name'] button[type=submit]").click()
    page.wait_for_selector("[data-setting='ui.unit_name'] .field-error")
    assert page.locator("[data-setting='ui.unit_name'] input[name=value]").get_attribute(
        "aria-invalid") == "true"
    screenshot(page, "shell-settings-error")
    page.locator("[data-setting='ui.institution'] input[name=value]").fill(
        "Universitas Contoh Nusantara")
    page.locator("[data-setting='ui.institution'] button[type=submit]").click()
    page.wait_for_selector(".flash.success")
    assert "Universitas Contoh Nusantara" in page.locator(".brand").inner_text()
    page.locator("[data-setting='ui.announcement'] input[name=value]").fill(
        "CBT Pemrograman Dasar: Senin 08.00 di Lab Komputer 1.")
    page.locator("[data-setting='ui.announcement'] button[type=submit]").click()
    page.wait_for_selector(".announcement")
    screenshot(page, "shell-settings")

    page.click("nav.sidenav a[data-endpoint='web.admin_audit']")
    page.click("#verify-chain")
    page.wait_for_selector("#verdict")
    assert page.locator("#verdict").get_attribute("data-intact") == "true"
    assert page.locator("#audit-entries tbody tr").count() >= 2
    screenshot(page, "shell-audit")


def test_dashboard_on_a_phone(live_server, browser):
    base = live_server().url
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(base + "/login")
        screenshot(page, "shell-phone-login")
        sign_in(page, base, "pemohon")
        # Nothing is wider than the screen: the menu scrolls sideways inside its own strip.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        assert page.locator("nav.sidenav a[data-endpoint='web.admin_plugins']").count() == 0
        screenshot(page, "shell-phone-dashboard")
    finally:
        context.close()
