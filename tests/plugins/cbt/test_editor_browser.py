"""The item editor in real headless Chromium: live preview, KaTeX typesetting, Arabic."""

from __future__ import annotations

import re

import pytest

from plugins.cbt import bank as service
from tests.conftest import DEMO_PASSWORDS
from tests.fixtures.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_the_preview_shows_the_item_as_the_candidate_will_see_it(db, live_server, page):
    with db.transaction() as session:
        bank = service.create_bank(session, "Matematika")
    base = live_server().url
    page.goto(base + "/login")
    page.fill("input[name=username]", "wdm")
    page.fill("input[name=password]", DEMO_PASSWORDS["wdm"])
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))

    page.goto(f"{base}/cbt/banks/{bank.id}/items/new")
    assert page.locator("fieldset[data-types='truefalse']").is_hidden()
    page.fill("#stem", "Luas lingkaran berjari-jari r adalah \\(\\pi r^2\\). ما هو؟")
    page.fill("textarea[name=choice_1]", "\\(\\pi r^2\\)")
    page.fill("textarea[name=choice_2]", "\\(2 \\pi r\\)")
    page.check("input[name=correct][value='1']")
    page.wait_for_selector("#preview .cbt-stem .katex")
    stem = page.locator("#preview .cbt-stem")
    assert stem.get_attribute("dir") == "auto"
    assert "ما هو؟" in stem.inner_text()
    assert page.locator("#preview .cbt-option .katex").count() == 2
    assert page.locator("#preview .cbt-correct").count() == 0  # no key in the candidate view
    assert page.locator("#preview-errors li").count() == 0
    screenshot(page, "cbt-item-editor")

    page.select_option("#item-type", "truefalse")
    assert page.locator("fieldset[data-types='truefalse']").is_visible()
    page.wait_for_selector("#preview-errors li")
    assert "say whether the statement is true or false" in page.locator(
        "#preview-errors").inner_text()
    page.select_option("select[name=truth]", "true")
    page.click("form#item-form button[type=submit]:not([name])")
    page.wait_for_url(re.compile(r"/cbt/items/\d+$"))
    with db.session() as session:
        (data,) = service.list_items(session, bank)
    assert data.type == "truefalse" and data.key.truth is True
