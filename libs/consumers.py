"""One way to write an event consumer.

    @consumer("progress.attainment_rollup", SubmissionGraded, database_url=..., processed=processed_events)
    def attainment_rollup(session: Session, event: Event[SubmissionGraded]) -> None:
        ...

The name must be declared in `libs.events.CONSUMERS` (topics, queue, retry policy) and the payload
models must cover exactly its topics. The helper makes the Celery task: it validates each delivered
event against its payload model, and in one transaction records every event id in the service's
`processed_events` (a redelivery changes nothing) and calls the handler. A message carries one event
or a list of them (the relay sends one message per consumer per batch); a list is handled in one
transaction, and if that fails with an error the policy does not retry, each event is tried alone so
one bad event cannot hold back the others. Errors the policy names are retried with exponential
back-off and jitter; everything else (programming errors) fails at once and is logged with the event id.

`@batch_consumer(...)` binds a handler that takes the list (`handler(session, events)`: only events
not handled before, in delivery order), for consumers that do one query for many events.

Every delivered event is then confirmed to its producer (libs/outbox.py): in the same transaction
when the producer is this service, else after the commit with one message per producer to its
`<service>.confirm_deliveries` task (registered here for each service that has consumers).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from celery import Task
from celery.utils.time import get_exponential_backoff_interval
from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from libs.celery_app import LONGEST_TASK_SECONDS, celery_app
from libs.db import after_commit, cached_engine, session_scope
from libs.events import CONSUMER_SPECS, ConsumerSpec, Event, EventPayload, NotYetAvailable, RetryPolicy
from libs.outbox import confirm, deliveries_table, first_deliveries

log = logging.getLogger("ustaz.consumers")
Handler = Callable[[Session, Event[Any]], None]
BatchHandler = Callable[[Session, list[Event[Any]]], None]
RawEvent = dict[str, Any]


class OutsideTransaction(Exception):
    """A handler raises this when it needs I/O that must not run inside its transaction (fetching
    another service's data): the helper rolls back, calls `resolve()` with no transaction open and
    runs the handler once more. A second miss is treated as `NotYetAvailable` (retried)."""

    def __init__(self, resolve: Callable[[], None], reason: str) -> None:
        super().__init__(reason)
        self.resolve = resolve


def producer_of(payload: type[EventPayload]) -> str | None:
    """The service that emits a payload: the one whose schemas module defines it (services/<name>/schemas.py
    or a room's, services/<name>/<room>/schemas.py); None for a payload defined elsewhere (a test's),
    whose events have no outbox to confirm to."""
    parts = payload.__module__.split(".")
    if len(parts) in (3, 4) and parts[0] == "services" and parts[-1] == "schemas":
        return parts[1]
    return None


@dataclass
class Consumer:
    spec: ConsumerSpec
    payloads: dict[str, type[EventPayload]]
    handler: Handler | None
    database_url: Callable[[], str]
    processed: Table
    batch_handler: BatchHandler | None = None
    task: Task[Any, None] = field(init=False)

    @property
    def service(self) -> str:
        return self.spec.name.split(".", 1)[0]

    def parse(self, raw: RawEvent) -> Event[Any]:
        """Validate a delivered event against the payload model of its topic (pydantic raises otherwise)."""
        model = self.payloads.get(raw.get("topic", ""))
        if model is None:
            raise ValueError(f"{self.spec.name} does not consume topic {raw.get('topic')!r}")
        return Event[model].model_validate(raw)  # type: ignore[valid-type]

    def handle(self, session: Session, event: Event[Any] | RawEvent) -> bool:
        """Handle one event inside the caller's transaction, once per event id; False for a redelivery."""
        return bool(self.handle_many(session, [event]))

    def handle_many(self, session: Session, events: Sequence[Event[Any] | RawEvent]) -> list[Event[Any]]:
        """Handle events inside the caller's transaction, each once per event id, and confirm every one
        of them to its producer; returns those handled now (not before)."""
        parsed = [self.parse(e) if isinstance(e, dict) else e for e in events]
        new_ids = first_deliveries(session, self.processed, [e.id for e in parsed], self.spec.name)
        fresh: list[Event[Any]] = []
        for event in parsed:
            if event.id in new_ids:
                new_ids.discard(event.id)  # the same event twice in one message counts once
                fresh.append(event)
        if fresh:
            if self.batch_handler is not None:
                self.batch_handler(session, fresh)
            else:
                assert self.handler is not None
                for event in fresh:
                    self.handler(session, event)
        self._confirm(session, parsed)
        return fresh

    def _confirm(self, session: Session, events: Sequence[Event[Any]]) -> None:
        by_producer: dict[str, list[str]] = {}
        for event in events:
            producer = producer_of(self.payloads[event.topic])
            if producer is not None:
                by_producer.setdefault(producer, []).append(event.id)
        for producer, ids in by_producer.items():
            if producer == self.service:
                confirm(session, deliveries_table(self.processed), self.spec.name, ids)
            else:
                after_commit(session, _confirm_later(producer, self.spec.name, ids))

    def run(self, events: Sequence[Event[Any]]) -> None:
        """The events in one transaction (see OutsideTransaction for the one second pass)."""
        engine = cached_engine(self.database_url())
        for attempt in (1, 2):
            try:
                with session_scope(engine) as session:
                    self.handle_many(session, events)
                return
            except OutsideTransaction as needed:
                if attempt == 2:
                    raise NotYetAvailable(str(needed)) from needed
                needed.resolve()

    def deliver(self, task: Task[Any, None], message: RawEvent | list[RawEvent]) -> None:
        """The Celery task body."""
        events = [self.parse(raw) for raw in (message if isinstance(message, list) else [message])]
        policy = self.spec.retry
        try:
            self._run_isolating(events)
        except policy.retry_on as exc:
            retries = task.request.retries
            if retries >= policy.max_retries:
                log.exception("consumer gave up", extra=self._ids(events, retries=retries))
                raise
            countdown = get_exponential_backoff_interval(
                factor=1, retries=retries, maximum=policy.backoff_max_seconds, full_jitter=True
            )
            log.warning("consumer will retry", extra=self._ids(events, retries=retries, countdown=countdown))
            raise task.retry(exc=exc, countdown=countdown, max_retries=policy.max_retries) from exc

    def _run_isolating(self, events: list[Event[Any]]) -> None:
        try:
            self.run(events)
            return
        except self.spec.retry.retry_on:
            raise  # nothing of the batch committed: it is retried whole
        except Exception:
            if len(events) == 1:
                log.exception("consumer failed", extra=self._ids(events))
                raise
        # One event of the batch failed for good: the others must not share its fate. If one of them
        # then needs a retry, the message is retried whole; what committed meanwhile is a no-op then.
        retry: Exception | None = None
        failed: Exception | None = None
        for event in events:
            try:
                self.run([event])
            except self.spec.retry.retry_on as exc:
                retry = retry or exc
            except Exception as exc:
                log.exception("consumer failed", extra=self._ids([event]))
                failed = failed or exc
        if retry is not None:
            raise retry
        if failed is not None:
            raise failed

    def _ids(self, events: Sequence[Event[Any]], **more: Any) -> dict[str, Any]:
        return {"consumer": self.spec.name, "event_ids": [e.id for e in events], **more}


def _confirm_later(producer: str, consumer: str, event_ids: list[str]) -> Callable[[], None]:
    def send() -> None:
        celery_app.send_task(
            f"{producer}.confirm_deliveries",
            args=[consumer, event_ids],
            retry_policy={"max_retries": 2, "interval_start": 0.2},
        )

    send.__name__ = f"confirm to {producer}"
    return send


_CONFIRMERS: dict[str, Task[Any, None]] = {}


def confirmer(service: str, *, database_url: Callable[[], str], processed: Table) -> Task[Any, None]:
    """`<service>.confirm_deliveries(consumer, event_ids)`: another service's consumer has recorded
    these events of ours. Registered once per service (`consumer()` does it for a service with
    consumers). A lost confirmation costs one redundant delivery."""
    if service in _CONFIRMERS:
        return _CONFIRMERS[service]
    deliveries = deliveries_table(processed)

    @celery_app.task(
        name=f"{service}.confirm_deliveries",
        acks_late=True,
        autoretry_for=(OperationalError, IntegrityError),
        retry_backoff=True,
        retry_backoff_max=30,
        retry_jitter=True,
        max_retries=10,
    )
    def confirm_deliveries(consumer: str, event_ids: list[str]) -> None:
        with session_scope(cached_engine(database_url())) as session:
            confirm(session, deliveries, consumer, event_ids)

    _CONFIRMERS[service] = confirm_deliveries
    return confirm_deliveries


def _check(
    name: str, payloads: tuple[type[EventPayload], ...]
) -> tuple[ConsumerSpec, dict[str, type[EventPayload]]]:
    spec = CONSUMER_SPECS.get(name)
    if spec is None:
        raise LookupError(f"{name} is not declared in libs.events.CONSUMERS")
    by_topic = {p.topic: p for p in payloads}
    if set(by_topic) != set(spec.topics):
        raise ValueError(f"{name} consumes {sorted(spec.topics)}; payload models cover {sorted(by_topic)}")
    return spec, by_topic


def _bind(bound: Consumer, doc: str | None) -> Consumer:
    @celery_app.task(name=bound.spec.name, bind=True, acks_late=True, reject_on_worker_lost=True)
    def task(self: Task[Any, None], message: RawEvent | list[RawEvent]) -> None:
        bound.deliver(self, message)

    task.__doc__ = doc
    bound.task = task
    confirmer(bound.service, database_url=bound.database_url, processed=bound.processed)
    return bound


def consumer(
    name: str, *payloads: type[EventPayload], database_url: Callable[[], str], processed: Table
) -> Callable[[Handler], Consumer]:
    """Bind `handler(session, event)` to the consumer `name` declared in libs.events.CONSUMERS."""
    spec, by_topic = _check(name, payloads)

    def bind(handler: Handler) -> Consumer:
        return _bind(Consumer(spec, by_topic, handler, database_url, processed), handler.__doc__)

    return bind


def batch_consumer(
    name: str, *payloads: type[EventPayload], database_url: Callable[[], str], processed: Table
) -> Callable[[BatchHandler], Consumer]:
    """Bind `handler(session, events)` (the events of one message not handled before, in order) to the
    consumer `name`: for handlers that do one query for many events."""
    spec, by_topic = _check(name, payloads)

    def bind(handler: BatchHandler) -> Consumer:
        bound = Consumer(spec, by_topic, None, database_url, processed, batch_handler=handler)
        return _bind(bound, handler.__doc__)

    return bind


def periodic(
    name: str, retry: RetryPolicy, *, time_limit: int = LONGEST_TASK_SECONDS
) -> Callable[[Callable[[], None]], Task[[], None]]:
    """A task that beat runs (a sweep, a delivery run): no event, so no idempotency key; it must be
    safe to run twice. Retries follow the named policy, like a consumer's."""

    def bind(fn: Callable[[], None]) -> Task[[], None]:
        return celery_app.task(
            name=name,
            acks_late=True,
            autoretry_for=retry.retry_on,
            retry_backoff=True,
            retry_backoff_max=retry.backoff_max_seconds,
            retry_jitter=True,
            max_retries=retry.max_retries,
            time_limit=time_limit,
            soft_time_limit=time_limit - 30,
        )(fn)

    return bind
