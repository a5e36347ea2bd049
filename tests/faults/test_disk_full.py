"""The disk of a SQLite instance fills up mid-exam.

The instance folder lives on a small file system of its own (a tmpfs mounted for the test
when it may mount one, as root in CI; otherwise the server process gets a file-size limit,
RLIMIT_FSIZE, at the database's current size, which makes SQLite's writes fail the same
way). Kiosks keep answering while a file fills the disk: their answers are refused with
``unavailable`` and a message for the candidate, never acknowledged, and stay in the
outboxes; the server says why in its log. When space is back every kept answer is stored,
the database passes SQLite's integrity check and the audit chain is intact.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugins.cbt.delivery import tokens
from tests.faults.kiosks import OutboxKiosk, drain, keep_answering, wait_for
from tests.fixtures.servers import run_ruang
from tests.plugins.cbt.delivery.conftest import enrol, exam_room
from tests.plugins.cbt.delivery.pykiosk import PyKiosk

pytestmark = [pytest.mark.live, pytest.mark.slow]


@contextlib.contextmanager
def small_filesystem(size_mb: int) -> Iterator[Path | None]:
    """A tmpfs of ``size_mb`` MB, or None where this process may not mount one."""
    point = Path(tempfile.mkdtemp(prefix="ruang-small-fs-"))
    mounted = False
    # RUANG_TEST_NO_MOUNT=1 tries the other way (RLIMIT_FSIZE) on a machine that can mount.
    if os.geteuid() == 0 and shutil.which("mount") and not os.environ.get("RUANG_TEST_NO_MOUNT"):
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700",
                               "tmpfs", str(point)], capture_output=True, check=False)
        mounted = proc.returncode == 0
    try:
        yield point if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
        shutil.rmtree(point, ignore_errors=True)


def copy_instance(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("ruang.db*"))
    source = sqlite3.connect(src / "ruang.db")
    target = sqlite3.connect(dest / "ruang.db")
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def fill(folder: Path) -> Path:
    """Write a file until the file system is full."""
    filler = folder / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as fh:
        try:
            while True:
                fh.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    return filler


def integrity(db_file: Path) -> str:
    conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def stored(db_file: Path, attempt: int) -> set[int]:
    conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute(
            "SELECT seq FROM cbt_answers WHERE attempt_id = ?", (attempt,))}
    finally:
        conn.close()


def test_disk_full_refuses_answers_clearly_and_recovers(db, instance, live_server, tmp_path):
    room = exam_room(db, 2, duration_min=45)
    kiosk_tokens = {n: enrol(db, room.seats[n]) for n in room.numbers}
    token, _ = tokens.current(db, room.session_id)
    db.dispose()

    with small_filesystem(size_mb=int(sum(
            p.stat().st_size for p in instance.rglob("*") if p.is_file()) / 2**20) + 4) as fs:
        folder = (fs or tmp_path / "disk") / "instance"
        copy_instance(instance, folder)
        server = live_server(instance=folder)
        kiosks = []
        for number in room.numbers:
            pk = PyKiosk(server.url, kiosk_tokens[number])
            assert pk.sign_in(number, room.passwords[number])["ok"]
            pk.connect()
            assert pk.call("start", {"token": token})["ok"]
            kiosks.append(OutboxKiosk(pk))
        stop = threading.Event()
        threads = keep_answering(kiosks, stop, pause_s=0.05)
        try:
            wait_for(lambda: all(len(k.acked) >= 10 for k in kiosks), what="answers")
            if fs is not None:
                how = "tmpfs filled up"
                filler: Path | None = fill(fs)
            else:
                how = "RLIMIT_FSIZE at the files' current size"
                filler = None
                assert server.proc is not None
                biggest = max(p.stat().st_size for p in folder.glob("ruang.db*"))
                resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE,
                                 (biggest, resource.RLIM_INFINITY))
            wait_for(lambda: all(k.refusals for k in kiosks), timeout=30,
                     what="answers refused once the disk is full")
            acked_full = {k.attempt: len(k.acked) for k in kiosks}
            time.sleep(2.0)
            # While it is full nothing more is acknowledged; the changes wait.
            assert {k.attempt: len(k.acked) for k in kiosks} == acked_full
            assert all(len(k.outbox) >= 5 for k in kiosks)
            for r in (r for k in kiosks for r in k.refusals):
                assert r["error"] == "unavailable" and r.get("message"), r
            # The server's log says why (SQLite's own words; EFBIG under the file-size limit).
            reason = "database or disk is full" if fs is not None else "disk"
            assert reason in server.log(), server.log()[-3000:]

            if filler is not None:
                filler.unlink()
            else:
                assert server.proc is not None
                resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE,
                                 (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            wait_for(lambda: all(len(k.acked) > acked_full[k.attempt] + 10 for k in kiosks),
                     timeout=30, what="answers acknowledged again once space is back")
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        drain(kiosks)
        kept = sum(len(k.refusals) for k in kiosks)
        for k in kiosks:
            assert set(range(1, k.next_seq)) <= stored(folder / "ruang.db", k.attempt)
            k.kiosk.close()
        assert integrity(folder / "ruang.db") == "ok"
        server.stop()
        run_ruang("audit", "verify", instance=folder)
        assert integrity(folder / "ruang.db") == "ok"
        print(f"disk full ({how}): {kept} answers refused as unavailable and kept, all "
              "stored once space was back, integrity ok, audit chain intact")
