"""Numbers of quality records: formats, resets, rollbacks, overrides and refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.audit.service import entries_for, verify
from core.records import service
from core.records.models import IssuedRecord, RecordCounter, RecordFormat

WIB = ZoneInfo("Asia/Jakarta")


def _issue(db, code, **kw):
    with db.transaction() as s:
        return service.issue(s, code, **kw).number


def test_hook_ruang_record_types(app, db):
    """Record types a plugin declares are the ones the service numbers, with their format."""
    plugin = app.extensions["ruang"].plugins.get("toyrecords").module
    types = service.record_types()
    assert {"BA", "TIKET", "SRT", "SOP"} <= set(types)
    assert types["BA"].reset == "yearly" and types["BA"].fmt == "BA-{seq:02d}/{unit}/{year}"
    at = datetime(2026, 3, 5, 10, 0, tzinfo=WIB)
    assert _issue(db, "BA", at=at) == "BA-01/BPTI/2026"
    # Declarations are read once per process, not on every number.
    calls = plugin.calls
    _issue(db, "BA", at=at)
    assert plugin.calls == calls


def test_numbers_follow_the_format_and_count_up(db):
    at = datetime(2026, 3, 5, 10, 0, tzinfo=WIB)
    with db.transaction() as s:
        first = service.issue(s, "BA", ref_type="cbt_event", ref_id=7, at=at)
        second = service.issue(s, "BA", ref_type="cbt_event", ref_id=8, at=at, unit="WDM")
    assert (first.number, first.seq, first.code) == ("BA-01/BPTI/2026", 1, "BA")
    assert (second.number, second.seq) == ("BA-02/WDM/2026", 2)
    assert _issue(db, "SRT", at=at) == "001/BPTI/III/2026"
    with db.session() as s:
        found = service.lookup(s, "BA-01/BPTI/2026")
        assert found is not None and (found.ref_type, found.ref_id) == ("cbt_event", "7")
        lower = service.lookup(s, "ba-02/wdm/2026")
        assert lower is not None and lower.number == "BA-02/WDM/2026"
        assert service.lookup(s, "BA-99/BPTI/2026") is None


def test_yearly_numbers_restart_on_local_new_year(db):
    assert _issue(db, "BA", at=datetime(2026, 12, 31, 20, 0, tzinfo=WIB)) == "BA-01/BPTI/2026"
    assert _issue(db, "BA", at=datetime(2026, 12, 31, 23, 59, tzinfo=WIB)) == "BA-02/BPTI/2026"
    # 17:30 UTC on 31 December is already 00:30 on 1 January in Jakarta.
    assert _issue(db, "BA", at=datetime(2026, 12, 31, 17, 30, tzinfo=UTC)) == "BA-01/BPTI/2027"
    assert _issue(db, "BA", at=datetime(2027, 6, 1, tzinfo=WIB)) == "BA-02/BPTI/2027"
    # A late record of the old year continues the old year's sequence.
    assert _issue(db, "BA", at=datetime(2026, 11, 1, tzinfo=WIB)) == "BA-03/BPTI/2026"


def test_monthly_numbers_restart_every_month(db):
    jan = datetime(2026, 1, 20, 9, 0, tzinfo=WIB)
    feb = datetime(2026, 2, 2, 9, 0, tzinfo=WIB)
    assert [_issue(db, "TIKET", at=jan) for _ in range(3)] == [
        "T202601-0001", "T202601-0002", "T202601-0003"]
    assert _issue(db, "TIKET", at=feb) == "T202602-0001"
    assert _issue(db, "SRT", at=feb) == "001/BPTI/II/2026"
    assert _issue(db, "SRT", at=datetime(2026, 12, 1, tzinfo=WIB)) == "001/BPTI/XII/2026"
    assert _issue(db, "TIKET", at=jan) == "T202601-0004"


def test_never_resetting_numbers_continue_across_years(db):
    assert _issue(db, "SOP", at=datetime(2025, 5, 1, tzinfo=WIB)) == "SOP-1"
    assert _issue(db, "SOP", at=datetime(2026, 5, 1, tzinfo=WIB)) == "SOP-2"


def test_rollback_gives_the_number_back(db):
    at = datetime(2026, 4, 1, tzinfo=WIB)
    assert _issue(db, "BA", at=at) == "BA-01/BPTI/2026"

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), db.transaction() as s:
        assert service.issue(s, "BA", at=at).number == "BA-02/BPTI/2026"
        raise Abandoned
    assert _issue(db, "BA", at=at) == "BA-02/BPTI/2026"
    with db.session() as s:
        numbers = s.scalars(select(IssuedRecord.number).where(IssuedRecord.code == "BA")
                            .order_by(IssuedRecord.id)).all()
        counter = s.get(RecordCounter, ("BA", "2026"))
    assert numbers == ["BA-01/BPTI/2026", "BA-02/BPTI/2026"]
    assert counter is not None and counter.value == 2


def test_issuing_is_audited(db):
    from core.accounts.models import User

    with db.transaction() as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        rec = service.issue(s, "TIKET", ref_type="ticket", ref_id=12, actor=admin,
                            at=datetime(2026, 3, 1, tzinfo=WIB))
    with db.session() as s:
        entries = entries_for(s, "record", rec.number)
        assert verify(s) is None
    assert len(entries) == 1
    entry = entries[0]
    assert entry.action == "record.issue" and entry.actor_name == "admin"
    assert entry.details == {"code": "TIKET", "seq": 1, "ref_type": "ticket", "ref_id": "12"}


def test_unknown_type_is_refused_clearly(db):
    with pytest.raises(service.RecordError) as err, db.transaction() as s:
        service.issue(s, "NOPE")
    assert "unknown record type 'NOPE'" in str(err.value)
    assert "BA" in str(err.value) and "TIKET" in str(err.value)


def test_numbers_are_only_issued_in_a_write_transaction(db):
    with pytest.raises(service.RecordError, match="inside a write transaction"), db.session() as s:
        service.issue(s, "BA")


def test_bad_unit_is_refused(db):
    with pytest.raises(service.RecordError, match="unit"), db.transaction() as s:
        service.issue(s, "BA", unit="BPTI/../x")


def test_format_override_applies_to_the_next_number(db):
    at = datetime(2026, 8, 17, tzinfo=WIB)
    assert _issue(db, "BA", at=at) == "BA-01/BPTI/2026"
    with db.transaction() as s:
        service.set_format(s, "BA", "  BA.{seq:03d}-{unit}-{roman_month}-{year}  ")
    assert _issue(db, "BA", at=at) == "BA.002-BPTI-VIII-2026"
    with db.session() as s:
        assert service.preview(s, "BA", at=at) == "BA.003-BPTI-VIII-2026"
        audited = entries_for(s, "record_type", "BA")
    assert [e.details for e in audited] == [
        {"old": None, "new": "BA.{seq:03d}-{unit}-{roman_month}-{year}"}]
    with db.transaction() as s:
        assert service.clear_format(s, "BA") == "BA-{seq:02d}/{unit}/{year}"
    assert _issue(db, "BA", at=at) == "BA-03/BPTI/2026"


@pytest.mark.parametrize(
    ("code", "fmt", "reason"),
    [
        ("BA", "", "empty"),
        ("BA", "BA/{year}", "must contain the sequence number {seq}"),
        ("BA", "BA-{sequence}/{year}", "unknown field {sequence}"),
        ("BA", "BA-{seq.__class__}/{year}", "unknown field {seq.__class__}"),
        ("BA", "BA-{seq[0]}/{year}", "unknown field {seq[0]}"),
        ("BA", "BA-{seq!r}/{year}", "conversions"),
        ("BA", "BA-{seq:zz}/{year}", "cannot be applied"),
        ("BA", "BA-{seq:{year}}", "nested"),
        ("BA", "BA-{}/{year}", "empty field"),
        ("BA", "BA-{seq/{year}", "malformed"),
        ("BA", "BA-{seq}/{unit}", "must contain {year}"),
        ("TIKET", "T{year}-{seq}", "{month} or {roman_month}"),
        ("SOP", "SOP-{seq}\x00", "control character"),
        ("SOP", "S" * 121 + "{seq}", "at most 120"),
    ],
)
def test_bad_format_is_refused_and_changes_nothing(db, code, fmt, reason):
    with db.transaction() as s:
        service.set_format(s, code, service.record_type(code).fmt.replace("{seq", "X{seq"))
    with db.session() as s:
        before = s.get(RecordFormat, code).fmt
        audit_count = s.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(service.FormatError) as err, db.transaction() as s:
        service.set_format(s, code, fmt)
    assert reason in str(err.value)
    assert str(err.value).startswith(f"format for {code} refused: ")
    with db.session() as s:
        assert s.get(RecordFormat, code).fmt == before
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audit_count


def test_a_format_that_repeats_a_number_is_caught(db):
    at = datetime(2026, 1, 5, tzinfo=WIB)
    assert _issue(db, "BA", at=at) == "BA-01/BPTI/2026"
    # Staff make letters look like minutes: the next letter would repeat BA-01/BPTI/2026.
    with db.transaction() as s:
        service.set_format(s, "SRT", "BA-{seq:02d}/{unit}/{year}{roman_month:.0}")
    with pytest.raises(service.RecordError, match="already issued"), db.transaction() as s:
        service.issue(s, "SRT", at=at)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(IssuedRecord)
                        .where(IssuedRecord.code.in_(["BA", "SRT"]))) == 1
        assert s.get(RecordCounter, ("SRT", "2026-01")) is None
