"""Plain-text letters as the procedures write them: in the reader's language, a greeting,
what happened, the details, and a signature, with absolute links; queued in the caller's
transaction.

The plugins' notice modules keep their wording; this module keeps the shape they share,
and works outside an app context too (then nothing is translated).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from core.contracts import Notification


@contextmanager
def in_language(locale: str | None) -> Iterator[None]:
    """Translate in ``locale``: the reader's; the instance's default language when ``None``."""
    from flask import has_app_context

    if not has_app_context():
        yield
        return
    from flask_babel import force_locale

    from core.instance import ruang

    with force_locale(locale or ruang().settings.default_locale):
        yield


def gettext(msgid: str, **params: Any) -> str:
    """``msgid`` translated in the current language (see :func:`in_language`)."""
    from flask import has_app_context

    if not has_app_context():
        return msgid % params if params else msgid
    from flask_babel import gettext as babel_gettext

    return str(babel_gettext(msgid, **params))


def letter(name: str, lines: Sequence[str], *, signature: str,
           details: Sequence[str] = ()) -> str:
    """"Hello <name>," then ``lines``, then ``details`` after a blank line, then the
    signature behind the ``-- `` line mail readers recognise."""
    parts = [gettext("Hello %(name)s,", name=name), "", *lines]
    if details:
        parts += ["", *details]
    parts += ["", "-- ", signature]
    return "\n".join(parts)


def base_url() -> str:
    """Where readers reach this instance: ``RUANG_PUBLIC_URL`` when it is set (a letter or a
    QR code outlives the request that made it), else the address the current request came
    to, else the address the server listens on."""
    from flask import has_request_context, request

    from core.instance import ruang

    settings = ruang().settings
    if settings.public_url:
        return settings.public_url.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return f"http://{settings.host}:{settings.port}"


def page_url(endpoint: str, **values: Any) -> str:
    """The absolute address of a page (a Flask endpoint), with or without a request."""
    from flask import current_app, has_request_context, url_for

    if has_request_context():
        return base_url() + url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return base_url() + url_for(endpoint, **values)


def queue_all(session: Session, notes: Iterable[Notification]) -> None:
    from core.notify.service import queue

    for note in notes:
        queue(session, note)
