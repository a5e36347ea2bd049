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
        from flask import has_request_context

        if not has_request_context():
            return str(self)
        from flask_babel import gettext

        return gettext(self.msgid, **self.params)


class SlotTaken(LabError):
    """The lab is held by something else for (part of) the asked time."""

    def __init__(self, msgid: str, conflicts: tuple[str, ...] = (), **params: Any) -> None:
        self.conflicts = conflicts
        super().__init__(msgid, **params)
