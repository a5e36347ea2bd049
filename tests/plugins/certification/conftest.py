"""Fixtures of the certification tests: demo users, and a published programme made through
the services (the pages are tested on their own in test_flow.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from core.accounts.models import User
from core.audit.models import AuditEntry
from plugins.certification import programmes
from plugins.certification.clock import local, now, today
from plugins.certification.models import CertProgramme, CertRegistration


def user(db: Any, username: str) -> User:
    with db.session() as s:
        found = s.scalar(select(User).where(User.username == username))
    assert found is not None, username
    return found


def local_text(moment: Any) -> str:
    value = local(moment)
    assert value is not None
    return value.strftime("%Y-%m-%dT%H:%M")


def publish(db: Any, *, fields: list[dict[str, Any]], opens: Any = None, closes: Any = None,
            **extra: Any) -> CertProgramme:
    """A programme with ``fields``, approved by WR II and published, registration open now."""
    staff, wr2 = user(db, "add"), user(db, "wr2")
    opens = opens or now() - timedelta(hours=1)
    closes = closes or now() + timedelta(days=3)
    day = today() + timedelta(days=20)
    with db.transaction() as s:
        prog = programmes.create(s, {
            "title": extra.pop("title", "Sertifikasi Uji"), "starts_on": day.isoformat(),
            "ends_on": day.isoformat(), "registration_opens_at": local_text(opens),
            "registration_closes_at": local_text(closes), **extra}, actor=staff)
        programmes.add_cost(s, prog, {"item": "Asesor", "amount": 1000}, actor=staff)
        for spec in fields:
            programmes.add_field(s, prog, spec, actor=staff)
        programmes.act(s, prog, {"action": "submit"}, actor=staff)
        programmes.act(s, prog, {"action": "approve"}, actor=wr2)
        programmes.act(s, prog, {"action": "publish"}, actor=staff)
        prog_id = prog.id
    with db.session() as s:
        prog = s.get(CertProgramme, prog_id)
        assert prog is not None
        _ = [f.code for f in prog.fields]
    return prog


@pytest.fixture
def published(db: Any) -> Callable[..., CertProgramme]:
    return lambda **kw: publish(db, **kw)


def snapshot(db: Any) -> tuple[int, int, list[tuple[int, int]]]:
    """(registrations, audit entries, seats held per field): what a refusal must not change."""
    from plugins.certification.models import CertField

    with db.session() as s:
        regs = s.scalar(select(func.count()).select_from(CertRegistration)) or 0
        audits = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
        held = list(s.execute(select(CertField.id, CertField.seats_held)
                              .order_by(CertField.id)).all())
    return regs, audits, held
