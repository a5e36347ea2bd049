"""Pages of the certification plugin: staff pages, the public portal, certificate checks.

One blueprint; the modules next to this one register their routes on it. Views are thin:
they validate, call the services in one transaction, and answer with a page, a redirect
with a message, or JSON for scripts and the portal's live seat counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from core.accounts.access import can
from core.workflow.engine import WorkflowError
from plugins.certification.clock import fmt
from plugins.certification.errors import N_, CertError

HERE = Path(__file__).resolve().parent.parent

bp = Blueprint("certification", __name__, url_prefix="/certification", root_path=str(HERE),
               template_folder="templates", static_folder="static")

STATE_BADGES = {
    "draft": "", "submitted": "warn", "returned": "warn", "approved": "info",
    "published": "ok", "running": "ok", "completed": "plain", "rejected": "bad",
    "cancelled": "bad",
}
REG_LABELS = {
    "confirmed": N_("Confirmed"), "waitlisted": N_("Waiting list"), "offered": N_("Seat offered"),
    "cancelled": N_("Cancelled"), "offer_expired": N_("Offer expired"),
    "offer_declined": N_("Offer declined"),
}
REG_BADGES = {"confirmed": "ok", "waitlisted": "warn", "offered": "info", "cancelled": "bad",
              "offer_expired": "bad", "offer_declined": "plain"}
PAY_LABELS = {"none": N_("No fee"), "unpaid": N_("Unpaid"), "partial": N_("Partly paid"),
              "paid": N_("Paid"), "waived": N_("Waived"), "refunded": N_("Refunded")}
AUDIENCE_LABELS = {"all": N_("Everyone"), "internal": N_("University members only"),
                   "external": N_("Outside participants only")}
KIND_LABELS = {"training": N_("Training"), "exam": N_("Exam")}


def rupiah(amount: int | None) -> str:
    return "Rp " + f"{int(amount or 0):,}".replace(",", ".")


@bp.context_processor
def _helpers() -> dict[str, Any]:
    from plugins.certification.flows import PROGRAMME

    return {
        "cert_can": lambda perm: can(current_user, perm),
        "cert_state_label": lambda s: _(PROGRAMME.label(s)),
        "cert_state_badges": STATE_BADGES,
        "reg_label": lambda s: _(REG_LABELS.get(s, s)),
        "reg_badges": REG_BADGES,
        "pay_label": lambda s: _(PAY_LABELS.get(s, s)),
        "audience_label": lambda s: _(AUDIENCE_LABELS.get(s, s)),
        "kind_label": lambda s: _(KIND_LABELS.get(s, s)),
        "when": fmt,
        "rupiah": rupiah,
    }


def refusal(exc: Exception) -> str:
    if isinstance(exc, CertError):
        return exc.translated()
    if isinstance(exc, WorkflowError):
        return _("Not possible: %(why)s", why=str(exc))
    return str(exc)


def wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def refuse(exc: Exception) -> Response | None:
    """Answer a refusal: JSON for scripts, else a flashed message (the caller redirects)."""
    if wants_json():
        if isinstance(exc, CertError):
            response = jsonify(ok=False, error=exc.kind, message=exc.translated())
            response.status_code = exc.http
        else:
            response = jsonify(ok=False, error="refused", message=refusal(exc))
            response.status_code = 409
        return response
    flash(refusal(exc), "error")
    return None


def get_or_404(session: Any, model: type, ident: int) -> Any:
    row = session.get(model, ident)
    if row is None:
        abort(404)
    return row


from plugins.certification.views import (  # noqa: E402,F401 - modules register their routes
    portal,
    staff,
    vendors,
)
