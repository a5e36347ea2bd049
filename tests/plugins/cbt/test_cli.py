"""``ruang cbt ...``: import with progress and JSON, dry run, export, template; atomicity."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from openpyxl import load_workbook

from plugins.cbt import bank as service
from plugins.cbt import formats
from tests.plugins.cbt.conftest import DATA


def test_import_prints_one_json_object_and_shows_progress(ruang_cli, db):
    out = ruang_cli("cbt", "import", str(DATA / "good.gift"), "--bank", "Geo", "--json")
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["imported"] == 11 and result["errors"] == []
    assert "importing" in out.stderr
    with db.session() as session:
        bank = service.bank_by_name(session, "Geo")
        assert bank is not None and len(service.list_items(session, bank)) == 11


def test_a_malformed_file_lists_errors_by_line_imports_the_rest_and_exits_1(ruang_cli):
    out = ruang_cli("cbt", "import", str(DATA / "malformed.aiken.txt"), "--bank", "Aiken",
                    "--format", "aiken", "--json")
    assert out.exit_code == 1
    result = json.loads(out.stdout)
    assert result["imported"] == 2
    assert [e["line"] for e in result["errors"]] == [9, 11, 17, 22, 24]
    assert result["errors"][0]["message"] == "ANSWER E names no option (options: A, B)"

    out = ruang_cli("cbt", "import", str(DATA / "malformed.gift"), "--bank", "Aiken")
    assert out.exit_code == 1
    assert "line 6: the answers opened with { are not closed with }" in out.output
    assert "2 item(s) imported into 'Aiken', 8 problem(s)" in out.output


def test_dry_run_stores_nothing(ruang_cli, db):
    out = ruang_cli("cbt", "import", str(DATA / "good.aiken.txt"), "--bank", "Kosong",
                    "--dry-run")
    assert out.exit_code == 0, out.output
    assert "3 item(s) can be imported, 0 problem(s) (dry run: nothing stored)" in out.output
    with db.session() as session:
        assert service.bank_by_name(session, "Kosong") is None


def test_export_gift_and_qti_and_the_template(ruang_cli, tmp_path):
    assert ruang_cli("cbt", "import", str(DATA / "good.gift"), "--bank", "Geo").exit_code == 0
    gift_file, qti_file = tmp_path / "geo.gift", tmp_path / "geo.zip"
    out = ruang_cli("cbt", "export", "--bank", "Geo", "--format", "gift", "-o", str(gift_file))
    assert out.exit_code == 0 and "11 item(s) of 'Geo'" in out.output
    assert "$CATEGORY: $course$/top/Geografi" in gift_file.read_text()
    out = ruang_cli("cbt", "export", "--bank", "Geo", "--format", "qti", "-o", str(qti_file))
    assert out.exit_code == 0, out.output
    with zipfile.ZipFile(qti_file) as zf:
        assert len([n for n in zf.namelist() if n.startswith("items/")]) == 11
    out = ruang_cli("cbt", "export", "--bank", "Nope", "--format", "qti", "-o", str(qti_file))
    assert out.exit_code != 0 and "no bank named 'Nope'" in out.output

    template = tmp_path / "t.xlsx"
    assert ruang_cli("cbt", "template", "-o", str(template)).exit_code == 0
    assert load_workbook(io.BytesIO(template.read_bytes())).sheetnames[0] == "Soal"

    out = ruang_cli("cbt", "banks")
    assert "Geo  (11 items)" in out.output


def test_an_import_interrupted_half_way_leaves_nothing_behind(db):
    report = formats.preview((DATA / "good.gift").read_bytes(), "gift")
    seen = []

    def progress(n: int) -> None:
        seen.append(n)
        if len(seen) == 5:
            raise KeyboardInterrupt  # the operator pressed Ctrl-C

    with pytest.raises(KeyboardInterrupt), db.transaction() as session:
        bank = service.create_bank(session, "Setengah")
        formats.import_items(session, bank, report, progress=progress)
    with db.session() as session:
        assert service.bank_by_name(session, "Setengah") is None
        from sqlalchemy import func, select

        from plugins.cbt.models import Item, ItemVersion

        assert session.scalar(select(func.count()).select_from(Item)) == 0
        assert session.scalar(select(func.count()).select_from(ItemVersion)) == 0
