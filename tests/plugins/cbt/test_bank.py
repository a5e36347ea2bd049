"""Question banks: items of every type, sealed at rest, sanitised, versioned."""

from __future__ import annotations

import pytest

from plugins.cbt import bank as service
from plugins.cbt import crypto
from plugins.cbt.content import Choice, ItemContent, ItemDraft, ItemKey, check
from plugins.cbt.models import (
    Asset,
    Attempt,
    AttemptItem,
    Candidate,
    Exam,
    Item,
    ItemVersion,
)
from plugins.cbt.richtext import image_sources
from tests.plugins.cbt import samples


def _raw_db(settings, db) -> bytes:
    """Everything the database holds, as someone with a copy of it would see it: the SQLite
    file and its write-ahead log, or on PostgreSQL every row of every table as text."""
    if db.is_sqlite:
        data = b""
        for suffix in ("", "-wal"):
            path = settings.instance / f"ruang.db{suffix}"
            if path.exists():
                data += path.read_bytes()
        return data
    from sqlalchemy import inspect, text

    out = []
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append(repr(tuple(row)).encode())
    return b"\n".join(out)


@pytest.fixture
def bank(db):
    with db.transaction() as session:
        return service.create_bank(session, "Matematika Dasar", "UTS ganjil")


def test_items_of_every_type_round_trip_through_the_sealed_store(db, bank):
    with db.transaction() as session:
        ids = [service.create_item(session, bank, make()).id for make in samples.ALL]
    crypto._data_keys.clear()
    with db.session() as session:
        items = service.list_items(session, bank)
        assert [d.type for d in items] == [
            "single", "multiple", "truefalse", "short", "numeric", "matching", "essay"]
        for make, data in zip(samples.ALL, items, strict=True):
            expected = make()
            assert data.content == expected.content
            assert data.key == expected.key
            assert data.category == expected.category and data.points == expected.points
        assert [d.item_id for d in items] == ids
        assert items[0].tags == ["geografi"]
        assert [c.name for c in service.categories(session, bank)] == [
            "Bahasa", "Esai", "Matematika", "Umum"]
        assert [d.type for d in service.list_items(session, bank, text="prima")] == ["multiple"]
        assert len(service.list_items(session, bank, tag="geografi")) == 1
        assert len(service.list_items(session, bank, item_type="essay")) == 1


def test_the_database_file_holds_no_question_text_options_or_keys(db, bank, settings):
    with db.transaction() as session:
        for make in [*samples.ALL, samples.arabic, samples.with_image]:
            service.create_item(session, bank, make())
    raw = _raw_db(settings, db)
    for secret in ["Ibu kota Indonesia", "Surabaya", "bilangan prima", "Kota Bandung",
                   "Pasangkan negara", "Kairo", "Ketuhanan", "Sejak 1945", "Lihat kompas",
                   "sila pertama"]:
        assert secret.encode() not in raw, secret
        assert secret.encode("utf-16-le") not in raw, secret
    assert "القاهرة".encode() not in raw
    assert samples.PNG not in raw
    assert b"Matematika Dasar" in raw  # names stay plain, so staff can find their banks


def test_html_is_sanitised_and_right_to_left_text_kept(db, bank):
    draft = ItemDraft(
        type="single",
        content=ItemContent(
            stem='<p dir="rtl" onclick="steal()">ما <script>alert(1)</script>'
                 '<img src="https://evil.example/x.png"> \\(x^2\\)</p>',
            choices=[Choice(id="a", html="<b style='x'>1</b>"), Choice(id="b", html="2")]),
        key=ItemKey(weights={"a": 1}),
    )
    assert draft.content.stem.startswith('<p dir="rtl">ما ')
    assert "script" not in draft.content.stem and "onclick" not in draft.content.stem
    assert "\\(x^2\\)" in draft.content.stem
    assert draft.content.choices[0].html == "<b>1</b>"
    with db.transaction() as session, pytest.raises(service.BankError, match="not part of"):
        service.create_item(session, bank, draft)


