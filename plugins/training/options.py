"""Settings staff change for the training plugin (admin page or ``ruang settings``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.contracts import SettingSpec

# Stored data, not UI text: staff edit it in their own words (Indonesian by default).
DEFAULT_CHECKLIST = [
    "Konfirmasi narasumber dan jadwal",
    "Siapkan materi pelatihan",
    "Siapkan ruangan, PC, proyektor dan jaringan",
    "Kirim undangan kepada peserta",
    "Siapkan daftar hadir, soal pre-test/post-test dan formulir evaluasi",
    "Siapkan konsumsi dan dokumentasi",
]

SETTINGS: list[SettingSpec] = [
    SettingSpec("training.checklist", list[str], DEFAULT_CHECKLIST,
                "Preparation checklist every approved training starts with"),
    SettingSpec("training.reminder_hours", int, 24,
                "Hours before a training when registered participants get a reminder"),
    SettingSpec("training.max_upload_mb", int, 15,
                "Largest file (MB) staff may attach to a training"),
    SettingSpec("training.signer_name", str, "",
                "Name printed under the signature of letters, reports and certificates"),
    SettingSpec("training.signer_title", str, "Kepala BPTI",
                "Title printed under the signature of letters, reports and certificates"),
]


def setting(session: Session, key: str) -> Any:
    from core import settings_store
    from core.instance import ruang

    return settings_store.get(session, ruang().plugins, key)
