"""WebCrypto needs a secure context: a lab server over HTTPS works, plain HTTP says why not.

Chromium is started with ``--host-resolver-rules=MAP exam.lab 127.0.0.1`` so a local
``ruang serve`` looks like a lab server at ``exam.lab``, a name that is not "potentially
trustworthy" the way localhost is. The server's certificate comes from ``ruang tls init
--name exam.lab``; Chromium trusts exactly that certificate's public key
(``--ignore-certificate-errors-spki-list``), as a lab PC trusts the lab CA it installed.
Over HTTPS the paper that Python encrypted is decrypted by Chromium's WebCrypto and shown;
over plain HTTP the kiosk shows the operator what to do instead of failing silently.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
import time
import types
import urllib.error
import urllib.request
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import expect

from core.rooms import kiosks
from core.tls import files_for
from plugins.cbt.delivery import tokens
from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, screenshot
from tests.fixtures.servers import ServerFailed, run_ruang
from tests.plugins.cbt.delivery.conftest import enrol, exam_room

pytestmark = [pytest.mark.browser, pytest.mark.live]

HOST = "exam.lab"


def spki_hash(cert_pem: bytes) -> str:
    """What ``--ignore-certificate-errors-spki-list`` takes: base64 SHA-256 of the SPKI."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def _wait_https(self: Any, timeout: float) -> None:
    """``LiveServer`` waits on plain HTTP; a TLS server is up when it answers HTTPS."""
    ctx = ssl.create_default_context(cafile=str(files_for(self.instance).ca_cert))
    ctx.check_hostname = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if self.proc.poll() is not None:
            raise ServerFailed(f"ruang serve --tls exited\n{self.log()}")
        try:
            with urllib.request.urlopen(f"https://127.0.0.1:{self.port}/login", timeout=2,
                                        context=ctx):
                return
        except urllib.error.HTTPError:
            return
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    self.kill()
    raise ServerFailed(f"ruang serve --tls did not answer within {timeout}s\n{self.log()}")


@pytest.fixture
def lab_browser(playwright_driver: Any, instance: Any) -> Any:
    run_ruang("tls", "init", "--name", HOST, instance=instance)
    spki = spki_hash(files_for(instance).cert.read_bytes().split(b"-----END CERTIFICATE-----")[0]
                     + b"-----END CERTIFICATE-----\n")
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=False, timeout=60_000,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
              f"--ignore-certificate-errors-spki-list={spki}"])
    try:
        yield browser
    finally:
        browser.close()


def kiosk_page(browser: Any, url: str, token: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID")
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": kiosks.TOKEN_COOKIE, "value": token, "url": url}])
    return context.new_page()


def test_papers_encrypted_in_python_open_in_chromium_over_https_at_a_lab_host_name(
        live_server, lab_browser, db, instance):
    server = live_server(args=("--tls",), start=False)
    server._wait_until_up = types.MethodType(_wait_https, server)
    server.start()
    room = exam_room(db, 1)
    number = room.numbers[0]
    base = f"https://{HOST}:{server.port}"
    page = kiosk_page(lab_browser, base, enrol(db, room.seats[number]))
    page.goto(base + "/cbt/kiosk/")
    page.wait_for_selector("#screen-signin:not([hidden])")
    assert page.evaluate("window.isSecureContext") is True
    assert page.evaluate("typeof crypto.subtle.decrypt") == "function"
    page.fill("#signin-number", number)
    page.fill("#signin-password", room.passwords[number])
    page.click("#signin-submit")
    expect(page.locator("#waiting-paper")).to_contain_text("terkunci")
    token, _ = tokens.current(db, room.session_id)
    page.fill("#token-input", token)
    page.click("#token-submit")
    page.wait_for_selector("#screen-paper:not([hidden])")
    # Every item of the paper, decrypted by WebCrypto, is there to answer.
    assert page.locator("#qnav-grid .qnav-item").count() == 7
    page.locator("#qnav-grid .qnav-item").nth(0).click()
    assert page.locator("#question article.kiosk-item").count() == 1
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    screenshot(page, "exam-https-exam-lab")
    page.context.close()


def test_plain_http_at_a_lab_host_name_tells_the_operator_what_to_do(live_server, lab_browser,
                                                                    db):
    server = live_server()
    room = exam_room(db, 1)
    base = f"http://{HOST}:{server.port}"
    page = kiosk_page(lab_browser, base, enrol(db, room.seats[room.numbers[0]]))
    page.goto(base + "/cbt/kiosk/")
    page.wait_for_selector("#screen-insecure:not([hidden])")
    assert page.evaluate("window.isSecureContext") is False
    expect(page.locator("#insecure-title")).to_have_text("Koneksi ini tidak aman")
    expect(page.locator("#insecure-text")).to_contain_text(base)
    steps = page.locator("#insecure-steps")
    expect(steps).to_contain_text(f"ruang tls init --name {HOST}")
    expect(steps).to_contain_text("ruang serve --tls")
    expect(steps).to_contain_text(f"https://{HOST}:{server.port}/kiosk")
    assert page.locator("#screen-signin").is_hidden()
    screenshot(page, "exam-plain-http-operator-message")
    page.context.close()
