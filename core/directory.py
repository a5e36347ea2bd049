"""Third parties (vendors, trainers) as plugins share them, without importing each other."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.contracts import ThirdParty
from core.instance import ruang


def third_parties(session: Session, query: str = "") -> list[ThirdParty]:
    """Vendors and trainers known to enabled plugins whose name matches ``query``."""
    found: list[ThirdParty] = ruang().plugins.collect(
        "ruang_third_parties", session=session, query=query.strip()
    )
    seen: set[str] = set()
    unique = []
    for party in sorted(found, key=lambda p: p.name.lower()):
        if party.ref not in seen:
            seen.add(party.ref)
            unique.append(party)
    return unique
