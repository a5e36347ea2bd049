"""The smoke load test across two nodes:
``python -m loadtests --profile smoke --kiosks 20 --nodes 2 --database postgresql``.

The load test's own PostgreSQL and redis-server (started by ``loadtests/cluster.py`` from
the distribution's packages), two ``ruang serve`` nodes, 20 locust kiosks split between
them and every proctor on node 1: the start reaches node 2's kiosks through Redis only.
Integrity must be exact and every kiosk must see question 1, come back after the storm and
submit; latency targets are the report's business, not this test's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loadtests.cluster import pg_bindir
from tests.fixtures.databases import HINT
from tests.fixtures.servers import REPO_ROOT, clean_environ

pytestmark = [pytest.mark.slow, pytest.mark.live, pytest.mark.postgres]


def test_two_node_smoke_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    if pg_bindir() is None or shutil.which("redis-server") is None:
        message = f"PostgreSQL or redis-server is not installed; {HINT}"
        if os.environ.get("RUANG_TEST_NO_SERVICES") == "1":
            pytest.skip(message)
        pytest.fail(message, pytrace=False)
    out = tmp_path / "report"
    proc = subprocess.run(
        [sys.executable, "-m", "loadtests", "--profile", "smoke", "--kiosks", "20",
         "--nodes", "2", "--database", "postgresql", "--out", str(out)],
        cwd=REPO_ROOT, env=clean_environ(), capture_output=True, text=True, timeout=300,
        check=False)
    assert (out / "report.json").exists(), proc.stdout[-4000:] + proc.stderr[-4000:]
    report = json.loads((out / "report.json").read_text())
    context = json.dumps({k: report.get(k) for k in (
        "errors", "error_samples", "answers_sent", "answers_acked", "answers_stored",
        "duplicates", "lost", "mismatched", "kiosks_ready", "cluster")}, indent=1)

    assert report["cluster"]["nodes"] == 2 and report["cluster"]["database"] == "postgresql"
    assert report["cluster"]["kiosks_per_node"] == [10, 10], context
    assert report["kiosks_ready"] == 20 and report["errors"] == 0, context
    assert report["answers_sent"] > 100, context
    assert report["answers_stored"] == report["answers_acked"] == report["answers_sent"], context
    assert report["duplicates"] == 0 and report["lost"] == 0 and report["mismatched"] == 0
    assert report["state_mismatches"] == 0, context
    # The proctors on node 1 started node 2's kiosks too (through Redis).
    assert report["start"]["shown"] == 20 and report["start_fanout_ms"] is not None
    assert report["storm"]["recovered"] == 20, context
    assert report["submitted"] == report["attempts_submitted_db"] == 20
    assert all(cpu > 0 for cpu in report["cluster"]["node_cpu_s"]), context
    assert proc.returncode == 0, proc.stdout[-3000:]
    summary = (out / "summary.md").read_text()
    assert summary.startswith("# Cluster run: 2 nodes") and "| integrity |" in summary
