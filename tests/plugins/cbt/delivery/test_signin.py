"""Signing in at a kiosk: the right lab and seat, one kiosk at a time, throttled guessing,
and a staged paper that holds the candidate's items and nothing that scores."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.db import utcnow
from plugins.cbt.delivery import attempts, paper
from plugins.cbt.delivery.attempts import DeliveryError
from plugins.cbt.delivery.models import DeliveryAttempt, SignIn
from plugins.cbt.delivery.signin import MAX_FAILURES, sign_in
from plugins.cbt.models import Attempt, CbtSession, Exam
from tests.plugins.cbt.delivery.conftest import SECRETS, enrol, exam_room


def refused(fn, code: str) -> DeliveryError:
    with pytest.raises(DeliveryError) as info:
        fn()
    assert info.value.code == code, info.value
    return info.value


def key_of(db, attempt_id: int) -> bytes:
    with db.session() as s:
        d = s.get(DeliveryAttempt, attempt_id)
        exam = s.get(Exam, s.get(Attempt, attempt_id).exam_id)
        return paper.paper_key(s, exam.data_key_id, attempt_id, d.paper_key_enc)


def test_sign_in_stages_an_encrypted_paper_without_answer_keys(db, room):
    number = room.numbers[0]
    token = enrol(db, room.seats[number])
    done = sign_in(db, token, number.lower(), room.passwords[number].lower(), ip="10.0.0.5")
    assert done.state == "ready" and len(done.login) >= 40
    assert done.candidate["seat"] == room.seats[number]
    assert done.exam["items"] == 7 and "jujur" in done.exam["instructions"]
    with db.session() as s:
        d = s.get(DeliveryAttempt, done.attempt_id)
        envelope = json.loads(d.paper_enc)
        assert d.login_hash == attempts.login_hash(done.login)
        assert d.started_at is None and d.deadline_at is None
        # The key is stored sealed, not as the raw bytes.
        assert len(d.paper_key_enc) > 32
    assert envelope["aad"] == f"ruang-paper/v1/{done.attempt_id}"
    raw = base64.b64decode(envelope["data"])
    for secret in SECRETS:
        assert secret.encode() not in raw
    opened = paper.open_envelope(key_of(db, done.attempt_id), envelope)
    text = json.dumps(opened)
    for secret in SECRETS:
        assert secret not in text, secret
    for word in ("weights", "truth", "accepted", "pairs", "rubric", "feedback"):
        assert word not in text
    types = sorted(item["type"] for item in opened["items"])
    assert types == sorted(["single", "multiple", "truefalse", "short", "numeric", "matching",
                            "essay"])
    single = next(i for i in opened["items"] if i["type"] == "single")
    assert sorted(single["options"]) == sorted(["1024", "512", "2048", "100"])
    assert "\\(2^{10}\\)" in single["stem"]  # formulas travel as LaTeX for KaTeX
    # A wrong key cannot open it, and it is bound to its attempt.
    with pytest.raises(Exception):
        paper.open_envelope(b"\x00" * 32, envelope)
    with pytest.raises(Exception):
        paper.open_envelope(key_of(db, done.attempt_id), {**envelope, "aad": "ruang-paper/v1/0"})


def test_options_are_numbered_as_shown_and_mapped_back_for_scoring(db, room):
    number = room.numbers[0]
    done = sign_in(db, enrol(db, room.seats[number]), number, room.passwords[number])
    opened = paper.open_envelope(key_of(db, done.attempt_id), _envelope(db, done.attempt_id))
    single = next(i for i in opened["items"] if i["type"] == "single")
    shown = single["options"].index("1024")  # the correct option, wherever it landed
    matching = next(i for i in opened["items"] if i["type"] == "matching")
    with db.session() as s:
        attempt = s.get(Attempt, done.attempt_id)
        mapped = paper.responses(s, attempt, {
            single["n"]: shown,
            matching["n"]: [matching["answers"].index("Jakarta"),
                            matching["answers"].index("Tokyo")]})
    assert mapped[single["n"]] == "a"
    assert mapped[matching["n"]] == {"p1": "a1", "p2": "a2"}


def _envelope(db, attempt_id: int) -> bytes:
    with db.session() as s:
        return s.get(DeliveryAttempt, attempt_id).paper_enc


def test_papers_are_made_once_and_differ_between_candidates(db, room):
    first, second = room.numbers[:2]
    a = sign_in(db, enrol(db, room.seats[first]), first, room.passwords[first])
    token_b = enrol(db, room.seats[second])
    b = sign_in(db, token_b, second, room.passwords[second])
    assert a.attempt_id != b.attempt_id
    again = sign_in(db, token_b, second, room.passwords[second])
    assert again.attempt_id == b.attempt_id and again.login != b.login
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Attempt)) == 2
        orders = [[ai.item_version_id for ai in s.get(Attempt, x).items]
                  for x in (a.attempt_id, b.attempt_id)]
    assert sorted(orders[0]) == sorted(orders[1])


def test_wrong_lab_seat_and_password_are_refused_with_reasons(db, room):
    number = room.numbers[0]
    right_seat = room.seats[number]
    token = enrol(db, right_seat)
    refused(lambda: sign_in(db, token, number, "SALAHSAJA"), "wrong")
    refused(lambda: sign_in(db, token, "TIDAK-ADA-0001", "X"), "wrong")
    other = enrol(db, "E8")
    err = refused(lambda: sign_in(db, other, number, room.passwords[number]), "wrong_seat")
    assert err.detail == right_seat
    lab2 = enrol(db, "A1", lab_code="LAB-2")
    err = refused(lambda: sign_in(db, lab2, number, room.passwords[number]), "wrong_lab")
    assert "LAB-1" in err.detail
    refused(lambda: sign_in(db, "not-a-token", number, room.passwords[number]), "not_enrolled")
    with db.session() as s:
        reasons = [r for r in s.scalars(select(SignIn.reason).where(SignIn.ok.is_(False)))]
    assert reasons.count("wrong") == 2 and "wrong_seat" in reasons and "wrong_lab" in reasons


def test_a_candidate_is_signed_in_on_one_kiosk_until_the_proctor_resets_the_login(db, room):
    first, second = room.numbers[:2]
    token = enrol(db, room.seats[first])
    done = sign_in(db, token, first, room.passwords[first])
    # The neighbour cannot take over this kiosk while the first candidate holds it.
    err = refused(lambda: sign_in(db, token, second, room.passwords[second]), "kiosk_busy")
    assert err.detail == first
    spare = enrol(db, "E8")
    err = refused(lambda: sign_in(db, spare, first, room.passwords[first]), "elsewhere")
    assert err.detail == room.seats[first]
    with db.transaction() as s:
        assert attempts.reset_login(s, done.attempt_id, None, "PC mati")
    moved = sign_in(db, spare, first, room.passwords[first])
    assert moved.attempt_id == done.attempt_id
    # Now signed in on the spare PC, the first kiosk cannot have them back.
    err = refused(lambda: sign_in(db, token, first, room.passwords[first]), "elsewhere")
    assert err.detail == "E8"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "cbt.attempt.login_reset")) == 1


def test_wrong_passwords_pause_sign_in_at_that_kiosk(db, room):
    number = room.numbers[0]
    token = enrol(db, room.seats[number])
    for _ in range(MAX_FAILURES):
        refused(lambda: sign_in(db, token, number, "SALAH123"), "wrong")
    err = refused(lambda: sign_in(db, token, number, room.passwords[number]), "throttled")
    assert 1 <= int(err.detail) <= 600
    # Another kiosk is not paused.
    other = room.numbers[1]
    sign_in(db, enrol(db, room.seats[other]), other, room.passwords[other])


def test_sign_in_only_while_the_session_is_open(db):
    room = exam_room(db, 1, started_ago=timedelta(hours=-3))  # starts in three hours
    number = room.numbers[0]
    token = enrol(db, room.seats[number])
    refused(lambda: sign_in(db, token, number, room.passwords[number]), "too_early")
    with db.transaction() as s:
        cbt_session = s.get(CbtSession, room.session_id)
        cbt_session.starts_at = utcnow() - timedelta(hours=4)
        cbt_session.ends_at = utcnow() - timedelta(minutes=1)
    refused(lambda: sign_in(db, token, number, room.passwords[number]), "session_over")


def test_a_submitted_attempt_cannot_be_signed_into_again(db, room):
    number = room.numbers[0]
    token = enrol(db, room.seats[number])
    done = sign_in(db, token, number, room.passwords[number])
    with db.transaction() as s:
        attempts.start_session(s, s.get(CbtSession, room.session_id))
    attempts.submit(db, done.attempt_id, attempts.login_hash(done.login))
    refused(lambda: sign_in(db, token, number, room.passwords[number]), "submitted")
