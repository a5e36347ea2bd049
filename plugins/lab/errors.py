"""Errors of the lab plugin, carrying an English message id and its parameters.

Services raise them without Flask; a page shows ``exc.translated()`` in the user's language,
a log or the CLI shows ``str(exc)``. ``N_`` marks message ids for extraction only.
"""

from __future__ import annotations

from typing import Any


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention
    return msgid


class LabError(ValueError):
    """A request the lab plugin refuses, with a reason a person can act on."""

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params
        super().__init__(msgid % params if params else msgid)

    def translated(self) -> str:
        return tr(self.msgid, **self.params)


class SlotTaken(LabError):
    """The lab is held by something else for (part of) the asked time."""

    def __init__(self, msgid: str, conflicts: tuple[str, ...] = (), **params: Any) -> None:
        self.conflicts = conflicts
        super().__init__(msgid, **params)


# What pydantic's error types mean, in words the reader's language has (the field's name
# comes first: "Number of users: must be at least 1").
_PYDANTIC = {
    "missing": N_("is required"),
    "string_too_short": N_("is too short (at least %(min_length)s characters)"),
    "string_too_long": N_("is too long (at most %(max_length)s characters)"),
    "too_short": N_("needs at least %(min_length)s entries"),
    "too_long": N_("has too many entries (at most %(max_length)s)"),
    "greater_than_equal": N_("must be at least %(ge)s"),
    "greater_than": N_("must be more than %(gt)s"),
    "less_than_equal": N_("must be at most %(le)s"),
    "less_than": N_("must be less than %(lt)s"),
    "int_parsing": N_("must be a whole number"),
    "int_type": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "date_parsing": N_("must be a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": N_("must be a date (YYYY-MM-DD)"),
    "date_type": N_("must be a date (YYYY-MM-DD)"),
    "time_parsing": N_("must be a time (HH:MM)"),
    "time_type": N_("must be a time (HH:MM)"),
    "enum": N_("is not one of the allowed values"),
    "literal_error": N_("is not one of the allowed values"),
    "string_pattern_mismatch": N_("has an unexpected form"),
    "bool_parsing": N_("must be yes or no"),
}


def tr(msgid: str, **params: Any) -> str:
    """``msgid`` in the reader's language: the request's, or the one a caller forced with
    ``flask_babel.force_locale`` (e-mails, stored text); English (the msgid) otherwise."""
    from flask import g, has_app_context, has_request_context

    forced = has_app_context() and getattr(getattr(g, "_flask_babel", None),
                                           "forced_babel_locale", None) is not None
    if has_request_context() or forced:
        from flask_babel import gettext

        return str(gettext(msgid, **params))
    return msgid % params if params else msgid


def describe(err: Any) -> str:
    """One pydantic error as a phrase: ours (validators raise ``ValueError(N_(...))``, so
    the text is a message id) or pydantic's, by type."""
    kind = str(err.get("type", ""))
    if kind == "value_error":
        text = str(err.get("msg", "")).removeprefix("Value error, ")
        if "@" in str(err.get("input", "")) or "email" in text.lower():
            return tr(N_("is not a valid e-mail address"))
        return tr(text)
    msgid = _PYDANTIC.get(kind)
    if msgid is None:
        return str(err.get("msg", ""))
    ctx = {k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, (int, float, str))}
    try:
        return tr(msgid, **ctx)
    except (KeyError, ValueError):
        return tr(msgid.split(" (")[0])
