"""The SQLite backup of docs/deploy.md, taken while a server writes, restores to an intact
instance. (The PostgreSQL dump and restore is checked in the two-node test.)"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import requests

from tests.conftest import DEMO_PASSWORDS
from tests.fixtures.databases import HINT
from tests.fixtures.servers import run_ruang

pytestmark = pytest.mark.live


def sign_in(base: str, username: str) -> None:
    s = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(base + "/login").text)
    assert token
    resp = s.post(base + "/login", data={"username": username,
                                          "password": DEMO_PASSWORDS[username],
                                          "csrf_token": token.group(1)},
                  allow_redirects=False)
    assert resp.status_code == 302


def audit_head(instance: Path) -> tuple[int, str]:
    out = run_ruang("audit", "verify", instance=instance).stdout
    m = re.search(r"intact: (\d+) entries, head ([0-9a-f]{64})", out)
    assert m, out
    return int(m.group(1)), m.group(2)


def test_sqlite_backup_while_the_server_writes_restores_intact(instance, live_server, tmp_path):
    sqlite3 = shutil.which("sqlite3")
    if sqlite3 is None:
        pytest.fail(f"sqlite3 is not installed (package sqlite3); {HINT}", pytrace=False)
    server = live_server(instance=instance)
    entries_before, _ = audit_head(instance)

    # Sign-ins write audited rows the whole time the backup runs.
    stop = threading.Event()
    signed_in = []

    def keep_writing() -> None:
        while not stop.is_set():
            sign_in(server.url, "yansi")
            signed_in.append(1)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(signed_in) < 3:
            stop.wait(0.05)
        backups = tmp_path / "backups"
        backups.mkdir()
        # The commands of docs/deploy.md, section 8.
        subprocess.run([sqlite3, str(instance / "ruang.db"),
                        f".backup '{backups / 'ruang.db'}'"], check=True, timeout=60)
        subprocess.run(["tar", "-C", str(instance.parent), "-czf",
                        str(backups / "instance.tar.gz"), "--exclude=instance/ruang.db*",
                        instance.name], check=True, timeout=60)
    finally:
        stop.set()
        writer.join()

    restored = tmp_path / "restore"
    restored.mkdir()
    subprocess.run(["tar", "-C", str(restored), "-xzpf", str(backups / "instance.tar.gz")],
                   check=True, timeout=60)
    folder = restored / instance.name
    assert not (folder / "ruang.db").exists()
    assert (folder / "secret_key").read_bytes() == (instance / "secret_key").read_bytes()
    assert (folder / "secret_key").stat().st_mode & 0o077 == 0
    shutil.copyfile(backups / "ruang.db", folder / "ruang.db")

    run_ruang("db", "upgrade", instance=folder)
    entries, head = audit_head(folder)
    assert entries > entries_before  # the sign-ins made before the copy are in it
    # The copy is the live chain as it was at that moment.
    live = subprocess.run([sqlite3, str(instance / "ruang.db"),
                           f"SELECT hash FROM audit_log ORDER BY id LIMIT 1 OFFSET {entries - 1}"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert live == head
