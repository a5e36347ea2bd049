"""Instance secrets (secret_key, master_key) are created once, whole, by whoever is first."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from core.config import instance_secret, write_secret_once
from tests.conftest import make_settings


def test_processes_starting_together_all_read_the_one_whole_key(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "instance")
    seen: list[bytes] = []
    gate = threading.Barrier(16)

    def start() -> None:
        gate.wait()
        seen.append(instance_secret(settings, "master_key"))

    threads = [threading.Thread(target=start) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    key = (settings.instance / "master_key").read_bytes()
    assert len(key) == 32 and seen == [key] * 16
    assert stat.S_IMODE((settings.instance / "master_key").stat().st_mode) == 0o600
    assert sorted(p.name for p in settings.instance.iterdir()) == ["master_key"]


def test_an_existing_secret_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "master_key.prev"
    assert write_secret_once(path, b"a" * 32) == b"a" * 32
    assert write_secret_once(path, b"b" * 32) == b"a" * 32
    assert path.read_bytes() == b"a" * 32
    assert [p.name for p in tmp_path.iterdir()] == ["master_key.prev"]
