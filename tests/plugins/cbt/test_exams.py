"""Exams: sections, fixed and drawn items, reproducible per-candidate papers, rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from plugins.cbt import bank as banks
from plugins.cbt import candidates as roster
from plugins.cbt import exams
from plugins.cbt.models import Attempt, Category, Exam, Item
from tests.plugins.cbt import samples
from tests.plugins.cbt.test_bank import _raw_db


def _roster(n: int) -> roster.Roster:
    return roster.Roster(rows=[(i + 2, roster.RosterRow(student_number=f"23{i:04d}",
                                                        name=f"Peserta {i}"))
                               for i in range(n)])


@pytest.fixture
def setup(db):
    """A bank with 2 fixed items and a category of 6 to draw from; an exam using both."""
    with db.transaction() as session:
        bank = banks.create_bank(session, "UTS")
        fixed = [banks.create_item(session, bank, samples.single(f"Soal tetap {i}", "Tetap"))
                 for i in range(2)]
        for i in range(6):
            banks.create_item(session, bank, samples.single(f"Soal acak {i}", "Acak"))
        cat = session.scalar(select(Category).where(Category.name == "Acak"))
        exam = exams.create_exam(session, exams.ExamSettings(
            code="uts-kal-24", title="UTS Kalkulus", instructions="<p>Kerjakan sendiri.</p>",
            duration_min=90, pass_mark=60, negative_marking=0.25))
        first = exams.add_section(session, exam, "Bagian A")
        for item in fixed:
            exams.add_fixed(session, exam, first, item, points=2)
        second = exams.add_section(session, exam, "")
        exams.add_draw(session, exam, second, cat, 3)
        roster.add_candidates(session, exam, _roster(4))
    return exam.id, [i.id for i in fixed]


def _exam(session, exam_id):
    exam = session.get(Exam, exam_id)
    assert exam is not None
    return exam


def test_the_exam_and_its_rules_are_stored(db, setup, settings):
    exam_id, _ = setup
    with db.session() as session:
        exam = _exam(session, exam_id)
        assert exam.code == "UTS-KAL-24" and exam.status == "draft"
        assert [s.title for s in exam.sections] == ["Bagian A", "Bagian 2"]
        assert [(s.kind, s.count, s.points) for s in exam.sections[1].slots] == [("draw", 3, None)]
        assert exams.instructions(session, exam) == "<p>Kerjakan sendiri.</p>"
        assert exams.max_points(session, exam) == 2 * 2 + 3 * 2
    raw = _raw_db(settings, db)
    for text in ("Kerjakan sendiri", "Soal tetap", "Soal acak", "Jakarta", "Bandung"):
        assert text.encode() not in raw, text


def test_papers_differ_between_candidates_and_rebuild_from_the_stored_seed(db, setup):
    exam_id, _fixed = setup
    with db.transaction() as session:
        exam = _exam(session, exam_id)
        with pytest.raises(exams.ExamError, match="publish the exam"):
            exams.build_paper(session, exam, "00")
        exams.publish(session, exam)
        attempts = [exams.start_attempt(session, exam, c)
                    for c in roster.candidates(session, exam)]
    with db.session() as session:
        exam = _exam(session, exam_id)
        papers = []
        for attempt in attempts:
            stored = session.get(Attempt, attempt.id)
            assert stored is not None and len(stored.items) == 5
            rebuilt = exams.build_paper(session, exam, stored.seed)
            assert [(p.version_id, p.option_order, p.points) for p in rebuilt] == [
                (i.item_version_id, i.option_order, i.points) for i in stored.items]
            papers.append([(i.item_version_id, tuple(i.option_order["choices"]))
                           for i in stored.items])
            # Sections keep their order: the two fixed items first, then three drawn.
            fixed_versions = {s.pinned[0] for s in exam.sections[0].slots}
            assert {p.version_id for p in rebuilt[:2]} == fixed_versions
            assert not fixed_versions & {p.version_id for p in rebuilt[2:]}
            assert all(p.points == 2 for p in rebuilt)
        assert len({tuple(p) for p in papers}) == 4  # four candidates, four papers


def test_publishing_pins_versions_and_editing_later_makes_a_new_version(db, setup):
    exam_id, fixed = setup
    with db.transaction() as session:
        exam = _exam(session, exam_id)
        exams.publish(session, exam)
        cand = roster.candidates(session, exam)[0]
        attempt = exams.start_attempt(session, exam, cand)
        pinned = exam.sections[0].slots[0].pinned
    with db.transaction() as session:
        item = session.get(Item, fixed[0])
        new = banks.update_item(session, item, samples.single("Soal tetap 0 (revisi)", "Tetap"))
    assert new.id != pinned[0]
    with db.session() as session:
        exam = _exam(session, exam_id)
        stored = session.get(Attempt, attempt.id)
        rebuilt = exams.build_paper(session, exam, stored.seed)
        assert [p.version_id for p in rebuilt] == [i.item_version_id for i in stored.items]
        assert pinned[0] in [p.version_id for p in rebuilt]


def test_rules_that_are_refused(db, setup):
    exam_id, fixed = setup
    with db.transaction() as session:
        exam = _exam(session, exam_id)
        cat = session.scalar(select(Category).where(Category.name == "Acak"))
        with pytest.raises(exams.ExamError, match="has 6 items; cannot draw 7"):
            exams.add_draw(session, exam, exam.sections[1], cat, 7)
        with pytest.raises(exams.ExamError, match="already in the exam"):
            exams.add_fixed(session, exam, exam.sections[1], session.get(Item, fixed[0]))
        exams.publish(session, exam)
        with pytest.raises(exams.ExamError, match="unpublish it"):
            exams.add_section(session, exam, "late")
        cand = roster.candidates(session, exam)[0]
        exams.start_attempt(session, exam, cand)
        with pytest.raises(exams.ExamError, match="all 1 attempt"):
            exams.start_attempt(session, exam, cand)
        with pytest.raises(exams.ExamError, match="candidates have papers"):
            exams.unpublish(session, exam)
    with pytest.raises(ValidationError, match="close after it opens"):
        now = datetime.now(UTC)
        exams.ExamSettings(code="X1", title="x", opens_at=now, closes_at=now - timedelta(1))
    with pytest.raises(ValidationError, match="capital letters"):
        exams.ExamSettings(code="bad code!", title="x")
    with db.transaction() as session, pytest.raises(exams.ExamError, match="already exists"):
        exams.create_exam(session, exams.ExamSettings(code="UTS-KAL-24", title="again"))


def test_what_candidates_see_afterwards():
    exam = Exam(code="X", title="x", data_key_id=1, seed="00", status="published",
                show_score="after_submit", show_answers="after_close",
                closes_at=datetime(2026, 1, 1, 12, tzinfo=UTC))
    before = datetime(2026, 1, 1, 11, tzinfo=UTC)
    after = datetime(2026, 1, 1, 13, tzinfo=UTC)
    assert exams.review_policy(exam, submitted=False, now=before) == {"score": False,
                                                                       "answers": False}
    assert exams.review_policy(exam, submitted=True, now=before) == {"score": True,
                                                                      "answers": False}
    assert exams.review_policy(exam, submitted=True, now=after) == {"score": True,
                                                                     "answers": True}
