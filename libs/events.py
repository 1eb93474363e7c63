"""Events between services: the payload contract, who consumes which topic, and how each consumer retries.

This is the one place that says who consumes what. A consumer is declared here once (its task name,
topics, queue and a named retry policy) and bound to its handler with `libs.consumers.consumer`;
the outbox relay, the Celery routes and the docs table (docs/architecture.md, checked by a unit test)
all follow from `CONSUMERS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Generic, TypeVar

import httpx
import redis
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError, OperationalError


class EventPayload(BaseModel):
    """The body of one event. The producing service owns its payloads (its schemas.py) and emits
    instances; consumers validate what they receive against the same model. Unknown fields are
    ignored, so a producer can add one before its consumers read it."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    topic: ClassVar[str]


P = TypeVar("P", bound=EventPayload)


class Event(BaseModel, Generic[P]):
    """What a consumer receives: the outbox row's id (the idempotency key), topic, time and payload."""

    id: str
    topic: str
    occurred_at: datetime
    payload: P


class NotYetAvailable(Exception):
    """Something an event refers to is not there yet (another service's data still on its way):
    transient by nature, so the transient policy retries it. Never raise it for a programming error."""


@dataclass(frozen=True)
class RetryPolicy:
    """What a consumer retries, how often, and how long it backs off at most. Anything else
    (KeyError, TypeError, a payload that does not validate: programming errors) fails at once."""

    name: str
    retry_on: tuple[type[Exception], ...]
    max_retries: int = 0
    backoff_max_seconds: int = 0


TRANSIENT_IO = RetryPolicy(
    "transient-io",
    (
        httpx.TransportError,
        httpx.HTTPStatusError,  # ServiceClient raises it for 5xx answers only
        redis.ConnectionError,
        redis.TimeoutError,
        OperationalError,
        NotYetAvailable,
    ),
    max_retries=10,
    backoff_max_seconds=120,
)
# Concurrent transactions over the same rows: SQLite's lock timeout, PostgreSQL's serialization or
# deadlock errors (OperationalError), and two first inserts of one key racing (IntegrityError).
DB_CONTENTION = RetryPolicy(
    "db-contention", (OperationalError, IntegrityError), max_retries=10, backoff_max_seconds=30
)
NEVER = RetryPolicy("never", ())


@dataclass(frozen=True)
class ConsumerSpec:
    name: str  # the Celery task name, stable and dotted: <service>.<what it does>
    topics: tuple[str, ...]
    queue: str
    retry: RetryPolicy


CONSUMERS: tuple[ConsumerSpec, ...] = (
    ConsumerSpec("progress.grade_submission", ("submission.received",), "grading", TRANSIENT_IO),
    ConsumerSpec("certificates.issue_certificate", ("course.completed",), "certificates", TRANSIENT_IO),
    ConsumerSpec("progress.deliver_certificate_ready", ("certificate.issued",), "reminders", DB_CONTENTION),
    ConsumerSpec(
        "progress.deliver_certificate_notice", ("certificate.status_changed",), "reminders", DB_CONTENTION
    ),
    # Analytics rollups (services/progress/analytics), on the `analytics` queue.
    ConsumerSpec(
        "progress.funnel_rollup",
        ("enrolment.created", "enrolment.started", "course.completed"),
        "analytics",
        DB_CONTENTION,
    ),
    ConsumerSpec("progress.certificate_rollup", ("certificate.issued",), "analytics", DB_CONTENTION),
    ConsumerSpec("progress.attainment_rollup", ("submission.graded",), "analytics", DB_CONTENTION),
    ConsumerSpec("progress.programme_coverage", ("programme.defined",), "analytics", DB_CONTENTION),
    # The gateway's registry (gateway/registry): large imports on their own queue, account messages
    # (activation codes, password resets, notices) delivered by progress's channels.
    ConsumerSpec("gateway.start_registry_import", ("registry.import_requested",), "registry", DB_CONTENTION),
    ConsumerSpec("progress.deliver_account_message", ("account.message",), "reminders", DB_CONTENTION),
    # Professional learning (services/progress/practice): a webinar's recording to its registrants.
    ConsumerSpec(
        "progress.notify_webinar_recording", ("webinar.recording_added",), "reminders", DB_CONTENTION
    ),
)
CONSUMER_SPECS: dict[str, ConsumerSpec] = {c.name: c for c in CONSUMERS}

SUBSCRIPTIONS: dict[str, list[str]] = {}
for _spec in CONSUMERS:
    for _topic in _spec.topics:
        SUBSCRIPTIONS.setdefault(_topic, []).append(_spec.name)

# Queues of the tasks that are not event consumers (periodic sweeps and deliveries); consumers'
# queues come from CONSUMERS. Patterns are fnmatch-style.
TASK_QUEUES: dict[str, str] = {
    **{c.name: c.queue for c in CONSUMERS},
    "*.confirm_deliveries": "analytics",
    "ustaz.ping": "grading",  # the no-op round trip (libs/celery_app.py): the floor of a grading message  # a consumer in another service confirms (libs/outbox.py)
    "progress.requeue_stale_submissions": "grading",
    "certificates.*": "certificates",
    "progress.send_reminders": "reminders",
    "progress.deliver_*": "reminders",
    "progress.*rollup*": "analytics",
    "gateway.registry.*": "registry",
}
QUEUES = ("grading", "certificates", "reminders", "analytics", "registry")
