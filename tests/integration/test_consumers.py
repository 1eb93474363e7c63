"""The one way to write a consumer (libs/consumers.py), on SQLite and PostgreSQL: declared once,
idempotent by event id, named retry policies, programming errors never retried, a batch in one
transaction with a bad event isolated, and I/O outside the transaction."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from libs import events as events_module
from libs.celery_app import celery_app
from libs.consumers import Consumer, OutsideTransaction, consumer
from libs.db import create_db_engine, session_scope
from libs.events import DB_CONTENTION, ConsumerSpec, Event, EventPayload
from libs.outbox import emit
from services.progress.models import outbox, processed_events
from services.progress.schemas import SubmissionReceived
from tests.conftest import Databases


class Ping(EventPayload):
    topic: ClassVar[str] = "test.ping"
    n: int


def raw(n: int, event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or str(uuid.uuid4()),
        "topic": "test.ping",
        "occurred_at": datetime.now(UTC).isoformat(),
        "payload": {"n": n},
    }


@pytest.fixture
def url(databases: Databases) -> str:
    return databases.fresh("progress")


def effects(url: str) -> list[str]:
    """The handler's effect: a `submission.received` outbox row per handled ping (committed or not at all)."""
    engine = create_db_engine(url)
    with session_scope(engine, readonly=True) as session:
        rows = [r.payload["submission_id"] for r in session.execute(select(outbox)).all()]
    engine.dispose()
    return sorted(rows)


def make(
    url: str, monkeypatch: pytest.MonkeyPatch, behave: Callable[[Session, Event[Ping]], None]
) -> Consumer:
    name = f"test.ping_{uuid.uuid4().hex[:8]}"
    spec = ConsumerSpec(name, ("test.ping",), "analytics", DB_CONTENTION)
    monkeypatch.setitem(events_module.CONSUMER_SPECS, name, spec)

    def handler(session: Session, event: Event[Ping]) -> None:
        behave(session, event)
        emit(session, outbox, SubmissionReceived(submission_id=f"ping-{event.payload.n}"))

    return consumer(name, Ping, database_url=lambda: url, processed=processed_events)(handler)


def nothing(session: Session, event: Event[Ping]) -> None:
    pass


def test_a_consumer_must_be_declared_and_cover_its_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LookupError, match="not declared"):
        consumer("test.undeclared", Ping, database_url=lambda: "", processed=processed_events)
    with pytest.raises(ValueError, match="payload models cover"):
        consumer("progress.grade_submission", Ping, database_url=lambda: "", processed=processed_events)


def test_a_redelivered_event_changes_nothing(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ping = make(url, monkeypatch, nothing)
    event = raw(1)
    ping.task.apply(args=[event], throw=True)
    ping.task.apply(args=[event], throw=True)
    assert effects(url) == ["ping-1"]
    engine = create_db_engine(url)
    with session_scope(engine) as session:
        assert not ping.handle(session, event)  # the same id, handled inside a caller's transaction
        assert session.scalar(select(func.count()).select_from(processed_events)) == 1
    engine.dispose()


def test_a_payload_that_does_not_validate_is_refused_at_once(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    ping = make(url, monkeypatch, lambda s, e: calls.append(e.payload.n))
    bad = {**raw(1), "payload": {"n": "not a number"}}
    with pytest.raises(ValueError):
        ping.task.apply(args=[bad], throw=True)
    assert calls == [] and effects(url) == []


def test_a_programming_error_is_not_retried(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def broken(session: Session, event: Event[Ping]) -> None:
        calls.append(event.payload.n)
        raise KeyError("a bug, not a transient fault")

    ping = make(url, monkeypatch, broken)
    with pytest.raises(KeyError):
        ping.task.apply(args=[raw(1)], throw=True)
    assert calls == [1]  # once: LookupError's subclass KeyError is no reason to try again
    assert effects(url) == []


def test_contention_is_retried_until_it_clears(
    url: str, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    """Through the real broker and a real worker: the retry is a new message with back-off."""
    from celery.contrib.testing.worker import start_worker

    calls: list[int] = []

    def contended(session: Session, event: Event[Ping]) -> None:
        calls.append(event.payload.n)
        if len(calls) < 3:
            raise OperationalError("UPDATE …", {}, Exception("database is locked"))

    ping = make(url, monkeypatch, contended)
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with start_worker(celery_app, pool="solo", queues=[queue], perform_ping_check=False, shutdown_timeout=10):
        ping.task.apply_async(args=[raw(7)], queue=queue)
        deadline = time.monotonic() + 30
        while effects(url) != ["ping-7"] and time.monotonic() < deadline:
            time.sleep(0.1)
    assert calls == [7, 7, 7] and effects(url) == ["ping-7"]


def test_a_batch_is_one_transaction_and_a_bad_event_is_isolated(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def picky(session: Session, event: Event[Ping]) -> None:
        if event.payload.n == 2:
            raise ValueError("this one event is broken")

    ping = make(url, monkeypatch, picky)
    with pytest.raises(ValueError):
        ping.task.apply(args=[[raw(1), raw(2), raw(3)]], throw=True)
    assert effects(url) == ["ping-1", "ping-3"]  # the others were not held back by the bad one


def test_io_runs_outside_the_transaction_then_the_handler_again(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched: list[bool] = []

    def needs_fetch(session: Session, event: Event[Ping]) -> None:
        if not fetched:
            assert session.in_transaction()
            raise OutsideTransaction(lambda: fetched.append(True), "answer key not cached")

    ping = make(url, monkeypatch, needs_fetch)
    ping.task.apply(args=[raw(5)], throw=True)
    assert fetched == [True] and effects(url) == ["ping-5"]
