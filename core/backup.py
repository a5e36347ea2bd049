"""``ruang backup`` and ``ruang restore``: one archive holding the database and the files.

The archive is a gzipped tar:

* ``manifest.json`` first: format, Ruang version, database engine, the Alembic heads of the
  copied database, the audit log's length and head hash, the id of the master key, and the
  size and SHA-256 of every other member;
* ``database/ruang.db`` (SQLite, copied with the online backup API, so it is consistent
  while servers write) or ``database/ruang.dump`` (PostgreSQL, ``pg_dump --format=custom``
  of an exported snapshot, the same snapshot the manifest's figures were read from);
* ``files/...``: the instance folder without its database files, the master key included
  unless ``--without-key``.

A restore checks every checksum and the manifest before it touches anything. For SQLite it
builds the complete new instance folder beside the current one, migrates and verifies it
(integrity check, audit chain equal to the manifest's), and only then swaps the two folders;
the old folder is kept beside it. For PostgreSQL the dump is replayed inside one transaction
(``psql --single-transaction``), so the database is either the archive's or unchanged.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import io
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from core.config import Settings

FORMAT = 1
MANIFEST = "manifest.json"
DB_SQLITE = "database/ruang.db"
DB_PG = "database/ruang.dump"
FILES = "files/"
KEY_FILES = ("master_key", "master_key.next", "master_key.prev")
# The SQLite database and its companions travel as database/ruang.db, never as files.
DB_FILE_NAMES = ("ruang.db", "ruang.db-wal", "ruang.db-shm", "ruang.db-journal")
_CHUNK = 1 << 20


class BackupError(RuntimeError):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass
class Manifest:
    format: int
    ruang_version: str
    created_at: str
    engine: str
    alembic_heads: list[str]
    audit_entries: int
    audit_head: str
    master_key_id: str
    includes_key: bool
    members: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data)
            if not isinstance(raw, dict) or raw.get("format") != FORMAT:
                raise BackupError(f"unsupported backup format {raw.get('format')!r} "
                                  f"(this Ruang reads format {FORMAT})")
            return cls(**raw)
        except (ValueError, TypeError) as exc:
            raise BackupError(f"the archive's {MANIFEST} is not valid: {exc}") from None


def ruang_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ruang")
    except PackageNotFoundError:
        return "unknown"


# -- finding the PostgreSQL client programs ----------------------------------------------


def pg_program(name: str) -> str:
    """The newest ``/usr/lib/postgresql/<v>/bin/NAME`` (a dump needs a client at least as
    new as the server), else ``NAME`` on PATH."""
    found = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    if found:
        return max(found, key=lambda p: int(Path(p).parts[-3].split(".")[0]))
    exe = shutil.which(name)
    if exe is None:
        raise BackupError(f"{name} is not installed (Debian package postgresql-client)")
    return exe


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments and environment for libpq programs from a SQLAlchemy URL."""
    u = make_url(url)
    args = []
    if u.host:
        args += ["--host", u.host]
    if u.port:
        args += ["--port", str(u.port)]
    if u.username:
        args += ["--username", u.username]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return args, env


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# -- backup --------------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _db_facts(conn: Any) -> tuple[list[str], int, str]:
    """Alembic heads, audit entries and audit head hash as ``conn`` sees the database."""
    from core.audit.models import AuditEntry

    heads = sorted(r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))
    count = conn.execute(select(func.count()).select_from(AuditEntry.__table__)).scalar() or 0
    head = conn.execute(select(AuditEntry.__table__.c.hash)
                        .order_by(AuditEntry.__table__.c.id.desc()).limit(1)).scalar()
    return heads, int(count), head or ""


def _sqlite_copy(db_path: Path, dest: Path) -> tuple[list[str], int, str]:
    """Copy a live SQLite database with its backup API (consistent while others write)."""
    if not db_path.exists():
        raise BackupError(f"{db_path} does not exist: nothing to back up (run `ruang db upgrade`)")
    src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        # One step (pages=-1): the copy is one read transaction, a single moment in time.
        src.backup(dst, pages=-1)
    finally:
        dst.close()
        src.close()
    engine = create_engine(f"sqlite:///{dest}")
    try:
        with engine.connect() as conn:
            return _db_facts(conn)
    finally:
        engine.dispose()


