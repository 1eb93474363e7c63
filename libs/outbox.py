"""Transactional outbox, pending deliveries and idempotent consumers (ADR 0005, ADR 0012).

`emit` writes an event in the same transaction as the change it describes, and one *delivery* row
per consumer subscribed to its topic (`libs.events.SUBSCRIPTIONS`). A delivery stays pending until
its consumer has recorded the event: a consumer in the producing service deletes it in the same
transaction as its effect; a consumer in another service confirms it after its commit with a
message to the producer's `<service>.confirm_deliveries` task. `OutboxRelay` (a thread in each
service process) sends due deliveries to Celery, one message per consumer per batch, and makes each
due again after an acknowledgement timeout that doubles with every attempt, so a message the broker
lost (Redis restarted empty, a worker SIGKILLed after kombu popped the message) is sent again; the
consumer's `first_delivery` makes the redundant copy a no-op.

The relay claims a batch in a short transaction and publishes after its commit: no database lock
is held while the broker is slow or down (on SQLite that lock stalled every write). While the
broker is down the relay backs off (0.5 s doubling to 10 s) and the claimed deliveries are due
again at once, so nothing waits out an acknowledgement timeout for an outage.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
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
DELIVERIES = "outbox_deliveries"


def utcnow() -> datetime:
    return datetime.now(UTC)


def outbox_tables(metadata: MetaData) -> tuple[Table, Table]:
    """The service's `outbox` and `processed_events` tables (returned) and its `outbox_deliveries`
    (in the same metadata; `deliveries_table(outbox)` finds it)."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("topic", String(100), nullable=False),
        Column("payload", JSON, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("published_at", UTCDateTime()),  # first handed to the broker (informational)
        Column("attempts", Integer, nullable=False, default=0),
        Index("ix_outbox_pending", "published_at", "created_at"),
    )
    Table(
        DELIVERIES,
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("consumer", String(100), primary_key=True),
        Column("due_at", UTCDateTime(), nullable=False),  # when the relay (re)sends it
        Column("attempts", Integer, nullable=False, default=0),  # messages sent so far
        Index("ix_outbox_deliveries_due", "due_at"),
    )
    processed = Table(
        "processed_events",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("consumer", String(100), primary_key=True),
        Column("processed_at", UTCDateTime(), nullable=False),
    )
    return outbox, processed


def deliveries_table(table: Table) -> Table:
    """The `outbox_deliveries` table next to a service's `outbox` or `processed_events` table."""
    return table.metadata.tables[DELIVERIES]


def emit(session: Session, outbox: Table, payload: EventPayload) -> str:
    return emit_many(session, outbox, [payload])[0]


def emit_many(session: Session, outbox: Table, payloads: Sequence[EventPayload]) -> list[str]:
    """Events in one multi-row INSERT, their deliveries in another (a batch of statements is one
    round trip, not 50); each payload's class names its topic."""
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
    if not rows:
        return []
    session.execute(insert(outbox), rows)
    pending = [
        {"event_id": row["id"], "consumer": consumer, "due_at": now, "attempts": 0}
        for row in rows
        for consumer in SUBSCRIPTIONS.get(str(row["topic"]), [])
    ]
    if pending:
        session.execute(insert(deliveries_table(outbox)), pending)
        session.info["outbox_emitted"] = True
    return [str(row["id"]) for row in rows]


@event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    if session.info.pop("outbox_emitted", False):
        for waker in _wakers:
            waker.set()


def first_delivery(session: Session, processed: Table, event_id: str, consumer: str) -> bool:
    """Record that `consumer` handled `event_id`; False if it already had (then do nothing)."""
    return bool(first_deliveries(session, processed, [event_id], consumer))


def first_deliveries(session: Session, processed: Table, event_ids: Sequence[str], consumer: str) -> set[str]:
    """Record that `consumer` handled these events (one statement); the ids it had not handled before."""
    if not event_ids:
        return set()
    now = utcnow()
    values = [{"event_id": e, "consumer": consumer, "processed_at": now} for e in dict.fromkeys(event_ids)]
    stmt = dialect_insert(session, processed).values(values).on_conflict_do_nothing()
    return {row[0] for row in session.execute(stmt.returning(processed.c.event_id))}


