"""Certificates of attendance: numbered by the records service, printed as PDF with a QR
code to the public verification page, revoked by staff with a reason.

Each certificate is registered in the core's certificate register, which gives it the
random code its QR code carries and answers the public check (``/verify``). What a
certificate says is copied when it is issued.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.certificates import qr
from core.certificates import service as register
from core.db import utcnow
from core.records.service import issue as issue_number
from plugins.training import clock, notices
from plugins.training.errors import N_, TrainingError
from plugins.training.errors import t as _
from plugins.training.forms import RevokeForm, parse
from plugins.training.models import Certificate, Participant, ParticipantStatus, Training
from plugins.training.options import setting
from plugins.training.pdfdoc import BRAND, GREY, Document

ISSUING_STATES = ("held", "evaluated", "documented")


def of_participant(session: Session, participant_id: int) -> Certificate | None:
    return session.scalar(select(Certificate).where(Certificate.participant_id == participant_id))


def of_training(session: Session, training_id: int) -> list[Certificate]:
    return list(session.scalars(select(Certificate).where(
        Certificate.training_id == training_id).order_by(Certificate.id)))


def why_not(session: Session, training: Training, person: Participant) -> str | None:
    if training.state not in ISSUING_STATES:
        return _("certificates are issued once the training has been held")
    if person.status != ParticipantStatus.REGISTERED.value or person.checked_in_at is None:
        return _("%(name)s did not attend", name=person.name)
    if of_participant(session, person.id) is not None:
        return _("a certificate was issued already")
    return None


def issue(session: Session, training: Training, person: Participant, actor: Any
          ) -> Certificate:
    reason = why_not(session, training, person)
    if reason:
        raise TrainingError(N_("No certificate for %(name)s: %(why)s."), kind="not_eligible",
                            http=409, name=person.name, why=reason)
    record = issue_number(session, "DIKLAT-SRT", ref_type="training_participant",
                          ref_id=person.id, actor=actor)
    hours = round((training.ends_at - training.starts_at).total_seconds() / 3600, 1)
    cert = Certificate(
        number=record.number, participant_id=person.id,
        training_id=training.id, holder_name=person.name, training_title=training.title,
        training_theme=training.theme, held_on=clock.span(training.starts_at, training.ends_at),
        hours=hours, issued_at=utcnow(), issued_by=getattr(actor, "id", None))
    session.add(cert)
    session.flush()
    register.issue(
        session, owner=Certificate.certificate_owner, object_id=cert.id, kind="training",
        number=cert.number, holder_name=cert.holder_name, title=cert.training_title,
        subtitle=" · ".join(p for p in (cert.training_theme, cert.held_on) if p),
        issued_at=cert.issued_at, actor=actor,
        details={"training": training.id, "participant": person.id})
    session.expire(cert, ["issued"])
    notices.certificate_ready(session, training, person, cert.number)
    return cert


def issue_all(session: Session, training: Training, actor: Any) -> tuple[int, list[str]]:
    """Certificates for everyone who attended and has none yet; (issued, skipped reasons)."""
    if training.state not in ISSUING_STATES:
        raise TrainingError(N_("Certificates are issued once the training has been held."),
                            kind="state", http=409)
    issued, skipped = 0, []
    for person in session.scalars(select(Participant).where(
            Participant.training_id == training.id,
            Participant.checked_in_at.is_not(None)).order_by(Participant.name)):
        reason = why_not(session, training, person)
        if reason:
            if of_participant(session, person.id) is None:
                skipped.append(f"{person.name}: {reason}")
            continue
        issue(session, training, person, actor)
        issued += 1
    return issued, skipped


def revoke(session: Session, cert: Certificate, data: dict[str, Any], actor: Any) -> None:
    form = parse(RevokeForm, data)
    if cert.issued is None or cert.issued.revoked_at is not None:
        raise TrainingError(N_("Certificate %(number)s was already revoked."), kind="revoked",
                            http=409, number=cert.number)
    register.revoke(session, cert.issued, reason=form.reason, actor=actor,
                    details={"training": cert.training_id})


def verify_url(cert: Certificate) -> str:
    return register.verify_url(cert.verify_code)


def pdf(session: Session, cert: Certificate) -> bytes:
    """The certificate as an A4 landscape PDF, in Indonesian with English subtitles (it is
    shown outside the university too)."""
    doc = Document("Sertifikat", cert.number, orientation="L")
    doc.set_auto_page_break(False)
    # The landscape certificate has its own frame instead of the letterhead.
    doc.header = lambda: None  # type: ignore[method-assign]
    doc.footer = lambda: None  # type: ignore[method-assign]
    doc.add_page()
    w, h = doc.w, doc.h
    fam = doc.family
    doc.set_draw_color(*BRAND)
    doc.set_line_width(2.2)
    doc.rect(8, 8, w - 16, h - 16)
    doc.set_line_width(0.5)
    doc.rect(12, 12, w - 24, h - 24)

    def line(y: float, text: str, size: float, style: str = "",
             color: tuple[int, int, int] = (30, 30, 30)) -> None:
        doc.set_text_color(*color)
        doc.set_font(fam, style, size)
        doc.set_xy(20, y)
        doc.cell(w - 40, size * 0.5, doc.text_ok(text), align="C")

    line(22, f"{doc.unit} {doc.institution}".strip().upper(), 14, "B", BRAND)
    line(34, "SERTIFIKAT", 36, "B", BRAND)
    line(52, f"Certificate of attendance  ·  Nomor {cert.number}", 11, "", GREY)
    line(68, "diberikan kepada / awarded to", 13)
    line(78, cert.holder_name, 28, "B")
    line(98, "atas kehadirannya sebagai peserta pelatihan / for attending the training", 13)
    line(108, cert.training_title, 18, "B")
    line(121, f"{cert.training_theme}  ·  {cert.held_on}  ·  {cert.hours:g} jam / hours", 12)

    signer_title = str(setting(session, "training.signer_title") or "Kepala BPTI")
    signer = str(setting(session, "training.signer_name") or "")
    if not signer:
        from plugins.training.letter import approver

        training = session.get(Training, cert.training_id)
        signer = approver(session, training)[0] if training is not None else ""
    doc.set_text_color(30, 30, 30)
    doc.set_font(fam, "", 11)
    doc.set_xy(30, h - 62)
    doc.cell(100, 6, doc.text_ok(f"Diterbitkan / issued: {clock.fmt(cert.issued_at, '%d-%m-%Y')}"))
    doc.set_xy(w / 2 - 45, h - 62)
    doc.cell(90, 6, doc.text_ok(signer_title), align="C")
    doc.set_draw_color(60, 60, 60)
    doc.set_line_width(0.3)
    doc.line(w / 2 - 40, h - 34, w / 2 + 40, h - 34)
    doc.set_font(fam, "B", 11)
    doc.set_xy(w / 2 - 45, h - 33)
    doc.cell(90, 6, doc.text_ok(signer or " "), align="C")

    address = verify_url(cert)
    size = 36.0
    doc.image(BytesIO(qr.png(address)), x=w - 30 - size,
              y=h - 28 - size, w=size, h=size)
    doc.set_font(fam, "", 7)
    doc.set_text_color(*GREY)
    doc.set_xy(w - 30 - size - 20, h - 27)
    doc.cell(size + 20, 4, doc.text_ok("Pindai untuk memeriksa / scan to verify"), align="C")
    doc.set_xy(20, h - 20)
    doc.cell(w - 40, 4, doc.text_ok(address), align="C")
    return doc.finish()


def holder_of(session: Session, cert: Certificate) -> Participant | None:
    return session.get(Participant, cert.participant_id)