def test_images_are_stored_sealed_and_referred_to_by_asset_id(db, bank):
    with db.transaction() as session:
        item = service.create_item(session, bank, samples.with_image())
    with db.session() as session:
        data = service.item_data(session, item)
        (src,) = image_sources(data.content.stem)
        aid = service.asset_id(src)
        assert aid is not None
        asset = session.get(Asset, aid)
        assert asset is not None and asset.mime == "image/png"
        assert service.asset_bytes(session, asset) == samples.PNG
        assert samples.PNG not in asset.data_enc


def test_invalid_drafts_are_refused_with_reasons(db, bank):
    no_key = samples.single()
    no_key.key.weights = {}
    assert check(no_key) == ["no option is marked correct (one option must be worth 100%)"]
    bad_sum = samples.multiple()
    bad_sum.key.weights = {"a": 0.5, "b": 0.2}
    assert check(bad_sum) == ["the correct options' weights add up to 70%, not 100%"]
    bad_match = samples.matching()
    bad_match.key.pairs = {"p1": "a1", "p2": "zz"}
    assert "a matching prompt has no answer" in check(bad_match)
    assert "the key pairs entries that do not exist" in check(bad_match)
    tf = samples.truefalse()
    tf.key.truth = None
    assert check(tf) == ["say whether the statement is true or false"]
    with db.transaction() as session, pytest.raises(service.BankError, match="true or false"):
        service.create_item(session, bank, tf)
    with db.session() as session:
        assert service.list_items(session, bank) == []


def _sit(session, version_id: int) -> None:
    """A candidate's paper refers to ``version_id`` (as delivery will make it)."""
    key = crypto.new_data_key(session, "exam")
    exam = Exam(code="T1", title="Test", data_key_id=key.id, seed="00")
    session.add(exam)
    session.flush()
    cand = Candidate(exam_id=exam.id, student_number="1", name="A", participant_number="T1-1")
    session.add(cand)
    session.flush()
    attempt = Attempt(exam_id=exam.id, candidate_id=cand.id, seed="00")
    session.add(attempt)
    session.flush()
    session.add(AttemptItem(attempt_id=attempt.id, position=1, item_version_id=version_id))


def test_editing_an_item_on_a_paper_makes_a_new_version_and_keeps_the_old(db, bank):
    with db.transaction() as session:
        item = service.create_item(session, bank, samples.single())
        first = service.current_version(session, item)
    edited = samples.single(stem="Ibu kota negara Indonesia adalah?")
    with db.transaction() as session:
        item = session.get(Item, item.id)
        same = service.update_item(session, item, edited, note="typo")
    assert same.id == first.id  # nobody has seen it yet: edited in place

    with db.transaction() as session:
        _sit(session, first.id)
    later = samples.single(stem="Ibu kota Republik Indonesia?")
    later.key.weights = {"b": 1.0}
    with db.transaction() as session:
        item = session.get(Item, item.id)
        new = service.update_item(session, item, later, note="kunci diganti")
    assert new.id != first.id and new.number == 2
    with db.session() as session:
        item = session.get(Item, item.id)
        old = service.item_data(session, item, session.get(ItemVersion, first.id))
        cur = service.item_data(session, item)
        assert old.locked and not cur.locked
        assert old.content.stem == "Ibu kota negara Indonesia adalah?"
        assert old.key.weights == {"a": 1.0}
        assert cur.content.stem == "Ibu kota Republik Indonesia?" and cur.number == 2
        assert [v.number for v in service.versions(session, item)] == [1, 2]


def test_bank_names_are_unique_and_audited(db, bank):
    from sqlalchemy import select

    from core.audit.models import AuditEntry

    with db.transaction() as session, pytest.raises(service.BankError, match="already exists"):
        service.create_bank(session, "matematika dasar")
    with db.session() as session:
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "cbt.bank.created" in actions
