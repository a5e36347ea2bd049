"""Essay marking over HTTP and through the services: blind codes, two raters who never see
each other's mark, the mean when they agree, adjudication when they do not, and results
that wait for the marks ("marking pending") and then include them."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("plugins.cbt.delivery.signin")

from pydantic import ValidationError
from sqlalchemy import select

from core.audit.models import AuditEntry
from plugins.cbt.marking import ratings
from plugins.cbt.models import Attempt, Exam, ItemVersion
from plugins.cbt.reports.source import result_rows
from tests.plugins.cbt.reports import held

NAMES = ("Siti Nurhaliza", "عبد الله بن عمر", "Budi Santoso", "K-0001", "K-0002", "K-0003",
         "23010001", "23010002", "23010003")


@pytest.fixture
def event(db) -> held.Held:
    return held.build(db, document=False, essay=True)


def essay_codes(db, event: held.Held) -> dict[str, str]:
    """Participant number -> blind code of their essay (what only the test may know)."""
    with db.session() as s:
        exam = s.get(Exam, event.exam_id)
        out = {}
        for number, attempt_id in event.attempts.items():
            attempt = s.get(Attempt, attempt_id)
            ai = next(ai for ai in attempt.items
                      if s.get(ItemVersion, ai.item_version_id).type == "essay")
            out[number] = ratings.blind_code(exam, ai.id)
        return out


def set_plan(db, event, raters=("wdm", "yansi"), adjudicator="kabpti", threshold=1.0):
    with db.transaction() as s:
        exam = s.get(Exam, event.exam_id)
        # Validated as the plan form's input is: the number of raters is checked at run time.
        ratings.save_plan(s, exam, ratings.PlanForm.model_validate({
            "raters_per_response": len(raters), "threshold": threshold,
            "rater_ids": [held.user(s, u).id for u in raters],
            "adjudicator_id": held.user(s, adjudicator).id if adjudicator else None}),
            held.user(s, "wdm"))


def rows_by_number(db, event):
    with db.session() as s:
        rows, _sections = result_rows(s, s.get(Exam, event.exam_id))
        return {r.participant_number: r for r in rows}


def mark(client, event, code, isi, bahasa, comment=""):
    return client.post(f"/cbt/marking/exams/{event.exam_id}/responses/{code}",
                       data={"level-isi": str(isi), "level-bahasa": str(bahasa),
                             "comment": comment})


def test_queue_and_marking_page_are_blind(db, login, event):
    set_plan(db, event)
    codes = essay_codes(db, event)
    wdm = login("wdm")
    queue = wdm.get(f"/cbt/marking/exams/{event.exam_id}")
    assert queue.status_code == 200
    page = queue.get_data(as_text=True)
    assert sorted(re.findall(r'data-code="([^"]+)"', page)) == sorted(codes.values())
    for code in codes.values():
        resp = wdm.get(f"/cbt/marking/exams/{event.exam_id}/responses/{code}")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and code in html
        for secret in NAMES:
            assert secret not in html, secret
        assert "Sila pertama berbunyi" in html or code != codes["K-0001"]
        assert "Bunyi dan makna" in html  # the rubric's levels
    assert all(secret not in page for secret in NAMES)


def test_two_raters_mean_adjudication_and_results(db, login, event):
    set_plan(db, event)
    codes = essay_codes(db, event)
    rows = rows_by_number(db, event)
    assert rows["K-0001"].marking_pending and rows["K-0001"].score is None
    assert rows["K-0001"].verdict == "Menunggu penilaian esai"

    wdm, yansi, kabpti = login("wdm"), login("yansi"), login("kabpti")
    # K-0001: 4 and 3 points, within the threshold of 1: the mean 3.5 is final.
    assert mark(wdm, event, codes["K-0001"], 2, 2, "catatan-penilai-satu").status_code == 302
    page = yansi.get(f"/cbt/marking/exams/{event.exam_id}/responses/{codes['K-0001']}"
                     ).get_data(as_text=True)
    assert "catatan-penilai-satu" not in page and "score-form" in page  # blind to the other rater
    assert mark(yansi, event, codes["K-0001"], 2, 1).status_code == 302
    # K-0002: 3 and 0 points: too far apart, the adjudicator's 1 point is final.
    mark(wdm, event, codes["K-0002"], 2, 1)
    mark(yansi, event, codes["K-0002"], 0, 0)
    rows = rows_by_number(db, event)
    assert rows["K-0001"].score == pytest.approx(7 + 3.5)
    assert rows["K-0002"].marking_pending
    adj = kabpti.get(f"/cbt/marking/exams/{event.exam_id}/responses/{codes['K-0002']}")
    html = adj.get_data(as_text=True)
    assert "other-marks" in html and "Siti" not in html and "K-0002" not in html
    # A rater cannot adjudicate, nor mark twice.
    assert "already marked this response" in mark(wdm, event, codes["K-0002"], 1, 0).get_data(
        as_text=True)
    assert "not waiting for you" in mark(login("jds"), event, codes["K-0002"], 1, 0).get_data(
        as_text=True)
    with db.session() as s:
        assert s.scalar(select(ratings.Rating.id).where(
            ratings.Rating.role == "adjudicator")) is None
    mark(kabpti, event, codes["K-0002"], 1, 0, "adjudikasi")
    # K-0003 wrote nothing: both raters give 0.
    mark(wdm, event, codes["K-0003"], 0, 0)
    mark(yansi, event, codes["K-0003"], 0, 0)
    rows = rows_by_number(db, event)
    assert rows["K-0002"].score == pytest.approx(4 + 1)
    assert rows["K-0003"].score == pytest.approx(1)
    assert not any(r.marking_pending for r in rows.values())
    assert rows["K-0001"].sections["Esai"] == pytest.approx(3.5)
    with db.session() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "cbt.essay.rated")
                            ).all()
        assert len(entries) == 7
        assert {e.details["role"] for e in entries} == {"rater", "adjudicator"}
        final = next(e for e in entries if e.details["role"] == "adjudicator")
        assert final.details["state"] == "final" and final.details["final"] == 1
    # Results page and CSV show it; the marking queue shows nothing waiting.
    page = wdm.get(f"/cbt/reports/exams/{event.exam_id}/results").get_data(as_text=True)
    assert "marking-pending" not in page


def test_second_mark_by_same_rater_and_strangers_refused(db, login, event):
    set_plan(db, event)
    codes = essay_codes(db, event)
    wdm = login("wdm")
    mark(wdm, event, codes["K-0001"], 2, 2)
    again = mark(wdm, event, codes["K-0001"], 0, 0)
    assert "already marked this response" in again.get_data(as_text=True)
    with db.session() as s:
        assert s.scalar(select(ratings.Rating.score)) == 4
    # pengawas is neither rater nor author: no queue, no page.
    assert login("pengawas").get(f"/cbt/marking/exams/{event.exam_id}").status_code == 403
    # jds is staff (an author) but not one of the plan's raters: may look, may not mark.
    jds = login("jds")
    mark(jds, event, codes["K-0002"], 2, 2)
    with db.session() as s:
        assert s.scalar(select(ratings.Rating.id).where(
            ratings.Rating.rater_id == held.user(s, "jds").id)) is None


def test_score_form_validation():
    from plugins.cbt.marking.ratings import EssayResponse, score_form

    key = held.essay_draft().key
    r = EssayResponse(1, "E-AAAA-BBBB", 1, 1, 4.0, 4.0, "x")
    assert score_form({"levels": {"isi": "2", "bahasa": "1"}}, r, key).score == 3
    with pytest.raises(ValidationError, match="choose a level for the criterion 'Bahasa'"):
        score_form({"levels": {"isi": "2"}}, r, key)
    with pytest.raises(ValidationError, match="has no level 4"):
        score_form({"levels": {"isi": "3", "bahasa": "0"}}, r, key)
    with pytest.raises(ValidationError, match="does not match the rubric"):
        score_form({"score": "4", "levels": {"isi": "0", "bahasa": "0"}}, r, key)
    plain = key.model_copy(update={"criteria": []})
    assert score_form({"score": "2.5"}, r, plain).score == 2.5
    with pytest.raises(ValidationError, match="between 0 and 4"):
        score_form({"score": "4.5"}, r, plain)
    with pytest.raises(ValidationError, match="give a score"):
        score_form({}, r, plain)
    # A slot worth 8 points scales the rubric's 4.
    doubled = EssayResponse(1, "E-AAAA-BBBB", 1, 1, 8.0, 4.0, "x")
    assert score_form({"levels": {"isi": "2", "bahasa": "1"}}, doubled, key).score == 6


def test_plan_validation(db, event):
    with pytest.raises(ValidationError, match="third person"):
        ratings.PlanForm(raters_per_response=2, rater_ids=[1, 2], adjudicator_id=2)
    with pytest.raises(ValidationError, match="at least two raters"):
        ratings.PlanForm(raters_per_response=2, rater_ids=[1])
    with pytest.raises(ValidationError):
        ratings.PlanForm.model_validate({"raters_per_response": 3})


def test_one_rater_is_final(db, login, event):
    set_plan(db, event, raters=("wdm",), adjudicator=None)
    codes = essay_codes(db, event)
    mark(login("wdm"), event, codes["K-0001"], 1, 1)
    assert rows_by_number(db, event)["K-0001"].score == pytest.approx(7 + 2)


def test_owner_who_rated_does_not_adjudicate_own_disagreement(db, login, event):
    set_plan(db, event, adjudicator=None)
    with db.transaction() as s:
        s.get(Exam, event.exam_id).created_by = held.user(s, "wdm").id  # owner and rater
    codes = essay_codes(db, event)
    wdm, yansi = login("wdm"), login("yansi")
    mark(wdm, event, codes["K-0001"], 2, 2)
    mark(yansi, event, codes["K-0001"], 0, 0)
    assert rows_by_number(db, event)["K-0001"].marking_pending
    assert "already marked" in mark(wdm, event, codes["K-0001"], 1, 1).get_data(as_text=True)
    mark(login("kabpti"), event, codes["K-0001"], 1, 1)
    assert rows_by_number(db, event)["K-0001"].score == pytest.approx(7 + 2)


def test_result_slip_pdf_waits_for_and_then_shows_the_essay(db, login, event):
    from io import BytesIO

    from pypdf import PdfReader

    set_plan(db, event, raters=("wdm",), adjudicator=None)
    wdm = login("wdm")
    url = f"/cbt/reports/exams/{event.exam_id}/slips/K-0001.pdf"
    text = PdfReader(BytesIO(wdm.get(url).get_data())).pages[0].extract_text()
    assert "MENUNGGU PENILAIAN ESAI" in text
    mark(wdm, event, essay_codes(db, event)["K-0001"], 2, 1)
    text = PdfReader(BytesIO(wdm.get(url).get_data())).pages[0].extract_text()
    assert "10 / 11" in text and "LULUS" in text and "Esai" in text
