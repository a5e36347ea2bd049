"""A training from proposal to the numbered PDF report, as the people of the SOP do it on
the pages: BPTI staff propose, Ka. BPTI approves (numbered letter), staff prepare (lab,
checklist, third party, materials), invite and register participants within the capacity,
participants take the pre-test, staff start the training and check people in by QR code
and by hand, write supervision notes; participants take the post-test and evaluate; staff
document it. The report's text (pypdf) shows the attendance, the ratings and the gain.
Mail goes through a real SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from core.records.service import lookup
from plugins.training import jobs
from plugins.training.models import Participant, Training
from plugins.training.tokens import checkin_url
from tests.plugins.training.conftest import (
    QUESTIONS,
    deliver,
    lab_id,
    mail_of,
    pdf_text,
    png_bytes,
    proposal,
    user,
)

ARTIFACTS = Path(__file__).resolve().parents[3] / ".test-artifacts"
LINK = re.compile(r"https?://\S+/training/p/(\S+)")


def _training(db, training_id: int) -> Training:
    with db.session() as s:
        found = s.get(Training, training_id)
    assert found is not None
    return found


def _person(db, training_id: int, email: str) -> Participant:
    with db.session() as s:
        found = s.scalar(select(Participant).where(Participant.training_id == training_id,
                                                   Participant.email == email))
    assert found is not None
    return found


def _link_in(smtp_server, address: str, subject_part: str) -> str:
    for mail in reversed(smtp_server.messages):
        if address in mail.rcpt_tos and subject_part in mail.subject:
            m = LINK.search(mail.text())
            assert m, f"no personal link in the mail to {address}"
            return m.group(1)
    raise AssertionError(f"no mail '{subject_part}' to {address}: "
                         f"{[(x.rcpt_tos, x.subject) for x in smtp_server.messages]}")


def _answers(phase_scores: list[bool], question_ids: list[int]) -> dict[str, str]:
    """Correct answer (option 1) where True, a wrong one (option 0) where False."""
    return {f"q{qid}": "1" if right else "0" for qid, right in zip(question_ids, phase_scores,
                                                                    strict=True)}


def test_training_from_proposal_to_report(app, db, login, guest, smtp_server):
    wdm, kabpti = login("wdm"), login("kabpti")
    peserta = login("peserta")
    vendor = "PT Nusantara Digital Academy"

    # -- proposal: BPTI staff draft it, with a lab, a trainer and a third party -----------
    form = wdm.get("/training/new").get_data(as_text=True)
    ref = re.search(r'<option value="(training:trainer:\d+)"[^>]*>' + vendor, form)
    assert ref, "the directory offers the demo vendor"
    data = proposal(capacity="3", lab_id=str(lab_id(db)), third_party_ref=ref.group(1),
                    trainer_refs=[ref.group(1)])
    resp = wdm.post("/training/new", data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    tid = int(resp.headers["Location"].rsplit("/", 1)[-1])
    tr = _training(db, tid)
    assert tr.state == "draft" and tr.budget == 2_500_000 and tr.third_party_name == vendor
    assert [t.name for t in tr.trainers] == [vendor, "Siti Aminah"]

    for text, options, correct in QUESTIONS:
        resp = wdm.post(f"/training/{tid}/questions", {"text": text,
                                                       "options": "\n".join(options),
                                                       "correct": str(correct + 1)})
        assert resp.status_code == 302

    # -- approval: submitted to Ka. BPTI, who approves; the letter is numbered -----------
    wdm.post(f"/training/{tid}/workflow", {"action": "submit"})
    assert _training(db, tid).state == "submitted"
    deliver()
    smtp_server.wait_for(1)
    to_head = [m for m in smtp_server.messages if mail_of("kabpti") in m.rcpt_tos]
    assert to_head and f"DKL-{tid:04d}" in to_head[0].subject
    assert data["title"] in to_head[0].text()
    # Staff cannot approve their own proposal.
    wdm.post(f"/training/{tid}/workflow", {"action": "approve"})
    assert _training(db, tid).state == "submitted"
    page = kabpti.get(f"/training/{tid}").get_data(as_text=True)
    assert 'value="approve"' in page
    kabpti.post(f"/training/{tid}/workflow", {"action": "approve", "comment": "Setuju."})
    tr = _training(db, tid)
    assert tr.state == "preparation"
    assert tr.letter_number and re.fullmatch(r"\d{3}/DIKLAT/BPTI/[IVXLC]+/\d{4}",
                                             tr.letter_number)
    with db.session() as s:
        issued = lookup(s, tr.letter_number)
        assert issued is not None and issued.ref_id == str(tid)
    letter = wdm.get(f"/training/{tid}/letter.pdf")
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    letter_text = pdf_text(letter.data)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "training-letter.pdf").write_bytes(letter.data)
    assert tr.letter_number in letter_text and tr.title in letter_text
    assert "2.500.000" in letter_text
    # The lab is reserved through the core's room service (the lab plugin answers).
    assert tr.room_reference, tr.room_notes
    assert tr.checklist and any(vendor in i.label for i in tr.checklist)

    # -- preparation: checklist, third party, materials, registration --------------------
    item = tr.checklist[0]
    wdm.post(f"/training/{tid}/checklist/{item.id}", {"done": "1"})
    wdm.post(f"/training/{tid}/third-party", {"status": "confirmed",
                                              "text": "Trainer dan modul disepakati."})
    from fpdf import FPDF

    handout = FPDF()
    handout.add_page()
    handout.set_font("Helvetica", size=12)
    handout.cell(0, 10, "Modul CMS")
    resp = wdm.post(f"/training/{tid}/files", {
        "kind": "material", "title": "Modul CMS",
        "files": (__import__("io").BytesIO(bytes(handout.output())), "modul.pdf")},
        content_type="multipart/form-data")
    assert resp.status_code == 302
    wdm.post(f"/training/{tid}/registration", {"open": "1"})
    tr = _training(db, tid)
    assert tr.registration_open and tr.third_party_status == "confirmed"
    assert tr.checklist[0].done

    # -- invitations and registration within the capacity of 3 ---------------------------
    people = {"ani": "ani@univ.example.ac.id", "budi": "budi@univ.example.ac.id",
              "citra": "citra@univ.example.ac.id"}
    for name, address in people.items():
        resp = wdm.post(f"/training/{tid}/invite", {
            "name": f"{name.title()} Lestari", "email": address, "kind": "staff",
            "identifier": f"19800{len(name)}", "unit": "Fakultas Teknik"})
        assert resp.status_code == 302
    deliver()
    smtp_server.wait_for(4)
    tokens = {n: _link_in(smtp_server, a, "Undangan") for n, a in people.items()} \
        if any("Undangan" in m.subject for m in smtp_server.messages) else \
        {n: _link_in(smtp_server, a, "Invitation") for n, a in people.items()}

    guest.post(f"/training/p/{tokens['ani']}/accept")
    guest.post(f"/training/p/{tokens['budi']}/accept")
    resp = peserta.post(f"/training/{tid}/join")  # a student signs up on the portal
    assert resp.status_code == 302
    guest.post(f"/training/p/{tokens['citra']}/accept")  # full: the waiting list
    assert _person(db, tid, people["citra"]).status == "waitlisted"
    guest.post(f"/training/p/{tokens['budi']}/decline")  # a seat frees; Citra moves up
    assert _person(db, tid, people["budi"]).status == "cancelled"
    assert _person(db, tid, people["citra"]).status == "registered"
    with db.session() as s:
        registered = s.scalar(select(func.count()).select_from(Participant).where(
            Participant.training_id == tid, Participant.status == "registered"))
    assert registered == 3

    # -- the reminder the day before -------------------------------------------------------
    before = len(smtp_server.messages)
    with db.transaction() as s:
        assert jobs.due_reminders(s, now=tr.starts_at - timedelta(hours=3)) == 3
        assert jobs.due_reminders(s, now=tr.starts_at - timedelta(hours=2)) == 0
    deliver()
    smtp_server.wait_for(before + 3)

    # -- pre-test from the personal page --------------------------------------------------
    peserta_page = peserta.get(f"/training/{tid}")
    my_link = re.search(r'href="https?://[^"]+/training/p/([^"]+)" id="my-page"',
                        peserta_page.get_data(as_text=True))
    assert my_link, "a registered user finds their page on the training"
    tokens["peserta"] = my_link.group(1)
    with db.session() as s:
        from plugins.training.quiz import questions

        qids = [q.id for q in questions(s, tid)]
    pre = {"ani": [True, False, False, False], "citra": [True, True, False, False],
           "peserta": [True, True, True, False]}
    for who, right in pre.items():
        resp = guest.post(f"/training/p/{tokens[who]}/test/pre", _answers(right, qids))
        assert resp.status_code == 302
    # The post-test is not open before the training.
    resp = guest.get(f"/training/p/{tokens['ani']}/test/post")
    assert resp.status_code == 302

    # -- the event: start, QR check-in (scanner and phone), by hand, supervision ---------
    wdm.post(f"/training/{tid}/workflow", {"action": "begin"})
    assert _training(db, tid).state == "held"
    ani, citra = _person(db, tid, people["ani"]), _person(db, tid, people["citra"])
    scanned = wdm.post_json(f"/training/{tid}/scan", {"code": checkin_url(ani.id, tid)})
    assert scanned.status_code == 200 and scanned.json["ok"] and scanned.json["attended"] == 1
    again = wdm.post_json(f"/training/{tid}/scan", {"code": checkin_url(ani.id, tid)})
    assert again.json["already"] is True
    pengawas = login("pengawas")  # a proctor at the door opens the code with a phone
    link = checkin_url(citra.id, tid).split("/training", 1)[1]
    confirm = pengawas.get("/training" + link)
    assert confirm.status_code == 200 and "Citra Lestari" in confirm.get_data(as_text=True)
    pengawas.post("/training" + link)
    peserta_person = _person(db, tid, mail_of("peserta"))
    wdm.post(f"/training/{tid}/participants/{peserta_person.id}/checkin")
    assert _person(db, tid, people["citra"]).checkin_method == "qr"
    assert _person(db, tid, mail_of("peserta")).checkin_method == "staff"
    wdm.post(f"/training/{tid}/notes", {"category": "problem",
                                        "text": "Proyektor mati 10 menit; diganti."})

    # -- post-test and evaluation -----------------------------------------------------------
    post = {"ani": [True, True, True, False], "citra": [True, True, True, True]}
    for who, right in post.items():
        guest.post(f"/training/p/{tokens[who]}/test/post", _answers(right, qids))
    ratings = {"ani": 4, "citra": 5}
    for who, value in ratings.items():
        resp = guest.post(f"/training/p/{tokens[who]}/feedback", {
            **{k: str(value) for k in ("content", "trainer", "materials", "facilities",
                                       "usefulness", "overall")},
            "liked": f"Praktik langsung ({who})", "improve": "Waktu kurang"})
        assert resp.status_code == 302
    evaluation = wdm.get(f"/training/{tid}/evaluation").get_data(as_text=True)
    assert 'id="overall">4.50<' in evaluation and 'id="gain">0.80<' in evaluation
    assert "chart.umd.min.js" in evaluation

    # -- documentation: photos, evaluation closed, the numbered report -------------------
    resp = wdm.post(f"/training/{tid}/files", {
        "kind": "photo", "title": "Sesi praktik",
        "files": (__import__("io").BytesIO(png_bytes((640, 480))), "sesi.png")},
        content_type="multipart/form-data")
    assert resp.status_code == 302
    wdm.post(f"/training/{tid}/workflow", {"action": "evaluate"})
    wdm.post(f"/training/{tid}/workflow", {"action": "document"})
    tr = _training(db, tid)
    assert tr.state == "documented"
    assert tr.report_number and re.fullmatch(r"LAP-DIKLAT-\d{3}/BPTI/\d{4}", tr.report_number)
    report = wdm.get(f"/training/{tid}/report.pdf")
    assert report.status_code == 200
    text = pdf_text(report.data)
    (ARTIFACTS / "training-report.pdf").write_bytes(report.data)  # for people to look at
    flat = " ".join(text.split())
    assert tr.report_number and tr.letter_number
    assert tr.report_number in flat and tr.letter_number in flat
    assert tr.title in flat and vendor in flat
    # attendance: 3 of 3 registered came, two by QR and one by staff
    assert "3 dari 3 (100%)" in flat or "3 of 3 (100%)" in flat
    for name in ("Ani Lestari", "Citra Lestari", user(db, "peserta").display_name):
        assert name in flat
    assert "Budi Lestari" not in flat  # withdrawn: counted, not listed
    assert "0 / 1" in flat
    # evaluation: 2 responses, average 4.50; comments printed
    assert "4.50" in flat and "Praktik langsung (ani)" in flat
    # learning gain of the two who took both tests: pre 37.5, post 87.5, <g> = 0.80
    assert "37.5" in flat and "87.5" in flat and "0.80" in flat
    assert "Proyektor mati 10 menit" in flat
    assert "modul.pdf" in flat

    # -- certificates with a QR code to the public verification page ---------------------
    wdm.post(f"/training/{tid}/certificates")
    from plugins.training.certificates import of_training

    with db.session() as s:
        certs = of_training(s, tid)
    assert len(certs) == 3
    verdict = guest.get(f"/verify/{certs[0].verify_code}")
    assert verdict.status_code == 200 and 'data-status="valid"' in verdict.get_data(
        as_text=True)
    mine = guest.get(f"/training/p/{tokens['ani']}/certificate.pdf")
    assert mine.status_code == 200 and "Ani Lestari" in pdf_text(mine.data)
    (ARTIFACTS / "training-certificate.pdf").write_bytes(mine.data)
