"""Answer-key corrections: a corrected key, two accepted options, a voided item; every
attempt rescored from the stored answers, with the reason in the log and the audit trail,
and the results, the slip check and the item analysis all showing the new scores."""

from __future__ import annotations

import pytest

pytest.importorskip("plugins.cbt.delivery.signin")

from pydantic import ValidationError
from sqlalchemy import select

from core.audit.models import AuditEntry
from plugins.cbt.analysis.source import exam_analysis
from plugins.cbt.bank import open_version
from plugins.cbt.marking import corrections
from plugins.cbt.marking.models import KeyCorrection, RescoreRun
from plugins.cbt.models import Exam
from plugins.cbt.reports.source import result_rows
from tests.plugins.cbt.reports import held


@pytest.fixture
def event(db) -> held.Held:
    return held.build(db, document=False)


def version_of(db, event, stem: str) -> int:
    with db.session() as s:
        exam = s.get(Exam, event.exam_id)
        for v in corrections.used_versions(s, exam):
            content, _key = open_version(s, v)
            if stem in content.stem or (stem == "TF" and v.type == "truefalse"):
                return v.id
    raise AssertionError(stem)


def scores(db, event) -> dict[str, tuple[float | None, float]]:
    with db.session() as s:
        rows, _sections = result_rows(s, s.get(Exam, event.exam_id))
        return {r.participant_number: (r.score, r.max_score) for r in rows if not r.absent}


def correct(db, event, **form):
    with db.transaction() as s:
        run = corrections.correct(s, s.get(Exam, event.exam_id),
                                  corrections.CorrectionForm(**form), held.user(s, "wdm"))
        return run.id


def test_changed_key_rescores_every_attempt_and_logs_why(db, event):
    assert scores(db, event) == {"K-0001": (7, 7), "K-0002": (4, 7), "K-0003": (1, 7)}
    q2 = version_of(db, event, "Q2")
    run_id = correct(db, event, item_version_id=q2, kind="key", correct=["b"],
                     reason="Kunci soal Q2 salah ketik: jawaban benar B")
    # Q2 answered a / b / b: K-0001 loses 2 points, K-0002 and K-0003 gain 2.
    assert scores(db, event) == {"K-0001": (5, 7), "K-0002": (6, 7), "K-0003": (3, 7)}
    with db.session() as s:
        run = s.get(RescoreRun, run_id)
        assert run.reason == "Kunci soal Q2 salah ketik: jawaban benar B"
        assert (run.attempts, run.changed) == (3, 3)
        by_attempt = {t["attempt"]: (t["before"], t["after"]) for t in run.totals}
        assert by_attempt[event.attempts["K-0001"]] == (7, 5)
        assert by_attempt[event.attempts["K-0003"]] == (1, 3)
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "cbt.key.corrected"))
        assert entry.details["reason"].startswith("Kunci soal Q2")
        assert entry.actor_id == held.user(s, "wdm").id and entry.details["changed"] == 3
        # The corrected key is sealed like every answer key.
        row = s.scalar(select(KeyCorrection))
        assert b'"b"' not in row.key_enc and row.key_enc
        # The analysis reads the same corrected scores: Q2's facility is now 2/3.
        analysis = exam_analysis(s, s.get(Exam, event.exam_id))
        q2_stats = next(i for i in analysis.items if i.item == str(q2))
        assert q2_stats.facility == pytest.approx(2 / 3)


def test_two_options_accepted_and_void(db, event):
    q2 = version_of(db, event, "Q2")
    correct(db, event, item_version_id=q2, kind="key", correct=["a", "b"],
            reason="Pilihan A dan B sama-sama benar")
    assert scores(db, event) == {"K-0001": (7, 7), "K-0002": (6, 7), "K-0003": (3, 7)}
    q3 = version_of(db, event, "Q3")
    correct(db, event, item_version_id=q3, kind="full", reason="Soal Q3 ambigu, dianulir")
    # K-0003 left Q3 empty and still gets its 2 points.
    assert scores(db, event) == {"K-0001": (7, 7), "K-0002": (6, 7), "K-0003": (5, 7)}
    tf = version_of(db, event, "TF")
    correct(db, event, item_version_id=tf, kind="drop", reason="Soal benar-salah tidak dihitung")
    assert scores(db, event) == {"K-0001": (6, 6), "K-0002": (6, 6), "K-0003": (4, 6)}
    with db.session() as s:
        log = corrections.history(s, s.get(Exam, event.exam_id))
        assert [c.kind for c, _run in log] == ["drop", "full", "key"]
        assert all(run is not None for _c, run in log)


def test_bad_corrections_change_nothing(db, event):
    q2 = version_of(db, event, "Q2")
    with pytest.raises(ValidationError, match="at least 5 characters"):
        corrections.CorrectionForm(item_version_id=q2, kind="key", correct=["b"], reason="  ")
    with pytest.raises(corrections.CorrectionError, match="no option z"):
        correct(db, event, item_version_id=q2, kind="key", correct=["z"],
                reason="alasan yang cukup panjang")
    with pytest.raises(corrections.CorrectionError, match="not on any paper"):
        correct(db, event, item_version_id=9999, kind="full", reason="alasan yang cukup")
    with db.session() as s:
        assert s.scalar(select(KeyCorrection.id)) is None
        assert s.scalar(select(RescoreRun.id)) is None
    assert scores(db, event)["K-0001"] == (7, 7)


def test_key_page_corrects_over_http(db, login, event):
    q2 = version_of(db, event, "Q2")
    wdm = login("wdm")
    page = wdm.get(f"/cbt/marking/exams/{event.exam_id}/keys")
    assert page.status_code == 200 and f'value="{q2}"' in page.get_data(as_text=True)
    refused = wdm.post(f"/cbt/marking/exams/{event.exam_id}/keys",
                       data={"item_version_id": q2, "kind": "key", "correct": "b",
                             "reason": ""}, follow_redirects=True)
    assert "at least 5 characters" in refused.get_data(as_text=True)
    done = wdm.post(f"/cbt/marking/exams/{event.exam_id}/keys",
                    data={"item_version_id": q2, "kind": "key", "correct": "b",
                          "reason": "Kunci Q2 diperbaiki"}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "Kunci Q2 diperbaiki" in html and 'id="rescore-log"' in html
    assert scores(db, event)["K-0002"] == (6, 7)
    assert login("pemohon").get(f"/cbt/marking/exams/{event.exam_id}/keys").status_code == 403
