"""Database engines and transactions. One `sqlite:///` or `postgresql://` URL per service.

Business rules are plain synchronous functions taking a `Session`, so the same code runs in a
route (through a worker thread, `in_transaction`) and in a Celery task (`session_scope`).
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, Engine, MetaData, Table, TypeDecorator, create_engine, event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import registry
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

T = TypeVar("T")
log = logging.getLogger("ustaz.db")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite hands back naive ones otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC datetimes only")
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def table_registry() -> registry:
    """A registry with its own metadata for one service's tables: `class Base(SQLModel, registry=table_registry())`
    in each models.py (a real class, so the type checker sees every table)."""
    return registry(metadata=MetaData(naming_convention=NAMING))


def as_utc(moment: Any) -> datetime:
    """An aware UTC datetime from what a query returned: aggregates (min, max) bypass the column type on
    SQLite, which hands back ISO text or naive datetimes."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if not isinstance(moment, datetime):
        raise TypeError(f"not a datetime: {moment!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def dialect_insert(session: OrmSession, table: Table) -> Any:
    """INSERT for `table` in the session's dialect, with `on_conflict_do_nothing` / `on_conflict_do_update`
    (PostgreSQL and SQLite spell them alike)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def driver_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


_HELD = threading.local()  # the SQLite write locks this thread holds (paths)


class _WriterQueue(sqlite3.Connection):
    """A SQLite connection whose write transactions queue on an flock of `<database>.writelock`
    before BEGIN IMMEDIATE, released when the transaction ends.

    SQLite's own busy handler is a sleep-and-retry loop (sleeps growing to 100 ms): under load a
    waiter keeps missing the moments the lock is free, while a process that just released it takes
    it again, so some writers waited out the 30 s busy timeout. A blocked flock sleeps in the kernel
    and is woken the moment the holder releases it: the processes' writers take turns instead of
    racing (ADR 0015). Readers (WAL) take no lock."""

    writelock: str = ""
    _fd: int | None = None

    def take_write_lock(self) -> None:
        held: set[str] = _HELD.__dict__.setdefault("paths", set())
        if not self.writelock or self.writelock in held:  # this thread's outer transaction has it
            return
        fd = os.open(self.writelock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        held.add(self.writelock)

    def release_write_lock(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            _HELD.__dict__.setdefault("paths", set()).discard(self.writelock)
            os.close(fd)  # closing the descriptor releases its flock

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_write_lock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_write_lock()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_write_lock()


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = driver_url(url)
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False, "factory": _WriterQueue}
        )
        writelock = f"{path}.writelock" if path and path != ":memory:" else ""

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy issue BEGIN itself so BEGIN IMMEDIATE below takes the write lock up front.
            dbapi_conn.isolation_level = None
            dbapi_conn.writelock = writelock
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Writers take the lock up front and queue on it, instead of failing with
            # "database is locked" when a read transaction upgrades; readers never wait (WAL).
            if conn.get_execution_options().get("ustaz_readonly"):
                conn.exec_driver_sql("BEGIN")
                return
            raw = conn.connection.dbapi_connection
            raw.take_write_lock()
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                raw.release_write_lock()
                raise

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


@contextmanager
def session_scope(engine: Engine, *, readonly: bool = False) -> Iterator[Session]:
    """One transaction: commit on success, roll back on error."""
    bind = engine.execution_options(ustaz_readonly=True) if readonly else engine
    with Session(bind, expire_on_commit=False) as session:
        with session.begin():
            yield session


async def in_transaction(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn(session, *args, **kwargs)` in one write transaction on a worker thread."""
    return await _run(_engine(request), False, fn, args, kwargs)


async def get_or_create(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`in_transaction` for a business function that finds a row or creates it (an enrolment, a
    submission with a client-made id): when a concurrent request created the same row first, this
    one's INSERT is a unique violation; it runs once more and the second pass finds that row."""
    try:
        return await in_transaction(request, fn, *args, **kwargs)
    except IntegrityError:
        return await in_transaction(request, fn, *args, **kwargs)


async def read_only(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Like `in_transaction` for reads: on SQLite it does not wait for the write lock."""
    return await _run(_engine(request), True, fn, args, kwargs)


def _engine(request: Request) -> Engine:
    engine = request.app.state.engine
    assert isinstance(engine, Engine), "this process has no database"
    return engine


async def _run(engine: Engine, readonly: bool, fn: Callable[..., T], args: Any, kwargs: Any) -> T:
    def call() -> T:
        with session_scope(engine, readonly=readonly) as session:
            return fn(session, *args, **kwargs)

    return await run_in_threadpool(call)


def after_commit(session: OrmSession, fn: Callable[[], None]) -> None:
    """Run `fn` once this session's transaction has committed; never if it rolls back. For effects
    outside the database that must not happen for a change that did not (a delivery nudge, a log line)."""
    session.info.setdefault("after_commit", []).append(fn)


@event.listens_for(OrmSession, "after_commit")
def _run_after_commit(session: OrmSession) -> None:
    for fn in session.info.pop("after_commit", []):
        try:
            fn()
        except Exception:
            log.warning(
                "after-commit action failed",
                extra={"action": getattr(fn, "__name__", repr(fn))},
                exc_info=True,
            )


@event.listens_for(OrmSession, "after_rollback")
def _drop_after_commit(session: OrmSession) -> None:
    session.info.pop("after_commit", None)


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


@functools.cache
def cached_engine(url: str) -> Engine:
    """One engine per URL per process, for Celery tasks (created lazily, so after the pool forks)."""
    return create_db_engine(url)
