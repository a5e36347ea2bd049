"""Vendor documents live in the core's upload store; documents stored flat before it are
moved there by a migration that can be run again after being cut short."""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy import select

from core import migrate
from plugins.certification import vendors
from plugins.certification.models import CertDocument
from tests.plugins.certification.conftest import user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BEFORE = "5c1e7a2b9d40"  # the certification revision before the move


def _add(db, title: str) -> int:
    with db.transaction() as s:
        vendor = vendors.create(s, {"name": f"PT {title}", "active": "1"}, actor=user(db, "add"))
        doc = vendors.add_document(s, vendor, title=title, filename=f"{title}.pdf",
                                   data=PDF + title.encode(), actor=user(db, "add"))
        return doc.id


def _names(db) -> dict[int, str]:
    with db.session() as s:
        return {d.id: d.stored_name for d in s.scalars(select(CertDocument))}


def _read(db, doc_id: int) -> bytes:
    with db.session() as s:
        doc = s.get(CertDocument, doc_id)
        assert doc is not None
        return vendors.document_bytes(doc)


def test_documents_are_kept_by_the_upload_store(app, db, instance):
    doc_id = _add(db, "Penawaran")
    name = _names(db)[doc_id]
    assert re.fullmatch(r"\d{4}/\d{2}/[0-9a-f]{32}", name)
    path = instance / "uploads" / "certification" / name
    assert path.read_bytes() == PDF + b"Penawaran"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert _read(db, doc_id) == PDF + b"Penawaran"


def test_flat_documents_move_into_the_store_even_after_an_interruption(app, db, instance):
    first, second = _add(db, "Penawaran"), _add(db, "Kontrak")
    root: Path = instance / "uploads" / "certification"
    r = app.extensions["ruang"]
    url = r.settings.sqlalchemy_url

    r.db.dispose()
    migrate.downgrade(r.plugins, url, BEFORE)  # back to the flat layout of before
    flat = _names(db)
    assert all(re.fullmatch(r"[0-9a-f]{32}", n) for n in flat.values())
    assert {p.name for p in root.iterdir() if p.is_file()} == set(flat.values())

    # A run cut short: the first file was moved, but its row still names the flat file.
    with db.session() as s:
        at = s.get(CertDocument, first).uploaded_at
    folder = f"{at:%Y}/{at:%m}"
    moved = root / folder / flat[first]
    moved.parent.mkdir(parents=True, exist_ok=True)
    os.replace(root / flat[first], moved)

    r.db.dispose()
    migrate.upgrade(r.plugins, url)
    names = _names(db)
    assert names[first] == f"{folder}/{flat[first]}"
    assert re.fullmatch(rf"\d{{4}}/\d{{2}}/{flat[second]}", names[second])
    assert not [p for p in root.iterdir() if p.is_file()]  # nothing left flat
    assert _read(db, first) == PDF + b"Penawaran"
    assert _read(db, second) == PDF + b"Kontrak"
    # Running it again changes nothing.
    r.db.dispose()
    migrate.upgrade(r.plugins, url)
    assert _names(db) == names
