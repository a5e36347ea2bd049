"""The database: one declarative base for every table, and sessions that are safe to write.

SQLite (the default) allows one writer at a time. Two rules keep it fast and correct:

* A write transaction starts with ``BEGIN IMMEDIATE``: taking the write lock up front means
  a transaction never fails half-way when it upgrades from reading to writing.
* Within one process, writers queue on a lock before they touch SQLite. Under gevent a
  greenlet waiting inside SQLite's busy handler would block the whole process (the C call
  does not yield); waiting on a lock yields instead. ``busy_timeout`` is then only used
  between processes.

On PostgreSQL both are unnecessary and skipped; row locks do the work.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every engine (SQLite stores none of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use core.db.utcnow() or an aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """The declarative base of every table of the core and of every plugin."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Database:
    """Engine and sessions for one instance; bound to a Flask app with :meth:`init_app`."""

    def __init__(self, url: str | None = None, *, pool_size: int = 10,
                 max_overflow: int = 20) -> None:
        self.engine: Engine | None = None
        self.closed = False
        self._sessions: sessionmaker[Session] | None = None
        self._write_lock = threading.RLock()
        self.pool_size, self.max_overflow = pool_size, max_overflow
        if url:
            self.configure(url)

    @property
    def is_sqlite(self) -> bool:
        return self.engine is not None and self.engine.dialect.name == "sqlite"

    def configure(self, url: str) -> None:
        if url.startswith("sqlite"):
            # Pooled: opening a connection costs a file open and the PRAGMAs below, several
            # milliseconds per transaction. A checked-out connection belongs to one
            # greenlet or thread at a time, which is all SQLite asks.
            engine = create_engine(
                url, poolclass=QueuePool, pool_size=8, max_overflow=32, pool_timeout=60,
                connect_args={"check_same_thread": False, "timeout": 30},
            )
            _configure_sqlite(engine)
        else:
            # A reconnect storm of a campus exam asks for far more connections at once than
            # a day of staff pages: the operator sizes this against max_connections
            # (RUANG_DB_POOL_SIZE, RUANG_DB_MAX_OVERFLOW; docs/deploy.md).
            engine = create_engine(url, pool_pre_ping=True, pool_size=self.pool_size,
                                   max_overflow=self.max_overflow)
        self.engine = engine
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)

    def init_app(self, app: Any) -> None:
        app.extensions["ruang.db"] = self

    def dispose(self) -> None:
        """Close every pooled connection; the app that owned this database is done with it,
        so background writers (see ``core.rooms.kiosks``) stop instead of reconnecting."""
        self.closed = True
        if self.engine is not None:
            self.engine.dispose()

    def _maker(self) -> sessionmaker[Session]:
        if self._sessions is None:
            raise RuntimeError("Database.configure() has not been called")
        return self._sessions

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading. Do not write through it: use :meth:`transaction`.

        Closing it ends the read transaction without expiring loaded objects, so what was
        read stays usable (detached) after the block.
        """
        with self._maker()() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a write transaction, committed on success and rolled back on error."""
        lock = self._write_lock if self.is_sqlite else nullcontext()
        with lock, self._maker()() as session:
            # Services that must not run in a read session (it would drop their change when
            # it closes) check this mark, on every engine: see :func:`in_write_transaction`.
            session.info[WRITE_MARK] = True
            if self.is_sqlite:
                session.connection(execution_options={"ruang_immediate": True})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


WRITE_MARK = "ruang_write"


def in_write_transaction(session: Session) -> bool:
    """Whether ``session`` is a :meth:`Database.transaction` (committed when it ends)."""
    return bool(session.info.get(WRITE_MARK))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("ruang_immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
