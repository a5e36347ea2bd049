"""The register of issued certificates and the failed lookups kept to throttle guessers.

A plugin keeps what its certificate prints (score, hours, field) in its own table; what a
stranger needs to trust a paper certificate lives here, so one page answers for all of them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import Date, Index, Integer, String, Text, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, declared_attr, foreign, mapped_column, relationship

from core.db import Base, utcnow


class IssuedCertificate(Base):
    """One certificate as the verification page shows it.

    ``code`` is random and goes in the QR code, so holders cannot be listed by counting;
    ``number`` is the printed quality-record number, which may be typed in instead.
    ``owner`` and ``object_id`` name the plugin's own row for the same certificate.
    """

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("owner", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    number: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    holder_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    subtitle: Mapped[str] = mapped_column(String(300), default="")
    issuer: Mapped[str] = mapped_column(String(200), default="")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[int | None] = mapped_column(Integer, default=None)
    valid_until: Mapped[date | None] = mapped_column(Date, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[int | None] = mapped_column(Integer, default=None)
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(80))
    object_id: Mapped[int] = mapped_column(Integer)


class CertificateLookupMiss(Base):
    """A lookup of a code or number that was never issued, counted per address."""

    __tablename__ = "certificate_lookup_misses"
    __table_args__ = (Index("ix_certificate_lookup_misses_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class RegisteredCertificate:
    """Mixin for a plugin's own certificate table (with an integer ``id``): its entry in the
    register, loaded with it, and the register's fields its pages read.

    The plugin names itself in ``certificate_owner``, the ``owner`` it issues under.
    """

    certificate_owner: ClassVar[str]

    @declared_attr
    def issued(cls) -> Mapped[IssuedCertificate | None]:  # noqa: N805 - SQLAlchemy's
        owner = cls.certificate_owner
        mapped: Any = cls
        return relationship(
            IssuedCertificate,
            primaryjoin=lambda: and_(foreign(IssuedCertificate.object_id) == mapped.id,
                                     IssuedCertificate.owner == owner),
            viewonly=True, lazy="joined", uselist=False)

    @property
    def verify_code(self) -> str:
        return self.issued.code if self.issued is not None else ""

    @property
    def revoked_at(self) -> datetime | None:
        return self.issued.revoked_at if self.issued is not None else None

    @property
    def revoke_reason(self) -> str:
        return self.issued.revoke_reason if self.issued is not None else ""


MODELS: list[type] = [IssuedCertificate, CertificateLookupMiss]
