"""The load test's count of answers in the database: lost, duplicated and altered answers
are found, and the targets are judged from the figures (no server needed)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from loadtests.profiles import PROFILES
from loadtests.report import build, count_answers, summary


def _db(path: Path, rows: list[tuple[int, int, int, object, bool, str]]) -> Path:
    con = sqlite3.connect(path)
    # The columns the count reads; no unique index, so a duplicate can be planted.
    con.execute("CREATE TABLE cbt_answers (id INTEGER PRIMARY KEY, attempt_id INTEGER, "
                "seq INTEGER, position INTEGER, value JSON, flagged BOOLEAN, at TEXT)")
    con.execute("CREATE TABLE cbt_delivery_attempts (attempt_id INTEGER, state TEXT)")
    con.executemany("INSERT INTO cbt_answers (attempt_id, seq, position, value, flagged, at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(a, s, q, json.dumps(v), f, at) for a, s, q, v, f, at in rows])
    con.execute("INSERT INTO cbt_delivery_attempts VALUES (7, 'submitted')")
    con.commit()
    con.close()
    return path


SENT = [{"attempt": 7, "sent": {"1": [3, 2, False], "2": [4, None, True], "3": [3, 1, False]},
         "acked": [1, 2, 3]}]


def test_exact_answers_count_as_stored_once(tmp_path):
    db = _db(tmp_path / "a.db", [(7, 1, 3, 2, False, "t1"), (7, 2, 4, None, True, "t1"),
                                 (7, 3, 3, 1, False, "t2"), (99, 1, 1, 0, False, "t2")])
    counted = count_answers(db, SENT)
    assert counted["answers_stored"] == 3  # attempt 99 is not this run's
    assert counted["duplicates"] == counted["lost"] == counted["mismatched"] == 0
    assert counted["attempts_submitted_db"] == 1
    # One timestamp per write transaction: two transactions of two rows each.
    assert counted["answer_transactions"]["count"] == 2
    assert counted["answer_transactions"]["max_answers"] == 2


def test_lost_duplicated_and_altered_answers_are_found(tmp_path):
    db = _db(tmp_path / "b.db", [(7, 1, 3, 2, False, "t1"), (7, 1, 3, 2, False, "t2"),
                                 (7, 3, 3, 0, False, "t3"), (7, 9, 1, 1, False, "t3")])
    counted = count_answers(db, SENT)
    assert counted["lost"] == 1  # seq 2 was acknowledged and is not there
    assert counted["duplicates"] == 2  # seq 1 twice, and seq 9 that nobody sent
    assert counted["mismatched"] == 1  # seq 3 stored with another value


def test_report_judges_the_targets(tmp_path):
    driver = {"answers_sent": 3, "answers_acked": 3, "errors": 0,
              "ack_ms": {"p50": 3.0, "p95": 9.0, "p99": 61.0, "max": 80.0},
              "start": {"fanout_ms": 900.0, "not_shown": 0, "shown": 20},
              "saturation": {"answers": {"per_s": 400.0, "kiosks": 20, "seconds": 5.0,
                                         "rtt_ms": {"p99": 30.0}, "client_core_use": 0.2},
                             "baseline": {"per_s": 1000.0, "kiosks": 20, "seconds": 5.0,
                                          "rtt_ms": {"p99": 20.0}, "client_core_use": 0.3}}}
    db = {"answers_stored": 3, "duplicates": 0, "lost": 0, "mismatched": 0}
    server = {"cpu_s": 12.0, "peak_rss_mb": 300.0}
    report = build(PROFILES["smoke"], "gevent", driver, db, server, "python -m loadtests")
    targets = report["targets"]
    assert targets["integrity"]["met"] is True
    assert targets["ack_p99_ms"]["met"] is False and targets["ack_p99_ms"]["value"] == 61.0
    assert targets["start_fanout_ms"]["met"] is True
    assert targets["storm_recovery_s"]["met"] is None  # no storm in this run
    assert report["answer_to_baseline"] == 0.4 and targets["answer_to_baseline"]["met"] is False
    text = summary([report])
    assert "| ack_p99_ms | 50.0 | 61.0 (**MISSED**) |" in text
    assert "| answers stored (database) | 3 |" in text


@pytest.mark.parametrize("bad", ["DB_POOL_SIZE=4", "RUANG_DB_POOL_SIZE"])
def test_a_server_setting_that_is_not_ruang_name_value_is_refused(bad, capsys):
    from loadtests import cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(["--profile", "smoke", "--out", "/nonexistent", "--server-env", bad])
    assert exit_.value.code == 2
    assert f"--server-env {bad!r}: expected RUANG_NAME=VALUE" in capsys.readouterr().err
