"""Transactional outbox and idempotent consumers.

`emit` writes an event in the same transaction as the change it describes. `OutboxRelay` sends
committed events to Celery (one message per subscribed task) and marks them published; it runs
as a thread in each service process, woken right after a commit that emitted events and polling
otherwise, so nothing is ever queued before its commit and nothing committed is lost if Redis or
the process was down (the next pass sends it). Delivery is at least once, so consumers call
`first_delivery` inside their own transaction: a redelivered event id changes nothing.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from libs.db import UTCDateTime, dialect_insert
from libs.events import SUBSCRIPTIONS, EventPayload

log = logging.getLogger("ustaz.outbox")
_wakers: list[threading.Event] = []


def utcnow() -> datetime:
    return datetime.now(UTC)


def outbox_tables(metadata: MetaData) -> tuple[Table, Table]:
    outbox = Table(
        "outbox",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("topic", String(100), nullable=False),
        Column("payload", JSON, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("published_at", UTCDateTime()),
        Column("attempts", Integer, nullable=False, default=0),
        Index("ix_outbox_pending", "published_at", "created_at"),
    )
    processed = Table(
        "processed_events",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("consumer", String(100), primary_key=True),
        Column("processed_at", UTCDateTime(), nullable=False),
    )
    return outbox, processed


def emit(session: Session, outbox: Table, payload: EventPayload) -> str:
    return emit_many(session, outbox, [payload])[0]


def emit_many(session: Session, outbox: Table, payloads: Sequence[EventPayload]) -> list[str]:
    """Events in one multi-row INSERT (a batch of statements is one round trip, not 50); each payload's
    class names its topic."""
    now = utcnow()
    rows = [
        {
            "id": str(uuid.uuid4()),
            "topic": p.topic,
            "payload": p.model_dump(mode="json"),
            "created_at": now,
            "attempts": 0,
        }
        for p in payloads
    ]
    if rows:
        session.execute(insert(outbox), rows)
        session.info["outbox_emitted"] = True
    return [str(row["id"]) for row in rows]


@event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    if session.info.pop("outbox_emitted", False):
        for waker in _wakers:
            waker.set()


def first_delivery(session: Session, processed: Table, event_id: str, consumer: str) -> bool:
    """Record that `consumer` handled `event_id`; False if it already had (then do nothing)."""
    values = {"event_id": event_id, "consumer": consumer, "processed_at": utcnow()}
    stmt = dialect_insert(session, processed).values(**values).on_conflict_do_nothing()
    return session.execute(stmt.returning(processed.c.event_id)).first() is not None


def envelope(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "topic": row.topic,
        "occurred_at": row.created_at.isoformat(),
        "payload": row.payload,
    }


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        outbox: Table,
        publish: Callable[[str, dict[str, Any], str], None],
        *,
        interval: float = 0.5,
        batch: int = 200,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.publish = publish
        self.interval = interval
        self.batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def relay_once(self) -> int:
        """Publish up to `batch` pending events; returns how many were marked published."""
        ob = self.outbox
        query = select(ob).where(ob.c.published_at.is_(None)).order_by(ob.c.created_at).limit(self.batch)
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
            sent: list[str] = []
            for row in rows:
                try:
                    for task in SUBSCRIPTIONS.get(row.topic, []):
                        self.publish(task, envelope(row), f"{row.id}:{task}")
                except Exception:
                    log.warning("publish failed; will retry", extra={"event_id": row.id}, exc_info=True)
                    conn.execute(update(ob).where(ob.c.id == row.id).values(attempts=ob.c.attempts + 1))
                    break
                sent.append(row.id)
            if sent:
                conn.execute(update(ob).where(ob.c.id.in_(sent)).values(published_at=utcnow()))
        return len(sent)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.relay_once() == self.batch:
                    continue
            except Exception:
                log.warning("outbox relay pass failed", exc_info=True)
            self._wake.wait(self.interval)
            self._wake.clear()

    def start(self) -> None:
        _wakers.append(self._wake)
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._wake in _wakers:
            _wakers.remove(self._wake)
        if self._thread:
            self._thread.join(timeout=5)
