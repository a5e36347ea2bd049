"""Certificates: issued with a number from the records service, printed as PDF with a QR
code, revoked by staff.

Each certificate is registered in the core's certificate register, which gives it the random
code its QR code carries and answers the public check (``/verify``): valid, revoked (with
the date), expired or unknown. What a certificate says (name, field, programme) is copied
when it is issued, so it prints the same for ever.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.certificates import qr
from core.certificates import service as register
from core.records.service import issue as issue_number
from plugins.certification import delivery, notices
from plugins.certification.clock import fmt, today
from plugins.certification.errors import N_, CertError, t
from plugins.certification.models import (
    CertField,
    Certificate,
    CertRegistration,
    CertVendor,
    RegStatus,
)
from plugins.certification.registrations import settled

NUMBER_CODE = "CERT"
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def of_registration(session: Session, reg_id: int) -> Certificate | None:
    return session.scalar(select(Certificate).where(Certificate.registration_id == reg_id))


def why_not(session: Session, reg: CertRegistration) -> str | None:
    """Why ``reg`` cannot get a certificate now, or ``None``."""
    if reg.status != RegStatus.CONFIRMED:
        return t(N_("the registration is not confirmed"))
    result = delivery.result_of(session, reg.id)
    if result is None:
        return t(N_("no result has been entered"))
    if not result.passed:
        return t(N_("the participant did not pass"))
    ok, pct = delivery.attendance_ok(session, reg)
    if not ok:
        return t(N_("attendance is %(pct)d%%, below the %(min)d%% required"), pct=pct,
                 min=reg.field.programme.min_attendance)
    if not settled(reg):
        return t(N_("the fee is not paid (%(status)s)"), status=reg.payment_status)
    if of_registration(session, reg.id) is not None:
        return t(N_("a certificate has already been issued"))
    return None


def issue(session: Session, reg: CertRegistration, *, actor: Any) -> Certificate:
    reason = why_not(session, reg)
    if reason:
        raise CertError(N_("No certificate for %(code)s: %(why)s."), kind="not_eligible", http=409,
                        code=reg.code, why=reason)
    field = reg.field
    prog = field.programme
    vendor = session.get(CertVendor, prog.vendor_id) if prog.vendor_id else None
    result = delivery.result_of(session, reg.id)
    record = issue_number(session, NUMBER_CODE, ref_type="cert_registration", ref_id=reg.id,
                          actor=actor)
    cert = Certificate(
        number=record.number, registration_id=reg.id,
        holder_name=reg.participant.full_name, programme_title=prog.title,
        field_name=field.name, vendor_name=vendor.name if vendor else "",
        score=result.score if result else None, issued_by=getattr(actor, "id", None),
        valid_until=_add_months(today(), prog.validity_months) if prog.validity_months
        else None)
    session.add(cert)
    session.flush()
    subtitle = prog.title + (f" · {vendor.name}" if vendor else "")
    register.issue(
        session, owner=Certificate.certificate_owner, object_id=cert.id, kind="certification",
        number=cert.number, holder_name=cert.holder_name, title=field.name, subtitle=subtitle,
        valid_until=cert.valid_until, issued_at=cert.issued_at, actor=actor,
        details={"registration": reg.code, "field": field.id})
    session.expire(cert, ["issued"])
    notices.certificate_issued(session, cert, reg.participant)
    return cert


def issue_all(session: Session, field: CertField, *, actor: Any) -> tuple[int, list[str]]:
    """Issue every certificate the field's confirmed participants have earned; returns the
    number issued and why the others got none."""
    issued, skipped = 0, []
    for reg in session.scalars(select(CertRegistration).where(
            CertRegistration.field_id == field.id,
            CertRegistration.status == RegStatus.CONFIRMED.value)
            .order_by(CertRegistration.seat_no)):
        if of_registration(session, reg.id) is not None:
            continue
        reason = why_not(session, reg)
        if reason:
            skipped.append(f"{reg.participant.full_name} ({reg.code}): {reason}")
            continue
        issue(session, reg, actor=actor)
        issued += 1
    return issued, skipped


def revoke(session: Session, cert: Certificate, *, reason: str, actor: Any) -> None:
    if cert.issued is None:
        raise CertError(N_("Certificate %(number)s is not in the register."), kind="not_found",
                        http=404, number=cert.number)
    try:
        register.revoke(session, cert.issued, reason=reason, actor=actor)
    except register.CertificateError as exc:
        if exc.kind == "reason_needed":
            raise CertError(N_("Say why the certificate is revoked."),
                            kind="reason_needed") from exc
        raise CertError(N_("Certificate %(number)s was already revoked."), kind="revoked",
                        http=409, number=cert.number) from exc


# -- PDF -------------------------------------------------------------------------------------


def verify_url(cert: Certificate) -> str:
    return register.verify_url(cert.verify_code)


def _font(pdf: Any) -> str:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdf.add_font("DejaVu", "", str(regular))
            pdf.add_font("DejaVu", "B", str(bold))
            return "DejaVu"
    return "Helvetica"


def pdf(cert: Certificate, *, unit: str = "BPTI", institution: str = "",
        signer_name: str = "", signer_title: str = "") -> bytes:
    """The certificate as an A4 landscape PDF, in Indonesian with English subtitles."""
    from fpdf import FPDF

    doc = FPDF(orientation="L", unit="mm", format="A4")
    doc.set_auto_page_break(False)
    doc.set_title(f"Sertifikat {cert.number}")
    doc.set_author(f"{unit} {institution}".strip())
    doc.set_subject(cert.field_name)
    family = _font(doc)

    def text(value: str) -> str:
        if family != "Helvetica":
            return value
        return value.encode("latin-1", "replace").decode("latin-1")

    doc.add_page()
    w, h = doc.w, doc.h
    doc.set_draw_color(20, 83, 45)
    doc.set_line_width(2.2)
    doc.rect(8, 8, w - 16, h - 16)
    doc.set_line_width(0.5)
    doc.rect(12, 12, w - 24, h - 24)

    doc.set_text_color(20, 83, 45)
    doc.set_font(family, "B", 14)
    doc.set_xy(20, 22)
    doc.cell(w - 40, 8, text(f"{unit} {institution}".strip().upper()), align="C")
    doc.set_font(family, "B", 38)
    doc.set_xy(20, 34)
    doc.cell(w - 40, 18, "SERTIFIKAT", align="C")
    doc.set_font(family, "", 11)
    doc.set_text_color(90, 90, 90)
    doc.set_xy(20, 52)
    doc.cell(w - 40, 6, text(f"Certificate  ·  Nomor {cert.number}"), align="C")

    doc.set_text_color(30, 30, 30)
    doc.set_font(family, "", 13)
    doc.set_xy(20, 68)
    doc.cell(w - 40, 7, text("diberikan kepada / awarded to"), align="C")
    doc.set_font(family, "B", 28)
    doc.set_xy(20, 78)
    doc.cell(w - 40, 14, text(cert.holder_name), align="C")
    doc.set_font(family, "", 13)
    doc.set_xy(30, 98)
    doc.multi_cell(w - 60, 7, text(
        "telah lulus sertifikasi bidang / has passed the certification in\n"), align="C")
    doc.set_font(family, "B", 18)
    doc.set_xy(20, 108)
    doc.cell(w - 40, 10, text(cert.field_name), align="C")
    doc.set_font(family, "", 13)
    doc.set_xy(20, 120)
    line = cert.programme_title
    if cert.vendor_name:
        line += f"  ·  {cert.vendor_name}"
    doc.cell(w - 40, 7, text(line), align="C")
    if cert.score is not None:
        doc.set_xy(20, 128)
        doc.cell(w - 40, 7, text(f"Nilai / score: {cert.score:g}"), align="C")

    issued = fmt(cert.issued_at, "%d-%m-%Y")
    doc.set_font(family, "", 11)
    doc.set_xy(30, h - 62)
    doc.cell(100, 6, text(f"Diterbitkan / issued: {issued}"))
    if cert.valid_until is not None:
        doc.set_xy(30, h - 55)
        doc.cell(100, 6, text(f"Berlaku sampai / valid until: "
                              f"{cert.valid_until.strftime('%d-%m-%Y')}"))
    doc.set_xy(w / 2 - 45, h - 62)
    doc.cell(90, 6, text(signer_title or "Kepala BPTI"), align="C")
    doc.set_draw_color(60, 60, 60)
    doc.set_line_width(0.3)
    doc.line(w / 2 - 40, h - 34, w / 2 + 40, h - 34)
    doc.set_font(family, "B", 11)
    doc.set_xy(w / 2 - 45, h - 33)
    doc.cell(90, 6, text(signer_name or " "), align="C")

    address = verify_url(cert)
    size = 38.0
    doc.image(BytesIO(qr.png(address)), x=w - 30 - size, y=h - 28 - size, w=size, h=size)
    doc.set_font(family, "", 7)
    doc.set_text_color(90, 90, 90)
    doc.set_xy(w - 30 - size - 20, h - 27)
    doc.cell(size + 20, 4, text("Pindai untuk memeriksa / scan to verify"), align="C")
    doc.set_xy(20, h - 20)
    doc.cell(w - 40, 4, text(address), align="C")
    return bytes(doc.output())


def pdf_for(session: Session, cert: Certificate) -> bytes:
    from core import settings_store
    from core.instance import ruang

    reg = session.get(CertRegistration, cert.registration_id)
    prog = reg.field.programme if reg is not None else None
    try:
        institution = str(settings_store.get(session, ruang().plugins, "ui.institution") or "")
    except Exception:  # the setting belongs to the core UI; tolerate its absence
        institution = ""
    return pdf(cert, institution=institution,
               signer_name=prog.signer_name if prog else "",
               signer_title=prog.signer_title if prog else "")