def confirm(
    session_or_conn: Session | Connection, deliveries: Table, consumer: str, event_ids: Iterable[str]
) -> int:
    """The consumer has recorded these events: their deliveries are no longer pending."""
    ids = list(event_ids)
    if not ids:
        return 0
    result = session_or_conn.execute(
        delete(deliveries).where(deliveries.c.consumer == consumer, deliveries.c.event_id.in_(ids))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def envelope(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "topic": row.topic,
        "occurred_at": row.created_at.isoformat(),
        "payload": row.payload,
    }


Publish = Callable[[str, list[dict[str, Any]], str], None]


@dataclass(frozen=True)
class RelayTiming:
    """How long a sent delivery may stay unconfirmed before it is sent again (doubling per attempt,
    at most `ack_max`), and how the relay backs off while the broker is down."""

    ack_timeout: float = 120.0
    ack_max: float = 3600.0
    backoff_start: float = 0.5
    backoff_max: float = 10.0

    def redue(self, now: datetime, attempts: int) -> datetime:
        """When a delivery sent for the `attempts`-th time (1 = first) is due again."""
        return now + timedelta(seconds=min(self.ack_max, self.ack_timeout * 2 ** max(0, attempts - 1)))


class OutboxRelay:
    """Sends due deliveries: claim (short transaction), publish (no transaction), and on a broker
    failure make the unsent ones due again and back off."""

    def __init__(
        self,
        engine: Engine,
        outbox: Table,
        publish: Publish,
        *,
        interval: float = 0.5,
        batch: int = 500,
        per_message: int = 100,
        linger: float = 0.05,
        timing: RelayTiming | None = None,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.deliveries = deliveries_table(outbox)
        self.publish = publish
        self.interval = interval
        self.batch = batch
        self.per_message = per_message
        self.linger = linger  # after a commit woke it: let the commits of the next moment join the batch
        self.timing = timing or RelayTiming()
        self.backoff = 0.0  # > 0 while the broker is failing
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one pass ------------------------------------------------------------------------------------

    def relay_once(self) -> int:
        """Send up to `batch` due deliveries; returns how many were handed to the broker. Raises
        nothing for a broker failure (it sets `backoff`)."""
        claimed = self._claim()
        if not claimed:
            return 0
        by_consumer: dict[str, list[Any]] = {}
        for row in claimed:
            by_consumer.setdefault(row.consumer, []).append(row)
        sent: list[Any] = []
        unsent: list[Any] = []
        for consumer, rows in by_consumer.items():
            for start in range(0, len(rows), self.per_message):
                chunk = rows[start : start + self.per_message]
                if unsent:
                    unsent.extend(chunk)
                    continue
                try:
                    self.publish(consumer, [envelope(r) for r in chunk], _task_id(consumer, chunk))
                    sent.extend(chunk)
                except Exception:
                    log.warning(
                        "publish failed; the deliveries are due again",
                        extra={"consumer": consumer, "events": len(chunk)},
                        exc_info=self.backoff == 0,
                    )
                    unsent.extend(chunk)
        if unsent:
            self._release(unsent)
            self.backoff = min(self.timing.backoff_max, max(self.timing.backoff_start, self.backoff * 2))
        else:
            if self.backoff:
                log.info("broker reachable again; relaying", extra={"events": len(sent)})
            self.backoff = 0.0
        return len(sent)

    def _claim(self) -> list[Any]:
        """Due deliveries with their events, made due again at their acknowledgement timeout in the
        same (short) transaction, so another relay or replica does not send them meanwhile."""
        d, ob = self.deliveries, self.outbox
        now = utcnow()
        query = (
            select(
                d.c.event_id, d.c.consumer, d.c.attempts, ob.c.id, ob.c.topic, ob.c.payload, ob.c.created_at
            )
            .join(ob, ob.c.id == d.c.event_id)
            .where(d.c.due_at <= now)
            .order_by(d.c.due_at)
            .limit(self.batch)
        )
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update(of=d, skip_locked=True)
        with self.engine.begin() as conn:
            rows = list(conn.execute(query).all())
            if not rows:
                return []
            conn.execute(
                update(d)
                .where(d.c.event_id == bindparam("e"), d.c.consumer == bindparam("c"))
                .values(due_at=bindparam("due"), attempts=bindparam("n")),
                [
                    {
                        "e": r.event_id,
                        "c": r.consumer,
                        "due": self.timing.redue(now, r.attempts + 1),
                        "n": r.attempts + 1,
                    }
                    for r in rows
                ],
            )
            first = sorted({r.event_id for r in rows if r.attempts == 0})
            if first:
                conn.execute(
                    update(ob).where(ob.c.id.in_(first), ob.c.published_at.is_(None)).values(published_at=now)
                )
        retried = [r for r in rows if r.attempts > 0]
        if retried:
            log.warning(
                "sending unconfirmed deliveries again",
                extra={"deliveries": len(retried), "consumers": sorted({r.consumer for r in retried})},
            )
        return rows

    def _release(self, rows: list[Any]) -> None:
        """The broker did not take them: due again now, the attempt not counted."""
        d = self.deliveries
        now = utcnow()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(d)
                    .where(d.c.event_id == bindparam("e"), d.c.consumer == bindparam("c"))
                    .values(due_at=now, attempts=bindparam("n")),
                    [{"e": r.event_id, "c": r.consumer, "n": r.attempts} for r in rows],
                )
        except Exception:  # they come due at their acknowledgement timeout instead
            log.warning("could not release unsent deliveries", exc_info=True)

    # -- the thread ----------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.relay_once() == self.batch:
                    continue
            except Exception:
                log.warning("outbox relay pass failed", exc_info=True)
                self.backoff = min(self.timing.backoff_max, max(self.timing.backoff_start, self.backoff * 2))
            if self.backoff:
                self._stop.wait(self.backoff)  # a commit does not shorten a back-off
            elif self._wake.wait(self.interval) and self.linger:
                self._stop.wait(self.linger)
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


def celery_publish(task: str, events: list[dict[str, Any]], task_id: str) -> None:
    """Hand one message (a list of events for one consumer) to the broker; raises if it is down."""
    from libs.celery_app import celery_app

    celery_app.send_task(
        task, args=[events], task_id=task_id, retry_policy={"max_retries": 1, "interval_start": 0.2}
    )


def _task_id(consumer: str, rows: Sequence[Any]) -> str:
    """`<event id>:<consumer>` for a message of one event, `<first event id>+<n>:<consumer>` for a batch."""
    first = rows[0].event_id
    return f"{first}:{consumer}" if len(rows) == 1 else f"{first}+{len(rows) - 1}:{consumer}"


def pending_deliveries(conn: Connection, outbox: Table) -> int:
    """Deliveries not yet confirmed by their consumer (for probes, tests and benchmarks)."""
    from sqlalchemy import func

    d = deliveries_table(outbox)
    return int(conn.execute(select(func.count()).select_from(d)).scalar_one())


def backfill_deliveries(conn: Connection) -> int:
    """For the migration that added `outbox_deliveries`: every event the old relay had not sent yet
    becomes one pending delivery per subscribed consumer."""
    _, _ = outbox_tables(metadata := MetaData())
    ob, d = metadata.tables["outbox"], metadata.tables[DELIVERIES]
    rows = conn.execute(select(ob.c.id, ob.c.topic).where(ob.c.published_at.is_(None))).all()
    now = utcnow()
    pending = [
        {"event_id": row.id, "consumer": consumer, "due_at": now, "attempts": 0}
        for row in rows
        for consumer in SUBSCRIPTIONS.get(row.topic, [])
    ]
    if pending:
        conn.execute(insert(d), pending)
    return len(pending)
