"""Staff pages: banks, items with a live preview, imports with a dry run, exams, rosters."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from plugins.cbt import bank as service
from plugins.cbt import exams
from plugins.cbt.models import Bank, Exam
from tests.plugins.cbt import samples
from tests.plugins.cbt.conftest import DATA


@pytest.fixture
def staff(login):
    return login("wdm")


def _bank(db, name="Fisika"):
    with db.transaction() as session:
        return service.create_bank(session, name)


def test_only_staff_open_the_banks(login, guest):
    assert login("pemohon").get("/cbt/banks").status_code == 403
    assert login("peserta").get("/cbt/banks").status_code == 403
    assert guest.get("/cbt/banks").status_code in (302, 303)
    assert login("wdm").get("/cbt/banks").status_code == 200


def test_staff_create_a_bank_and_an_item_and_edit_it(staff, db):
    resp = staff.post("/cbt/banks", {"name": "Fisika Dasar", "description": "Semester 1"})
    assert resp.status_code == 302
    with db.session() as session:
        bank = service.bank_by_name(session, "Fisika Dasar")
    assert bank is not None
    page = staff.get(f"/cbt/banks/{bank.id}/items/new?type=single").get_data(as_text=True)
    assert 'name="choice_1"' in page and "katex" in page
    form = {"type": "single", "category": "Mekanika", "tags": "gaya, newton", "points": "2",
            "stem": "Satuan gaya adalah \\(N\\)?", "choice_1": "Newton", "choice_2": "Joule",
            "correct": "1", "feedback": "Hukum Newton."}
    resp = staff.post(f"/cbt/banks/{bank.id}/items/new", form)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with db.session() as session:
        (data,) = service.list_items(session, bank)
    assert data.key.weights == {"a": 1.0} and data.tags == ["gaya", "newton"]
    assert data.points == 2 and data.category == "Mekanika"

    page = staff.get(f"/cbt/items/{data.item_id}").get_data(as_text=True)
    assert "Satuan gaya adalah" in page and 'value="gaya, newton"' in page
    form.update({"choice_3": "Watt", "correct": "1"})
    resp = staff.post(f"/cbt/items/{data.item_id}", form)
    assert resp.status_code == 302
    with db.session() as session:
        (data,) = service.list_items(session, bank)
    assert [c.html for c in data.content.choices] == ["Newton", "Joule", "Watt"]
    assert data.number == 1  # nobody sat it yet: edited in place

    bad = dict(form, correct="")
    page = staff.post(f"/cbt/items/{data.item_id}", bad).get_data(as_text=True)
    assert "no option is marked correct" in page


def test_live_preview_shows_the_candidate_view_without_the_key(staff, db):
    bank = _bank(db)
    body = {"type": "multiple", "stem": '<p dir="rtl">اختر</p> \\(x^2\\)', "choice_1": "2",
            "choice_2": "3", "choice_3": "4", "correct": ["1", "2"]}
    out = staff.post_json(f"/cbt/banks/{bank.id}/preview", body).get_json()
    assert out["ok"] is True and out["errors"] == []
    assert 'dir="auto"' in out["html"] and "اختر" in out["html"] and "\\(x^2\\)" in out["html"]
    assert "cbt-correct" not in out["html"] and "cbt-correct" in out["key_html"]
    out = staff.post_json(f"/cbt/banks/{bank.id}/preview", dict(body, correct=[])).get_json()
    assert out["ok"] is False and out["errors"] == ["no option is marked correct"]
    assert "اختر" in out["html"]


def test_an_image_uploads_into_the_bank_and_shows_in_the_preview(staff, db):
    bank = _bank(db)
    resp = staff.client.post(f"/cbt/banks/{bank.id}/assets",
                             data={"file": (io.BytesIO(samples.PNG), "dot.png")},
                             headers={"X-CSRFToken": _csrf(staff)},
                             content_type="multipart/form-data")
    out = resp.get_json()
    assert out["ok"] is True and out["src"].startswith("cbt-asset:")
    image = staff.get(out["url"])
    assert image.status_code == 200 and image.data == samples.PNG
    assert image.mimetype == "image/png"
    body = {"type": "truefalse", "stem": f'Titik? <img src="{out["src"]}">', "truth": "true"}
    html = staff.post_json(f"/cbt/banks/{bank.id}/preview", body).get_json()["html"]
    assert f'src="{out["url"]}"' in html
    bad = staff.client.post(f"/cbt/banks/{bank.id}/assets",
                            data={"file": (io.BytesIO(b"<svg onload=x>"), "x.svg")},
                            headers={"X-CSRFToken": _csrf(staff)},
                            content_type="multipart/form-data")
    assert bad.status_code == 400 and "not PNG, JPEG, GIF or WebP" in bad.get_json()["error"]


def _csrf(b):
    if not b.csrf:
        b.get("/cbt/banks")
    return b.csrf


def test_import_shows_a_dry_run_then_imports_the_good_items(staff, db):
    bank = _bank(db)
    data = (DATA / "malformed.gift").read_bytes()
    page = staff.post(f"/cbt/banks/{bank.id}/import",
                      {"file": (io.BytesIO(data), "soal.gift"), "format": ""},
                      content_type="multipart/form-data").get_data(as_text=True)
    assert '<strong id="valid-count">2</strong>' in page
    assert "the answers opened with { are not closed with }" in page
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>', page)
    assert rows[:8] == ["4", "6", "8", "10", "12", "14", "18", "20"]
    with db.session() as session:
        assert service.list_items(session, bank) == []
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found is not None
    token = found.group(1)
    resp = staff.post(f"/cbt/banks/{bank.id}/import", {"token": token})
    assert resp.status_code == 302
    with db.session() as session:
        assert len(service.list_items(session, bank)) == 2
    again = staff.post(f"/cbt/banks/{bank.id}/import", {"token": token})
    assert again.status_code == 302  # the stash is gone: nothing is imported twice
    with db.session() as session:
        assert len(service.list_items(session, bank)) == 2
    # The stashed upload was sealed, never plain text on disk.
    export = staff.get(f"/cbt/banks/{bank.id}/export?format=gift")
    assert export.status_code == 200 and b"Ibu kota Indonesia" in export.data
    assert staff.get(f"/cbt/banks/{bank.id}/export?format=qti").mimetype == "application/zip"
    assert staff.get("/cbt/template.xlsx").data[:2] == b"PK"


def test_an_exam_is_built_published_and_gets_candidates_and_cards(staff, db):
    with db.transaction() as session:
        bank = service.create_bank(session, "UTS")
        fixed = service.create_item(session, bank, samples.single())
        for make in (samples.truefalse, samples.short, samples.numeric):
            service.create_item(session, bank, make())
    resp = staff.post("/cbt/exams", {"code": "uts-1", "title": "UTS Satu", "duration_min": "90",
                                     "shuffle_items": "1", "shuffle_options": "1"})
    assert resp.status_code == 302
    with db.session() as session:
        exam = exams.exam_by_code(session, "UTS-1")
        assert exam is not None
        cat_id = service.categories(session, session.get(Bank, bank.id))[0].id
    url = f"/cbt/exams/{exam.id}"
    staff.post(url, {"action": "section", "title": "Bagian A"})
    with db.session() as session:
        section_id = session.get(Exam, exam.id).sections[0].id
    staff.post(url, {"action": "fixed", "section": section_id, "item": fixed.id, "points": "3"})
    resp = staff.post(url, {"action": "draw", "section": section_id, "category": cat_id,
                            "count": "9"}, follow_redirects=True)
    assert "cannot draw 9" in resp.get_data(as_text=True)
    staff.post(url, {"action": "settings", "title": "UTS Satu", "duration_min": "100",
                     "opens_at": "2026-03-02T08:00", "closes_at": "2026-03-02T10:00",
                     "max_attempts": "1", "pass_mark": "60", "negative_marking": "25",
                     "show_score": "after_submit", "show_answers": "never",
                     "shuffle_items": "1", "instructions": "Kerjakan dengan jujur."})
    page = staff.post(url, {"action": "publish"}, follow_redirects=True).get_data(as_text=True)
    assert "UTS Satu" in page
    with db.session() as session:
        stored = session.get(Exam, exam.id)
        assert stored.status == "published" and stored.duration_min == 100
        assert stored.negative_marking == 0.25 and not stored.shuffle_options
        assert stored.opens_at.hour == 1  # 08:00 in Jakarta is 01:00 UTC
    paper = staff.get(f"/cbt/exams/{exam.id}/paper").get_data(as_text=True)
    assert "Ibu kota Indonesia adalah?" in paper and "Kerjakan dengan jujur." in paper

    roster = "NIM,Nama,Kelas,Prodi\n2301,Ani,A,TI\n2302,Budi,A,TI\n,Tanpa,A,TI\n"
    page = staff.post(f"/cbt/exams/{exam.id}/candidates",
                      {"file": (io.BytesIO(roster.encode()), "peserta.csv")},
                      content_type="multipart/form-data").get_data(as_text=True)
    assert "NIM is empty" in page and "2 peserta ditambahkan." in page
    cards = staff.post(f"/cbt/exams/{exam.id}/cards", {})
    assert cards.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(cards.data)).pages[0].extract_text()
    assert "UTS-1-0001" in text and "Budi" in text
    again = staff.post(f"/cbt/exams/{exam.id}/cards", {}, follow_redirects=True)
    assert "sudah memiliki kartu login" in again.get_data(as_text=True)


def test_pages_speak_indonesian_by_default(staff, db):
    bank = _bank(db)
    page = staff.get("/cbt/banks").get_data(as_text=True)
    assert "Bank soal" in page and "Buat bank soal" in page
    page = staff.get(f"/cbt/banks/{bank.id}/items/new").get_data(as_text=True)
    assert "Pratinjau seperti yang dilihat peserta" in page and "Pilihan ganda kompleks" in page
    page = staff.get("/cbt/exams").get_data(as_text=True)
    assert "Buat ujian" in page
