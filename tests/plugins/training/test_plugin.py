"""The training plugin inside Ruang: switched off it disappears everywhere (pages, menu,
dashboard, calendar, third parties, jobs, command line) and its data waits for it; menu
and dashboard by role; demo data; the yearly summary and its exports; the CLI."""

from __future__ import annotations

import io
from datetime import timedelta

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import func, select

from core import calendar, directory
from plugins.training import certificates, participants, service
from plugins.training.cli import training as training_cli
from plugins.training.models import MODELS, Participant, Training
from plugins.training.tokens import page_token
from tests.plugins.training.conftest import at, build, day_ahead, user


def _counts(db) -> dict[str, int]:
    with db.session() as s:
        return {str(getattr(m, "__tablename__")): int(
            s.scalar(select(func.count()).select_from(m)) or 0) for m in MODELS}


def test_disabled_plugin_is_hidden_everywhere_and_keeps_its_data(app, db, login, guest):
    tid = build(db, state="held", people=2)
    with db.transaction() as s:
        tr = service.get(s, tid)
        person = participants.of_training(s, tid)[0]
        participants.check_in(s, tr, person, user(db, "wdm"))
        cert = certificates.issue(s, tr, person, user(db, "wdm"))
        code, pid = cert.verify_code, person.id
    token = page_token(pid, tid)
    admin, wdm = login("admin"), login("wdm")
    pages = ["/training/", f"/training/{tid}", f"/training/{tid}/participants",
             f"/training/{tid}/evaluation", "/training/summary", "/training/trainers"]
    for url in pages:
        assert wdm.get(url).status_code == 200, url
    old = guest.get(f"/training/verify/{code}")  # printed QR codes keep working
    assert old.status_code == 301 and old.headers["Location"].endswith(f"/verify/{code}")
    assert guest.get(f"/verify/{code}").status_code == 200
    assert guest.get(f"/training/p/{token}").status_code == 200
    dashboard = wdm.get("/").get_data(as_text=True)
    assert 'href="/training/"' in dashboard
    host = app.extensions["ruang"].plugins
    span = (at(day_ahead() - timedelta(days=2), 0), at(day_ahead() + timedelta(days=2), 0))
    with db.session() as s:
        assert any(i.source == "training" for i in calendar.items(s, *span, user=user(db, "wdm")))
        assert any(p.source == "training" for p in directory.third_parties(s, ""))
    before = _counts(db)

    admin.post("/admin/plugins/training", {"action": "disable"})
    host.refresh(force=True)
    assert not host.is_enabled("training")
    for url in pages:
        assert wdm.get(url).status_code == 404, url
    assert guest.get(f"/training/verify/{code}").status_code == 404
    # An issued certificate stays valid: the core's check does not depend on the plugin.
    assert 'data-status="valid"' in guest.get(f"/verify/{code}").get_data(as_text=True)
    assert guest.get(f"/training/p/{token}").status_code == 404
    dashboard = wdm.get("/").get_data(as_text=True)
    assert "/training/" not in dashboard
    with db.session() as s:
        assert not any(i.source == "training"
                       for i in calendar.items(s, *span, user=user(db, "wdm")))
        assert not any(p.source == "training" for p in directory.third_parties(s, ""))
    from core.jobs import registered_jobs

    assert not any(r.plugin == "training" for r in registered_jobs())
    assert _counts(db) == before

    admin.post("/admin/plugins/training", {"action": "enable"})
    host.refresh(force=True)
    for url in pages:
        assert wdm.get(url).status_code == 200, url
    assert guest.get(f"/training/verify/{code}").status_code == 301
    assert _counts(db) == before


