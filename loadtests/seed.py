"""Seed a fresh, migrated instance with an exam ready to start on enrolled kiosks.

    python -m loadtests.seed --instance DIR --kiosks 500 --out DIR/seed.json

Everything goes through the project's own service functions, as staff would do it:

* labs of ``--lab-seats`` seats (5 x 8 = 40 by default, a common lab), a working PC at
  every seat (``core.rooms.service``), every PC enrolled as a kiosk with the lab's
  enrolment code (``core.rooms.kiosks``): the kiosk tokens go to the seed file;
* a bank of ``--items`` single-choice items and a published exam drawing them
  (``plugins.cbt.bank`` / ``exams``); ``--kiosks`` candidates on its roster
  (``plugins.cbt.candidates``);
* a CBT event taken through its workflow (proposal, WDM review, checklist), one session
  per lab proctored by the demo proctor, the candidates seated, the event scheduled
  (``plugins.cbt.events``).

One shortcut, for speed only: candidate passwords are argon2 hashes that cost ~80 ms each,
so one password is issued through ``issue_passwords`` and its hash is copied to every
candidate (they all sign in with it). The server still verifies one argon2 hash per
sign-in, as it will in a real lab.

The seed file (JSON) tells the load generator who is who: for every kiosk its token, lab,
seat, and the candidate seated there with participant number and password.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

LAB_SHAPES = {40: (5, 8), 20: (4, 5), 30: (5, 6), 48: (6, 8), 60: (6, 10), 80: (8, 10),
              100: (10, 10), 200: (10, 20), 400: (20, 20), 800: (20, 40), 1040: (26, 40)}
PROCTOR = ("pengawas", "pengawas-ruang")
STAFF = ("wdm", "wdm-ruang-demo")
EXAM_CODE = "LT-EXAM"


def _make_app(instance: Path) -> Any:
    from core.app import create_app
    from core.config import load_settings

    settings = load_settings(environ={}, instance=instance, async_mode="threading", jobs=False)
    return create_app(settings)


def _user(session: Any, username: str) -> Any:
    from sqlalchemy import select

    from core.accounts.models import User

    found = session.scalar(select(User).where(User.username == username))
    if found is None:
        raise SystemExit(f"demo user {username} is missing")
    return found


def _items(session: Any, count: int) -> tuple[Any, list[Any]]:
    from plugins.cbt import bank as banks
    from plugins.cbt.content import Choice, ItemContent, ItemDraft, ItemKey

    bank = banks.create_bank(session, "Load test bank", "items for the load test")
    items = []
    for n in range(1, count + 1):
        # Stems of realistic length: the encrypted paper is what a kiosk downloads.
        stem = (f"<p>Soal {n}. " + "Bacalah uraian berikut dengan saksama. " * 6
                + f"Berapakah hasil dari {n} + {n * 2}?</p>")
        draft = ItemDraft(type="single", category="Umum", points=1, content=ItemContent(
            stem=stem, choices=[Choice(id=c, html=f"Pilihan {c.upper()}: {n * 3 + i}")
                                for i, c in enumerate("abcde")]),
            key=ItemKey(weights={"c": 1.0}))
        items.append(banks.create_item(session, bank, draft))
    return bank, items


def seed(instance: Path, kiosks: int, *, lab_seats: int = 40, items: int = 40,
         duration_min: int = 120) -> dict[str, Any]:
    """Seed ``instance`` (already migrated) and return what the load generator needs."""
    from sqlalchemy import select

    from core.demo import ensure_demo_users
    from core.rooms import kiosks as kiosk_service
    from core.rooms import service as rooms
    from plugins.cbt import candidates as roster
    from plugins.cbt import events, exams
    from plugins.cbt.models import Candidate, CbtEvent

    if lab_seats not in LAB_SHAPES:
        raise SystemExit(f"--lab-seats must be one of {sorted(LAB_SHAPES)}")
    rows, cols = LAB_SHAPES[lab_seats]
    app = _make_app(instance)
    r = app.extensions["ruang"]
    db = r.db
    t0 = time.perf_counter()
    out: dict[str, Any] = {"instance": str(instance), "kiosks": [], "sessions": [],
                           "proctor": {"username": PROCTOR[0], "password": PROCTOR[1]},
                           "lab_seats": lab_seats, "items": items}
    with app.app_context():
        with db.transaction() as s:
            ensure_demo_users(s)
        with db.transaction() as s:
            staff = _user(s, STAFF[0])
            _bank, made = _items(s, items)
            exam = exams.create_exam(s, exams.ExamSettings(
                code=EXAM_CODE, title="Ujian beban (load test)", duration_min=duration_min,
                shuffle_items=True, shuffle_options=True), actor=staff)
            section = exams.add_section(s, exam, "Bagian 1")
            for item in made:
                exams.add_fixed(s, exam, section, item)
            exams.publish(s, exam, actor=staff)
            rows_in = [(n + 2, roster.RosterRow(student_number=f"LT{n:05d}",
                                                name=f"Peserta Beban {n}"))
                       for n in range(kiosks)]
            added = roster.add_candidates(s, exam, roster.Roster(rows=rows_in), actor=staff)
            issued = roster.issue_passwords(s, exam, chosen=added[:1], actor=staff)
            password = issued[0][1]
            for cand in added[1:]:
                cand.password_hash = added[0].password_hash
                cand.password_set_at = added[0].password_set_at
            out["exam"] = {"id": exam.id, "code": exam.code, "password": password}
        proposal = events.Proposal(
            title="Ujian beban kampus", unit="BPTI", purpose="load test",
            starts_on=date.today(), ends_on=date.today(), expected_candidates=max(kiosks, 1),
            material="load test items")
        with db.transaction() as s:
            requester = _user(s, "pemohon")
            event = events.propose(s, proposal, requester)
            events.EVENT.apply(s, event, "submit", requester)
            events.EVENT.apply(s, event, "accept", _user(s, STAFF[0]))
            events.update_checklist(s, event, _user(s, STAFF[0]), exam_id=out["exam"]["id"],
                                    material_agreed=True, devices_checked=True,
                                    running_order="07.30 registrasi\n08.00 ujian")
            out["event_id"] = event.id
        labs_needed = max(1, -(-kiosks // lab_seats))
        now = datetime.now(UTC)
        starts, ends = now - timedelta(minutes=10), now + timedelta(hours=6)
        for lab_no in range(1, labs_needed + 1):
            with db.transaction() as s:
                staff = _user(s, STAFF[0])
                proctor = _user(s, PROCTOR[0])
                code = f"LT-{lab_no:03d}"
                lab = rooms.create_lab(s, code, f"Lab Beban {lab_no}", rows, cols,
                                       building="Gedung Uji", actor=staff)
                enrol_code = kiosk_service.new_code(s, lab, actor=staff)
                seated_here = min(lab_seats, kiosks - (lab_no - 1) * lab_seats)
                tokens: dict[str, tuple[int, str]] = {}
                for n, seat in enumerate(rooms.seats_of(s, lab.id), start=1):
                    if n > seated_here:
                        break
                    rooms.save_device(s, seat, asset_number=f"LT/{lab_no:03d}/{n:03d}",
                                      hostname=f"lt{lab_no:03d}-pc{n:02d}", actor=staff)
                    enrolment = kiosk_service.enrol(s, enrol_code.code, seat_id=seat.id,
                                                    ip="127.0.0.1", user_agent="loadtest")
                    tokens[seat.label] = (enrolment.kiosk.id, enrolment.token)
                kiosk_service.end_code(s, enrol_code, actor=staff)
                event = s.get(CbtEvent, out["event_id"])
                cbt_session = events.add_session(
                    s, event, staff, lab_id=lab.id, starts_at=starts, ends_at=ends,
                    proctor_ids=[proctor.id], seats=seated_here)
                seated = events.seat_candidates(s, event, cbt_session.id, staff,
                                                limit=seated_here)
                out["sessions"].append({"id": cbt_session.id, "lab_id": lab.id,
                                        "lab": code, "candidates": len(seated)})
                for cand in seated:
                    kiosk_id, token = tokens[cand.seat]
                    out["kiosks"].append({
                        "kiosk_id": kiosk_id, "token": token, "lab": code, "lab_id": lab.id,
                        "seat": cand.seat, "session_id": cbt_session.id,
                        "candidate_id": cand.id, "participant": cand.participant_number,
                        "password": password})
        with db.transaction() as s:
            event = s.get(CbtEvent, out["event_id"])
            events.EVENT.apply(s, event, "schedule", _user(s, STAFF[0]))
        with db.session() as s:
            seated_total = len(list(s.scalars(select(Candidate.id).where(
                Candidate.exam_id == out["exam"]["id"], Candidate.session_id.is_not(None)))))
        if seated_total != kiosks:
            raise SystemExit(f"seeded {seated_total} seated candidates, wanted {kiosks}")
    r.db.dispose()
    out["seed_s"] = round(time.perf_counter() - t0, 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.seed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instance", type=Path, required=True,
                        help="a migrated instance folder (ruang db upgrade)")
    parser.add_argument("--kiosks", type=int, required=True)
    parser.add_argument("--lab-seats", type=int, default=40)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--out", type=Path, required=True, help="where to write the seed JSON")
    args = parser.parse_args(argv)
    data = seed(args.instance, args.kiosks, lab_seats=args.lab_seats, items=args.items)
    args.out.write_text(json.dumps(data))
    print(f"seeded {len(data['kiosks'])} kiosks in {len(data['sessions'])} labs "
          f"in {data['seed_s']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
