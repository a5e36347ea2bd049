"""Result release: the exam's policy decides what a candidate sees when looking their
result up with the participant number and password of the login card; staff release by
hand (audited); wrong passwords are refused and throttled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytest.importorskip("plugins.cbt.delivery.signin")

from sqlalchemy import select

from core.audit.models import AuditEntry
from plugins.cbt import candidates as roster
from plugins.cbt.marking import release
from plugins.cbt.models import Candidate, Exam
from tests.plugins.cbt.reports import held


@pytest.fixture
def event(db) -> held.Held:
    return held.build(db, document=False)


@pytest.fixture
def cards(db, event) -> dict[str, str]:
    with db.transaction() as s:
        exam = s.get(Exam, event.exam_id)
        return {c.participant_number: pw for c, pw in roster.issue_passwords(s, exam)}


def set_policy(db, event, policy, release_at=None):
    with db.transaction() as s:
        release.set_policy(s, s.get(Exam, event.exam_id),
                           release.ReleaseForm(policy=policy, release_at=release_at),
                           held.user(s, "wdm"))


def look(guest, number, password):
    return guest.post("/cbt/reports/result", {"participant_number": number,
                                              "password": password})


def test_policy_gates_the_candidate_view(db, login, guest, event, cards):
    set_policy(db, event, "never")
    resp = look(guest, "K-0002", cards["K-0002"])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="not-released"' in html
    assert 'id="score"' not in html and "4 / 7" not in html

    set_policy(db, event, "manual")
    assert 'id="not-released"' in look(guest, "K-0002", cards["K-0002"]).get_data(as_text=True)
    wdm = login("wdm")
    wdm.post(f"/cbt/reports/exams/{event.exam_id}/release", {"action": "release"})
    html = look(guest, "k-0002", cards["K-0002"]).get_data(as_text=True)
    assert 'id="score"' in html and "4 / 7" in html and "عبد الله بن عمر" in html
    # Another candidate's number with this card's password shows nothing.
    assert look(guest, "K-0001", cards["K-0002"]).status_code == 403
    wdm.post(f"/cbt/reports/exams/{event.exam_id}/release", {"action": "withdraw"})
    assert 'id="not-released"' in look(guest, "K-0002", cards["K-0002"]).get_data(as_text=True)
    with db.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "cbt_exam",
            AuditEntry.action.like("cbt.results.%")).order_by(AuditEntry.id))]
        assert actions == ["cbt.results.policy", "cbt.results.policy", "cbt.results.released",
                           "cbt.results.withdrawn"]
    # The absent candidate has no result to show.
    wdm.post(f"/cbt/reports/exams/{event.exam_id}/release", {"action": "release"})
    assert 'id="no-result"' in look(guest, "K-0004", cards["K-0004"]).get_data(as_text=True)


def test_release_rules():
    exam = Exam(show_score="after_submit", status="published")
    assert release.released(exam, None, submitted=True)
    assert not release.released(exam, None, submitted=False)
    now = datetime(2026, 3, 3, tzinfo=UTC)
    exam.show_score = "at_date"
    row = release.ResultRelease(release_at=now + timedelta(hours=1))
    assert not release.released(exam, row, submitted=True, now=now)
    assert release.released(exam, row, submitted=True, now=now + timedelta(hours=1))
    exam.show_score, exam.closes_at = "after_close", now
    assert release.released(exam, None, submitted=True, now=now)
    assert not release.released(exam, None, submitted=True, now=now - timedelta(seconds=1))
    exam.show_score = "never"
    assert not release.released(exam, None, submitted=True, now=now)
    with pytest.raises(ValueError, match="give the date"):
        release.ReleaseForm(policy="at_date")


def test_manual_release_needs_manual_policy(db, login, event):
    set_policy(db, event, "after_close")
    resp = login("wdm").post(f"/cbt/reports/exams/{event.exam_id}/release",
                             {"action": "release"}, follow_redirects=True)
    assert "not by hand" in resp.get_data(as_text=True)


def test_wrong_passwords_are_throttled(db, guest, event, cards):
    set_policy(db, event, "after_submit")
    for _ in range(release.LOOKUP_FAILURES):
        assert look(guest, "K-0001", "WRONGPASS").status_code == 403
    assert look(guest, "K-0001", cards["K-0001"]).status_code == 429
    assert look(guest, "K-0002", cards["K-0002"]).status_code == 200


def test_results_page_sets_the_policy(db, login, event):
    wdm = login("wdm")
    page = wdm.get(f"/cbt/reports/exams/{event.exam_id}/results")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-number="K-0004"' in html
    resp = wdm.post(f"/cbt/reports/exams/{event.exam_id}/release",
                    {"action": "policy", "policy": "at_date", "release_at": ""},
                    follow_redirects=True)
    assert "give the date" in resp.get_data(as_text=True)
    wdm.post(f"/cbt/reports/exams/{event.exam_id}/release",
             {"action": "policy", "policy": "at_date", "release_at": "2026-03-10T08:00"})
    with db.session() as s:
        exam = s.get(Exam, event.exam_id)
        row = release.release_of(s, exam)
        assert exam.show_score == "at_date"
        assert row is not None, "setting the policy stored no release row"
        assert row.release_at == datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
        assert s.scalar(select(Candidate.id)) is not None
