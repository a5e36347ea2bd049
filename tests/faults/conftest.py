"""Fault tests: servers of their own (PostgreSQL, Redis) that a test may stop and start.

The session's PostgreSQL and Redis are shared by every test; a test that restarts one
uses a private one instead, so nothing else sees the fault.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.databases import PostgresServer, RedisServer, _missing, pg_bindir
from tests.fixtures.servers import run_ruang

TEMPLATE_DB = "ruang_fault_template"


@pytest.fixture(scope="session")
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A PostgreSQL of the fault tests alone (they restart it), with a template database
    migrated and filled with the demo data once, cloned for each test."""
    bindir = pg_bindir()
    if bindir is None:
        _missing("PostgreSQL (/usr/lib/postgresql/*/bin/initdb, package postgresql)")
    assert bindir is not None
    server = PostgresServer(bindir)
    try:
        server.start()
        url = server.create_database(TEMPLATE_DB)
        folder = tmp_path_factory.mktemp("pg-template") / "instance"
        env = {"RUANG_DATABASE_URL": url}
        run_ruang("db", "upgrade", instance=folder, env=env)
        run_ruang("demo", instance=folder, env=env)
        server.template_folder = folder  # type: ignore[attr-defined]
        yield server
    finally:
        server.stop()


@dataclass
class PgInstance:
    folder: Path
    url: str

    @property
    def env(self) -> dict[str, str]:
        return {"RUANG_DATABASE_URL": self.url}

    @contextmanager
    def app_db(self) -> Iterator[Any]:
        """The instance's database, in process, inside an app context."""
        from core.app import create_app
        from tests.conftest import make_settings

        app = create_app(make_settings(self.folder, database_url=self.url))
        db = app.extensions["ruang"].db
        try:
            with app.app_context():
                yield db
        finally:
            db.dispose()


@pytest.fixture
def pg_instance(own_postgres: PostgresServer, tmp_path: Path) -> PgInstance:
    """A migrated demo instance on the fault tests' PostgreSQL (a clone of the template)."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(own_postgres.url("postgres", "postgresql"), autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    folder = tmp_path / "instance"
    shutil.copytree(own_postgres.template_folder, folder)  # type: ignore[attr-defined]
    return PgInstance(folder, own_postgres.url(name))


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    exe = shutil.which("redis-server")
    if exe is None:
        _missing("redis-server (package redis-server)")
    assert exe is not None
    server = RedisServer(exe)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def restart_redis(server: RedisServer, down_s: float) -> None:
    """Stop redis-server (as ``systemctl restart`` does), wait, start it on the same port."""
    import time

    assert server.proc is not None
    server.proc.terminate()
    server.proc.wait(10)
    time.sleep(down_s)
    server.start()
