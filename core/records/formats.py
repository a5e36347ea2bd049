"""Number formats of quality records: checking a format and rendering a number with it.

A format is a Python format string over five fields only (``seq``, ``year``, ``month``,
``roman_month``, ``unit``), for example ``BA-{seq:02d}/{unit}/{year}``. Formats come from
plugins and from staff, so they are checked before they are stored or used: an attribute
lookup such as ``{seq.__class__}`` would otherwise let a format read Python internals.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Literal

FIELDS: tuple[str, ...] = ("seq", "year", "month", "roman_month", "unit")
MAX_LENGTH = 120
ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")

Reset = Literal["never", "yearly", "monthly"]


class RecordError(ValueError):
    """A record type is unknown, or a number cannot be issued."""


class FormatError(RecordError):
    """A number format is not acceptable; the message says why."""


@dataclass(frozen=True)
class NumberParts:
    seq: int
    year: int
    month: int
    unit: str

    @property
    def roman_month(self) -> str:
        return ROMAN_MONTHS[self.month - 1]


def check_format(fmt: str, reset: Reset = "never") -> str:
    """Return ``fmt`` stripped if it is a usable format for a type with ``reset``.

    Raises :class:`FormatError` naming the problem otherwise.
    """
    fmt = fmt.strip()
    if not fmt:
        raise FormatError("the format is empty; it needs at least {seq}")
    if len(fmt) > MAX_LENGTH:
        raise FormatError(f"the format is {len(fmt)} characters long; at most {MAX_LENGTH}")
    if any(not ch.isprintable() for ch in fmt):
        raise FormatError("the format contains a line break or another control character")
    try:
        parsed = list(string.Formatter().parse(fmt))
    except ValueError as exc:
        raise FormatError(f"the format is malformed: {exc} (write {{{{ and }}}} for braces)"
                          ) from None
    used: set[str] = set()
    allowed = ", ".join(FIELDS)
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field == "":
            raise FormatError(f"the format has an empty field {{}}; name one of: {allowed}")
        if field not in FIELDS:
            raise FormatError(f"unknown field {{{field}}} in the format; allowed fields: {allowed}")
        if conversion:
            raise FormatError(f"conversions such as !{conversion} are not allowed in {{{field}}}")
        if spec and ("{" in spec or "}" in spec):
            raise FormatError(f"nested fields are not allowed in {{{field}:{spec}}}")
        used.add(field)
    if "seq" not in used:
        raise FormatError("the format must contain the sequence number {seq}, e.g. {seq:03d}")
    if reset in ("yearly", "monthly") and "year" not in used:
        raise FormatError(f"numbers of this type restart every {_period_word(reset)}, "
                          "so the format must contain {year} to keep them unique")
    if reset == "monthly" and not used & {"month", "roman_month"}:
        raise FormatError("numbers of this type restart every month, so the format must "
                          "contain {month} or {roman_month} to keep them unique")
    try:
        sample = render(fmt, NumberParts(seq=1, year=2026, month=12, unit="BPTI"))
    except (ValueError, TypeError) as exc:
        raise FormatError(f"the format cannot be applied: {exc}") from None
    if len(sample) > 200:
        raise FormatError("numbers in this format would be longer than 200 characters")
    return fmt


def render(fmt: str, parts: NumberParts) -> str:
    return fmt.format(seq=parts.seq, year=parts.year, month=parts.month,
                      roman_month=parts.roman_month, unit=parts.unit)


def period_of(reset: Reset, year: int, month: int) -> str:
    """The counter period a number issued in ``year``-``month`` belongs to."""
    if reset == "yearly":
        return f"{year:04d}"
    if reset == "monthly":
        return f"{year:04d}-{month:02d}"
    return ""


def _period_word(reset: Reset) -> str:
    return {"yearly": "year", "monthly": "month"}.get(reset, "time")
