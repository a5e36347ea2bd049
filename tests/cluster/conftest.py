"""Two ``ruang serve`` nodes on one PostgreSQL database, joined by Redis, with an exam ready.

``exam_cluster(env={...})`` copies a PostgreSQL database (on the distribution's PostgreSQL,
started by the test setup) that was migrated and seeded once per session with
:mod:`loadtests.seed` (an exam, a CBT session in one lab, four candidates seated on enrolled
kiosks, the demo proctor) and starts two nodes on it with ``RUANG_MESSAGE_QUEUE`` on the
``redis_url`` fixture's real redis-server, both running the background jobs as an
operator's nodes do. Clients talk to the nodes directly (no proxy): a test decides which
node each kiosk and the proctor use, and where a kiosk goes when its node dies.

Like tests/deploy, these fixtures FAIL when PostgreSQL or redis-server is missing (the
project's ``./scripts/test`` installs them) unless ``RUANG_TEST_NO_SERVICES=1`` asks for a
skip.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from tests.fixtures.databases import PostgresServer
from tests.fixtures.servers import REPO_ROOT, LiveServer, clean_environ, run_ruang

CSRF_RE = re.compile(r'name="csrf[-_]token"\s+(?:content|value)="([^"]+)"')


def psql_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def side_by_side(*jobs: Callable[[], object]) -> None:
    """Run ``jobs`` in threads and wait for all; the first failure is raised here."""
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        try:
            job()
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


class Proctor:
    """The demo proctor in a browser signed in on one node."""

    def __init__(self, node: LiveServer, username: str, password: str) -> None:
        self.base = node.url
        self.http = requests.Session()
        self.http.trust_env = False
        page = self.http.get(self.base + "/login", timeout=10)
        resp = self.http.post(self.base + "/login", allow_redirects=False, timeout=30, data={
            "username": username, "password": password, "csrf_token": self._csrf(page.text)})
        assert resp.status_code == 302, resp.text[:500]
        self.csrf = ""

    @staticmethod
    def _csrf(html: str) -> str:
        found = CSRF_RE.search(html)
        assert found, html[:1000]
        return found.group(1)

    def room(self, session_id: int) -> None:
        page = self.http.get(f"{self.base}/cbt/exam-rooms/{session_id}", timeout=10)
        assert page.status_code == 200, page.text[:500]
        self.csrf = self._csrf(page.text)

    def start(self, session_id: int) -> None:
        self.room(session_id)
        resp = self.http.post(f"{self.base}/cbt/exam-rooms/{session_id}/start",
                              data={"csrf_token": self.csrf}, allow_redirects=False, timeout=30)
        assert resp.status_code in (302, 303), resp.text[:500]

    def act(self, session_id: int, **body: Any) -> dict[str, Any]:
        self.room(session_id)
        resp = self.http.post(f"{self.base}/cbt/exam-rooms/{session_id}/actions", json=body,
                              headers={"X-CSRFToken": self.csrf}, timeout=30)
        assert resp.status_code == 200, resp.text[:500]
        data: dict[str, Any] = resp.json()
        return data


@dataclass
class ExamCluster:
    instance: Path
    database_url: str
    nodes: list[LiveServer]
    seed: dict[str, Any]

    @property
    def session_id(self) -> int:
        return int(self.seed["sessions"][0]["id"])

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(psql_url(self.database_url)) as conn:
            return list(conn.execute(query, params).fetchall())

    def proctor(self, node: LiveServer) -> Proctor:
        who = self.seed["proctor"]
        return Proctor(node, who["username"], who["password"])


def seed_exam(instance: Path, database_url: str, kiosks: int, items: int) -> dict[str, Any]:
    """:mod:`loadtests.seed` against PostgreSQL: one lab, ``kiosks`` candidates seated."""
    out = instance / "seed.json"
    env = clean_environ({"RUANG_INSTANCE": str(instance), "RUANG_DATABASE_URL": database_url,
                         "RUANG_JOBS": "false", "RUANG_ASYNC_MODE": "threading"})
    proc = subprocess.run(
        [sys.executable, "-m", "loadtests.cluster", "seed", "--instance", str(instance),
         "--kiosks", str(kiosks), "--lab-seats", "20", "--items", str(items),
         "--out", str(out)], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=180, check=False, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    seed: dict[str, Any] = json.loads(out.read_text())
    return seed


KIOSKS = 4
ITEMS = 10


@pytest.fixture(scope="session")
def seeded_template(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
                    ) -> tuple[Path, str, dict[str, Any]]:
    """An instance folder and a migrated, seeded PostgreSQL database that every test of
    the session copies (``CREATE DATABASE ... TEMPLATE``): migrating and seeding once."""
    instance = tmp_path_factory.mktemp("cluster") / "instance"
    url = postgres_server.create_database(f"cluster_{uuid.uuid4().hex[:8]}")
    run_ruang("db", "upgrade", instance=instance, env={"RUANG_DATABASE_URL": url})
    return instance, url, seed_exam(instance, url, KIOSKS, ITEMS)


@pytest.fixture
def exam_cluster(tmp_path: Path, postgres_server: PostgresServer,
                 seeded_template: tuple[Path, str, dict[str, Any]], redis_url: str,
                 live_server: Callable[..., LiveServer]) -> Iterator[Callable[..., ExamCluster]]:
    """A factory: ``exam_cluster(env=None)`` -> :class:`ExamCluster` with two nodes started
    on a fresh copy of the seeded database (``KIOSKS`` kiosks in one session)."""
    template_instance, template_url, seed = seeded_template
    made: list[str] = []

    def make(env: dict[str, str] | None = None) -> ExamCluster:
        instance = tmp_path / "instance"
        shutil.copytree(template_instance, instance)
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(postgres_server.url("postgres", "postgresql"),
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_url.rsplit("/", 1)[1]}"')
        url = postgres_server.url(name)
        made.append(url)
        node_env = {"RUANG_DATABASE_URL": url, "RUANG_MESSAGE_QUEUE": redis_url,
                    "RUANG_JOBS": "true", **(env or {})}
        nodes = [live_server(instance=instance, env=node_env, start=False) for _ in range(2)]
        side_by_side(*(node.start for node in nodes))
        return ExamCluster(instance, url, nodes, seed)

    try:
        yield make
    finally:
        for url in made:
            postgres_server.drop_database(url)
