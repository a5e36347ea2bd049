"""The demo accounts ``ruang demo`` creates, one per role the SOP names."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.service import create_user

# (username, password, what it is); printed by `ruang demo` and the quick-start script.
DEMO_LOGINS: list[tuple[str, str, str]] = [
    ("admin", "admin-ruang", "admin"),
    ("kabpti", "kabpti-ruang", "Ka. BPTI (head)"),
    ("wr2", "wr2-ruang-demo", "WR II (approver)"),
    ("yansi", "yansi-ruang", "Kabag. YANSI (staff)"),
    ("wdm", "wdm-ruang-demo", "Kabag. WDM (staff)"),
    ("jds", "jds-ruang-demo", "Kabag. JDS (staff)"),
    ("add", "add-ruang-demo", "Kabag. ADD (staff)"),
    ("pengawas", "pengawas-ruang", "proctor"),
    ("pemohon", "pemohon-ruang", "requester (faculty)"),
    ("peserta", "peserta-ruang", "candidate"),
]

_DETAILS: dict[str, dict[str, object]] = {
    "admin": {"role": "admin", "full_name": "Administrator Ruang"},
    "kabpti": {"role": "head", "full_name": "Kepala BPTI"},
    "wr2": {"role": "approver", "full_name": "Wakil Rektor II"},
    "yansi": {"role": "staff", "division": "YANSI", "is_division_head": True,
              "full_name": "Kabag. YANSI"},
    "wdm": {"role": "staff", "division": "WDM", "is_division_head": True,
            "full_name": "Kabag. WDM"},
    "jds": {"role": "staff", "division": "JDS", "is_division_head": True,
            "full_name": "Kabag. JDS"},
    "add": {"role": "staff", "division": "ADD", "is_division_head": True,
            "full_name": "Kabag. ADD"},
    "pengawas": {"role": "proctor", "full_name": "Pengawas Lab"},
    "pemohon": {"role": "requester", "full_name": "Fakultas Teknik", "unit": "Fakultas Teknik"},
    "peserta": {"role": "candidate", "full_name": "Peserta Demo"},
}


def ensure_demo_users(session: Session) -> None:
    for username, password, _label in DEMO_LOGINS:
        if session.scalar(select(User.id).where(User.username == username)):
            continue
        details = dict(_DETAILS[username])
        create_user(session, username=username, password=password,
                    email=f"{username}@demo.example.org", **details)  # type: ignore[arg-type]
