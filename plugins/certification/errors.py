"""Errors of the certification plugin: an English message id and its parameters.

Services raise them without Flask; a page shows ``exc.translated()`` in the reader's
language, a log or the command line shows ``str(exc)``. ``N_`` marks message ids for
extraction only.
"""

from __future__ import annotations

from typing import Any


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention
    return msgid


def t(msgid: str, **params: Any) -> str:
    """``msgid`` in the reader's language when there is a reader (a request)."""
    from flask import has_request_context

    if has_request_context():
        from flask_babel import gettext

        return str(gettext(msgid, **params))
    return msgid % params if params else msgid


class CertError(ValueError):
    """Something the certification plugin refuses, with a reason a person can act on.

    ``kind`` names the refusal for JSON answers and tests (``window_closed``,
    ``field_closed``, ``duplicate``...); ``http`` is the HTTP status a view answers with.
    """

    def __init__(self, msgid: str, kind: str = "invalid", http: int = 400,
                 **params: Any) -> None:
        self.msgid = msgid
        self.kind = kind
        self.http = http
        self.params = params
        super().__init__(msgid % params if params else msgid)

    def translated(self) -> str:
        return t(self.msgid, **self.params)


def form_error(exc: Any, labels: dict[str, str] | None = None) -> CertError:
    """A pydantic ``ValidationError`` as one :class:`CertError` naming every bad field."""
    from flask import has_request_context

    if has_request_context():
        from core.web.validation import field_messages

        return CertError("%(problems)s", problems="; ".join(field_messages(exc, labels)))
    problems = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"])
        problems.append(f"{(labels or {}).get(where, where)}: {err['msg']}")
    return CertError("%(problems)s", problems="; ".join(problems))
