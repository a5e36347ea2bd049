"""Nothing secret reaches the server's log, whatever the exam went through.

A real ``ruang serve`` (its own log level, as an operator runs it) sees an exam: kiosks
enrolled, candidates signing in (once with a wrong password), the paper key sent at the
start and on every ``hello``, answers, a malformed message, a proctor's action, staff
signing in (once with a wrong password), a submit. Then its whole log is searched for every
secret that passed through it: passwords (right and wrong), kiosk tokens, login secrets,
paper keys, the session token, the instance's master key and session secret (raw, hex,
base64) and the answer-key texts of the paper's items. ``ruang audit verify`` must still
find the audit chain intact.
"""

from __future__ import annotations

import base64
import re
import time

import pytest
import requests

from plugins.cbt.delivery import tokens
from tests.conftest import DEMO_PASSWORDS
from tests.faults.kiosks import Staff, started_kiosks
from tests.fixtures.servers import run_ruang
from tests.plugins.cbt.delivery.conftest import SECRETS, enrol
from tests.plugins.cbt.delivery.pykiosk import PyKiosk

pytestmark = [pytest.mark.live]

WRONG_STAFF_PASSWORD = "SalahSekali-Rahasia-77"
WRONG_CANDIDATE_PASSWORD = "KELIRU99"


def _forms_of(key: bytes) -> list[str]:
    return [key.hex(), base64.b64encode(key).decode(), base64.urlsafe_b64encode(key).decode()]


def test_the_server_log_holds_no_password_token_key_or_answer_key(db, live_server, instance):
    server = live_server()
    room, kiosks = started_kiosks(db, server.url, 2)
    secrets: list[str] = [WRONG_STAFF_PASSWORD, WRONG_CANDIDATE_PASSWORD,
                          *room.passwords.values(), *DEMO_PASSWORDS.values(),
                          *(s for s in SECRETS if not s.isdigit())]
    for k in kiosks:
        hello = k.kiosk.call("hello", {"v": 1})
        assert hello["ok"] and hello["key"]
        secrets += [hello["key"], k.kiosk.login, k.kiosk.token]
        for n in range(1, 4):
            k.type(n, None, flagged=n == 2)
        k.flush()
        assert not k.outbox
    # A malformed message and an answer for someone else's attempt: refused, logged as such.
    first = kiosks[0].kiosk
    assert first.call("answer", {"a": first.attempt, "s": "x"})["ok"] is False
    assert first.call("answer", {"a": kiosks[1].attempt, "s": 99, "q": 1, "v": 0})["ok"] is False
    session_token, _ = tokens.current(db, room.session_id)
    secrets.append(session_token)

    # A candidate typing a wrong password on a third kiosk.
    number = next(n for n in room.numbers if n not in {k.kiosk.attempt for k in kiosks})
    stranger = PyKiosk(server.url, enrol(db, room.seats[number]))
    secrets.append(stranger.token)
    assert stranger.sign_in(number, WRONG_CANDIDATE_PASSWORD)["ok"] is False

    # Staff: a wrong password, then the proctor's action.
    http = requests.Session()
    page = http.get(server.url + "/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    refused = http.post(server.url + "/login", data={
        "username": "pengawas", "password": WRONG_STAFF_PASSWORD,
        "csrf_token": csrf.group(1)}, allow_redirects=False, timeout=10)
    assert refused.status_code != 302
    proctor = Staff(server.url, "pengawas")
    done = proctor.action(room.session_id, {"action": "message", "reason": "Pengumuman",
                                            "text": "Sisa waktu 10 menit"})
    assert done.get("ok"), done
    assert kiosks[0].kiosk.call("submit", {})["ok"]

    for name in ("master_key", "secret_key"):
        raw = (instance / name).read_bytes()
        secrets += _forms_of(raw)
    time.sleep(0.5)  # what the server logs at the end of a request
    log = server.log()
    # The log was captured, and the refusals are in it (without what was refused).
    assert "refused answer from 127.0.0.1 (invalid)" in log
    assert "refused answer from 127.0.0.1 (wrong_attempt)" in log
    leaked = sorted({s for s in secrets if s and s in log})
    assert not leaked, f"secrets in the server log: {leaked}"

    verified = run_ruang("audit", "verify", instance=instance)
    assert "intact" in verified.stdout
