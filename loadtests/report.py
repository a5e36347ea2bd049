"""The report of a run: the database counted against what the kiosks sent, and the targets.

:func:`count_answers` reads ``cbt_answers`` of the seeded instance after the server has
stopped and compares it, row by row, with what every kiosk sent and had acknowledged:

* ``answers_stored``: rows for the run's attempts;
* ``lost``: acknowledged changes with no row (an acknowledged answer must never be lost);
* ``duplicates``: rows beyond one per (attempt, sequence number), plus rows the kiosks
  never sent (a re-sent change must be stored once);
* ``mismatched``: rows whose item, value or flag differ from what the kiosk sent.

:func:`build` assembles ``report.json``; :func:`summary` writes the readable
``summary.md``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from loadtests.metrics import percentiles
from loadtests.pauses import summary as pause_summary
from loadtests.profiles import TARGETS, Profile

INTEGRITY_KEYS = ("answers_sent", "answers_acked", "answers_stored", "duplicates", "lost",
                  "mismatched", "errors")


def count_answers(db_path: Path, attempts: list[dict[str, Any]]) -> dict[str, Any]:
    wanted = {int(a["attempt"]) for a in attempts}
    sent = {(int(a["attempt"]), int(s)): v for a in attempts for s, v in a["sent"].items()}
    acked = {(int(a["attempt"]), int(s)) for a in attempts for s in a["acked"]}
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT attempt_id, seq, position, value, flagged FROM cbt_answers"
                           ).fetchall()
        # The group commit writes one timestamp per transaction: rows per distinct ``at``
        # is the batch size the server achieved.
        batches = [n for (n,) in con.execute(
            "SELECT count(*) FROM cbt_answers GROUP BY at")]
        submitted = con.execute("SELECT count(*) FROM cbt_delivery_attempts "
                                "WHERE state = 'submitted'").fetchone()[0]
    finally:
        con.close()
    seen: dict[tuple[int, int], int] = {}
    mismatched = phantom = 0
    for attempt_id, seq, position, value, flagged in rows:
        if attempt_id not in wanted:
            continue
        key = (int(attempt_id), int(seq))
        seen[key] = seen.get(key, 0) + 1
        mine = sent.get(key)
        if mine is None:
            phantom += 1
            continue
        stored_value = json.loads(value) if isinstance(value, str) else value
        if [int(position), stored_value, bool(flagged)] != [mine[0], mine[1], bool(mine[2])]:
            mismatched += 1
    stored = sum(seen.values())
    return {
        "answers_stored": stored,
        "duplicates": sum(n - 1 for n in seen.values()) + phantom,
        "lost": len(acked - set(seen)),
        "stored_unacked": len(set(seen) - acked),
        "mismatched": mismatched,
        "attempts_submitted_db": int(submitted),
        "answer_transactions": {
            "count": len(batches),
            "mean_answers": round(sum(batches) / len(batches), 2) if batches else 0,
            "max_answers": max(batches, default=0),
            "single": sum(1 for n in batches if n == 1)},
    }


STALL_RE = re.compile(r"^LOOP-STALL (\d+) ms at ([\d.]+) \| (.*?) \| (.*)$", re.MULTILINE)
GC_RE = re.compile(r"^GC-PAUSE (\d+) ms at ([\d.]+) gen (\d)", re.MULTILINE)


def stall_reports(log: str, phases: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The server's ``LOOP-STALL`` lines (``--stall-ms``): how often and how long the event
    loop stood still, by the outermost Ruang frame that held it (the handler) and by the
    innermost one; with the run's ``phases``, also per phase and handler."""
    by_handler: Counter[str] = Counter()
    inner: Counter[str] = Counter()
    ms_by_handler: Counter[str] = Counter()
    by_phase: dict[str, Counter[str]] = {}
    durations = []
    for ms, at, innermost, chain in STALL_RE.findall(log):
        when = float(at)
        phase = next((p["name"] for p in phases or []
                      if p["start"] <= when < p.get("end", p["start"])), "other")
        frames = [f for f in chain.split(" < ") if not f.startswith("core/accounts/access.py")]
        handler = frames[-1] if frames else chain
        by_handler[handler] += 1
        ms_by_handler[handler] += int(ms)
        by_phase.setdefault(phase, Counter())[handler] += int(ms)
        inner[frames[0] if frames else innermost] += 1
        durations.append(float(ms))
    stats = percentiles(durations)
    gc_by_phase: dict[str, list[float]] = {}
    for ms, at, gen in GC_RE.findall(log):
        when = float(at)
        phase = next((p["name"] for p in phases or []
                      if p["start"] <= when < p.get("end", p["start"])), "other")
        gc_by_phase.setdefault(f"{phase} gen{gen}", []).append(float(ms))
    return {"gc_pauses": {k: pause_summary(v) for k, v in gc_by_phase.items()},
            "count": len(durations), "total_ms": round(sum(durations)),
            "ms": stats, "by_code": {k: {"stalls": n, "ms": ms_by_handler[k]}
                                     for k, n in by_handler.most_common(12)},
            "innermost": dict(inner.most_common(10)),
            "ms_by_phase": {ph: dict(c.most_common(5)) for ph, c in by_phase.items()}}


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def build(profile: Profile, async_mode: str, driver: dict[str, Any], db: dict[str, Any],
          server: dict[str, Any], command: str) -> dict[str, Any]:
    sat = driver.get("saturation") or {}
    answer_per_s = (sat.get("answers") or {}).get("per_s")
    baseline_per_s = (sat.get("baseline") or {}).get("per_s")
    start = driver.get("start") or {}
    storm = driver.get("storm") or {}
    report: dict[str, Any] = {
        "profile": profile.name,
        "async_mode": async_mode,
        "kiosks": profile.kiosks,
        "kiosks_ready": driver.get("kiosks_ready", 0),
        "answers_sent": driver.get("answers_sent", 0),
        "answers_acked": driver.get("answers_acked", 0),
        "answers_stored": db.get("answers_stored", 0),
        "answers_unacked": driver.get("answers_unacked", 0),
        "duplicates": db.get("duplicates", 0),
        "lost": db.get("lost", 0),
        "mismatched": db.get("mismatched", 0),
        "stored_unacked": db.get("stored_unacked", 0),
        "answer_transactions": db.get("answer_transactions", {}),
        "ack_ms": driver.get("ack_ms", {}),
        "ack_ms_uncontended": driver.get("ack_ms_uncontended", {}),
        "start_fanout_ms": start.get("fanout_ms"),
        "storm_recovery_s": storm.get("recovery_s"),
        "server_cpu_s": server.get("cpu_s"),
        "server_peak_rss_mb": server.get("peak_rss_mb"),
        "errors": driver.get("errors", 0) + (1 if server.get("exit_error") else 0),
        "baseline_ack_per_s": baseline_per_s,
        "answer_ack_per_s": answer_per_s,
        "answer_to_baseline": _ratio(answer_per_s, baseline_per_s),
        # The same ratio from the server's CPU per acknowledgement: what one dedicated core
        # would do, whatever else the shared machine was running at the time.
        "answer_to_baseline_cpu": _ratio(
            (sat.get("baseline") or {}).get("server_cpu_ms_per_call_net"),
            (sat.get("answers") or {}).get("server_cpu_ms_per_call_net")),
        "sign_in_per_s": driver.get("sign_in_per_s", []),
        # The proctors' live seat maps: ``seats`` messages (batched deltas) and rows in them.
        "proctor_seat_deltas": {"proctors": driver.get("proctors", 0),
                                "messages": driver.get("proctor_seat_deltas", 0),
                                "rows": driver.get("proctor_seat_delta_rows", 0)},
        "submitted": driver.get("submitted", 0),
        "attempts_submitted_db": db.get("attempts_submitted_db", 0),
        "dup_acks": driver.get("dup_acks", 0),
        "resends": driver.get("resends", 0),
        "throttled": driver.get("throttled", 0),
        "refused": driver.get("refused", []),
        "state_mismatches": driver.get("state_mismatches", 0),
        "start": start,
        "storm": storm,
        "saturation": sat,
        "ceiling": driver.get("ceiling"),
        "rtt_ms": driver.get("rtt_ms", {}),
        "ack_ms_all": driver.get("ack_ms_all", {}),
        "server": server,
        "phases": driver.get("phases", []),
        "error_samples": driver.get("error_samples", []),
        "error_kinds": driver.get("error_kinds", {}),
        "loop_blocked": server.get("loop_blocked"),
        "driver_pauses": driver.get("driver_pauses"),
        "load_generator": {"processes": 1, "runner": "locust LocalRunner",
                           "cpu_s": driver.get("driver_cpu_s"),
                           "wall_s": driver.get("driver_wall_s"),
                           "cpu": server.get("client_cpu")},
        "command": command,
        "profile_settings": driver.get("profile_settings", {}),
    }
    report["targets"] = check_targets(report)
    return report


