"""Bad input is refused with a clear, specific error and changes nothing: proposals,
workflow steps out of turn, files that are not what their name says, participant lists
with bad lines, forged or misplaced check-in codes, test answers and ratings out of
range, certificates for people who did not come."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from plugins.training import certificates, evaluation, participants, quiz, service
from plugins.training.errors import TrainingError
from plugins.training.models import (
    Certificate,
    Feedback,
    Participant,
    QuizAttempt,
    Training,
    TrainingFile,
)
from plugins.training.tokens import checkin_token, checkin_url, page_token
from tests.plugins.training.conftest import build, png_bytes, proposal, user


def _count(db, model) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _audits(db) -> int:
    return _count(db, AuditEntry)


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"title": "Abc"}, "title", ("5",)),
    ({"capacity": "0"}, "capacity", ("1",)),
    ({"capacity": "banyak"}, "capacity", ()),
    ({"budget": "-5"}, "budget", ()),
    ({"starts_at": "kemarin"}, "starts_at", ()),
    ({"ends_at": "2020-01-01T07:00"}, "", ("end after", "selesai setelah")),
    ({"lab_id": "", "venue": ""}, "", ("lab",)),
    ({"lab_id": "99999"}, "lab_id", ("99999",)),
    ({"third_party_ref": "certification:vendor:404"}, "third_party_ref", ("404",)),
    ({"trainer_lines": "X"}, "trainer_lines", ("1",)),
    ({"check_mode": "external"}, "", ()),
])
def test_bad_proposals_are_refused_and_nothing_is_stored(app, db, login, change, field, words):
    wdm = login("wdm")
    before, audits = _count(db, Training), _audits(db)
    resp = wdm.post("/training/new", proposal(**change))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert 'class="flash error"' in html
    if field:
        assert f'data-error="{field}"' in html
    assert any(w in html for w in words) if words else True
    assert _count(db, Training) == before and _audits(db) == audits
    # What was typed is kept in the form.
    assert proposal()["goals"] in html


def test_workflow_steps_out_of_turn_are_refused(app, db, login):
    tid = build(db, state="draft")
    wdm, kabpti, peserta = login("wdm"), login("kabpti"), login("peserta")
    audits = _audits(db)
    page = wdm.post(f"/training/{tid}/workflow", {"action": "approve"}, follow_redirects=True)
    assert "approve" in page.get_data(as_text=True)
    kabpti.post(f"/training/{tid}/workflow", {"action": "begin"})
    assert peserta.post(f"/training/{tid}/workflow", {"action": "submit"}).status_code == 403
    assert wdm.post(f"/training/{tid}/workflow", {"action": "Drop table"}).status_code == 400
    wdm.post(f"/training/{tid}/workflow", {"action": "submit"})
    kabpti.post(f"/training/{tid}/workflow", {"action": "reject"})  # a comment is required
    with db.session() as s:
        tr = s.get(Training, tid)
        assert tr.state == "submitted" and tr.letter_number is None
    assert _audits(db) == audits + 1  # only the submission
    # No participants: the training cannot start.
    kabpti.post(f"/training/{tid}/workflow", {"action": "approve"})
    page = wdm.post(f"/training/{tid}/workflow", {"action": "begin"}, follow_redirects=True)
    assert "registered" in page.get_data(as_text=True) or "terdaftar" in page.get_data(
        as_text=True)
    with db.session() as s:
        assert s.get(Training, tid).state == "preparation"


def test_a_training_without_questions_cannot_start_with_the_quiz(app, db):
    tid = build(db, state="preparation", questions=False, people=1)
    with db.transaction() as s, pytest.raises(TrainingError, match="questions"):
        service.act(s, service.get(s, tid), "begin", user(db, "wdm"))
    with db.session() as s:
        assert s.get(Training, tid).state == "preparation"


def test_capacity_cannot_drop_below_the_registered(app, db, login):
    tid = build(db, state="preparation", capacity=3, people=3)
    wdm = login("wdm")
    with db.session() as s:
        tr = s.get(Training, tid)
        from plugins.training.views.proposals import _form_values

        values = _form_values(tr)
    values["capacity"] = "2"
    resp = wdm.post(f"/training/{tid}/edit", values)
    assert resp.status_code == 400 and 'data-error="capacity"' in resp.get_data(as_text=True)
    with db.session() as s:
        assert s.get(Training, tid).capacity == 3


def _upload(client, tid, name, data, kind="photo"):
    return client.post(f"/training/{tid}/files", {"kind": kind, "title": "x",
                                                  "files": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def test_files_are_checked_by_what_they_contain(app, db, login, settings):
    tid = build(db, state="preparation")
    wdm = login("wdm")
    folder = settings.instance / "uploads" / "training"
    stored = lambda: sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() \
        else []  # noqa: E731
    before_files, before_rows = stored(), _count(db, TrainingFile)
    cases = [
        ("foto.png", b"MZ\x90\x00" + b"\x00" * 64, "photo", ("Windows", "program")),
        ("foto.png", png_bytes() , "document", None),  # fine as a document too
        ("laporan.pdf", b"%PDF-1.4 but not really", "document", (".pdf",)),
        ("slides.pptx", b"PK\x03\x04 broken zip", "material", (".pptx",)),
        ("virus.exe", b"MZ", "document", (".exe",)),
        ("kosong.png", b"", "photo", ()),
        ("dokumen.pdf", b"%PDF-1.4\n%%EOF", "photo", (".pdf",)),
    ]
    for name, data, kind, words in cases:
        html = _upload(wdm, tid, name, data, kind).get_data(as_text=True)
        if words is None:
            continue
        assert 'class="flash error"' in html, name
        assert all(w in html for w in words), (name, html[html.find("flash error"):][:300])
    assert _count(db, TrainingFile) == before_rows + 1
    assert len(stored()) == len(before_files) + 1
    # One bad file among good ones: none of them is stored.
    resp = wdm.client.post(f"/training/{tid}/files", data={
        "csrf_token": wdm.csrf, "kind": "photo",
        "files": [(io.BytesIO(png_bytes()), "a.png"), (io.BytesIO(b"<html>"), "b.png")]},
        content_type="multipart/form-data", follow_redirects=True)
    assert "b.png" in resp.get_data(as_text=True)
    assert _count(db, TrainingFile) == before_rows + 1
    # A real office document passes.
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    _upload(wdm, tid, "daftar-hadir.docx", docx.getvalue(), "document")
    assert _count(db, TrainingFile) == before_rows + 2


def test_a_participant_list_with_bad_lines_is_refused_whole(app, db, login):
    tid = build(db, state="preparation")
    wdm = login("wdm")
    sheet = ("name,email,kind,identifier\n"
             "Ani,ani@univ.example.ac.id,staff,198001\n"
             "B,bukan-email,staff,\n"
             "Cici,ani@univ.example.ac.id,student,\n"
             "Dodo,dodo@univ.example.ac.id,alien,\n")
    resp = wdm.client.post(f"/training/{tid}/import", data={
        "csrf_token": wdm.csrf, "mode": "register",
        "file": (io.BytesIO(sheet.encode()), "peserta.csv")},
        content_type="multipart/form-data", follow_redirects=True)
    html = resp.get_data(as_text=True)
    for line in ("3", "4", "5"):
        assert f"line {line}" in html or f"baris {line}" in html
    assert "line 2:" not in html and "baris 2:" not in html
    assert _count(db, Participant) == 0 or _count_in(db, tid) == 0
    bad_type = wdm.client.post(f"/training/{tid}/import", data={
        "csrf_token": wdm.csrf, "file": (io.BytesIO(b"\x00\x01"), "peserta.xls")},
        content_type="multipart/form-data", follow_redirects=True)
    assert ".xlsx" in bad_type.get_data(as_text=True)
    no_header = wdm.client.post(f"/training/{tid}/import", data={
        "csrf_token": wdm.csrf, "file": (io.BytesIO(b"Ani,ani@x.id\n"), "p.csv")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "email" in no_header.get_data(as_text=True)
    assert _count_in(db, tid) == 0


def _count_in(db, tid) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Participant).where(
            Participant.training_id == tid)) or 0)


def test_check_in_codes_are_checked(app, db, login, guest):
    tid = build(db, state="held", people=2)
    other = build(db, state="held", people=1, title="Pelatihan Lain untuk Uji")
    wdm = login("wdm")
    with db.session() as s:
        mine = participants.of_training(s, tid)[0]
        theirs = participants.of_training(s, other)[0]
    forged = checkin_token(mine.id, tid)[:-3] + "abc"
    for code, status, error in [
        (forged, 404, "unknown"),
        ("hello", 404, "unknown"),
        (page_token(mine.id, tid), 404, "unknown"),  # the personal link is not a door code
        (checkin_url(theirs.id, other), 409, "wrong_training"),
        ("", 400, "invalid"),
    ]:
        resp = wdm.post_json(f"/training/{tid}/scan", {"code": code})
        assert resp.status_code == status and resp.json["error"] == error, code
    assert login("peserta").post_json(f"/training/{tid}/scan",
                                      {"code": checkin_url(mine.id, tid)}).status_code == 403
    assert guest.get("/training/checkin/" + forged).status_code in (302, 401)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Participant).where(
            Participant.checked_in_at.is_not(None))) == 0
    # A waiting-list person cannot be checked in.
    full = build(db, state="held", capacity=1, people=1, title="Pelatihan Penuh Sekali")
    with db.transaction() as s:
        tr = service.get(s, full)
        late = participants.register(s, tr, {"name": "Terlambat", "email":
                                             "late@univ.example.ac.id"}, user(db, "wdm"))
        assert late.status == "waitlisted"
        late_id = late.id
    resp = wdm.post_json(f"/training/{full}/scan", {"code": checkin_url(late_id, full)})
    assert resp.status_code == 409 and resp.json["error"] == "not_registered"


def test_answers_and_ratings_out_of_range_are_refused(app, db, guest):
    tid = build(db, state="held", people=1)
    with db.transaction() as s:
        tr = service.get(s, tid)
        person = participants.of_training(s, tid)[0]
        qs = quiz.questions(s, tid)
        with pytest.raises(TrainingError, match="3, 4"):
            quiz.submit(s, tr, person, "pre", {f"q{qs[0].id}": "1", f"q{qs[1].id}": "1",
                                               f"q{qs[2].id}": "9"})
    token = page_token(person.id, tid)
    answers = {f"q{q.id}": "0" for q in qs}
    answers[f"q{qs[1].id}"] = "x"
    resp = guest.post(f"/training/p/{token}/test/pre", answers)
    assert resp.status_code == 400 and "2" in resp.get_data(as_text=True)
    assert _count(db, QuizAttempt) == 0
    # Feedback is for people who came, with ratings from 1 to 5.
    with db.transaction() as s, pytest.raises(TrainingError, match="attended"):
        evaluation.submit(s, service.get(s, tid), participants.of_training(s, tid)[0],
                          {k: 5 for k in ("content", "trainer", "materials", "facilities",
                                          "usefulness", "overall")})
    with db.transaction() as s:
        participants.check_in(s, service.get(s, tid), participants.of_training(s, tid)[0],
                              user(db, "wdm"))
    ratings = {k: "5" for k in ("content", "trainer", "materials", "facilities", "usefulness")}
    resp = guest.post(f"/training/p/{token}/feedback", {**ratings, "overall": "7"})
    assert resp.status_code == 400 and 'class="field-error"' in resp.get_data(as_text=True)
    resp = guest.post(f"/training/p/{token}/feedback", ratings)
    assert resp.status_code == 400
    assert _count(db, Feedback) == 0
    assert guest.get("/training/p/not-a-token").status_code == 404
    assert guest.get(f"/training/p/{token}/test/middle").status_code == 404


def test_certificates_only_for_those_who_came_and_verification(app, db, login, guest):
    tid = build(db, state="held", people=2)
    wdm = login("wdm")
    with db.transaction() as s:
        tr = service.get(s, tid)
        came, absent = participants.of_training(s, tid)
        participants.check_in(s, tr, came, user(db, "wdm"))
        with pytest.raises(TrainingError, match="did not attend"):
            certificates.issue(s, tr, absent, user(db, "wdm"))
    assert _count(db, Certificate) == 0
    wdm.post(f"/training/{tid}/certificates")
    with db.session() as s:
        (cert,) = certificates.of_training(s, tid)
    assert cert.participant_id == came.id and cert.number.startswith("SRT-DIKLAT/")
    pdf = wdm.get(f"/training/{tid}/certificates/{cert.id}.pdf")
    from tests.plugins.training.conftest import pdf_text

    text = pdf_text(pdf.data)
    assert came.name in text and cert.number in text and cert.verify_code in text
    # The old address of the check leads to the core's page.
    ok = guest.get(f"/training/verify?number={cert.number}", follow_redirects=True)
    assert ok.status_code == 200 and 'data-status="valid"' in ok.get_data(as_text=True)
    assert ok.request.path == "/verify"
    # Revoking needs a reason.
    wdm.post(f"/training/{tid}/certificates/{cert.id}/revoke", {"reason": ""})
    with db.session() as s:
        assert s.get(Certificate, cert.id).revoked_at is None
    wdm.post(f"/training/{tid}/certificates/{cert.id}/revoke",
             {"reason": "Nama peserta salah ketik."})
    revoked = guest.get(f"/training/verify/{cert.verify_code}", follow_redirects=True)
    assert 'data-status="revoked"' in revoked.get_data(as_text=True)
    with db.session() as s:
        assert s.get(Certificate, cert.id).revoked_at is not None
    missing = guest.get("/training/verify/NoSuchCode123", follow_redirects=True)
    assert missing.status_code == 404 and 'data-status="unknown"' in missing.get_data(
        as_text=True)
    assert guest.get("/training/verify?number=SRT-DIKLAT/1999/9999",
                     follow_redirects=True).status_code == 404
