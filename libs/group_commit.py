"""Group commit: the write transactions a process's requests hand in at the same moment run as one
database transaction, each in a savepoint of its own, on one writer thread per engine (ADR 0015).

Why: on SQLite every write transaction takes the database file's one write lock; 250 requests a
second, each on its own thread, each taking the lock (BEGIN IMMEDIATE) and fsyncing, queue on a
busy handler that sleeps and retries and is not fair, so some wait out the 30 s busy timeout while
the worker's transactions cut in. One writer per process takes the lock once for everything that
arrived while the previous group committed (no waiting for a group to fill: the group is whatever
queued meanwhile), so the lock is taken tens of times a second instead of hundreds, and the
process's requests never fight each other for it.

SQLite only: on PostgreSQL, whose locks are per row, `in_group_transaction` is `in_transaction`.
Measured there (exam day, 250/s), one writer thread made every submission wait for the ones before
it, and a group's inserts took a key-share lock on many enrolments at once, in no order, against
the graders' row locks on them: PostgreSQL detected deadlocks and submissions waited 25-100 s.

Each call keeps its own outcome: a call that raises rolls back its savepoint only (and its
`after_commit` actions), the others commit; if the commit itself fails, every call of the group
gets that error (none of them changed anything).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.requests import Request

from libs.db import in_transaction, session_scope

T = TypeVar("T")
log = logging.getLogger("ustaz.db")
MAX_GROUP = 256  # calls in one transaction at most (a group holds the write lock while it runs)
IDLE_SECONDS = 30.0  # the writer thread ends after this long without work; the next call starts one


@dataclass
class _Call:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


class GroupWriter:
    """One writer thread for `engine` in this process (started on the first call, ended when idle)."""

    def __init__(self, engine: Engine, *, max_group: int = MAX_GROUP) -> None:
        self.engine = engine
        self.max_group = max_group
        self._calls: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.groups = 0  # transactions committed (for tests and benchmarks)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(session, *args, **kwargs)` in the next group's transaction; its result once committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put(_Call(fn, args, kwargs, future, loop))
        self._ensure_thread()
        return await future

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="group-commit", daemon=True)
                self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                first = self._calls.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._calls.empty():
                        self._thread = None
                        return
                continue
            group = [first]
            while len(group) < self.max_group:
                try:
                    group.append(self._calls.get_nowait())
                except queue.Empty:
                    break
            self._commit(group)

    def _commit(self, group: list[_Call]) -> None:
        outcomes: list[tuple[Any, BaseException | None]] = []
        try:
            with session_scope(self.engine) as session:
                for call in group:
                    outcomes.append(_one(session, call))
            self.groups += 1
        except Exception as failed:  # the commit (or the BEGIN) failed: nothing of the group was kept
            log.warning("group commit failed", extra={"calls": len(group)}, exc_info=True)
            outcomes = [(None, failed)] * len(group)
        for call, (value, error) in zip(group, outcomes, strict=True):
            call.loop.call_soon_threadsafe(_settle, call.future, value, error)


def _one(session: Session, call: _Call) -> tuple[Any, BaseException | None]:
    actions = session.info.setdefault("after_commit", [])
    kept = len(actions)
    try:
        with session.begin_nested():
            return call.fn(session, *call.args, **call.kwargs), None
    except Exception as error:
        del actions[kept:]  # its after-commit actions go with its savepoint
        return None, error


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.cancelled():  # the request went away; its change (if any) is committed all the same
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


_WRITERS: dict[int, GroupWriter] = {}
_WRITERS_LOCK = threading.Lock()


def writer_for(engine: Engine) -> GroupWriter:
    """The process's writer for this engine."""
    with _WRITERS_LOCK:
        writer = _WRITERS.get(id(engine))
        if writer is None or writer.engine is not engine:
            writer = _WRITERS[id(engine)] = GroupWriter(engine)
        return writer


async def in_group_transaction(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Like `libs.db.in_transaction`, but on SQLite in the process's next group commit (see above):
    for hot write paths whose transactions are short (a few inserts) and many."""
    engine = request.app.state.engine
    assert isinstance(engine, Engine), "this process has no database"
    if engine.dialect.name != "sqlite":
        return await in_transaction(request, fn, *args, **kwargs)
    return await writer_for(engine).run(fn, *args, **kwargs)
