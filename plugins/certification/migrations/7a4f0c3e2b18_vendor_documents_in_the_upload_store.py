"""vendor documents in the upload store

Vendor documents lay flat under ``uploads/certification/``; the core's upload store keeps
them under ``uploads/certification/<yyyy>/<mm>/`` with 32-hex names. Each file is moved
(a rename, atomic on one file system) before its row is changed, and a file found already
at its new place is taken as moved, so a run that was cut short can simply be run again.

Revision ID: 7a4f0c3e2b18
Revises: 5c1e7a2b9d40
Create Date: 2026-11-24 18:55:00
"""
import logging
import os
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = '7a4f0c3e2b18'
down_revision: str | Sequence[str] | None = '5c1e7a2b9d40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
STORED = re.compile(r"\d{4}/\d{2}/[0-9a-f]{32}")
FLAT = re.compile(r"[0-9a-f]{32,64}")


def _root() -> Path | None:
    """The folder of this database's uploads: the instance whose database this is (the
    running one, or, for a SQLite file elsewhere such as a restore, the file's folder)."""
    url = op.get_bind().engine.url
    try:
        from sqlalchemy.engine import make_url

        from core.instance import ruang

        settings = ruang().settings
        same = make_url(settings.sqlalchemy_url).render_as_string(hide_password=False) == \
            url.render_as_string(hide_password=False)
        if same:
            return Path(settings.instance) / "uploads" / "certification"
    except RuntimeError:  # no app context: `create_app` and migrate, as the tests do
        pass
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "uploads" / "certification"
    return None


def _when(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value)[:19])


def _move(old: Path, new: Path) -> bool:
    """True when the file is at ``new`` afterwards."""
    if old.exists():
        new.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.replace(old, new)
        return True
    return new.exists()


def _documents() -> list[tuple[int, str, object]]:
    rows = op.get_bind().execute(sa.text(
        "SELECT id, stored_name, uploaded_at FROM cert_vendor_documents ORDER BY id"))
    return [(int(r[0]), str(r[1]), r[2]) for r in rows]


def _rename(doc_id: int, name: str) -> None:
    op.get_bind().execute(sa.text(
        "UPDATE cert_vendor_documents SET stored_name = :name WHERE id = :id"),
        {"name": name, "id": doc_id})


def upgrade() -> None:
    root = _root()
    if root is None:
        log.warning("certification: the uploads folder of this database is unknown; "
                    "vendor documents were not moved")
        return
    for doc_id, name, uploaded_at in _documents():
        if not FLAT.fullmatch(name):
            continue  # moved already, or not a name the old layout gave out
        at = _when(uploaded_at)
        new_name = f"{at:%Y}/{at:%m}/{name[:32]}"
        if _move(root / name, root / new_name):
            _rename(doc_id, new_name)
        else:
            log.warning("certification: vendor document %s has no stored file %s", doc_id,
                        name)


def downgrade() -> None:
    root = _root()
    if root is None:
        return
    for doc_id, name, _at in _documents():
        if not STORED.fullmatch(name):
            continue
        flat = name.rpartition("/")[2]
        if _move(root / name, root / flat):
            _rename(doc_id, flat)
