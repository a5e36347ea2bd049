"""The knowledge check as exams of another plugin, through the core's ``ruang_assessments``
and ``ruang_assessment_scores`` hooks. A small exam provider stands in for the CBT plugin
(as a third party's plugin would): it offers two exams and reports their results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from core.app import create_app
from core.contracts import Assessment, AssessmentScore
from core.plugins import hookimpl
from plugins.training import assessments, participants, service
from plugins.training.errors import TrainingError
from plugins.training.models import Participant
from tests.conftest import DEMO_PASSWORDS, Browserish, prepare_test_app
from tests.plugins.training.conftest import build, proposal, user


class ExamProvider:
    """A plugin that runs exams: two of them, with finished results."""

    RUANG_PLUGIN_NAME = "exams"

    def __init__(self) -> None:
        self.results: dict[str, list[AssessmentScore]] = {
            "exams:pre": [
                AssessmentScore("exams:pre", 40.0, identifier="NIM0001"),
                AssessmentScore("exams:pre", 60.0, email="p2@kampus.example.ac.id"),
                AssessmentScore("exams:pre", 10.0, identifier="SOMEONE-ELSE"),
            ],
            "exams:post": [
                AssessmentScore("exams:post", 85.0, identifier="nim0001"),
                AssessmentScore("exams:post", 120.0, email="P2@kampus.example.ac.id",
                                finished_at=datetime(2030, 1, 1, tzinfo=UTC)),
            ],
        }

    @hookimpl
    def ruang_assessments(self, session: Any, query: str) -> Sequence[Assessment]:
        offered = [Assessment("exams:pre", "Pre-test CMS", source="exams"),
                   Assessment("exams:post", "Post-test CMS", source="exams",
                              url="https://cbt.example/exams/2")]
        return [a for a in offered if query.lower() in a.title.lower()]

    @hookimpl
    def ruang_assessment_scores(self, session: Any, ref: str
                                ) -> Sequence[AssessmentScore] | None:
        return self.results.get(ref)


@pytest.fixture
def provider() -> ExamProvider:
    return ExamProvider()


@pytest.fixture
def exam_app(settings, provider):
    app = create_app(settings, extra_plugins=[provider])
    prepare_test_app(app)
    with app.app_context():
        yield app
    app.extensions["ruang"].db.dispose()


def _login(app, username):
    b = Browserish(app.test_client())
    b.login(username, DEMO_PASSWORDS[username])
    return b


def _disable(app, name):
    r = app.extensions["ruang"]
    with r.db.transaction() as s:
        r.plugins.set_enabled(s, name, False, actor=None)
    r.plugins.refresh(force=True)


def test_hook_ruang_assessments(exam_app):
    db = exam_app.extensions["ruang"].db
    with db.session() as s:
        assert [a.ref for a in assessments.available(s)] == ["exams:post", "exams:pre"]
        assert [a.title for a in assessments.available(s, "post")] == ["Post-test CMS"]
    # Staff see the exams on the proposal form, and the choice is stored.
    wdm = _login(exam_app, "wdm")
    form = wdm.get("/training/new").get_data(as_text=True)
    assert 'value="external"' in form and "Pre-test CMS (exams)" in form
    resp = wdm.post("/training/new", proposal(check_mode="external", pre_ref="exams:pre",
                                              post_ref="exams:post"))
    assert resp.status_code == 302
    # An exam nobody offers is refused.
    resp = wdm.post("/training/new", proposal(check_mode="external", pre_ref="exams:pre",
                                              post_ref="exams:gone"))
    assert resp.status_code == 400 and 'data-error="post_ref"' in resp.get_data(as_text=True)
    _disable(exam_app, "exams")
    with db.session() as s:
        assert assessments.available(s) == []
    assert 'value="external"' not in wdm.get("/training/new").get_data(as_text=True)


def test_hook_ruang_assessment_scores(exam_app, provider):
    db = exam_app.extensions["ruang"].db
    tid = build(db, state="held", people=3, check_mode="external", pre_ref="exams:pre",
                post_ref="exams:post")
    wdm = _login(exam_app, "wdm")
    page = wdm.post(f"/training/{tid}/scores/collect", follow_redirects=True)
    assert page.status_code == 200
    with db.session() as s:
        people = {p.identifier: p for p in s.scalars(select(Participant).where(
            Participant.training_id == tid))}
        assert assessments.scores(s, "exams:unknown") is None
    # Matched by NIM (any case) and by e-mail; a score above 100 is capped.
    assert (people["NIM0001"].pre_score, people["NIM0001"].post_score) == (40.0, 85.0)
    assert (people["NIM0002"].pre_score, people["NIM0002"].post_score) == (60.0, 100.0)
    assert people["NIM0003"].pre_score is None
    check = wdm.get(f"/training/{tid}/check").get_data(as_text=True)
    assert "Post-test CMS" in check and 'id="class-gain">' in check
    # Without the provider nothing answers: the collected scores stay.
    _disable(exam_app, "exams")
    with db.transaction() as s, pytest.raises(TrainingError, match="exams:pre"):
        assessments.collect(s, service.get(s, tid), user(db, "wdm"))
    with db.session() as s:
        kept = s.scalar(select(Participant).where(Participant.identifier == "NIM0001",
                                                  Participant.training_id == tid))
        assert kept is not None and kept.post_score == 85.0
    check = wdm.get(f"/training/{tid}/check").get_data(as_text=True)
    assert "No enabled plugin offers exams now" in check or "Tidak ada plugin" in check


def test_the_built_in_quiz_is_refused_for_an_exam_training(exam_app):
    db = exam_app.extensions["ruang"].db
    tid = build(db, state="preparation", people=1, check_mode="external",
                pre_ref="exams:pre", post_ref="exams:post")
    with db.transaction() as s:
        from plugins.training import quiz

        tr = service.get(s, tid)
        with pytest.raises(TrainingError, match="built-in quiz"):
            quiz.add_question(s, tr, {"text": "Apa?", "options": ["a", "b"], "correct": 1},
                              user(db, "wdm"))
        person = participants.of_training(s, tid)[0]
        assert quiz.why_not(s, tr, person, "pre") is not None
