"""Who sees and works which ticket: the rules the permissions alone cannot say.

* Admins, Ka. BPTI (role ``head``) and YANSI staff see every ticket: YANSI is the front
  office that triages complaints and confirms their status to users.
* Staff of another division see the tickets of their division, those assigned to them,
  and those they entered or filed; their Kabag. sees the same and assigns within it.
* Everyone else sees only the tickets they filed, or follow (a merged duplicate's owner).
* Guests see a ticket only after proving its e-mail or phone (see :mod:`lookup`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true

from core.accounts.roles import Division, Role
from plugins.helpdesk.models import Follower, Ticket

TRIAGE_DIVISION = Division.YANSI.value


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and getattr(user, "active", True))


def is_staff(user: Any) -> bool:
    return _signed_in(user) and getattr(user, "role", None) in (Role.STAFF, Role.HEAD, Role.ADMIN)


def sees_all(user: Any) -> bool:
    if not _signed_in(user):
        return False
    role = getattr(user, "role", None)
    if role in (Role.ADMIN, Role.HEAD):
        return True
    return role == Role.STAFF and getattr(user, "division", None) == TRIAGE_DIVISION


def is_triager(user: Any) -> bool:
    """May forward any ticket to a division: YANSI staff, Ka. BPTI, admins."""
    return sees_all(user)


def is_division_head(user: Any, division: str | None) -> bool:
    return bool(_signed_in(user) and getattr(user, "role", None) == Role.STAFF
                and getattr(user, "is_division_head", False) and division
                and getattr(user, "division", None) == division)


def may_manage(user: Any) -> bool:
    """Categories, service levels, canned replies: admins, Ka. BPTI and Kabag. YANSI."""
    if not _signed_in(user):
        return False
    if getattr(user, "role", None) in (Role.ADMIN, Role.HEAD):
        return True
    return is_division_head(user, TRIAGE_DIVISION)


def visible_clause(user: Any) -> ColumnElement[bool]:
    """A WHERE clause on :class:`Ticket` for the tickets ``user`` may see."""
    if not _signed_in(user):
        return false()
    if sees_all(user):
        return true()
    uid = getattr(user, "id", None)
    followed = Ticket.id.in_(select(Follower.ticket_id).where(Follower.user_id == uid))
    own = or_(Ticket.created_by == uid, followed)
    if is_staff(user) and getattr(user, "division", None):
        return or_(own, Ticket.division == user.division, Ticket.assignee_id == uid,
                   Ticket.entered_by == uid)
    return own


def is_requester(user: Any, ticket: Ticket, follower_ids: set[int] | None = None) -> bool:
    uid = getattr(user, "id", None)
    if not _signed_in(user) or uid is None:
        return False
    return ticket.created_by == uid or uid in (follower_ids or set())


def can_view(user: Any, ticket: Ticket, follower_ids: set[int] | None = None) -> bool:
    if not _signed_in(user):
        return False
    if sees_all(user) or is_requester(user, ticket, follower_ids):
        return True
    uid = getattr(user, "id", None)
    if is_staff(user):
        return (ticket.division is not None and ticket.division == user.division) or uid in (
            ticket.assignee_id, ticket.entered_by)
    return False


def can_see_internal(user: Any, ticket: Ticket) -> bool:
    """Internal notes: staff who can view the ticket as staff (not as its requester)."""
    if not is_staff(user):
        return False
    return can_view(user, ticket)


def may_work(user: Any, ticket: Ticket) -> bool:
    """May reply, note, and move the ticket on: triagers, its division, its assignee."""
    if not is_staff(user):
        return False
    if is_triager(user):
        return True
    uid = getattr(user, "id", None)
    return ticket.assignee_id == uid or (
        ticket.division is not None and ticket.division == user.division)


def may_assign(user: Any, ticket: Ticket) -> bool:
    """Triagers and the Kabag. of the ticket's division assign it to a person."""
    return is_triager(user) or is_division_head(user, ticket.division)


def may_forward(user: Any, ticket: Ticket) -> bool:
    """Triagers route any ticket; a Kabag. may send a ticket of theirs to another division."""
    return is_triager(user) or is_division_head(user, ticket.division)
