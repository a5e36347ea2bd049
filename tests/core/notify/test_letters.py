"""The letter shape the procedures' notices share, in the reader's language."""

from __future__ import annotations

from sqlalchemy import select

from core.contracts import Notification
from core.notify.letters import gettext, in_language, letter, queue_all
from core.notify.models import OutboxMessage


def test_letter_greets_tells_details_and_signs(app):
    with in_language("id"):
        text = letter("Ani", ["Tiket Anda diterima."], signature="Helpdesk BPTI",
                      details=["Nomor tiket: T-1"])
    assert text == ("Halo Ani,\n\nTiket Anda diterima.\n\nNomor tiket: T-1\n\n-- \n"
                    "Helpdesk BPTI")
    with in_language("en"):
        assert letter("Ani", ["Done."], signature="BPTI").startswith("Hello Ani,\n\nDone.\n\n-- ")
    with in_language(None):  # nobody's language: the instance's (Indonesian here)
        assert gettext("Hello %(name)s,", name="Budi") == "Halo Budi,"


def test_queue_all_writes_one_outbox_row_each(app, db):
    notes = [Notification(subject=f"S{i}", body="b", email=f"u{i}@kampus.example")
             for i in range(2)]
    with db.transaction() as s:
        queue_all(s, notes)
    with db.session() as s:
        rows = list(s.scalars(select(OutboxMessage)))
    assert sorted(r.subject for r in rows) == ["S0", "S1"]
