"""Vendor pages: the list, a vendor's details, and the documents exchanged with it."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from core.accounts.access import require
from core.instance import ruang
from plugins.certification import vendors
from plugins.certification.errors import N_, CertError
from plugins.certification.models import CertDocument, CertVendor
from plugins.certification.views import bp, get_or_404, refuse


def _form() -> dict[str, Any]:
    return {k: v for k, v in request.form.items() if k != "csrf_token"}


@bp.route("/vendors")
@require("certification.vendors")
def vendor_list() -> str:
    q = request.args.get("q", "")
    with ruang().db.session() as s:
        rows = vendors.listing(s, q)
    return render_template("certification/vendors.html", rows=rows, q=q)


@bp.route("/vendors/new", methods=["GET", "POST"])
@require("certification.vendors")
def vendor_new() -> Any:
    if request.method == "GET":
        return render_template("certification/vendor_form.html", vendor=None,
                               values={"active": True})
    try:
        with ruang().db.transaction() as s:
            vendor = vendors.create(s, _form(), actor=current_user)
            vendor_id = vendor.id
    except CertError as exc:
        refuse(exc)
        return render_template("certification/vendor_form.html", vendor=None,
                               values=_form()), 400
    flash(_("Vendor saved."), "success")
    return redirect(url_for("certification.vendor", vendor_id=vendor_id))


@bp.route("/vendors/<int:vendor_id>", methods=["GET", "POST"])
@require("certification.vendors")
def vendor(vendor_id: int) -> Any:
    if request.method == "POST":
        values = _form()
        values.setdefault("active", "")
        try:
            with ruang().db.transaction() as s:
                row = get_or_404(s, CertVendor, vendor_id)
                vendors.update(s, row, values, actor=current_user)
        except CertError as exc:
            refuse(exc)
        else:
            flash(_("Vendor saved."), "success")
        return redirect(url_for("certification.vendor", vendor_id=vendor_id))
    with ruang().db.session() as s:
        row = get_or_404(s, CertVendor, vendor_id)
        docs = vendors.documents(s, vendor_id)
        progs = vendors.programmes_of(s, vendor_id)
    return render_template("certification/vendor.html", vendor=row, values=row.__dict__,
                           docs=docs, progs=progs)


@bp.post("/vendors/<int:vendor_id>/documents")
@require("certification.vendors")
def document_add(vendor_id: int) -> Response:
    upload = request.files.get("file")
    programme = request.form.get("programme_id", "")
    try:
        if upload is None or not upload.filename:
            raise CertError(N_("Choose a file to upload."))
        with ruang().db.transaction() as s:
            row = get_or_404(s, CertVendor, vendor_id)
            vendors.add_document(s, row, title=request.form.get("title", ""),
                                 filename=upload.filename, data=upload.read(),
                                 direction=request.form.get("direction", "received"),
                                 programme_id=int(programme) if programme.isdigit() else None,
                                 actor=current_user)
    except CertError as exc:
        return refuse(exc) or redirect(url_for("certification.vendor", vendor_id=vendor_id))
    flash(_("Document stored."), "success")
    return redirect(url_for("certification.vendor", vendor_id=vendor_id) + "#documents")


@bp.route("/documents/<int:document_id>")
@require("certification.vendors")
def document(document_id: int) -> Response:
    with ruang().db.session() as s:
        doc = get_or_404(s, CertDocument, document_id)
    try:
        data = vendors.document_bytes(doc)
    except (CertError, OSError) as exc:
        flash(str(exc), "error")
        return redirect(url_for("certification.vendor", vendor_id=doc.vendor_id))
    return send_file(BytesIO(data), mimetype=doc.content_type, download_name=doc.filename,
                     as_attachment=True)
