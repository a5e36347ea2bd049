"""Vendors (third parties) and the documents exchanged with them.

Documents are stored by the core's upload store (``<instance>/uploads/certification/<yyyy>/
<mm>/``, random names, readable by the server's user only); the database keeps the original
name, the type, the size and a SHA-256. Only PDFs, office documents and images are accepted, and
their content must match their name. Vendors are shared with other plugins (the training
plugin) through the ``ruang_third_parties`` hook.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import uploads
from core.audit.service import record as audit
from core.contracts import ThirdParty
from plugins.certification.errors import N_, CertError, form_error
from plugins.certification.models import CertDocument, CertProgramme, CertVendor

MAX_BYTES = 20 * 1024 * 1024
KINDS = ("vendor", "lsp", "trainer")
TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
}


class VendorForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=200)
    kind: str = Field(default="vendor", pattern=r"^(vendor|lsp|trainer)$")
    contact_name: str = Field(default="", max_length=200)
    email: EmailStr | None = None
    phone: str = Field(default="", max_length=40, pattern=r"^[0-9+() .-]*$")
    address: str = Field(default="", max_length=2000)
    website: str = Field(default="", max_length=300, pattern=r"^(|https?://\S+)$")
    offerings: str = Field(default="", max_length=5000)
    notes: str = Field(default="", max_length=5000)
    active: bool = True

    @field_validator("email", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if value in ("", None) else value


LABELS = {"name": "Nama", "email": "E-mail", "phone": "Telepon", "website": "Situs web"}


def _form(data: Mapping[str, Any]) -> VendorForm:
    raw = dict(data)
    if "active" in raw and isinstance(raw["active"], str):
        raw["active"] = raw["active"].lower() in ("1", "on", "true", "yes")
    try:
        return VendorForm.model_validate(raw)
    except ValidationError as exc:
        raise form_error(exc, LABELS) from None


def _values(form: VendorForm) -> dict[str, Any]:
    values = form.model_dump()
    values["email"] = (values["email"] or "").lower()
    return values


def create(session: Session, data: Mapping[str, Any], *, actor: Any) -> CertVendor:
    form = _form(data)
    if session.scalar(select(CertVendor.id).where(func.lower(CertVendor.name)
                                                  == form.name.lower())):
        raise CertError(N_("A vendor named %(name)s already exists."), kind="duplicate", http=409,
                        name=form.name)
    vendor = CertVendor(**_values(form), created_by=getattr(actor, "id", None))
    session.add(vendor)
    session.flush()
    audit(session, "certification.vendor.create", actor=actor, object_type="cert_vendor",
          object_id=vendor.id, details={"name": vendor.name})
    return vendor


def update(session: Session, vendor: CertVendor, data: Mapping[str, Any], *, actor: Any
           ) -> CertVendor:
    form = _form(data)
    clash = session.scalar(select(CertVendor.id).where(
        func.lower(CertVendor.name) == form.name.lower(), CertVendor.id != vendor.id))
    if clash:
        raise CertError(N_("A vendor named %(name)s already exists."), kind="duplicate", http=409,
                        name=form.name)
    changes = {}
    for key, value in _values(form).items():
        if getattr(vendor, key) != value:
            changes[key] = [getattr(vendor, key), value]
            setattr(vendor, key, value)
    session.flush()
    if changes:
        audit(session, "certification.vendor.update", actor=actor, object_type="cert_vendor",
              object_id=vendor.id, details=changes)
    return vendor


def listing(session: Session, query: str = "", *, active_only: bool = False
            ) -> list[CertVendor]:
    stmt = select(CertVendor).order_by(func.lower(CertVendor.name))
    q = query.strip()
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(CertVendor.name).like(like),
                              func.lower(CertVendor.offerings).like(like),
                              func.lower(CertVendor.contact_name).like(like)))
    if active_only:
        stmt = stmt.where(CertVendor.active.is_(True))
    return list(session.scalars(stmt))


def third_parties(session: Session, query: str) -> list[ThirdParty]:
    """Active vendors as the core's directory shares them with other plugins."""
    return [ThirdParty(ref=f"certification:vendor:{v.id}", name=v.name,
                       contact=" ".join(x for x in (v.contact_name, v.phone) if x),
                       email=v.email, source="certification")
            for v in listing(session, query, active_only=True)]


def programmes_of(session: Session, vendor_id: int) -> list[CertProgramme]:
    return list(session.scalars(select(CertProgramme).where(CertProgramme.vendor_id == vendor_id)
                                .order_by(CertProgramme.id.desc())))


# -- documents -------------------------------------------------------------------------------


def store() -> uploads.Store:
    from core.instance import ruang

    return uploads.Store(Path(ruang().settings.instance), "certification")


def add_document(session: Session, vendor: CertVendor, *, title: str, filename: str,
                 data: bytes, direction: str = "received", programme_id: int | None = None,
                 actor: Any) -> CertDocument:
    title = (title or "").strip()
    if not 2 <= len(title) <= 200:
        raise CertError(N_("Give the document a title (2 to 200 characters)."))
    if direction not in ("received", "sent"):
        raise CertError(N_("A document is either received from or sent to the vendor."))
    name = uploads.clean_name(filename, fallback="dokumen")
    ext = uploads.extension(name)
    if ext not in TYPES:
        raise CertError(N_("%(name)s: only %(types)s files are accepted."), name=name,
                        types=", ".join(sorted(TYPES)))
    if not data:
        raise CertError(N_("%(name)s is empty."), name=name)
    if len(data) > MAX_BYTES:
        raise CertError(N_("%(name)s is larger than %(mb)d MB."), name=name,
                        mb=MAX_BYTES // (1024 * 1024))
    if uploads.sniff(ext, data) is None:
        raise CertError(N_("%(name)s is not really a .%(ext)s file."), name=name, ext=ext)
    if programme_id is not None and session.get(CertProgramme, programme_id) is None:
        raise CertError(N_("No such programme."), kind="not_found", http=404)
    files = store()
    stored = files.save(data)
    doc = CertDocument(vendor_id=vendor.id, programme_id=programme_id, title=title,
                       direction=direction, filename=name, content_type=TYPES[ext],
                       size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                       stored_name=stored, uploaded_by=getattr(actor, "id", None))
    session.add(doc)
    try:
        session.flush()
    except Exception:
        files.remove([stored])
        raise
    audit(session, "certification.document.add", actor=actor, object_type="cert_vendor",
          object_id=vendor.id, details={"title": title, "file": name, "sha256": doc.sha256,
                                        "direction": direction})
    return doc


def documents(session: Session, vendor_id: int) -> list[CertDocument]:
    return list(session.scalars(select(CertDocument).where(CertDocument.vendor_id == vendor_id)
                                .order_by(CertDocument.uploaded_at.desc())))


def document_bytes(doc: CertDocument) -> bytes:
    path = store().path(doc.stored_name)
    try:
        if path is None:  # a name from before the store, which the migration could not move
            raise FileNotFoundError(doc.stored_name)
        data = path.read_bytes()
    except FileNotFoundError:
        raise CertError(N_("The stored file of %(name)s is missing."), kind="missing",
                        http=404, name=doc.filename) from None
    if hashlib.sha256(data).hexdigest() != doc.sha256:
        raise CertError(N_("The stored file of %(name)s was altered; it is not served."),
                        kind="tampered", http=500, name=doc.filename)
    return data
