"""Pydantic's validation errors in the reader's language.

Pydantic words its messages in English only; the pages show these instead for the error
types people meet in forms, and fall back to pydantic's own message for the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from pydantic import ValidationError
from pydantic_core import ErrorDetails


def explain(error: ErrorDetails) -> str:
    """One error, as a sentence without the field name."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return _("This must not be empty.")
        return _("Write at least %(n)s characters.", n=ctx.get("min_length"))
    if kind == "string_too_long":
        return _("Write at most %(n)s characters.", n=ctx.get("max_length"))
    if kind == "string_pattern_mismatch":
        return _("This is not in the expected form.")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Enter a whole number.")
    if kind in ("float_parsing", "float_type", "decimal_parsing"):
        return _("Enter a number.")
    if kind in ("bool_parsing", "bool_type"):
        return _("Choose yes or no.")
    if kind in ("greater_than_equal", "greater_than"):
        limit = ctx.get("ge", ctx.get("gt"))
        if kind == "greater_than":
            return _("Enter a number greater than %(n)s.", n=limit)
        return _("Enter a number of at least %(n)s.", n=limit)
    if kind in ("less_than_equal", "less_than"):
        limit = ctx.get("le", ctx.get("lt"))
        if kind == "less_than":
            return _("Enter a number less than %(n)s.", n=limit)
        return _("Enter a number of at most %(n)s.", n=limit)
    if kind.startswith("date") or kind.startswith("datetime"):
        return _("Enter a date as YYYY-MM-DD.")
    if kind == "json_invalid":
        return _("This is not valid JSON: %(error)s", error=ctx.get("error", ""))
    if kind == "missing":
        return _("This is required.")
    if kind in ("literal_error", "enum"):
        return _("Choose one of: %(choices)s", choices=ctx.get("expected", ""))
    if kind in ("url_parsing", "url_scheme", "url_type"):
        return _("Enter a full web address, for example https://example.ac.id/.")
    if kind == "value_error" and "email" in str(error.get("msg", "")).lower():
        return _("Enter a valid e-mail address.")
    return str(error.get("msg", kind))


def field_messages(exc: ValidationError, labels: dict[str, str] | None = None) -> list[str]:
    """Every error of ``exc`` as "field: sentence", with the field named by ``labels``."""
    labels = labels or {}
    out = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        name = labels.get(where, where)
        out.append(f"{name}: {explain(error)}" if name else explain(error))
    return out


def first_message(errors: Iterable[ErrorDetails]) -> str:
    for error in errors:
        return explain(error)
    return ""
