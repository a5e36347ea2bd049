"""Errors of the training plugin: an English message id and its parameters.

Services raise them without Flask; a page shows ``exc.translated()`` in the reader's
language, a log or the command line shows ``str(exc)``. ``N_`` marks message ids that are
translated later, where they are shown.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

CUSTOM = "training"


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention
    return msgid


def t(msgid: str, **params: Any) -> str:
    """``msgid`` in the reader's language when there is a reader (a request), or in the
    language of a record being printed (:func:`record_language`)."""
    from flask import g, has_app_context, has_request_context

    if has_request_context() or (has_app_context() and g.get("training_record_locale")):
        from flask_babel import gettext

        return str(gettext(msgid, **params))
    return msgid % params if params else msgid


@contextmanager
def record_language() -> Iterator[None]:
    """Records (the letter, the report) speak the instance's language, whoever prints
    them and from wherever (a page, the command line)."""
    from flask import g, has_app_context

    if not has_app_context():
        yield
        return
    from flask_babel import force_locale

    from core.instance import ruang

    lang = ruang().settings.default_locale
    before = g.get("training_record_locale")
    g.training_record_locale = lang
    try:
        with force_locale(lang):
            yield
    finally:
        g.training_record_locale = before


class TrainingError(ValueError):
    """Something the training plugin refuses, with a reason a person can act on.

    ``kind`` names the refusal for tests and JSON answers (``invalid``, ``full``,
    ``state``, ``not_found``...); ``http`` is the status a view answers with. ``fields``
    maps form fields to their problems, so a form can show each next to its input.
    """

    def __init__(self, msgid: str, kind: str = "invalid", http: int = 400,
                 fields: Mapping[str, str] | None = None, **params: Any) -> None:
        self.msgid = msgid
        self.kind = kind
        self.http = http
        self.params = params
        self.fields: dict[str, str] = dict(fields or {})
        super().__init__(msgid % params if params else msgid)

    def translated(self) -> str:
        return t(self.msgid, **self.params)


def problem(msgid: str, **params: Any) -> PydanticCustomError:
    """A validator's refusal whose message is a msgid, translated when it is shown."""
    return PydanticCustomError(CUSTOM, msgid, params)


def _message(err: Any) -> str:
    from flask import has_request_context

    if err["type"] == CUSTOM:
        return t(str(err["msg"]), **dict(err.get("ctx") or {}))
    if has_request_context():
        from core.web.validation import explain

        return str(explain(err))
    return str(err["msg"])


def form_error(exc: ValidationError, labels: Mapping[str, str]) -> TrainingError:
    """A pydantic ``ValidationError`` as one :class:`TrainingError` naming every bad field
    in the reader's language (``Capacity: Enter a number of at least 1.``)."""
    fields: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        where = str(err["loc"][0]) if err["loc"] else ""
        fields.setdefault(where, _message(err))
    problems = "; ".join(f"{t(labels[f]) if f in labels else f}: {m}" if f else m
                         for f, m in fields.items())
    return TrainingError(N_("%(problems)s"), fields=fields, problems=problems)