def _pg_dump(url: str, dest: Path) -> tuple[list[str], int, str]:
    """``pg_dump`` of a snapshot exported by a transaction that also reads the manifest's
    figures, so the dump and the figures are the same moment."""
    import psycopg

    args, env = _pg_args(url)
    dbname = make_url(url).database or ""
    with psycopg.connect(_libpq_url(url)) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        snapshot = row[0]
        heads = sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))
        count_row = conn.execute("SELECT count(*) FROM audit_log").fetchone()
        head_row = conn.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        proc = subprocess.run(  # noqa: S603 - a fixed program, arguments as a list
            [pg_program("pg_dump"), *args, "--format=custom", "--no-owner", "--no-privileges",
             f"--snapshot={snapshot}", "--file", str(dest), "--dbname", dbname],
            env=env, capture_output=True, text=True, check=False)
        conn.rollback()
    if proc.returncode != 0:
        raise BackupError(f"pg_dump failed ({proc.returncode}): {proc.stderr.strip()}")
    return heads, int(count_row[0] if count_row else 0), (head_row[0] if head_row else "")


def _instance_files(folder: Path, with_key: bool) -> Iterator[tuple[str, Path]]:
    skip = set(DB_FILE_NAMES) | (set() if with_key else set(KEY_FILES))
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if rel in skip or not path.is_file() or path.is_symlink():
                continue
            yield rel, path


def _key_id(folder: Path) -> str:
    key = folder / "master_key"
    if not key.exists():
        return ""
    return hashlib.sha256(b"ruang-master-key-id\x00" + key.read_bytes()).hexdigest()[:16]


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest


def backup(settings: Settings, out: Path, *, with_key: bool = True,
           progress: Callable[[str], None] | None = None) -> BackupResult:
    """Write a backup archive of the instance of ``settings`` to ``out`` (a file, or a folder
    to put ``ruang-<time>.tar.gz`` in). Safe while servers run."""
    stamp = datetime.now(UTC)
    if out.is_dir():
        out = out / f"ruang-{stamp:%Y%m%d-%H%M%S}.tar.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _m: None)
    with tempfile.TemporaryDirectory(prefix=".ruang-backup-", dir=out.parent) as tmp:
        work = Path(tmp)
        if settings.is_sqlite:
            engine_name, member = "sqlite", DB_SQLITE
            db_copy = work / "ruang.db"
            say("copying the SQLite database (online backup)")
            heads, entries, head = _sqlite_copy(settings.instance / "ruang.db", db_copy)
        else:
            engine_name, member = "postgresql", DB_PG
            db_copy = work / "ruang.dump"
            say("dumping the PostgreSQL database (pg_dump)")
            heads, entries, head = _pg_dump(settings.sqlalchemy_url, db_copy)
        manifest = Manifest(
            format=FORMAT, ruang_version=ruang_version(), created_at=stamp.isoformat(),
            engine=engine_name, alembic_heads=heads, audit_entries=entries, audit_head=head,
            master_key_id=_key_id(settings.instance), includes_key=with_key)
        # Files after the database: every file a copied row names is then in the archive.
        say("reading the instance folder")
        payload: list[tuple[str, bytes | Path, int]] = [(member, db_copy, 0o600)]
        for rel, path in _instance_files(settings.instance, with_key):
            try:
                data = path.read_bytes()  # one read: size and checksum of the same bytes
                mode = stat.S_IMODE(path.stat().st_mode)
            except FileNotFoundError:
                continue  # removed while we walked
            payload.append((FILES + rel, data, mode))
        for name, content, mode in payload:
            if isinstance(content, Path):
                manifest.members[name] = {"size": content.stat().st_size,
                                          "sha256": _sha256_file(content), "mode": mode}
            else:
                manifest.members[name] = {"size": len(content),
                                          "sha256": hashlib.sha256(content).hexdigest(),
                                          "mode": mode}
        partial = work / "archive.tar.gz"
        say(f"writing {out}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            _add_bytes(tar, MANIFEST, manifest.to_json(), 0o600)
            for name, content, mode in payload:
                if isinstance(content, Path):
                    info = tar.gettarinfo(str(content), arcname=name)
                    info.mode, info.uid, info.gid, info.uname, info.gname = mode, 0, 0, "", ""
                    with content.open("rb") as fh:
                        tar.addfile(info, fh)
                else:
                    _add_bytes(tar, name, content, mode)
        os.replace(partial, out)
    return BackupResult(out, manifest)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    info.mtime = int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


# -- reading and checking an archive -------------------------------------------------------


def _safe_member(name: str) -> bool:
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts and name not in ("", ".")


def read_archive(archive: Path, dest: Path) -> Manifest:
    """Unpack ``archive`` into the empty folder ``dest`` and check it against its manifest.

    Raises :class:`BackupError` naming the first problem: not an archive, damaged, a member
    missing, unexpected or with another checksum.
    """
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    damaged = (f"{archive} is damaged or not a Ruang backup (it cannot be read as a gzipped "
               "tar archive)")
    manifest: Manifest | None = None
    seen: dict[str, str] = {}
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for info in tar:
                if manifest is None:
                    if info.name != MANIFEST or not info.isfile():
                        raise BackupError(f"{archive} is not a Ruang backup: it does not "
                                          f"start with {MANIFEST}")
                    fh = tar.extractfile(info)
                    assert fh is not None
                    manifest = Manifest.from_json(fh.read())
                    continue
                if not info.isfile() or not _safe_member(info.name):
                    raise BackupError(f"{archive}: unexpected member {info.name!r} "
                                      "(not a regular file inside the archive)")
                expected = manifest.members.get(info.name)
                if expected is None:
                    raise BackupError(f"{archive}: member {info.name} is not in the manifest")
                target = dest / info.name
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fh = tar.extractfile(info)
                assert fh is not None
                h = hashlib.sha256()
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    for chunk in iter(lambda fh=fh: fh.read(_CHUNK), b""):  # type: ignore[misc]
                        h.update(chunk)
                        out.write(chunk)
                seen[info.name] = h.hexdigest()
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(f"{damaged}: {exc}") from None
    if manifest is None:
        raise BackupError(f"{archive} is empty: no {MANIFEST}")
    for name, meta in sorted(manifest.members.items()):
        got = seen.get(name)
        if got is None:
            raise BackupError(f"{archive}: member {name} is listed in the manifest but missing "
                              "(truncated archive?)")
        if got != meta.get("sha256"):
            raise BackupError(f"{archive}: checksum mismatch for {name} (expected "
                              f"{meta.get('sha256')}, found {got}): the archive was altered "
                              "or damaged")
    db_member = DB_SQLITE if manifest.engine == "sqlite" else DB_PG
    if db_member not in seen:
        raise BackupError(f"{archive}: the manifest says {manifest.engine} but the archive "
                          f"holds no {db_member}")
    return manifest


def _check_heads(settings: Settings, host: Any, heads: list[str]) -> None:
    """Refuse an archive made by a newer Ruang: its migrations are unknown to this code."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from core import migrate

    script = ScriptDirectory.from_config(migrate._config(host, settings.sqlalchemy_url))
    unknown = []
    for rev in heads:
        try:
            if script.get_revision(rev) is None:
                unknown.append(rev)
        except (CommandError, KeyError, ValueError):
            unknown.append(rev)
    if unknown:
        raise BackupError(f"the archive's database is at migration(s) {', '.join(unknown)} "
                          "that this Ruang does not know: it was made by a newer version; "
                          "upgrade Ruang first")


def _verify_database(url: str, manifest: Manifest) -> None:
    """The restored database holds the manifest's audit chain, intact."""
    from sqlalchemy.orm import Session

    from core.audit.service import verify

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            problem = verify(session)
            if problem is not None:
                raise BackupError(f"the restored audit log is broken: {problem}")
            _h, entries, head = _db_facts(session.connection())
    finally:
        engine.dispose()
    if (entries, head) != (manifest.audit_entries, manifest.audit_head):
        raise BackupError(f"the restored audit log has {entries} entries (head {head[:12]}), "
                          f"the manifest says {manifest.audit_entries} (head "
                          f"{manifest.audit_head[:12]})")


# -- restore -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    previous: Path | None  # where the instance folder that was replaced now is


def _place_files(unpacked: Path, manifest: Manifest, new_folder: Path) -> None:
    files = unpacked / "files"
    new_folder.mkdir(mode=0o700)
    for name, meta in manifest.members.items():
        if not name.startswith(FILES):
            continue
        rel = name[len(FILES):]
        target = new_folder / rel
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.replace(files / rel, target)
        target.chmod(int(meta.get("mode", 0o600)) & 0o777)


def _key_for_restore(manifest: Manifest, new_folder: Path, current: Path) -> None:
    """Without a key in the archive, the current instance's key must be the one it needs."""
    if manifest.includes_key or not manifest.master_key_id:
        return
    if _key_id(current) != manifest.master_key_id:
        raise BackupError(
            f"the archive holds no master key (made with --without-key) and this instance's "
            f"master_key is not the one it needs (id {manifest.master_key_id}): put that "
            f"master_key (chmod 600) in {current} and run the restore again")
    for name in KEY_FILES:
        src = current / name
        if src.exists():
            shutil.copy2(src, new_folder / name)
            (new_folder / name).chmod(0o600)


def _has_data(settings: Settings) -> bool:
    engine = create_engine(settings.sqlalchemy_url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text("SELECT count(*) FROM alembic_version")).scalar())
    except Exception:  # no table, no file: nothing to keep
        return False
    finally:
        engine.dispose()


