"""Importing and exporting items in the formats people already have.

One module per format (``gift``, ``aiken``, ``qti``, ``xlsx``); each has
``parse(data: bytes) -> Parsed`` and, where the format can hold a bank, ``export``.
Parsing never writes: it returns the items it understood and every problem it found, each
with its line (a text file's line, a sheet's row, a package's item number). Then:

* :func:`preview` (the dry run) also checks each parsed item as the bank would, so the
  list of problems is complete before anything is stored;
* :func:`import_items` stores the good items in one transaction: either all of them are
  stored or, when anything fails while storing, none is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from plugins.cbt.content import ItemDraft, check
from plugins.cbt.richtext import (
    FILE_SCHEME,
    IMAGE_TYPES,
    RichTextError,
    decode_data_uri,
    rewrite_images,
    sanitize,
)

FORMATS = ("gift", "aiken", "qti", "xlsx")
EXPORT_FORMATS = ("gift", "qti")
MAX_FILE_BYTES = 50 * 1024 * 1024


class FormatError(ValueError):
    """The file as a whole cannot be read (not the format it claims, too large...)."""


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message}


@dataclass
class Entry:
    line: int
    draft: ItemDraft


@dataclass
class Parsed:
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(line, message))


@dataclass
class Report:
    """What an import did (or, for a dry run, would do)."""

    format: str
    dry_run: bool
    items: list[Entry]
    problems: list[Problem]
    imported: int = 0
    item_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "errors": [p.as_dict() for p in self.problems],
            "valid": len(self.items),
            "dry_run": self.dry_run,
            "format": self.format,
        }


def decode_text(data: bytes) -> str:
    """Text files as teachers save them: UTF-8 (with or without BOM), else Windows-1252."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def detect(filename: str, data: bytes) -> str:
    """The format of an uploaded file from its name and first bytes."""
    name = filename.lower()
    if data[:2] == b"PK":
        return "xlsx" if name.endswith((".xlsx", ".xlsm")) else "qti"
    if name.endswith((".gift", ".gift.txt")):
        return "gift"
    text = decode_text(data[:20000])
    if re.search(r"^\s*(ANSWER|KUNCI|JAWABAN)\s*:", text, re.IGNORECASE | re.MULTILINE) and \
            "{" not in text:
        return "aiken"
    return "gift"


def rich(text: str, files: dict[str, tuple[str, bytes]],
         resolve: Callable[[str], str | None] | None = None) -> str:
    """Imported HTML: sanitised, with embedded (``data:``) images taken out into ``files``.

    ``resolve`` maps another image source (a path inside a package) to a ``files`` name.
    Raises :class:`RichTextError` for an image we cannot keep.
    """
    cleaned = sanitize(text, data_images=True)

    def rewrite(src: str) -> str | None:
        if src.startswith("data:"):
            decoded = decode_data_uri(src)
            if decoded is None:
                raise RichTextError("an embedded image is not a base64 image")
            mime, data = decoded
            for name, (_m, existing) in files.items():
                if existing == data:
                    return f"{FILE_SCHEME}:{name}"
            name = f"image{len(files) + 1}.{IMAGE_TYPES.get(mime, 'bin')}"
            files[name] = (mime, data)
            return f"{FILE_SCHEME}:{name}"
        if resolve is not None:
            found = resolve(src)
            if found is not None:
                return f"{FILE_SCHEME}:{found}"
        return src

    return rewrite_images(cleaned, rewrite)


def _parser(fmt: str) -> Callable[[bytes], Parsed]:
    if fmt == "gift":
        from plugins.cbt.formats import gift

        return gift.parse
    if fmt == "aiken":
        from plugins.cbt.formats import aiken

        return aiken.parse
    if fmt == "qti":
        from plugins.cbt.formats import qti

        return qti.parse
    if fmt == "xlsx":
        from plugins.cbt.formats import xlsx

        return xlsx.parse
    raise FormatError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def preview(data: bytes, fmt: str) -> Report:
    """The dry run: every item the file holds, checked, and every problem with its line."""
    if len(data) > MAX_FILE_BYTES:
        raise FormatError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    parsed = _parser(fmt)(data)
    from plugins.cbt.bank import image_problems

    good: list[Entry] = []
    problems = list(parsed.problems)
    for entry in parsed.entries:
        messages = check(entry.draft) + image_problems(entry.draft)
        if messages:
            problems.extend(Problem(entry.line, m) for m in messages)
        else:
            good.append(entry)
    problems.sort(key=lambda p: p.line)
    return Report(format=fmt, dry_run=True, items=good, problems=problems)


def import_items(session: Any, bank: Any, report: Report, actor: Any = None,
                 progress: Callable[[int], None] | None = None) -> Report:
    """Store the report's good items in ``session`` (one transaction, all or nothing)."""
    from core.audit.service import record as audit
    from plugins.cbt.bank import create_item

    ids = []
    for entry in report.items:
        ids.append(create_item(session, bank, entry.draft, actor, audited=False).id)
        if progress is not None:
            progress(1)
    audit(session, "cbt.items.imported", actor=actor, object_type="cbt_bank", object_id=bank.id,
          details={"format": report.format, "imported": len(ids), "item_ids": ids,
                   "problems": len(report.problems)})
    report.dry_run = False
    report.imported = len(ids)
    report.item_ids = ids
    return report


def export_bank(session: Any, bank: Any, fmt: str) -> bytes:
    """A bank's current items (archived ones left out) as GIFT text or a QTI package."""
    from plugins.cbt.bank import asset_bytes, list_items
    from plugins.cbt.models import Asset

    def asset(aid: int) -> tuple[str, bytes]:
        row = session.get(Asset, aid)
        if row is None or row.bank_id != bank.id:
            raise FormatError(f"image {aid} is not in this bank")
        return row.mime, asset_bytes(session, row)

    items = list_items(session, bank)
    if fmt == "gift":
        from plugins.cbt.formats import gift

        ordered = sorted(items, key=lambda d: (d.category, d.item_id))
        return gift.export([d.draft() for d in ordered], asset).encode("utf-8")
    if fmt == "qti":
        from plugins.cbt.formats import qti

        return qti.export([(d.item_id, d.draft()) for d in items], asset)
    raise FormatError(f"cannot export as {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
