"""The smoke load test, as CI runs it: ``python -m loadtests --profile smoke --kiosks 20``.

A real ``ruang serve`` on a fresh instance, 20 locust kiosks signing in, downloading their
encrypted papers, starting, answering, dropped all at once and reconnecting, saturating the
answer path and the acknowledge-only baseline, submitting. The integrity figures must be
exact; the latency targets are the load test's report, not this test's business (they
depend on what else the machine runs).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.servers import REPO_ROOT, clean_environ

pytestmark = [pytest.mark.slow, pytest.mark.live]


def test_smoke_profile_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    out = tmp_path / "report"
    proc = subprocess.run(
        [sys.executable, "-m", "loadtests", "--profile", "smoke", "--kiosks", "20",
         "--out", str(out)],
        cwd=REPO_ROOT, env=clean_environ(), capture_output=True, text=True, timeout=240,
        check=False)
    assert (out / "report.json").exists(), proc.stdout[-4000:] + proc.stderr[-4000:]
    report = json.loads((out / "report.json").read_text())
    context = json.dumps({k: report.get(k) for k in (
        "errors", "error_samples", "answers_sent", "answers_acked", "answers_stored",
        "duplicates", "lost", "mismatched", "kiosks_ready")}, indent=1)

    assert report["profile"] == "smoke" and report["kiosks"] == 20, context
    assert report["kiosks_ready"] == 20, context
    assert report["errors"] == 0, context
    assert report["answers_sent"] > 100, context
    assert report["answers_stored"] == report["answers_acked"] == report["answers_sent"], context
    assert report["duplicates"] == 0 and report["lost"] == 0 and report["mismatched"] == 0
    assert report["state_mismatches"] == 0, context
    # Every kiosk saw question 1, came back after the storm, and submitted.
    assert report["start"]["shown"] == 20 and report["start_fanout_ms"] is not None
    assert report["storm"]["recovered"] == 20 and report["storm_recovery_s"] is not None
    assert report["submitted"] == report["attempts_submitted_db"] == 20
    # Both saturation phases ran, so the report can give the ratio.
    assert report["answer_ack_per_s"] and report["baseline_ack_per_s"]
    for key in ("ack_ms", "server_cpu_s", "server_peak_rss_mb"):
        assert report[key], key
    assert proc.returncode == 0, proc.stdout[-3000:]
    summary = (out / "summary.md").read_text()
    assert "answers stored (database)" in summary and "| integrity |" in summary
