"""The lab plugin inside Ruang: switching it off and on, menu, dashboard, demo data, the
CLI and the API for the academic information system."""

from __future__ import annotations

from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select

from core.api import tokens
from core.rooms import service as rooms
from plugins.lab.models import LabRequest, Repair
from tests.plugins.lab.conftest import lab, user


def test_disabled_plugin_answers_404_and_keeps_its_data(login, app, db):
    admin = login("admin")
    assert admin.get("/lab/").status_code == 200
    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(LabRequest))
    admin.post("/admin/plugins/lab", {"action": "disable"})
    host = app.extensions["ruang"].plugins
    host.refresh(force=True)
    assert admin.get("/lab/").status_code == 404
    assert admin.get("/lab/calendar").status_code == 404
    dashboard = admin.get("/").get_data(as_text=True)
    assert "/lab/" not in dashboard
    # Without the lab plugin the core answers reservations from its registry alone.
    from datetime import UTC, datetime, timedelta

    from core.contracts import RoomRequest

    start = datetime(2032, 1, 5, 2, tzinfo=UTC)
    with db.transaction() as s:
        answer = rooms.reserve(s, RoomRequest(lab_id=lab(db).id, start=start,
                                              end=start + timedelta(hours=1), purpose="x",
                                              source="cbt", source_ref="cbt_session:5"))
    assert answer.granted and answer.reference.startswith("rooms:")
    admin.post("/admin/plugins/lab", {"action": "enable"})
    host.refresh(force=True)
    assert admin.get("/lab/").status_code == 200
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(LabRequest)) == before


def test_menu_and_dashboard_widgets_by_role(login):
    kabpti = login("kabpti").get("/").get_data(as_text=True)
    assert "/lab/requests" in kabpti  # the approval queue card
    yansi = login("yansi").get("/").get_data(as_text=True)
    assert "/lab/repairs" in yansi and "/lab/calendar" in yansi
    pemohon = login("pemohon").get("/").get_data(as_text=True)
    assert 'href="/lab/"' in pemohon and "/lab/request" in pemohon
    assert "/lab/repairs" not in pemohon
    peserta = login("peserta").get("/").get_data(as_text=True)
    assert 'href="/lab/"' not in peserta


def test_demo_data_is_idempotent(app, db):
    host = app.extensions["ruang"].plugins
    with db.session() as s:
        requests_before = s.scalar(select(func.count()).select_from(LabRequest))
        repairs_before = s.scalar(select(func.count()).select_from(Repair))
    assert requests_before and requests_before >= 3
    with db.transaction() as s:
        host.hook.ruang_demo_data(session=s)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(LabRequest)) == requests_before
        assert s.scalar(select(func.count()).select_from(Repair)) == repairs_before
        states = set(s.scalars(select(LabRequest.state)))
    assert {"ready", "submitted", "done"} <= states


def test_cli_imports_pcs_and_lists_requests(app, db, tmp_path):
    from plugins.lab.cli import lab as lab_cli

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["seat", "asset_number", "hostname"])
    sheet.append(["A1", "BPTI/CLI/001", "cli-pc01"])
    sheet.append(["A9", "BPTI/CLI/009", "cli-pc09"])
    path = tmp_path / "pcs.xlsx"
    book.save(path)
    with db.transaction() as s:
        rooms.create_lab(s, "LAB-CLI", "Lab CLI", 2, 2)
    runner = CliRunner()
    result = runner.invoke(lab_cli, ["import-pcs", "LAB-CLI", str(path)])
    assert result.exit_code == 1
    assert "1 new" in result.output and "line 3" in result.output
    listing = runner.invoke(lab_cli, ["requests", "--state", "submitted"])
    assert listing.exit_code == 0 and "LAB-" in listing.output


def test_api_lists_labs_and_busy_spans(app, db, client):
    with db.transaction() as s:
        created = tokens.create_token(s, user(db, "admin"), name="SIAKAD",
                                      scopes=["labs:read"])
    headers = {"Authorization": f"Bearer {created.secret}"}
    labs = client.get("/api/v1/lab/labs", headers=headers)
    assert labs.status_code == 200
    codes = {x["code"]: x for x in labs.get_json()["labs"]}
    assert codes["LAB-1"]["working_pcs"] == codes["LAB-1"]["seats"] - 1
    busy = client.get("/api/v1/lab/labs/LAB-1/busy", headers=headers, query_string={
        "start": "2020-01-01T00:00:00+07:00", "end": "2020-03-01T00:00:00+07:00"})
    assert busy.status_code == 200 and busy.get_json()["busy"] == []
    bad = client.get("/api/v1/lab/labs/LAB-1/busy", headers=headers,
                     query_string={"start": "kemarin", "end": "besok"})
    assert bad.status_code == 422
    assert client.get("/api/v1/lab/labs/NOPE/busy", headers=headers, query_string={
        "start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"}).status_code == 404


def test_indonesian_by_default_english_on_request(login):
    pemohon = login("pemohon")
    page = pemohon.get("/lab/request").get_data(as_text=True)
    assert "Cek ketersediaan" in page and "Ajukan permohonan" in page
    pemohon.client.set_cookie("ruang_lang", "en")
    english = pemohon.get("/lab/request").get_data(as_text=True)
    assert "Check availability" in english and "Submit request" in english