def restore(settings: Settings, host: Any, archive: Path, *,
            dispose: Callable[[], None] | None = None,
            progress: Callable[[str], None] | None = None) -> RestoreResult:
    """Replace the instance of ``settings`` with the content of ``archive``, or change nothing.

    ``dispose`` closes the caller's own connections to the current database before the swap.
    Servers of this instance must be stopped.
    """
    from core import migrate

    say = progress or (lambda _m: None)
    current = settings.instance
    parent = current.parent
    parent.mkdir(parents=True, exist_ok=True)
    engine_name = "sqlite" if settings.is_sqlite else "postgresql"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    with tempfile.TemporaryDirectory(prefix=f".{current.name}.restore-", dir=parent) as tmp:
        work = Path(tmp)
        unpacked = work / "archive"
        unpacked.mkdir()
        say(f"checking {archive}")
        manifest = read_archive(archive, unpacked)
        if manifest.engine != engine_name:
            raise BackupError(f"the archive holds a {manifest.engine} database but this "
                              f"instance uses {engine_name} (RUANG_DATABASE_URL)")
        _check_heads(settings, host, manifest.alembic_heads)
        new_folder = work / "instance"
        _place_files(unpacked, manifest, new_folder)
        _key_for_restore(manifest, new_folder, current)

        if engine_name == "sqlite":
            db_file = new_folder / "ruang.db"
            os.replace(unpacked / DB_SQLITE, db_file)
            db_file.chmod(0o600)
            say("checking the database (integrity, migrations, audit chain)")
            conn = sqlite3.connect(db_file)
            try:
                result = conn.execute("PRAGMA integrity_check").fetchone()
            finally:
                conn.close()
            if not result or result[0] != "ok":
                raise BackupError(f"the archive's SQLite database is damaged: {result}")
            url = f"sqlite:///{db_file}"
            migrate.upgrade(host, url)
            _verify_database(url, manifest)
        else:
            dump = unpacked / DB_PG
            listing = subprocess.run([pg_program("pg_restore"), "--list", str(dump)],  # noqa: S603
                                     capture_output=True, text=True, check=False)
            if listing.returncode != 0:
                raise BackupError(f"the archive's PostgreSQL dump cannot be read: "
                                  f"{listing.stderr.strip()}")
        had_data = _has_data(settings)
        if dispose is not None:
            dispose()
        say("swapping the instance folder")
        previous: Path | None = parent / f"{current.name}.before-restore-{stamp}"
        assert previous is not None
        if current.exists():
            os.replace(current, previous)
        else:
            previous = None
        moved = False
        try:
            os.replace(new_folder, current)
            moved = True
            if engine_name == "postgresql":
                say("restoring the PostgreSQL database (one transaction)")
                _pg_replace(settings.sqlalchemy_url, unpacked / DB_PG)
        except BaseException:
            # Put the old folder back: the database is unchanged when its restore failed.
            if moved:
                os.replace(current, work / "failed")
            if previous is not None:
                os.replace(previous, current)
            raise
        _fsync_dir(parent)
        if engine_name == "postgresql":
            migrate.upgrade(host, settings.sqlalchemy_url)
            _verify_database(settings.sqlalchemy_url, manifest)
        if previous is not None and not had_data and engine_name == "sqlite":
            # A fresh, never-migrated instance: nothing in it is worth keeping.
            shutil.rmtree(previous, ignore_errors=True)
            previous = None
    return RestoreResult(manifest, previous)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _pg_replace(url: str, dump: Path) -> None:
    """Replace the whole ``public`` schema by the dump's, in one transaction."""
    args, env = _pg_args(url)
    dbname = make_url(url).database or ""
    script = subprocess.run([pg_program("pg_restore"), "--no-owner", "--no-privileges",  # noqa: S603
                             "--file", "-", str(dump)], capture_output=True, check=False)
    if script.returncode != 0:
        raise BackupError(f"pg_restore failed: {script.stderr.decode(errors='replace')}")
    sql = (b"DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n" + script.stdout)
    proc = subprocess.run([pg_program("psql"), *args, "--dbname", dbname, "--no-psqlrc",  # noqa: S603
                           "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1",
                           "--file", "-"], input=sql, env=env, capture_output=True,
                          check=False)
    if proc.returncode != 0:
        raise BackupError("restoring the PostgreSQL dump failed; the database is unchanged: "
                          + proc.stderr.decode(errors="replace").strip()[-2000:])
