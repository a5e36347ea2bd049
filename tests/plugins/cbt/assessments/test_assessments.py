"""CBT exams offered to other plugins as knowledge checks, and their scores."""

from __future__ import annotations

from tests.plugins.cbt.reports import held


def test_published_exam_is_offered_and_its_scores_are_percentages(app, db):
    ids = held.build(db)
    host = app.extensions["ruang"].plugins
    ref = f"cbt:exam:{ids.exam_id}"
    with db.session() as s:
        offered = [a for result in host.hook.ruang_assessments(session=s, query="")
                   for a in result if a.source == "cbt"]
        assert ref in {a.ref for a in offered}
        got = host.hook.ruang_assessment_scores(session=s, ref=ref)
    by_score = sorted(round(x.score, 1) for x in got)
    # K-0001 7/7, K-0002 4/7, K-0003 1/7; K-0004 was absent and has no score.
    assert by_score == [round(100 / 7, 1), round(400 / 7, 1), 100.0]
    assert all(x.identifier for x in got)


def test_refs_of_other_plugins_are_left_to_them(app, db):
    host = app.extensions["ruang"].plugins
    with db.session() as s:
        assert host.hook.ruang_assessment_scores(session=s, ref="training:quiz:1") is None
        assert host.hook.ruang_assessment_scores(session=s, ref="cbt:exam:999999") is None
