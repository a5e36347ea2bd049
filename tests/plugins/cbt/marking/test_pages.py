"""The report and marking pages in Indonesian (the default language), and the links that
lead to them from the exam and the event pages."""

from __future__ import annotations

import pytest

pytest.importorskip("plugins.cbt.delivery.signin")

from tests.plugins.cbt.reports import held


@pytest.fixture
def event(db) -> held.Held:
    return held.build(db, document=False, essay=True)


def test_pages_speak_indonesian(login, event):
    wdm = login("wdm")
    analysis = wdm.get(f"/cbt/reports/exams/{event.exam_id}/analysis").get_data(as_text=True)
    assert "Analisis butir soal" in analysis and "Sebaran nilai" in analysis
    assert "Item analysis" not in analysis
    results = wdm.get(f"/cbt/reports/exams/{event.exam_id}/results").get_data(as_text=True)
    assert "Rilis ke peserta" in results and "Menunggu penilaian" in results
    assert "Marking pending" not in results
    queue = wdm.get(f"/cbt/marking/exams/{event.exam_id}").get_data(as_text=True)
    assert "Penilaian esai" in queue and "Rencana penilaian" in queue
    keys = wdm.get(f"/cbt/marking/exams/{event.exam_id}/keys").get_data(as_text=True)
    assert "Koreksi kunci ini" in keys


def test_exam_and_event_pages_link_to_reports(login, event):
    wdm = login("wdm")
    exam_page = wdm.get(f"/cbt/exams/{event.exam_id}").get_data(as_text=True)
    for href in (f"/cbt/reports/exams/{event.exam_id}/results",
                 f"/cbt/reports/exams/{event.exam_id}/analysis",
                 f"/cbt/marking/exams/{event.exam_id}"):
        assert f'href="{href}"' in exam_page, href
    event_page = wdm.get(f"/cbt/events/{event.event_id}").get_data(as_text=True)
    for href in (f"/cbt/reports/events/{event.event_id}/minutes.pdf",
                 f"/cbt/reports/exams/{event.exam_id}/results",
                 f"/cbt/reports/exams/{event.exam_id}/analysis",
                 f"/cbt/marking/exams/{event.exam_id}"):
        assert f'href="{href}"' in event_page, href
    # The requester who proposed the event sees no staff links.
    own = login("pemohon").get(f"/cbt/events/{event.event_id}").get_data(as_text=True)
    assert "minutes.pdf" not in own
