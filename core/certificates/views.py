"""The one public page that checks any certificate, by its QR code or its printed number."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, make_response, render_template, request
from flask_babel import gettext as _

from core.accounts.access import public
from core.certificates import service
from core.instance import ruang
from core.records.service import as_local

bp = Blueprint("certificates", __name__, template_folder="templates", static_folder="static",
               static_url_path="/certificates/static")


def _wants_json() -> bool:
    best = request.accept_mimetypes.best
    return request.args.get("format") == "json" or best == "application/json"


@bp.route("/verify", defaults={"code": ""})
@bp.route("/verify/<code>")
@public
def verify(code: str) -> Any:
    code = code or request.args.get("code", "")
    number = request.args.get("number", "")[:service.NUMBER_MAX + 20]
    if not code.strip() and not number.strip():
        return render_template("certificates/verify.html", verdict=None, number="",
                               wait_s=0, local=as_local)
    key = f"ip:{request.remote_addr or '?'}"
    db = ruang().db
    with db.session() as session:
        wait_s = service.wait_s(session, key)
        verdict = service.verify(session, code=code, number=number) if not wait_s else None
    unknown = verdict is not None and verdict.status == "unknown"
    if unknown:
        with db.transaction() as session:
            service.count_miss(session, key)
    status = 429 if wait_s else 404 if unknown else 200
    if _wants_json():
        response: Any = jsonify(_body(verdict, wait_s)), status
    else:
        response = render_template("certificates/verify.html", verdict=verdict, number=number,
                                   wait_s=wait_s, local=as_local), status
    response = make_response(response)
    if wait_s:
        response.headers["Retry-After"] = str(wait_s)
    return response


def _body(verdict: service.Verdict | None, wait_s: int) -> dict[str, Any]:
    if verdict is None:
        return {"status": "throttled", "retry_after": wait_s,
                "message": _("Too many certificates were not found from your address; "
                             "try again in %(n)d minute(s).", n=max(wait_s // 60, 1))}
    body: dict[str, Any] = {"status": verdict.status}
    cert = verdict.certificate
    if cert is None:
        body["message"] = _("No certificate with this number or code was ever issued.")
        return body
    body.update(number=cert.number, kind=cert.kind, holder=cert.holder_name, title=cert.title,
                subtitle=cert.subtitle, issuer=cert.issuer,
                issued=as_local(cert.issued_at).date().isoformat(),
                valid_until=cert.valid_until.isoformat() if cert.valid_until else None,
                revoked=as_local(cert.revoked_at).date().isoformat() if cert.revoked_at
                else None)
    return body
