"""One way to write an event consumer.

    @consumer("progress.attainment_rollup", SubmissionGraded, database_url=..., processed=processed_events)
    def attainment_rollup(session: Session, event: Event[SubmissionGraded]) -> None:
        ...

The name must be declared in `libs.events.CONSUMERS` (topics, queue, retry policy) and the payload
models must cover exactly its topics. The helper makes the Celery task: it validates each delivered
event against its payload model, and in one transaction records every event id in the service's
`processed_events` (a redelivery changes nothing) and calls the handler. A message carries one event
or a list of them; a list is handled in one transaction, and if that fails with an error the policy
does not retry, each event is tried alone so one bad event cannot hold back the others. Errors the
policy names are retried with exponential back-off and jitter; everything else (programming errors)
fails at once and is logged with the event id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from celery import Task
from celery.utils.time import get_exponential_backoff_interval
from sqlalchemy import Table
from sqlmodel import Session

from libs.celery_app import LONGEST_TASK_SECONDS, celery_app
from libs.db import cached_engine, session_scope
from libs.events import CONSUMER_SPECS, ConsumerSpec, Event, EventPayload, NotYetAvailable, RetryPolicy
from libs.outbox import first_delivery

log = logging.getLogger("ustaz.consumers")
Handler = Callable[[Session, Event[Any]], None]
RawEvent = dict[str, Any]


class OutsideTransaction(Exception):
    """A handler raises this when it needs I/O that must not run inside its transaction (fetching
    another service's data): the helper rolls back, calls `resolve()` with no transaction open and
    runs the handler once more. A second miss is treated as `NotYetAvailable` (retried)."""

    def __init__(self, resolve: Callable[[], None], reason: str) -> None:
        super().__init__(reason)
        self.resolve = resolve


@dataclass
class Consumer:
    spec: ConsumerSpec
    payloads: dict[str, type[EventPayload]]
    handler: Handler
    database_url: Callable[[], str]
    processed: Table
    task: Task[Any, None] = field(init=False)

    def parse(self, raw: RawEvent) -> Event[Any]:
        """Validate a delivered event against the payload model of its topic (pydantic raises otherwise)."""
        model = self.payloads.get(raw.get("topic", ""))
        if model is None:
            raise ValueError(f"{self.spec.name} does not consume topic {raw.get('topic')!r}")
        return Event[model].model_validate(raw)  # type: ignore[valid-type]

    def handle(self, session: Session, event: Event[Any] | RawEvent) -> bool:
        """Handle one event inside the caller's transaction, once per event id; False for a redelivery."""
        parsed = self.parse(event) if isinstance(event, dict) else event
        if not first_delivery(session, self.processed, parsed.id, self.spec.name):
            return False
        self.handler(session, parsed)
        return True

    def run(self, events: Sequence[Event[Any]]) -> None:
        """The events in one transaction (see OutsideTransaction for the one second pass)."""
        engine = cached_engine(self.database_url())
        for attempt in (1, 2):
            try:
                with session_scope(engine) as session:
                    for event in events:
                        self.handle(session, event)
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
            raise
        except Exception:
            if len(events) == 1:
                log.exception("consumer failed", extra=self._ids(events))
                raise
        # One event of the batch failed for good: the others must not share its fate.
        failed: Exception | None = None
        for event in events:
            try:
                self.run([event])
            except self.spec.retry.retry_on:
                raise
            except Exception as exc:
                log.exception("consumer failed", extra=self._ids([event]))
                failed = failed or exc
        if failed is not None:
            raise failed

    def _ids(self, events: Sequence[Event[Any]], **more: Any) -> dict[str, Any]:
        return {"consumer": self.spec.name, "event_ids": [e.id for e in events], **more}


def consumer(
    name: str, *payloads: type[EventPayload], database_url: Callable[[], str], processed: Table
) -> Callable[[Handler], Consumer]:
    """Bind `handler(session, event)` to the consumer `name` declared in libs.events.CONSUMERS."""
    spec = CONSUMER_SPECS.get(name)
    if spec is None:
        raise LookupError(f"{name} is not declared in libs.events.CONSUMERS")
    by_topic = {p.topic: p for p in payloads}
    if set(by_topic) != set(spec.topics):
        raise ValueError(f"{name} consumes {sorted(spec.topics)}; payload models cover {sorted(by_topic)}")

    def bind(handler: Handler) -> Consumer:
        bound = Consumer(spec, by_topic, handler, database_url, processed)

        @celery_app.task(name=name, bind=True, acks_late=True, reject_on_worker_lost=True)
        def task(self: Task[Any, None], message: RawEvent | list[RawEvent]) -> None:
            bound.deliver(self, message)

        task.__doc__ = handler.__doc__
        bound.task = task
        return bound

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
