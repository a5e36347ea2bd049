"""Participants: members of the university through their account, outsiders through a
verified e-mail address.

An outsider types their details once; the portal mails a one-time link that proves the
address and signs them in to the portal (the participant's id is then kept in the signed
session cookie). Only the link's SHA-256 is stored, so a copy of the database cannot be
used to sign in. Links expire, work once, and at most a few are sent per hour to one
address.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from plugins.certification import notices
from plugins.certification.clock import now
from plugins.certification.errors import N_, CertError, form_error
from plugins.certification.models import CertParticipant, CertToken

LINK_MINUTES = 60 * 24
LINKS_PER_HOUR = 5


class ExternalForm(BaseModel):
    """What an outsider types to register (or to get a new sign-in link)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    full_name: str = Field(min_length=2, max_length=200)
    email: EmailStr
    phone: str = Field(default="", max_length=40, pattern=r"^[0-9+() .-]*$")
    institution: str = Field(default="", max_length=200)
    id_number: str = Field(default="", max_length=40)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class EmailForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    email: EmailStr


LABELS = {"full_name": "Nama lengkap", "email": "E-mail", "phone": "Telepon",
          "institution": "Instansi", "id_number": "NIK/NIM"}


def by_email(session: Session, email: str) -> CertParticipant | None:
    return session.scalar(select(CertParticipant)
                          .where(CertParticipant.email == email.strip().lower()))


def of_user(session: Session, user: Any, *, create: bool = True) -> CertParticipant | None:
    """The participant record of a signed-in member of the university (made on first use).

    If the person registered earlier as an outsider with the same address, that record is
    linked to the account instead of making a second one.
    """
    found = session.scalar(select(CertParticipant).where(CertParticipant.user_id == user.id))
    if found is not None or not create:
        return found
    email = (user.email or "").strip().lower() or f"user-{user.id}@accounts.invalid"
    found = by_email(session, email)
    if found is not None and found.user_id is None:
        found.user_id = user.id
        found.email_verified_at = found.email_verified_at or now()
        found.study_programme = found.study_programme or (user.unit or "")
        session.flush()
        audit(session, "certification.participant.link", actor=user,
              object_type="cert_participant", object_id=found.id)
        return found
    p = CertParticipant(user_id=user.id, email=email, full_name=user.display_name,
                        phone=user.phone or "", institution="", study_programme=user.unit or "",
                        email_verified_at=now(), locale=user.locale)
    session.add(p)
    session.flush()
    audit(session, "certification.participant.create", actor=user,
          object_type="cert_participant", object_id=p.id, details={"internal": True})
    return p


def check_external(data: dict[str, Any]) -> ExternalForm:
    try:
        return ExternalForm.model_validate(data)
    except ValidationError as exc:
        raise form_error(exc, LABELS) from None


def external(session: Session, form: ExternalForm, locale: str | None = None
             ) -> CertParticipant:
    """The outsider with ``form.email``, made if new. Details of an address that is already
    verified are not changed from here: whoever types it has not proved it is theirs."""
    p = by_email(session, form.email)
    if p is None:
        p = CertParticipant(email=form.email, full_name=form.full_name, phone=form.phone,
                            institution=form.institution, id_number=form.id_number,
                            locale=locale)
        session.add(p)
        session.flush()
        audit(session, "certification.participant.create", object_type="cert_participant",
              object_id=p.id, details={"internal": False})
    elif p.email_verified_at is None and p.user_id is None:
        p.full_name, p.phone = form.full_name, form.phone
        p.institution, p.id_number = form.institution, form.id_number
        p.locale = locale or p.locale
    return p


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def send_link(session: Session, p: CertParticipant, next_path: str = "") -> str:
    """Mail a one-time sign-in link to ``p``; returns the raw token (tests, benchmark)."""
    recent = session.scalar(select(func.count()).select_from(CertToken).where(
        CertToken.participant_id == p.id, CertToken.created_at > now() - timedelta(hours=1)))
    if (recent or 0) >= LINKS_PER_HOUR:
        raise CertError(N_("Too many links were sent to this address in the last hour; use the "
                        "latest one or try again later."), kind="rate_limited", http=429)
    raw = issue_token(session, p, next_path)
    notices.access_link(session, p, raw, LINK_MINUTES)
    return raw


def issue_token(session: Session, p: CertParticipant, next_path: str = "",
                minutes: int = LINK_MINUTES) -> str:
    """Store a new one-time link for ``p`` (without mailing it) and return its token."""
    raw = secrets.token_urlsafe(32)
    if not next_path.startswith("/") or next_path.startswith("//"):
        next_path = ""
    session.add(CertToken(participant_id=p.id, token_hash=_hash(raw), next_path=next_path[:300],
                          expires_at=now() + timedelta(minutes=minutes)))
    session.flush()
    return raw


def use_link(session: Session, raw: str) -> tuple[CertParticipant, str]:
    """Spend a link: the participant it signs in, and the page to go to next."""
    token = session.scalar(select(CertToken).where(CertToken.token_hash == _hash(raw or "")))
    if token is None:
        raise CertError(N_("This link is not valid. Ask for a new one."), kind="bad_link",
                        http=404)
    if token.used_at is not None:
        raise CertError(N_("This link has already been used. Ask for a new one."),
                        kind="used_link", http=410)
    if token.expires_at <= now():
        raise CertError(N_("This link has expired. Ask for a new one."), kind="expired_link",
                        http=410)
    token.used_at = now()
    p = session.get(CertParticipant, token.participant_id)
    assert p is not None
    first = p.email_verified_at is None
    if first:
        p.email_verified_at = now()
    session.flush()
    audit(session, "certification.participant.verify" if first else
          "certification.participant.signin", object_type="cert_participant", object_id=p.id)
    return p, token.next_path
