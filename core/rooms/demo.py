"""Demo labs for ``ruang demo``: two labs, PCs at every seat of the first, one of them faulty."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.rooms.models import Device, DeviceStatus, Lab
from core.rooms.service import create_lab, save_device, seats_of, set_device_status

DEMO_LABS: list[dict[str, object]] = [
    {"code": "LAB-1", "name": "Lab Komputer 1", "rows": 5, "cols": 8,
     "building": "Gedung BPTI", "floor": "2", "host": "lab1", "asset": "BPTI/LAB1"},
    {"code": "LAB-2", "name": "Lab Komputer 2", "rows": 4, "cols": 6,
     "building": "Gedung BPTI", "floor": "2", "host": "lab2", "asset": "BPTI/LAB2"},
]
FAULTY_SEAT = ("LAB-1", "C4")


def ensure_demo_labs(session: Session) -> None:
    """Create the demo labs and their PCs where missing; running it again changes nothing."""
    for spec in DEMO_LABS:
        code = str(spec["code"])
        lab = session.scalar(select(Lab).where(Lab.code == code))
        if lab is None:
            lab = create_lab(session, code, str(spec["name"]), int(str(spec["rows"])),
                             int(str(spec["cols"])), building=str(spec["building"]),
                             floor=str(spec["floor"]))
        for n, seat in enumerate(seats_of(session, lab.id), start=1):
            if session.scalar(select(Device.id).where(Device.seat_id == seat.id)) is not None:
                continue
            asset = f"{spec['asset']}/{n:03d}"
            if session.scalar(select(Device.id).where(Device.asset_number == asset)) is not None:
                continue  # staff moved that PC elsewhere: leave it there
            device = save_device(session, seat, asset_number=asset,
                                 hostname=f"{spec['host']}-pc{n:02d}")
            if (code, seat.label) == FAULTY_SEAT:
                set_device_status(session, device, DeviceStatus.FAULTY.value,
                                  reason="Monitor tidak menyala (data demo)")
