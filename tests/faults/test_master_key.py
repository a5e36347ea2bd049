"""A node without the master key its database needs refuses to start, and never makes one.

Before, a node started on an instance folder without ``master_key`` created a new key,
sealed new content under it and could open none of the existing content; the other nodes
then could not open what it sealed.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from plugins.cbt import crypto
from tests.fixtures.servers import (
    REPO_ROOT,
    ServerFailed,
    clean_environ,
    free_port,
    ruang_command,
)


def seal_something(db) -> bytes:
    with db.transaction() as session:
        key = crypto.new_data_key(session, "bank:test")
        return crypto.seal(session, key.id, "t", 1, "f", b"soal rahasia")


def test_keyring_refuses_to_create_a_key_when_wrapped_keys_exist(app, db, settings):
    seal_something(db)
    key_id = crypto.master_key_id((settings.instance / "master_key").read_bytes())
    (settings.instance / "master_key").unlink()
    crypto._keyrings.clear()
    crypto._data_keys.clear()
    with pytest.raises(crypto.MasterKeyMissing) as exc, db.transaction() as session:
        crypto.new_data_key(session, "bank:other")
    message = str(exc.value)
    assert "master_key does not exist" in message and key_id in message
    assert "Copy master_key" in message
    assert not (settings.instance / "master_key").exists()


def test_an_empty_database_still_gets_its_first_key(app, db, settings):
    assert not (settings.instance / "master_key").exists()
    crypto.check_master_key(settings, db)  # nothing sealed yet: nothing to refuse
    seal_something(db)
    assert (settings.instance / "master_key").exists()


def serve_output(instance, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = clean_environ({"RUANG_INSTANCE": str(instance), "RUANG_JOBS": "false"})
    return subprocess.run([*ruang_command(), "serve", "--port", str(free_port())],
                          cwd=REPO_ROOT, env=env, text=True, capture_output=True,
                          timeout=timeout, check=False)


def test_serve_refuses_to_start_without_the_master_key(app, db, settings, live_server):
    seal_something(db)
    (settings.instance / "master_key").unlink()
    server = live_server(instance=settings.instance, start=False)
    with pytest.raises(ServerFailed) as exc:
        server.start(timeout=40)
    assert "refusing to start" in str(exc.value)
    assert "master_key does not exist" in str(exc.value)
    assert not (settings.instance / "master_key").exists()


def test_serve_refuses_a_master_key_of_another_instance(app, db, settings):
    seal_something(db)
    path = settings.instance / "master_key"
    path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, os.urandom(32))
    os.close(fd)
    proc = serve_output(settings.instance)
    assert proc.returncode != 0
    assert "refusing to start" in proc.stderr and "belongs to another instance" in proc.stderr
