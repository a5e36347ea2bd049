"""Exam content at rest: sealed fields, bound to their rows, and master key rotation."""

from __future__ import annotations

import json
import stat
import threading

import pytest

from plugins.cbt import crypto
from plugins.cbt.crypto import DataKey


def test_master_key_is_an_owner_only_file_of_32_bytes(app, db, settings):
    with db.transaction() as session:
        crypto.new_data_key(session, "test")
    path = settings.instance / "master_key"
    assert path.stat().st_size == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_sealed_value_opens_only_on_its_own_row_and_field(app, db):
    with db.transaction() as session:
        key = crypto.new_data_key(session, "bank:test")
        blob = crypto.seal_json(session, key.id, "cbt_item_versions", 7, "content",
                                {"stem": "2+2?"})
        assert b"2+2" not in blob
        assert crypto.unseal_json(session, key.id, "cbt_item_versions", 7, "content", blob) == {
            "stem": "2+2?"}
        for table, row, field in [("cbt_item_versions", 8, "content"),
                                  ("cbt_item_versions", 7, "key"),
                                  ("cbt_assets", 7, "content")]:
            with pytest.raises(crypto.CryptoError, match="moved from another row"):
                crypto.unseal(session, key.id, table, row, field, blob)
        tampered = blob[:-1] + bytes([blob[-1] ^ 1])
        with pytest.raises(crypto.CryptoError):
            crypto.unseal(session, key.id, "cbt_item_versions", 7, "content", tampered)


def test_data_key_is_stored_wrapped_and_opens_after_the_process_forgets_it(app, db, settings):
    with db.transaction() as session:
        key = crypto.new_data_key(session, "exam:1")
        blob = crypto.seal(session, key.id, "t", 1, "f", b"secret question")
        raw = crypto.data_key(session, key.id)
    with db.session() as session:
        row = session.get(DataKey, key.id)
        assert row is not None and raw not in row.wrapped
        master = (settings.instance / "master_key").read_bytes()
        assert row.master_key_id == crypto.master_key_id(master)
    crypto._data_keys.clear()
    with db.session() as session:
        assert crypto.unseal(session, key.id, "t", 1, "f", blob) == b"secret question"


def _seal_many(db, n: int) -> list[tuple[int, bytes]]:
    out = []
    with db.transaction() as session:
        for i in range(n):
            key = crypto.new_data_key(session, f"bank:{i}")
            out.append((key.id, crypto.seal(session, key.id, "t", i + 1, "f", f"q{i}".encode())))
    return out


def _all_open(db, sealed: list[tuple[int, bytes]]) -> bool:
    crypto._data_keys.clear()
    with db.session() as session:
        return all(
            crypto.unseal(session, kid, "t", i + 1, "f", blob) == f"q{i}".encode()
            for i, (kid, blob) in enumerate(sealed)
        )


def test_keys_rotate_rewraps_every_data_key_and_drops_the_old_master_key(app, db, settings,
                                                                         ruang_cli):
    sealed = _seal_many(db, 5)
    old_key = (settings.instance / "master_key").read_bytes()
    old_id = crypto.master_key_id(old_key)

    out = ruang_cli("keys", "rotate")
    assert out.exit_code == 0, out.output
    assert f"master key {old_id} replaced by" in out.output and "5 data key(s)" in out.output

    new_key = (settings.instance / "master_key").read_bytes()
    assert new_key != old_key and len(new_key) == 32
    assert stat.S_IMODE((settings.instance / "master_key").stat().st_mode) == 0o600
    assert sorted(p.name for p in settings.instance.glob("master_key*")) == ["master_key"]
    with db.session() as session:
        ids = set(session.scalars(DataKey.__table__.select().with_only_columns(
            DataKey.master_key_id)).all())
    assert ids == {crypto.master_key_id(new_key)}
    assert _all_open(db, sealed)

    status = json.loads(ruang_cli("keys", "status", "--json").stdout)
    assert status == {"current": crypto.master_key_id(new_key), "rotation_in_progress": False,
                      "data_keys": {crypto.master_key_id(new_key): 5}}


def test_interrupted_rotation_resumes_after_the_swap(app, db, settings):
    sealed = _seal_many(db, 3)
    folder = settings.instance
    old = (folder / "master_key").read_bytes()
    # A rotation that died right after the swap: the new key is master_key, the old one
    # waits in master_key.prev, and no data key has been re-wrapped.
    new = b"\x42" * 32
    (folder / "master_key.prev").write_bytes(old)
    (folder / "master_key.prev").chmod(0o600)
    (folder / "master_key").write_bytes(new)
    assert _all_open(db, sealed)

    result = crypto.rotate(db, settings)
    assert result.new_id == crypto.master_key_id(new) and result.rewrapped == 3
    assert not (folder / "master_key.prev").exists()
    assert _all_open(db, sealed)


def test_rotation_runs_while_another_writer_keeps_creating_and_reading_content(app, db,
                                                                              settings):
    sealed = _seal_many(db, 40)
    # Another "process": its own keyring, which notices key files change on disk.
    other = crypto.Keyring(settings)
    other.refresh()
    stop = threading.Event()
    errors: list[BaseException] = []
    created: list[tuple[int, bytes]] = []

    def writer() -> None:
        with app.app_context():
            try:
                while not stop.is_set():
                    with db.transaction() as session:
                        key = crypto.new_data_key(session, "live", ring=other)
                        created.append((key.id, crypto.seal(session, key.id, "live", key.id,
                                                            "f", b"live question")))
            except BaseException as exc:
                errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    try:
        result = crypto.rotate(db, settings, batch=7)
    finally:
        stop.set()
        t.join()
    assert not errors
    assert created, "the writer made no keys during the rotation"
    with db.session() as session:
        ids = set(session.scalars(DataKey.__table__.select().with_only_columns(
            DataKey.master_key_id)).all())
    assert ids == {result.new_id}
    assert _all_open(db, sealed)
    crypto._data_keys.clear()
    with db.session() as session:
        for kid, blob in created:
            assert crypto.unseal(session, kid, "live", kid, "f", blob) == b"live question"


def test_a_missing_master_key_is_reported_not_guessed(app, db, settings):
    sealed = _seal_many(db, 1)
    crypto._data_keys.clear()
    (settings.instance / "master_key").unlink()
    crypto.keyring(settings).refresh()  # a fresh key appears; the old rows cannot open
    with db.session() as session, pytest.raises(crypto.CryptoError, match="no longer has"):
        crypto.unseal(session, sealed[0][0], "t", 1, "f", sealed[0][1])