def check_targets(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target of issue 6 with this run's figure and whether it was met (None: not
    measured in this profile)."""
    def entry(value: Any, limit: Any, ok: bool | None) -> dict[str, Any]:
        return {"value": value, "target": limit, "met": ok}

    integrity = (r["answers_sent"] > 0
                 and r["answers_stored"] == r["answers_acked"] == r["answers_sent"]
                 and r["duplicates"] == 0 and r["lost"] == 0 and r["mismatched"] == 0)
    p99 = (r["ack_ms"] or {}).get("p99")
    fan = r["start_fanout_ms"]
    storm = r["storm_recovery_s"]
    ratio = r["answer_to_baseline"]
    storm_measured = bool(r["storm"])
    return {
        "integrity": entry(f"{r['answers_sent']} sent / {r['answers_acked']} acked / "
                           f"{r['answers_stored']} stored, {r['duplicates']} duplicates, "
                           f"{r['lost']} lost", "all equal, none lost or duplicated",
                           integrity),
        "ack_p99_ms": entry(p99, TARGETS.ack_p99_ms,
                            None if not p99 else p99 <= TARGETS.ack_p99_ms),
        "start_fanout_ms": entry(fan, TARGETS.start_fanout_ms,
                                 None if fan is None and not r["start"] else
                                 (fan is not None and fan <= TARGETS.start_fanout_ms
                                  and not r["start"].get("not_shown"))),
        "storm_recovery_s": entry(storm, TARGETS.storm_recovery_s,
                                  None if not storm_measured else
                                  (storm is not None and storm <= TARGETS.storm_recovery_s)),
        "server_peak_rss_mb": entry(r["server_peak_rss_mb"], TARGETS.peak_rss_mb,
                                    None if r["server_peak_rss_mb"] is None else
                                    r["server_peak_rss_mb"] <= TARGETS.peak_rss_mb),
        "answer_to_baseline": entry(ratio, TARGETS.throughput_ratio,
                                    None if ratio is None else ratio >= TARGETS.throughput_ratio),
        "errors": entry(r["errors"], 0, r["errors"] == 0),
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _mark(met: bool | None) -> str:
    return {True: "met", False: "**MISSED**", None: "not measured"}[met]


def summary(reports: list[dict[str, Any]]) -> str:
    """Markdown for one run, or several side by side (``--compare-async``)."""
    first = reports[0]
    lines = [f"# Load test: profile `{first['profile']}`", ""]
    lines.append(f"Command: `{first['command']}`")
    lines.append("")
    lines.append(
        "One `ruang serve` process on SQLite (a fresh instance), on 127.0.0.1 only; the load "
        "generator is one locust process (LocalRunner) pinned to the other core, so the "
        "server keeps a core of its own. Kiosks speak the exam protocol over Socket.IO "
        "(websocket transport), round trips timed by the kiosks themselves.")
    lines.append("")
    cols = [r["async_mode"] for r in reports]
    lines.append("| figure | " + " | ".join(cols) + " |")
    lines.append("| --- | " + " | ".join("---" for _ in cols) + " |")

    def row(label: str, fn: Any) -> None:
        lines.append(f"| {label} | " + " | ".join(_fmt(fn(r)) for r in reports) + " |")

    row("kiosks (ready)", lambda r: f"{r['kiosks']:,} ({r['kiosks_ready']:,})")
    row("answers sent", lambda r: r["answers_sent"])
    row("answers acknowledged", lambda r: r["answers_acked"])
    row("answers stored (database)", lambda r: r["answers_stored"])
    row("answers still in kiosk outboxes at the end (never acknowledged)",
        lambda r: r.get("answers_unacked"))
    row("duplicates / lost / mismatched",
        lambda r: f"{r['duplicates']} / {r['lost']} / {r['mismatched']}")
    row("re-sent changes (acknowledged as duplicates)",
        lambda r: f"{r['resends']} ({r['dup_acks']})")
    row("ack p50 / p95 / p99 / max, ms (steady)",
        lambda r: " / ".join(_fmt(r["ack_ms"].get(k)) for k in ("p50", "p95", "p99", "max"))
        if r["ack_ms"] else None)
    row("ack p50 / p95 / p99, ms, in seconds the server was not starved of CPU (share)",
        lambda r: " / ".join(_fmt(r["ack_ms_uncontended"].get(k)) for k in ("p50", "p95", "p99"))
        + f" ({r['ack_ms_uncontended'].get('share_of_steady', 0):.0%})"
        if r.get("ack_ms_uncontended", {}).get("count") else None)
    row("sign-in wave: kiosks ready per second (sign-in, paper, socket)",
        lambda r: ", ".join(str(x) for x in r.get("sign_in_per_s") or []) or None)
    row("start fan-out, ms (last kiosk shows question 1)", lambda r: r["start_fanout_ms"])
    row("storm recovery, s (last kiosk back in sync)", lambda r: r["storm_recovery_s"])
    row("storm: dropped clients that had not noticed after 2 s, and were told",
        lambda r: (r.get("storm") or {}).get("told_of_drop"))
    row("answer path at saturation, acks/s", lambda r: r["answer_ack_per_s"])
    row("ack-only baseline, acks/s", lambda r: r["baseline_ack_per_s"])
    row("answer path / baseline", lambda r: r["answer_to_baseline"])
    def per_call(kind: str) -> Any:
        def get(r: dict[str, Any]) -> Any:
            sat = r["saturation"].get(kind) or {}
            if not sat.get("server_cpu_ms_per_call"):
                return None
            return (f"{_fmt(sat['server_cpu_ms_per_call'])} "
                    f"({_fmt(sat.get('server_cpu_ms_per_call_net'))} net)")
        return get

    row("answer path, server CPU ms per ack at saturation (net of background)",
        per_call("answers"))
    row("baseline, server CPU ms per ack at saturation (net of background)",
        per_call("baseline"))
    row("answer path / baseline in net server CPU per ack",
        lambda r: r.get("answer_to_baseline_cpu"))
    row("answers per write transaction (mean / max)",
        lambda r: f"{r['answer_transactions'].get('mean_answers')} / "
                  f"{r['answer_transactions'].get('max_answers')}"
        if r.get("answer_transactions") else None)
    row("server CPU, s", lambda r: r["server_cpu_s"])
    row("server peak RSS, MB", lambda r: r["server_peak_rss_mb"])
    row("server waited for a CPU (other processes), s",
        lambda r: r["server"].get("cpu_wait_s"))
    row("load generator CPU / waited for a CPU, s",
        lambda r: f"{_fmt(r['load_generator']['cpu_s'])} / "
                  f"{_fmt(r['server'].get('client_cpu_wait_s'))}")
    row("machine load average at the end (1, 5, 15 min)",
        lambda r: ", ".join(str(x) for x in r["server"].get("load_average") or []))
    row("errors", lambda r: r["errors"])
    lines.append("")
    lines.append("## Targets (issue 6, campus profile)")
    lines.append("")
    lines.append("| target | limit | " + " | ".join(cols) + " |")
    lines.append("| --- | --- | " + " | ".join("---" for _ in cols) + " |")
    for key in first["targets"]:
        t = first["targets"][key]
        cells = [f"{_fmt(r['targets'][key]['value'])} ({_mark(r['targets'][key]['met'])})"
                 for r in reports]
        lines.append(f"| {key} | {_fmt(t['target'])} | " + " | ".join(cells) + " |")
    for r in reports:
        lines.append("")
        lines.append(f"## Round trips per event ({r['async_mode']}, whole run, ms)")
        lines.append("")
        lines.append("| event | count | failures | p50 | p95 | p99 | max |")
        lines.append("| --- | --- | --- | --- | --- | --- | --- |")
        for name, s in r["rtt_ms"].items():
            lines.append(f"| {name} | {s['count']:,} | {s.get('failures', 0)} | {s['p50']} | "
                         f"{s['p95']} | {s['p99']} | {s['max']} |")
        sat = r.get("saturation") or {}
        if sat:
            lines.append("")
            lines.append("Saturation: " + "; ".join(
                f"{k}: {v['per_s']}/s over {v['kiosks']} kiosks for {v['seconds']} s, "
                f"p99 {v['rtt_ms']['p99']} ms, load generator at {v['client_core_use']:.0%} "
                "of a core" for k, v in sat.items()))
        if r.get("ceiling"):
            lines.append("")
            lines.append(f"Ceiling: largest kiosk count meeting every target: "
                         f"**{r['ceiling']['largest_ok']}**")
            for step in r["ceiling"]["steps"]:
                lines.append(f"- {step['kiosks']} kiosks (window {step.get('window', 1)}): "
                             f"ack p99 {step['ack_ms']['p99']} ms, "
                             f"{step['errors']} errors, "
                             f"{'met' if step['met_targets'] else 'broken'}")
        if r.get("error_kinds"):
            lines.append("")
            lines.append(f"Errors ({r['errors']}), by kind:")
            lines.extend(f"- {n} x `{e}`" for e, n in list(r["error_kinds"].items())[:12])
        elif r["error_samples"]:
            lines.append("")
            lines.append(f"Errors ({r['errors']}), first ones:")
            lines.extend(f"- `{e}`" for e in r["error_samples"][:10])
        blocked = r.get("loop_blocked")
        if blocked:
            lines.append("")
            lines.append(
                f"Event loop stalled longer than {blocked.get('threshold_ms')} ms "
                f"{blocked['count']} times, {blocked['total_ms']} ms in all (p50 "
                f"{blocked['ms']['p50']}, max {blocked['ms']['max']} ms); by the code holding it:")
            lines.extend(f"- {v['stalls']} stalls, {v['ms']} ms: `{where}`"
                         for where, v in blocked["by_code"].items())
            if blocked.get("innermost"):
                lines.append("  innermost Ruang frames: " + ", ".join(
                    f"`{where}` {n}" for where, n in blocked["innermost"].items()))
            for ph, top in (blocked.get("ms_by_phase") or {}).items():
                lines.append(f"- phase {ph}: " + ", ".join(
                    f"`{where}` {ms} ms" for where, ms in top.items()))
            for where, g in (blocked.get("gc_pauses") or {}).items():
                lines.append(f"- server garbage collections over {blocked['threshold_ms'] / 2:g} "
                             f"ms, phase {where}: {g['count']}, {g['total_ms']} ms in all, "
                             f"the longest {g['max_ms']} ms")
        lag = r.get("driver_pauses")
        if lag:
            lines.append("")
            lines.append("The load generator's own pauses (its acks wait while it is held):")
            for name, g in lag.items():
                lines.append(f"- {name}: {g['count']}, {g['total_ms']} ms in all, the longest "
                             f"{g['max_ms']} ms, {g['over_50_ms']} over 50 ms")
        phases = r.get("phases") or []
        if phases:
            lines.append("")
            lines.append(f"### Phases ({r['async_mode']})")
            lines.append("")
            lines.append("| phase | wall s | server CPU s | server waited for CPU s | "
                         "server peak RSS MB | load generator CPU s |")
            lines.append("| --- | --- | --- | --- | --- | --- |")
            for p in phases:
                lines.append(f"| {p['name']} | {p.get('end', p['start']) - p['start']:.1f} | "
                             f"{p.get('server_cpu_s', 0):.1f} | "
                             f"{p.get('server_cpu_wait_s', 0):.1f} | "
                             f"{p.get('server_peak_rss_mb', 0):.0f} | "
                             f"{p.get('client_cpu_s', 0):.1f} |")
    lines.append("")
    return "\n".join(lines)
