"""Item analysis read from an exam held through the real services (scenario in
``tests/plugins/cbt/reports/held.py``)."""

from __future__ import annotations

import pytest

# The delivery part of the plugin (attempts, answers) is what these adapters read.
pytest.importorskip("plugins.cbt.delivery.signin")

from plugins.cbt.analysis.source import exam_analysis
from plugins.cbt.models import Exam
from tests.plugins.cbt.reports import held


def test_analysis_of_a_held_exam(db):
    ids = held.build(db, document=False)
    with db.session() as session:
        result = exam_analysis(session, session.get(Exam, ids.exam_id))
    assert result.candidates == 3
    assert result.totals == {"K-0001": 7.0, "K-0002": 4.0, "K-0003": 1.0}
    by_label = {s.label.split(" ", 1)[1]: s for s in result.items}
    # Q1: right for K-0001 and K-0002; Q2: only K-0001; Q3: K-0001, K-0002 (K-0003 blank);
    # TF: K-0001 and K-0003.
    assert by_label["Q1"].facility == pytest.approx(2 / 3)
    assert by_label["Q2"].facility == pytest.approx(1 / 3)
    assert by_label["Q3"].facility == pytest.approx(2 / 3)
    assert by_label["Q3"].omitted == 1
    tf = next(s for s in result.items if s.section == "Benar salah")
    assert tf.facility == pytest.approx(2 / 3)
    assert [(d.label, d.count) for d in tf.distractors] == [("Benar", 2), ("Salah", 1)]
    q2 = {d.option: d.count for d in by_label["Q2"].distractors}
    assert q2 == {"a": 1, "b": 2, "c": 0, "d": 0}
    assert by_label["Q1"].section == "Pilihan ganda"
    # Each change came 30 s after the previous one (the first 30 s after the start).
    assert by_label["Q1"].mean_seconds == pytest.approx(30.0)
    assert result.reliability.items == 4 and result.reliability.candidates == 3
