"""What the helpdesk's pages share: labels in the reader's language, uploads, errors."""

from __future__ import annotations

from typing import Any

from flask import abort, request, send_file
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from core.accounts.roles import DIVISION_LABELS, Division
from core.instance import ruang
from core.workflow.engine import WorkflowError
from core.workflow.panel import status_code
from plugins.helpdesk import attachments
from plugins.helpdesk.attachments import Upload
from plugins.helpdesk.flow import STATES
from plugins.helpdesk.forms import LABELS, FormError
from plugins.helpdesk.models import Attachment
from plugins.helpdesk.service import TicketError

CHANNEL_LABELS = {
    "portal": "Support portal", "walk_in": "Walk-in", "phone": "Phone",
    "whatsapp": "WhatsApp", "letter": "Letter", "email": "E-mail", "system": "System",
}
PRIORITY_LABELS = {"low": "Low", "normal": "Normal", "high": "High", "urgent": "Urgent"}
STATE_BADGES = {"new": "info", "forwarded": "info", "in_progress": "warn", "waiting": "warn",
                "resolved": "ok", "closed": "plain", "reopened": "bad"}
# Staff pick these channels when they type in a complaint that came another way.
ENTRY_CHANNELS = ("walk_in", "phone", "whatsapp", "letter", "email")


def labels() -> dict[str, str]:
    """Every state, channel and priority by code, in the reader's language."""
    out: dict[str, str] = {}
    for table in (STATES, CHANNEL_LABELS, PRIORITY_LABELS):
        out.update({k: _(v) for k, v in table.items()})
    return out


def division_choices() -> list[tuple[str, str]]:
    return [(d.value, DIVISION_LABELS[d]) for d in Division]


def uploads(field: str = "files") -> list[Upload]:
    out = []
    for storage in request.files.getlist(field):
        if not storage or not storage.filename:
            continue
        out.append(Upload(storage.filename, storage.read()))
    return out


def form_errors(exc: FormError) -> dict[str, str]:
    """Field name -> message in the reader's language (``Subject: at least 5 characters``)."""
    out = {}
    for field, (message, params) in exc.errors.items():
        shown = {k: (_(str(v)) if isinstance(v, str) else v) for k, v in params.items()}
        text = _(message, **shown) if shown else _(message)
        out[field] = text
    return out


def error_summary(errors: dict[str, str]) -> list[str]:
    return [f"{_(LABELS[f])}: {m}" if f in LABELS else m for f, m in errors.items()]


def ticket_error(exc: TicketError) -> tuple[str, int]:
    code = {"forbidden": 403, "not_found": 404, "conflict": 409, "throttled": 429}.get(
        exc.kind, 400)
    return (_(exc.message, **exc.params) if exc.params else _(exc.message)), code


def workflow_error(exc: WorkflowError) -> tuple[str, int]:
    return str(exc), status_code(exc)


def send_attachment(att: Attachment) -> Response:
    path = attachments.path_of(ruang().settings.instance, att.storage_name)
    if not path.exists():
        abort(404)
    inline = att.content_type.startswith("image/") or att.content_type == "application/pdf"
    resp = send_file(path, mimetype=att.content_type, as_attachment=not inline,
                     download_name=att.filename, max_age=0)
    resp.headers["Cache-Control"] = "private, no-store"
    # A file is never a page of this site, whatever it holds.
    resp.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return resp


def client_ip() -> str:
    return request.remote_addr or "-"


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(size // 1024, 1)} KB"


def template_globals() -> dict[str, Any]:
    return {"labels": labels(), "badges": STATE_BADGES, "human_size": human_size,
            "division_labels": {d.value: DIVISION_LABELS[d] for d in Division}}
