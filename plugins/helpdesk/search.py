"""Search over tickets: an inverted index of words that any database answers quickly.

Each ticket's words (number, subject, description, requester's name, e-mail and phone,
replies and notes) are kept in ``helpdesk_search_terms``. A query's words must all match,
each as a prefix of an indexed word; a prefix is a range scan on the index, so a search
stays fast on 100,000 tickets on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, insert, select
from sqlalchemy.orm import Session

from core.db import Base
from plugins.helpdesk.models import SearchTerm, Ticket, TicketMessage

MAX_TERM = 40
TERMS = Table(SearchTerm.__tablename__, Base.metadata)
MAX_TERMS_PER_TEXT = 400
_WORD = re.compile(r"[0-9a-z@._+-]+")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def phone_digits(phone: str) -> str:
    """A phone number as digits with the country code: 0812... and +62812... both 62812..."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return digits


def terms(text: str) -> set[str]:
    """The words of ``text`` as indexed: lower case, without accents, at most 40 letters.

    E-mail addresses and dotted names are indexed whole and in parts, so ``budi``,
    ``budi@kampus.ac.id`` and ``kampus`` all find ``budi@kampus.ac.id``.
    """
    out: set[str] = set()
    for raw in _WORD.findall(_fold(text or "")):
        word = raw.strip("._+-@")
        if not word:
            continue
        parts = {word, *(p for p in re.split(r"[@._+-]", word) if p)}
        for part in parts:
            if len(part) >= 2 or part.isdigit():
                out.add(part[:MAX_TERM])
        if len(out) >= MAX_TERMS_PER_TEXT:
            break
    return out


def ticket_terms(ticket: Any) -> set[str]:
    found = terms(" ".join([ticket.number, ticket.subject, ticket.description,
                            ticket.requester_name, ticket.requester_email,
                            ticket.requester_unit]))
    phone = phone_digits(ticket.requester_phone)
    if phone:
        found.add(phone[:MAX_TERM])
        if phone.startswith("62"):
            found.add(("0" + phone[2:])[:MAX_TERM])
    return found


def add(session: Session, ticket_id: int, words: Iterable[str]) -> None:
    """Index more words of a ticket (a reply), skipping those it has already."""
    words = set(words)
    if not words:
        return
    have = set(session.scalars(select(SearchTerm.term).where(
        SearchTerm.ticket_id == ticket_id, SearchTerm.term.in_(words))))
    fresh = [{"term": w, "ticket_id": ticket_id} for w in sorted(words - have)]
    if fresh:
        session.execute(insert(SearchTerm), fresh)


def index_ticket(session: Session, ticket: Ticket) -> None:
    """Index the whole ticket again (after filing or an edit)."""
    session.flush()
    session.execute(delete(SearchTerm).where(SearchTerm.ticket_id == ticket.id))
    words = ticket_terms(ticket)
    for body in session.scalars(select(TicketMessage.body)
                                .where(TicketMessage.ticket_id == ticket.id)):
        words |= terms(body)
    add(session, ticket.id, words)


def reindex(session: Session, batch: int = 5000) -> int:
    """Rebuild the whole index; returns how many tickets were indexed."""
    session.execute(delete(SearchTerm))
    done = 0
    last = 0
    while True:
        tickets = session.execute(select(
            Ticket.id, Ticket.number, Ticket.subject, Ticket.description, Ticket.requester_name,
            Ticket.requester_email, Ticket.requester_unit, Ticket.requester_phone)
            .where(Ticket.id > last).order_by(Ticket.id).limit(batch)).all()
        if not tickets:
            return done
        ids = [t.id for t in tickets]
        bodies: dict[int, list[str]] = {}
        for tid, body in session.execute(select(TicketMessage.ticket_id, TicketMessage.body)
                                         .where(TicketMessage.ticket_id.in_(ids))):
            bodies.setdefault(tid, []).append(body)
        rows: list[dict[str, object]] = []
        for t in tickets:
            words = ticket_terms(t)
            for body in bodies.get(t.id, []):
                words |= terms(body)
            rows.extend({"term": w, "ticket_id": t.id} for w in words)
        if rows:
            # Core insert (not ORM), in index order: a rebuild writes millions of rows, and
            # sorted keys fill the index's pages one after another.
            rows.sort(key=lambda row: (row["term"], row["ticket_id"]))
            session.execute(insert(TERMS), rows)
        done += len(tickets)
        last = ids[-1]


def query_words(query: str) -> list[str]:
    words: list[str] = []
    for raw in _WORD.findall(_fold(query or "")):
        word = raw.strip("._+-@")
        if not word:
            continue
        if re.fullmatch(r"\+?[\d\s-]{6,}", raw):
            word = phone_digits(raw)
        words.append(word[:MAX_TERM])
    return list(dict.fromkeys(words))[:8]


def matches(query: str) -> ColumnElement[bool] | None:
    """A WHERE clause on :class:`Ticket` for tickets holding every word of ``query``.

    ``None`` when the query has no words. A word like a ticket number matches it whole.
    """
    words = query_words(query)
    if not words:
        return None
    clauses = []
    for word in words:
        # A prefix as a range: term >= word AND term < word + U+FFFF uses the index.
        sub = select(SearchTerm.ticket_id).where(SearchTerm.term >= word,
                                                 SearchTerm.term < word + "\uffff")
        clauses.append(Ticket.id.in_(sub))
    return and_(*clauses)
