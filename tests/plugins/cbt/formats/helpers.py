"""Shared steps of the format tests: fill a bank, read it back comparably."""

from __future__ import annotations

import hashlib
from typing import Any

from plugins.cbt import bank as service
from plugins.cbt import formats
from plugins.cbt.models import Asset
from plugins.cbt.richtext import rewrite_images
from tests.plugins.cbt import samples

ROUND_TRIP = [*samples.ALL, samples.arabic, samples.with_image, samples.layout]


def filled_bank(db: Any, name: str = "Asal") -> Any:
    with db.transaction() as session:
        bank = service.create_bank(session, name)
        for make in ROUND_TRIP:
            service.create_item(session, bank, make())
    return bank


def import_into(db: Any, name: str, data: bytes, fmt: str) -> tuple[Any, formats.Report]:
    report = formats.preview(data, fmt)
    with db.transaction() as session:
        bank = service.create_bank(session, name)
        formats.import_items(session, bank, report)
    return bank, report


def comparable(db: Any, bank: Any) -> list[dict[str, Any]]:
    """Each item as a dict, images replaced by a hash of their bytes (ids differ by bank)."""
    out = []
    with db.session() as session:
        for data in service.list_items(session, bank):

            def image(src: str) -> str:
                aid = service.asset_id(src)
                asset = session.get(Asset, aid)
                assert asset is not None and asset.bank_id == bank.id
                return "img:" + hashlib.sha256(service.asset_bytes(session, asset)).hexdigest()

            content, key = service.map_html(data.content, data.key,
                                            lambda h: rewrite_images(h, image))
            out.append({"type": data.type, "points": data.points, "category": data.category,
                        "tags": data.tags, "content": content.model_dump(),
                        "key": key.model_dump()})
    return out
