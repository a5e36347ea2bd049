"""Every page of the plugin opens, for the people it is for, in Indonesian and in English;
the ones it is not for answer 403 or 404."""

from __future__ import annotations

import pytest

from plugins.training import participants, service
from plugins.training.tokens import checkin_url, page_token
from tests.plugins.training.conftest import build, user


@pytest.fixture
def held(app, db) -> dict[str, int | str]:
    tid = build(db, state="held", people=2, lab=True)
    with db.transaction() as s:
        tr = service.get(s, tid)
        person = participants.of_training(s, tid)[0]
        participants.check_in(s, tr, person, user(db, "wdm"))
        pid = person.id
    return {"id": tid, "token": page_token(pid, tid),
            "checkin": checkin_url(pid, tid).split("/training", 1)[1]}


@pytest.mark.parametrize("language", ["id", "en"])
def test_staff_pages_open_in_both_languages(app, db, login, held, language):
    wdm = login("wdm")
    wdm.post(f"/lang/{language}", {"next": "/"})
    tid = held["id"]
    pages = ["/training/", "/training/?state=held&year=2030&q=web", "/training/new",
             f"/training/{tid}", f"/training/{tid}/preparation", f"/training/{tid}/participants",
             f"/training/{tid}/participants?status=registered", f"/training/{tid}/check",
             f"/training/{tid}/supervision", f"/training/{tid}/evaluation",
             f"/training/{tid}/documentation", f"/training/{tid}/scan",
             f"/training/{tid}/badges", f"/training{held['checkin']}",
             f"/training/{tid}/letter.pdf",
             "/training/summary", "/training/trainers", "/training/trainers/1", "/verify"]
    menu = {"id": ">Diklat<", "en": ">Trainings<"}[language]  # the menu entry
    for url in pages:
        resp = wdm.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        if resp.mimetype == "text/html":
            html = resp.get_data(as_text=True)
            assert f'<html lang="{language}">' in html and menu in html, url
    # A draft can be edited; a held training only in its practical details, not at all later.
    draft = build(db, state="draft")
    assert wdm.get(f"/training/{draft}/edit").status_code == 200
    assert wdm.get(f"/training/{tid}/edit").status_code == 302


def test_participant_pages_and_who_may_open_what(app, db, login, guest, held):
    tid, token = held["id"], held["token"]
    for url in (f"/training/p/{token}", f"/training/p/{token}/feedback"):
        assert guest.get(url).status_code == 200, url
    # Who came may take the post-test, and the pre-test until they took the post-test.
    assert guest.get(f"/training/p/{token}/test/post").status_code == 200
    assert guest.get(f"/training/p/{token}/test/pre").status_code == 200
    assert guest.get(f"/training/{tid}").status_code == 302  # sign in first
    assert guest.get(f"/training{held['checkin']}").status_code == 302
    peserta = login("peserta")
    for url in (f"/training/{tid}/participants", f"/training/{tid}/scan",
                f"/training/{tid}/letter.pdf", "/training/new", "/training/summary"):
        assert peserta.get(url).status_code == 403, url
    pengawas = login("pengawas")  # proctors check people in, nothing more
    assert pengawas.get(f"/training/{tid}/scan").status_code == 200
    assert pengawas.get(f"/training/{tid}/participants").status_code == 403
    kabpti = login("kabpti")
    assert kabpti.get(f"/training/{tid}/evaluation").status_code == 200
    assert kabpti.post(f"/training/{tid}/notes", {"text": "x"}).status_code == 403
