"""The public status look-up: a ticket number alone opens nothing.

A guest gives the number and the e-mail or phone the complaint was filed with (or of a
follower). The answer to a wrong pair is the same whether the number exists or not, so
numbers cannot be enumerated, and wrong answers are counted per address and per number:
past the limit the look-up is refused for a while, even with the right pair.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import utcnow
from plugins.helpdesk import options
from plugins.helpdesk.forms import clean_email
from plugins.helpdesk.models import Follower, Ticket
from plugins.helpdesk.search import phone_digits
from plugins.helpdesk.service import by_number, count_attempt, throttled

# Several people behind one campus NAT share an address: the per-number limit is what
# stops a distributed guesser, the per-address one a single noisy client.
NUMBER_LIMIT_FACTOR = 2


@dataclass(frozen=True)
class LookupResult:
    ticket: Ticket | None
    retry_after: int = 0

    @property
    def throttled(self) -> bool:
        return self.retry_after > 0


def _contact_matches(session: Session, ticket: Ticket, contact: str) -> bool:
    contact = contact.strip()
    email = ""
    if "@" in contact:
        try:
            email = clean_email(contact).lower()
        except ValueError:
            return False
    phone = "" if email else phone_digits(contact)
    if not email and len(phone) < 8:
        return False
    people = [(ticket.requester_email, ticket.requester_phone)]
    people += [(f.email, f.phone) for f in session.scalars(
        select(Follower).where(Follower.ticket_id == ticket.id))]
    for known_email, known_phone in people:
        if email and known_email and known_email.lower() == email:
            return True
        if phone and known_phone and phone_digits(known_phone) == phone:
            return True
    return False


def find(session: Session, number: str, contact: str, ip: str) -> LookupResult:
    """The ticket if ``contact`` belongs to it, after the throttle; runs in a write
    transaction because failures are counted."""
    limit = int(options.get(session, "helpdesk.lookup_max_failures"))
    window = int(options.get(session, "helpdesk.lookup_window_s"))
    number = (number or "").strip().upper()[:60]
    now = utcnow()
    wait = max(throttled(session, f"lookup-ip:{ip}", limit, window, now),
               throttled(session, f"lookup-no:{number}", limit * NUMBER_LIMIT_FACTOR,
                         window, now))
    if wait:
        return LookupResult(None, wait)
    ticket = by_number(session, number)
    if ticket is not None and _contact_matches(session, ticket, contact):
        return LookupResult(ticket)
    count_attempt(session, f"lookup-ip:{ip}", now)
    count_attempt(session, f"lookup-no:{number}", now)
    audit(session, "helpdesk.lookup_failed", actor="guest", object_type="helpdesk_ticket",
          object_id=number, details={"ip": ip}, ip=ip)
    return LookupResult(None)
