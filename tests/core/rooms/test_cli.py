"""``ruang rooms ...`` on the test instance, in-process."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from core.rooms import kiosks, service
from core.rooms.models import Kiosk
from tests.conftest import point_cli_at


@pytest.fixture
def ruang_cli(instance, monkeypatch) -> Iterator:
    from core.cli import cli

    point_cli_at(instance, monkeypatch)
    cli._app = None

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args))

    try:
        yield run
    finally:
        cli._app = None


def test_operator_adds_a_lab_shows_a_code_and_manages_pcs_and_kiosks(ruang_cli, db, guest):
    out = ruang_cli("rooms", "add", "lab-5", "Lab Jaringan", "--rows", "2", "--cols", "3")
    assert out.exit_code == 0, out.output
    assert "lab LAB-5 added with 6 seats (A1..B3)" in out.output
    out = ruang_cli("rooms", "add", "LAB-5", "Lagi", "--rows", "2", "--cols", "3")
    assert out.exit_code != 0 and "already exists" in out.output

    out = ruang_cli("rooms", "list")
    assert out.exit_code == 0
    line = next(ln for ln in out.output.splitlines() if ln.startswith("LAB-1 "))
    assert "5x8" in line and " 40 " in line and " 39 " in line and "Lab Komputer 1" in line

    out = ruang_cli("rooms", "device", "LAB-1", "a1", "faulty", "--reason", "mati total")
    assert out.exit_code == 0, out.output
    assert "LAB-1 A1: PC is faulty" in out.output
    with db.session() as session:
        lab = service.lab_by_code(session, "LAB-1")
        assert lab is not None
        assert "A1" not in [s.label for s in service.working_seats(session, lab.id)]
    assert ruang_cli("rooms", "device", "LAB-1", "Z9", "faulty").exit_code != 0

    out = ruang_cli("rooms", "code", "LAB-1")
    assert out.exit_code == 0, out.output
    shown = re.search(r"enrolment code for LAB-1: (\w{6})", out.output)
    assert shown is not None, out.output
    code = shown.group(1)
    enrolled = guest.post_json("/kiosk/enrol", {"code": code, "seat": "B1"}).json
    out = ruang_cli("rooms", "kiosks", "LAB-1")
    assert re.search(rf"\s{enrolled['kiosk']['id']} B1\s+online", out.output), out.output

    out = ruang_cli("rooms", "revoke", str(enrolled["kiosk"]["id"]), "--reason", "uji")
    assert out.exit_code == 0 and "revoked" in out.output
    with db.session() as session:
        assert session.get(Kiosk, enrolled["kiosk"]["id"]).revoked_at is not None
        assert kiosks.authenticate_token(session, enrolled["token"]) is None
    assert ruang_cli("rooms", "revoke", "99999").exit_code != 0
