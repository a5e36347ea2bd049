"""``ruang backup`` while candidates answer, ``ruang restore`` into a fresh instance.

The restored instance holds exactly the database of the backup's moment: the same answers
(every answer in it is identical to the live one, and every answer acknowledged before the
backup started is in it), the same audit chain (``ruang audit verify`` passes and its head
is the live chain's entry at that length), and its exam content opens with the restored
master key. A damaged or altered archive is refused with a message that says what is wrong,
and the instance it was meant to replace is left exactly as it was.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
import subprocess
import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from core.app import create_app
from plugins.cbt import exams
from plugins.cbt.models import Exam
from tests.conftest import make_settings
from tests.faults.kiosks import started_kiosks, wait_for
from tests.fixtures.servers import REPO_ROOT, clean_environ, ruang_command, run_ruang

pytestmark = [pytest.mark.live]


def ruang_fails(*args: str, instance: Path, env: dict[str, str] | None = None) -> str:
    merged = clean_environ({"RUANG_INSTANCE": str(instance), "RUANG_JOBS": "false",
                            **(env or {})})
    proc = subprocess.run([*ruang_command(), *args], cwd=REPO_ROOT, env=merged, text=True,
                          capture_output=True, timeout=120, check=False)
    assert proc.returncode != 0, proc.stdout
    return proc.stderr


def audit_head(instance: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    out = run_ruang("audit", "verify", instance=instance, env=env).stdout
    m = re.search(r"intact: (\d+) entries, head ([0-9a-f]{64}|-)", out)
    assert m, out
    return int(m.group(1)), m.group(2)


def answers(url: str) -> dict[tuple[int, int], tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT attempt_id, seq, position, value, flagged FROM cbt_answers")).all()
    finally:
        engine.dispose()
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def chain_hash_at(url: str, entries: int) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT hash FROM audit_log ORDER BY id LIMIT 1 "
                                         f"OFFSET {entries - 1}")).scalar())
    finally:
        engine.dispose()


def instructions_of(instance: Path, code: str, **overrides: Any) -> str:
    app = create_app(make_settings(instance, **overrides))
    r = app.extensions["ruang"]
    try:
        with app.app_context(), r.db.session() as session:
            exam = session.scalar(select(Exam).where(Exam.code == code))
            assert exam is not None
            return exams.instructions(session, exam)
    finally:
        r.db.dispose()


def backup_while_answering(db: Any, live_server: Any, instance: Path, out: Path,
                           env: dict[str, str] | None = None,
                           args: tuple[str, ...] = ()) -> tuple[set[tuple[int, int]], Path]:
    """Three kiosks answer as fast as they can while ``ruang backup`` runs."""
    server = live_server(instance=instance, env=env)
    _room, kiosks = started_kiosks(db, server.url, 3)
    stop = threading.Event()

    def answer(k: Any) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            k.type(1 + n % 7, None, flagged=n % 2 == 0)
            k.flush()

    threads = [threading.Thread(target=answer, args=(k,), daemon=True) for k in kiosks]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: all(len(k.acked) >= 20 for k in kiosks), what="answers acknowledged")
        before = {(k.attempt, seq) for k in kiosks for seq in list(k.acked)}
        out.mkdir()
        result = run_ruang("backup", str(out), *args, instance=instance, env=env)
        wait_for(lambda: all(len(k.acked) >= 60 for k in kiosks), what="answers after")
    finally:
        stop.set()
        for t in threads:
            t.join(5)
    assert "backup written" in result.stdout
    archives = list(out.glob("ruang-*.tar.gz"))
    assert len(archives) == 1
    if "--without-key" not in args:
        assert "holds the MASTER KEY" in result.stderr
    return before, archives[0]


def test_backup_while_answering_restores_into_a_fresh_instance(db, live_server, instance,
                                                               tmp_path):
    before, archive = backup_while_answering(db, live_server, instance, tmp_path / "bk")
    assert archive.stat().st_mode & 0o077 == 0  # it holds the key: owner only

    fresh = tmp_path / "fresh"
    out = run_ruang("restore", "--yes", str(archive), instance=fresh)
    assert "restored the backup" in out.stdout
    entries, head = audit_head(fresh)
    live_url = f"sqlite:///{instance / 'ruang.db'}"
    assert chain_hash_at(live_url, entries) == head  # the live chain at that moment

    restored = answers(f"sqlite:///{fresh / 'ruang.db'}")
    live = answers(live_url)
    assert before <= set(restored), "an answer acknowledged before the backup is missing"
    assert len(live) > len(restored)  # the kiosks went on answering after the copy
    for key, row in restored.items():
        assert live[key] == row
    assert (fresh / "secret_key").read_bytes() == (instance / "secret_key").read_bytes()
    assert (fresh / "master_key").stat().st_mode & 0o077 == 0
    assert instructions_of(fresh, "UJI-KIOSK") == "<p>Kerjakan dengan jujur.</p>"


def test_a_damaged_or_altered_archive_is_refused_and_changes_nothing(db, instance, tmp_path):
    from tests.plugins.cbt.delivery.conftest import exam_room

    exam_room(db, 1)
    bk = tmp_path / "bk"
    bk.mkdir()
    run_ruang("backup", str(bk / "good.tar.gz"), instance=instance)
    good = bk / "good.tar.gz"

    target = tmp_path / "target"
    run_ruang("restore", "--yes", str(good), instance=target)
    run_ruang("audit", "verify", instance=target)

    def fingerprint() -> dict[str, str]:
        return {p.relative_to(target).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(target.rglob("*")) if p.is_file()}

    state = fingerprint()

    # 1. Bytes damaged in the middle of the file.
    data = bytearray(good.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0xFF
    damaged = bk / "damaged.tar.gz"
    damaged.write_bytes(bytes(data))
    err = ruang_fails("restore", "--yes", str(damaged), instance=target)
    # gzip's own check or the manifest's checksum catches it, whichever comes first.
    assert "restore refused" in err and "damaged" in err, err

    # 2. Cut short.
    short = bk / "short.tar.gz"
    short.write_bytes(good.read_bytes()[: len(data) // 3])
    err = ruang_fails("restore", "--yes", str(short), instance=target)
    assert "restore refused" in err and "damaged" in err, err

    # 3. A valid archive whose database was altered after the manifest was written.
    altered = bk / "altered.tar.gz"
    with tarfile.open(good, "r:gz") as src, tarfile.open(altered, "w:gz") as dst:
        for info in src:
            fh = src.extractfile(info)
            assert fh is not None
            content = fh.read()
            if info.name == "database/ruang.db":
                content = content.replace(b"Kerjakan", b"Kerjakxn") + b"\0"
                info.size = len(content)
            dst.addfile(info, io.BytesIO(content))
    err = ruang_fails("restore", "--yes", str(altered), instance=target)
    assert "checksum mismatch for database/ruang.db" in err, err

    # 4. Not a backup at all.
    other = bk / "other.tar.gz"
    other.write_bytes(gzip.compress(b"hello"))
    err = ruang_fails("restore", "--yes", str(other), instance=target)
    assert "restore refused" in err, err

    assert fingerprint() == state
    assert not list(tmp_path.glob("target.before-restore-*"))
    run_ruang("audit", "verify", instance=target)


def test_backup_without_key_needs_the_key_to_restore(db, instance, tmp_path):
    from tests.plugins.cbt.delivery.conftest import exam_room

    exam_room(db, 1)
    bk = tmp_path / "bk"
    bk.mkdir()
    out = run_ruang("backup", "--without-key", str(bk), instance=instance)
    assert "MASTER KEY" not in out.stderr and "NOT in it" in out.stderr
    archive = next(bk.glob("*.tar.gz"))
    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
        fh = tar.extractfile("manifest.json")
        assert fh is not None
        manifest = json.loads(fh.read())
    assert "files/master_key" not in names and "files/secret_key" in names
    assert manifest["includes_key"] is False and manifest["master_key_id"]

    fresh = tmp_path / "fresh"
    err = ruang_fails("restore", "--yes", str(archive), instance=fresh)
    assert "holds no master key" in err and manifest["master_key_id"] in err, err
    shutil.copy2(instance / "master_key", fresh / "master_key")
    run_ruang("restore", "--yes", str(archive), instance=fresh)
    run_ruang("audit", "verify", instance=fresh)
    assert instructions_of(fresh, "UJI-KIOSK") == "<p>Kerjakan dengan jujur.</p>"


@pytest.mark.postgres
def test_postgres_backup_while_answering_restores_into_a_fresh_database(
        live_server, postgres_server, tmp_path):
    source_url = postgres_server.create_database()
    target_url = postgres_server.create_database()
    source = tmp_path / "source"
    env = {"RUANG_DATABASE_URL": source_url}
    run_ruang("db", "upgrade", instance=source, env=env)
    run_ruang("demo", instance=source, env=env)
    app = create_app(make_settings(source, database_url=source_url))
    r = app.extensions["ruang"]
    try:
        with app.app_context():
            before, archive = backup_while_answering(r.db, live_server, source,
                                                     tmp_path / "bk", env=env)
    finally:
        r.db.dispose()

    fresh = tmp_path / "fresh"
    target_env = {"RUANG_DATABASE_URL": target_url}
    run_ruang("restore", "--yes", str(archive), instance=fresh, env=target_env)
    entries, head = audit_head(fresh, env=target_env)
    assert chain_hash_at(source_url, entries) == head
    restored, live = answers(target_url), answers(source_url)
    assert before <= set(restored)
    assert len(live) > len(restored)
    for key, row in restored.items():
        assert live[key] == row
    assert instructions_of(fresh, "UJI-KIOSK", database_url=target_url) == \
        "<p>Kerjakan dengan jujur.</p>"

    # A PostgreSQL archive cannot go into a SQLite instance.
    err = ruang_fails("restore", "--yes", str(archive), instance=tmp_path / "sqlite")
    assert "holds a postgresql database but this instance uses sqlite" in err, err
