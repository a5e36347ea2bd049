"""Who the lab procedure involves: Ka. BPTI, Kabag. YANSI, the staff, a request's requester."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.roles import Division, Role


def heads(session: Session) -> Sequence[User]:
    """Ka. BPTI (every active user with the head role)."""
    return list(session.scalars(
        select(User).where(User.role == Role.HEAD.value, User.active.is_(True))
        .order_by(User.id)))


def kabag_yansi(session: Session) -> User | None:
    """The head of the YANSI division, who coordinates lab preparation."""
    return session.scalars(
        select(User).where(User.role == Role.STAFF.value, User.division == Division.YANSI.value,
                           User.is_division_head.is_(True), User.active.is_(True))
        .order_by(User.id)).first()


def staff(session: Session) -> Sequence[User]:
    """Staff who can prepare a lab, YANSI first."""
    rows = session.scalars(
        select(User).where(User.role == Role.STAFF.value, User.active.is_(True))
        .order_by(User.full_name, User.username))
    return sorted(rows, key=lambda u: (u.division != Division.YANSI.value, u.display_name))


def user(session: Session, user_id: int | None) -> User | None:
    return session.get(User, user_id) if user_id is not None else None


def name_of(session: Session, user_id: int | None) -> str:
    found = user(session, user_id)
    return found.display_name if found else ""
