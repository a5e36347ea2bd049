"""Demo set-up for ``ruang demo``: categories that pre-route, service levels, canned replies.

No demo tickets: a ticket draws a real number from the quality records.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugins.helpdesk.models import CannedReply, Category, SlaPolicy

# code, name, description, division, auto-forward, default priority
CATEGORIES: list[tuple[str, str, str, str | None, bool, str]] = [
    ("jaringan", "Jaringan & internet", "Wi-Fi, kabel LAN, internet lambat atau putus",
     "JDS", True, "high"),
    ("akun", "Akun, e-mail & SSO", "Lupa kata sandi, akun terkunci, e-mail kampus",
     "ADD", False, "normal"),
    ("siakad", "Sistem informasi akademik", "SIAKAD, KRS, nilai, aplikasi kampus",
     "ADD", True, "high"),
    ("website", "Website & multimedia", "Situs fakultas/prodi, konten, multimedia",
     "WDM", True, "normal"),
    ("cbt", "Ujian CBT", "Masalah saat ujian berbasis komputer", "WDM", False, "urgent"),
    ("perangkat", "Perangkat lab / PC", "PC lab rusak, proyektor, perangkat keras",
     "YANSI", False, "high"),
    ("lainnya", "Lainnya", "Hal lain tentang layanan TIK", None, False, "normal"),
]

# priority: (first response, resolution) in business minutes
DEFAULT_TARGETS: dict[str, tuple[int, int]] = {
    "urgent": (30, 240), "high": (60, 480), "normal": (240, 1440), "low": (480, 2880),
}

CANNED: list[tuple[str, str, str | None]] = [
    ("Sedang kami periksa",
     "Terima kasih, pengaduan Anda sedang kami periksa. Kami akan mengabari Anda segera.",
     None),
    ("Minta tangkapan layar",
     "Mohon kirimkan tangkapan layar (screenshot) pesan kesalahan yang muncul, beserta waktu "
     "kejadiannya, dengan membalas tiket ini.", None),
    ("Reset kata sandi",
     "Kata sandi akun Anda sudah kami atur ulang. Silakan masuk dengan kata sandi sementara "
     "yang kami kirim terpisah, lalu segera menggantinya.", "ADD"),
    ("PC lab diganti",
     "PC pada kursi yang Anda laporkan sudah kami ganti/perbaiki bersama Biro Aset. Terima "
     "kasih atas laporannya.", "YANSI"),
]


def ensure_demo_setup(session: Session) -> None:
    """Create what is missing; running it again changes nothing."""
    have = set(session.scalars(select(Category.code)))
    for position, (code, name, desc, division, auto, priority) in enumerate(CATEGORIES):
        if code in have:
            continue
        session.add(Category(code=code, name=name, description=desc, division=division,
                             auto_forward=auto, default_priority=priority,
                             position=(position + 1) * 10))
    if session.scalar(select(SlaPolicy.id).limit(1)) is None:
        for priority, (first, resolution) in DEFAULT_TARGETS.items():
            session.add(SlaPolicy(category_id=None, category_key=0, priority=priority,
                                  first_response_min=first, resolution_min=resolution))
    titles = set(session.scalars(select(CannedReply.title)))
    for title, body, division in CANNED:
        if title not in titles:
            session.add(CannedReply(title=title, body=body, division=division))
    session.flush()