def test_menu_and_dashboard_by_role(app, db, login):
    build(db, state="submitted")
    kabpti = login("kabpti").get("/").get_data(as_text=True)
    assert "Training proposals to approve" in kabpti or "Usulan Diklat" in kabpti
    assert 'href="/training/summary"' in kabpti
    wdm = login("wdm").get("/").get_data(as_text=True)
    assert 'href="/training/trainers"' in wdm and 'href="/training/"' in wdm
    peserta = login("peserta")
    page = peserta.get("/").get_data(as_text=True)
    assert 'href="/training/"' in page and "/training/trainers" not in page
    assert peserta.get("/training/trainers").status_code == 403
    assert peserta.get("/training/summary").status_code == 403
    # A demo training is open for registration; the student sees it, not the draft.
    listing = peserta.get("/training/").get_data(as_text=True)
    assert "Literasi Keamanan Siber" in listing and "Pelatihan SIAKAD" not in listing


def test_a_student_does_not_see_a_training_that_is_not_open(app, db, login):
    tid = build(db, state="preparation")
    peserta = login("peserta")
    assert peserta.get(f"/training/{tid}").status_code == 404
    assert peserta.get(f"/training/{tid}/participants").status_code == 403
    wdm = login("wdm")
    wdm.post(f"/training/{tid}/registration", {"open": "1"})
    assert peserta.get(f"/training/{tid}").status_code == 200


def test_demo_data_is_idempotent(app, db):
    before = _counts(db)
    assert before["training_trainings"] >= 2
    with db.transaction() as s:
        app.extensions["ruang"].plugins.hook.ruang_demo_data(session=s)
    assert _counts(db) == before


def test_yearly_summary_page_and_exports(app, db, login):
    tid = build(db, state="held", people=3)
    with db.transaction() as s:
        tr = service.get(s, tid)
        for p in participants.of_training(s, tid)[:2]:
            participants.check_in(s, tr, p, user(db, "wdm"))
        year = tr.starts_at.year
    kabpti = login("kabpti")
    page = kabpti.get(f"/training/summary?year={year}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="s-held">1<' in html
    assert 'id="s-participants">2<' in html and "training-summary-data" in html
    csv_text = kabpti.get(f"/training/summary.csv?year={year}").get_data(as_text=True)
    assert tr.title in csv_text and ",held," in csv_text
    book = load_workbook(io.BytesIO(kabpti.get(f"/training/summary.xlsx?year={year}").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "code" and any(r[1] == tr.title for r in rows[1:])
    assert kabpti.get("/training/summary?year=abc").status_code == 400
    assert kabpti.get("/training/summary?year=1800").status_code == 400


def test_cli_lists_imports_and_summarises(app, db, tmp_path):
    tid = build(db, state="preparation")
    runner = CliRunner()
    listed = runner.invoke(training_cli, ["list", "--state", "preparation"])
    assert listed.exit_code == 0 and f"DKL-{tid:04d}" in listed.output
    good = tmp_path / "peserta.csv"
    good.write_text("nama;email;jenis;nim;unit\nDewi;dewi@univ.example.ac.id;mahasiswa;"
                    "A11.2020.1;FT\nEko;eko@univ.example.ac.id;dosen;;FEB\n", encoding="utf-8")
    done = runner.invoke(training_cli, ["import", str(tid), str(good), "--register"])
    assert done.exit_code == 0, done.output
    assert "2 added" in done.output
    with db.session() as s:
        kinds = {p.email: (p.kind, p.status) for p in participants.of_training(s, tid)}
    assert kinds["dewi@univ.example.ac.id"] == ("student", "registered")
    assert kinds["eko@univ.example.ac.id"] == ("staff", "registered")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,email\nFajar,not-an-address\nX,x@univ.example.ac.id\n",
                   encoding="utf-8")
    refused = runner.invoke(training_cli, ["import", str(tid), str(bad)])
    assert refused.exit_code == 1
    assert "line 2" in refused.output and "line 3" in refused.output
    assert "nothing was imported" in refused.output
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Participant).where(
            Participant.training_id == tid)) == 2
    summary = runner.invoke(training_cli, ["summary", "--year",
                                      str(day_ahead().year)])
    assert summary.exit_code == 0 and "proposed" in summary.output
    missing = runner.invoke(training_cli, ["report", str(tid), "--out",
                                      str(tmp_path / "r.pdf")])
    assert missing.exit_code != 0 and "documented" in missing.output
    with db.session() as s:
        assert s.get(Training, tid) is not None
