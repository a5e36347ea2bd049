"""Issuing, revoking and checking certificates; callable without HTTP.

A plugin issues its certificate here inside its own transaction, prints
:func:`verify_url` as a QR code, and revokes here; the public page in ``views`` answers
``valid``, ``revoked`` (with the date), ``expired`` or ``unknown`` for any of them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.certificates.models import CertificateLookupMiss, IssuedCertificate
from core.db import utcnow

# Guessing a 20-character random code is hopeless anyway; the limit is for typed numbers,
# which are sequential, and it is generous for a person checking a stack of certificates.
MISS_LIMIT = 20
MISS_WINDOW_S = 600
CODE_MAX = 40
NUMBER_MAX = 80


class CertificateError(ValueError):
    """A certificate cannot be issued or revoked as asked; ``message`` says why."""

    def __init__(self, message: str, *, kind: str = "invalid", **values: Any) -> None:
        super().__init__(message % values if values else message)
        self.message = message
        self.kind = kind  # "invalid", "duplicate", "revoked", "reason_needed"
        self.values = values


def new_code() -> str:
    return secrets.token_urlsafe(15)


def default_issuer(session: Session) -> str:
    """The unit and university named in the UI settings ("BPTI Universitas ...")."""
    from core import settings_store
    from core.instance import ruang

    parts = []
    for key, fallback in (("ui.unit_name", "BPTI"), ("ui.institution", "")):
        try:
            parts.append(str(settings_store.get(session, ruang().plugins, key) or fallback))
        except (settings_store.SettingError, KeyError):
            parts.append(fallback)
    return " ".join(p for p in parts if p)


def issue(session: Session, *, owner: str, object_id: int, kind: str, number: str,
          holder_name: str, title: str, subtitle: str = "", issuer: str = "",
          valid_until: date | None = None, issued_at: datetime | None = None,
          actor: Any = None, code: str | None = None,
          details: dict[str, Any] | None = None) -> IssuedCertificate:
    """Register a certificate ``owner`` issued for its row ``object_id``.

    The audit entry is ``<owner>.certificate.issue``, with ``details`` added to it.
    """
    if session.scalar(select(IssuedCertificate.id).where(
            IssuedCertificate.owner == owner, IssuedCertificate.object_id == object_id)):
        raise CertificateError("%(owner)s already issued a certificate for %(id)s",
                               kind="duplicate", owner=owner, id=object_id)
    cert = IssuedCertificate(
        code=code or new_code(), number=number[:NUMBER_MAX], kind=kind[:40],
        holder_name=holder_name[:200], title=title[:200], subtitle=subtitle[:300],
        issuer=(issuer or default_issuer(session))[:200], issued_at=issued_at or utcnow(),
        issued_by=getattr(actor, "id", None), valid_until=valid_until, owner=owner,
        object_id=object_id)
    session.add(cert)
    session.flush()
    audit(session, f"{owner}.certificate.issue", actor=actor, object_type="certificate",
          object_id=cert.number, details={"object": object_id, **(details or {})})
    return cert


def revoke(session: Session, cert: IssuedCertificate, *, reason: str, actor: Any,
           details: dict[str, Any] | None = None) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError("say why the certificate is revoked", kind="reason_needed")
    if cert.revoked_at is not None:
        raise CertificateError("certificate %(number)s was already revoked", kind="revoked",
                               number=cert.number)
    cert.revoked_at = utcnow()
    cert.revoked_by = getattr(actor, "id", None)
    cert.revoke_reason = reason[:2000]
    session.flush()
    audit(session, f"{cert.owner}.certificate.revoke", actor=actor, object_type="certificate",
          object_id=cert.number, details={"reason": cert.revoke_reason, **(details or {})})


def of_object(session: Session, owner: str, object_id: int) -> IssuedCertificate | None:
    return session.scalar(select(IssuedCertificate).where(
        IssuedCertificate.owner == owner, IssuedCertificate.object_id == object_id))


def find(session: Session, *, code: str = "", number: str = "") -> IssuedCertificate | None:
    """The certificate with this QR code, or else with this printed number (any case)."""
    code, number = code.strip(), " ".join(number.split())
    if code and len(code) <= CODE_MAX:
        return session.scalar(select(IssuedCertificate).where(IssuedCertificate.code == code))
    if number and len(number) <= NUMBER_MAX:
        return session.scalar(select(IssuedCertificate).where(
            func.upper(IssuedCertificate.number) == number.upper()))
    return None


@dataclass(frozen=True)
class Verdict:
    status: str  # valid, revoked, expired, unknown
    certificate: IssuedCertificate | None = None


def verdict_of(cert: IssuedCertificate | None, today: date | None = None) -> Verdict:
    if cert is None:
        return Verdict("unknown")
    if cert.revoked_at is not None:
        return Verdict("revoked", cert)
    if cert.valid_until is not None and cert.valid_until < (today or utcnow().date()):
        return Verdict("expired", cert)
    return Verdict("valid", cert)


def verify(session: Session, *, code: str = "", number: str = "") -> Verdict:
    return verdict_of(find(session, code=code, number=number))


# -- throttling of guessers ------------------------------------------------------------------


def wait_s(session: Session, key: str, now: datetime | None = None) -> int:
    """Seconds ``key`` must wait before the next lookup; 0 when it may look now."""
    now = now or utcnow()
    since = now - timedelta(seconds=MISS_WINDOW_S)
    count, first = session.execute(select(func.count(), func.min(CertificateLookupMiss.at))
                                   .where(CertificateLookupMiss.key == key,
                                          CertificateLookupMiss.at >= since)).one()
    if count < MISS_LIMIT or first is None:
        return 0
    return max(int((first + timedelta(seconds=MISS_WINDOW_S) - now).total_seconds()) + 1, 1)


def count_miss(session: Session, key: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    session.add(CertificateLookupMiss(key=key[:160], at=now))
    # Old misses are worthless; dropping them here keeps the table small without a job.
    session.execute(delete(CertificateLookupMiss).where(
        CertificateLookupMiss.at < now - timedelta(days=1)))


# -- addresses -------------------------------------------------------------------------------


def verify_url(code: str) -> str:
    """The absolute address of the public page for ``code``, as its QR code carries it."""
    from core.notify.letters import page_url

    return page_url("certificates.verify", code=code)
