"""Database engines and transactions. One `sqlite:///` or `postgresql://` URL per service.

Business rules are plain synchronous functions taking a `Session`, so the same code runs in a
route (through a worker thread, `in_transaction`) and in a Celery task (`session_scope`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event, text
from sqlalchemy.orm import registry
from sqlmodel import Session, SQLModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

T = TypeVar("T")

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


def service_base() -> type[SQLModel]:
    """A SQLModel base with its own metadata, so one service's tables never leak into another's."""

    class Base(SQLModel, registry=registry(metadata=MetaData(naming_convention=NAMING))):
        pass

    return Base


def driver_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = driver_url(url)
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy issue BEGIN itself so BEGIN IMMEDIATE below takes the write lock up front.
            dbapi_conn.isolation_level = None
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
            readonly = conn.get_execution_options().get("ustaz_readonly")
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

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
    return await _run(request.app.state.engine, False, fn, args, kwargs)


async def read_only(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Like `in_transaction` for reads: on SQLite it does not wait for the write lock."""
    return await _run(request.app.state.engine, True, fn, args, kwargs)


async def _run(engine: Engine, readonly: bool, fn: Callable[..., T], args: Any, kwargs: Any) -> T:
    def call() -> T:
        with session_scope(engine, readonly=readonly) as session:
            return fn(session, *args, **kwargs)

    return await run_in_threadpool(call)


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


@functools.cache
def cached_engine(url: str) -> Engine:
    """One engine per URL per process, for Celery tasks (created lazily, so after the pool forks)."""
    return create_db_engine(url)
