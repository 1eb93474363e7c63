"""The outbox: an event commits with its change, reaches Redis only after the commit and with no
database lock held, waits out a broker outage (the relay backs off), is sent again until its
consumer confirms it, and a redelivered event is consumed once."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import redis
from celery import Celery
from sqlalchemy import func, select

from libs.consumers import Consumer, producer_of
from libs.db import create_db_engine, session_scope
from libs.events import CONSUMER_SPECS, Event
from libs.outbox import (
    OutboxRelay,
    RelayTiming,
    confirm,
    deliveries_table,
    emit,
    emit_many,
    first_deliveries,
    first_delivery,
)
from services.certificates.schemas import CertificateIssued
from services.progress.models import Enrolment, outbox, processed_events
from services.progress.schemas import CourseCompleted, SubmissionReceived

DELIVERIES = deliveries_table(outbox)
GRADE = "progress.grade_submission"


def celery_publisher(broker_url: str, sent: list[tuple[str, int]] | None = None) -> Any:
    app = Celery("test", broker=broker_url)
    app.conf.update(task_serializer="json", broker_connection_retry=False, broker_connection_max_retries=0)

    def publish(task: str, events: list[dict[str, Any]], task_id: str) -> None:
        app.send_task(task, args=[events], task_id=task_id, queue="grading", retry=False)
        if sent is not None:
            sent.append((task, len(events)))

    return publish


def queued(redis_url: str) -> list[dict[str, Any]]:
    client = redis.Redis.from_url(redis_url)
    return [json.loads(m) for m in client.lrange("grading", 0, -1)]


def body(message: dict[str, Any]) -> list[dict[str, Any]]:
    import base64

    args = json.loads(base64.b64decode(message["body"]))[0]
    return list(args[0])


@pytest.fixture
def engine(databases: Any) -> Any:
    engine = create_db_engine(databases.fresh("progress"))
    yield engine
    engine.dispose()


@pytest.fixture
def clean_queue(redis_url: str) -> str:
    redis.Redis.from_url(redis_url).delete("grading")
    return redis_url


def enrolment() -> Enrolment:
    return Enrolment(
        user_id="u1",
        course_id="c1",
        version=1,
        course_title="T",
        language="ru",
        institute_id="i1",
        org_path="KZ/KZ-ALM",
    )


def pending(engine: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(DELIVERIES).order_by(DELIVERIES.c.event_id)).all())


def test_a_rolled_back_change_publishes_nothing(engine: Any, clean_queue: str) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.add(enrolment())
        emit(session, outbox, SubmissionReceived(submission_id="s1"))
        raise RuntimeError("the request failed after the event was written")
    relay = OutboxRelay(engine, outbox, celery_publisher(clean_queue))
    assert relay.relay_once() == 0
    assert queued(clean_queue) == []
    assert pending(engine) == []
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Enrolment)) == 0


def test_a_committed_event_is_sent_once_and_stays_pending_until_confirmed(
    engine: Any, clean_queue: str
) -> None:
    with session_scope(engine) as session:
        session.add(enrolment())
        event_id = emit(session, outbox, SubmissionReceived(submission_id="s1"))
    assert [(d.event_id, d.consumer, d.attempts) for d in pending(engine)] == [(event_id, GRADE, 0)]
    relay = OutboxRelay(engine, outbox, celery_publisher(clean_queue))
    assert relay.relay_once() == 1
    assert relay.relay_once() == 0  # sent, not due again before its acknowledgement timeout
    messages = queued(clean_queue)
    assert len(messages) == 1
    assert messages[0]["headers"]["task"] == GRADE
    assert messages[0]["headers"]["id"] == f"{event_id}:{GRADE}"
    assert [e["id"] for e in body(messages[0])] == [event_id]
    assert [d.attempts for d in pending(engine)] == [1]
    with session_scope(engine) as session:
        assert confirm(session, DELIVERIES, GRADE, [event_id]) == 1
    assert pending(engine) == []


def test_a_batch_of_events_is_one_message_per_consumer(engine: Any, clean_queue: str) -> None:
    with session_scope(engine) as session:
        assert emit_many(session, outbox, []) == []
        assert "outbox_emitted" not in session.info  # nothing to wake a relay for
        ids = emit_many(session, outbox, [SubmissionReceived(submission_id=f"s{i}") for i in range(5)])
    assert len(set(ids)) == 5
    sent: list[tuple[str, int]] = []
    relay = OutboxRelay(engine, outbox, celery_publisher(clean_queue, sent))
    assert relay.relay_once() == 5
    assert sent == [(GRADE, 5)]
    (message,) = queued(clean_queue)
    assert sorted(e["id"] for e in body(message)) == sorted(ids)


def test_an_event_with_two_consumers_is_pending_for_each(engine: Any, clean_queue: str) -> None:
    completed = CourseCompleted(
        enrolment_id="e1",
        user_id="u1",
        user_name="U",
        course_id="c1",
        version=1,
        course_title="T",
        language="ru",
        institute_id="i1",
        org_path="KZ",
        indicators=[],
        completed_at="2026-11-30T10:00:00+00:00",  # type: ignore[arg-type]
    )
    with session_scope(engine) as session:
        event_id = emit(session, outbox, completed)
    assert {d.consumer for d in pending(engine)} == {
        "certificates.issue_certificate",
        "progress.funnel_rollup",
    }
    sent: list[tuple[str, int]] = []
    assert OutboxRelay(engine, outbox, celery_publisher(clean_queue, sent)).relay_once() == 2
    assert sorted(sent) == [("certificates.issue_certificate", 1), ("progress.funnel_rollup", 1)]
    with session_scope(engine) as session:
        confirm(session, DELIVERIES, "progress.funnel_rollup", [event_id])
    assert [d.consumer for d in pending(engine)] == ["certificates.issue_certificate"]


def test_a_lost_message_is_sent_again_with_back_off_until_confirmed(engine: Any, clean_queue: str) -> None:
    with session_scope(engine) as session:
        event_id = emit(session, outbox, SubmissionReceived(submission_id="s3"))
    timing = RelayTiming(ack_timeout=0.2, ack_max=0.8)
    relay = OutboxRelay(engine, outbox, celery_publisher(clean_queue), timing=timing)
    assert relay.relay_once() == 1
    redis.Redis.from_url(clean_queue).delete("grading")  # the broker lost it
    first = pending(engine)[0].due_at
    deadline = time.monotonic() + 10
    while relay.relay_once() == 0:
        assert time.monotonic() < deadline, "the unconfirmed delivery was never sent again"
        time.sleep(0.02)
    (again,) = pending(engine)
    assert again.attempts == 2
    assert (again.due_at - first).total_seconds() >= 0.2  # the second wait is twice the first
    assert [e["id"] for e in body(queued(clean_queue)[0])] == [event_id]
    with session_scope(engine) as session:
        confirm(session, DELIVERIES, GRADE, [event_id])
    assert relay.relay_once() == 0


def test_events_wait_out_a_broker_outage_and_the_relay_backs_off(engine: Any, clean_queue: str) -> None:
    from tests.servers import free_port

    with session_scope(engine) as session:
        emit(session, outbox, SubmissionReceived(submission_id="s2"))
    down = OutboxRelay(engine, outbox, celery_publisher(f"redis://127.0.0.1:{free_port()}/0"))
    assert down.relay_once() == 0
    assert down.backoff == 0.5
    assert down.relay_once() == 0
    assert down.backoff == 1.0  # doubling while the broker stays down
    (row,) = pending(engine)
    assert row.attempts == 0  # a failed send is not an attempt: due again at once
    assert OutboxRelay(engine, outbox, celery_publisher(clean_queue)).relay_once() == 1
    assert len(queued(clean_queue)) == 1


def test_the_relay_publishes_with_no_transaction_open(engine: Any, clean_queue: str) -> None:
    """While the broker is slow, the database stays writable: publishing happens after the claim's
    commit (on SQLite the claim's write lock would otherwise stall every request)."""
    with session_scope(engine) as session:
        emit(session, outbox, SubmissionReceived(submission_id="s4"))
    writes: list[float] = []

    def slow_broker(task: str, events: list[dict[str, Any]], task_id: str) -> None:
        def write() -> None:
            started = time.monotonic()
            with session_scope(engine) as session:
                session.add(enrolment())
            writes.append(time.monotonic() - started)

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(10)
        raise ConnectionError("the broker is down")

    relay = OutboxRelay(engine, outbox, slow_broker)
    assert relay.relay_once() == 0
    assert len(writes) == 1 and writes[0] < 2


def test_a_consumer_sees_each_event_once(engine: Any) -> None:
    with session_scope(engine) as session:
        assert first_delivery(session, processed_events, "e1", GRADE)
    with session_scope(engine) as session:
        assert not first_delivery(session, processed_events, "e1", GRADE)
        assert first_delivery(session, processed_events, "e1", "another.consumer")
        assert first_deliveries(session, processed_events, ["e1", "e2", "e2", "e3"], GRADE) == {"e2", "e3"}


def test_a_consumer_confirms_its_own_services_events_in_its_transaction(engine: Any) -> None:
    with session_scope(engine) as session:
        ids = emit_many(session, outbox, [SubmissionReceived(submission_id=f"x{i}") for i in range(3)])
    seen: list[list[str]] = []
    probe = Consumer(
        CONSUMER_SPECS[GRADE],
        {"submission.received": SubmissionReceived},
        None,
        lambda: "",
        processed_events,
        batch_handler=lambda session, events: seen.append([e.payload.submission_id for e in events]),
    )
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(outbox)).all()}

    def event(i: str) -> Event[Any]:
        row = rows[i]
        return Event[SubmissionReceived].model_validate(
            {"id": row.id, "topic": row.topic, "occurred_at": row.created_at, "payload": row.payload}
        )

    with session_scope(engine) as session:
        assert len(probe.handle_many(session, [event(ids[0]), event(ids[1]), event(ids[0])])) == 2
    assert seen == [["x0", "x1"]]
    assert [d.event_id for d in pending(engine)] == [ids[2]]
    with session_scope(engine) as session:  # a redelivery is confirmed again and changes nothing
        assert probe.handle_many(session, [event(ids[1])]) == []
    assert seen == [["x0", "x1"]]


def test_producers_are_named_by_where_their_payloads_live() -> None:
    assert producer_of(SubmissionReceived) == "progress"
    assert producer_of(CertificateIssued) == "certificates"
    from services.progress.coverage.schemas import ProgrammeDefined

    assert producer_of(ProgrammeDefined) == "progress"  # a room's schemas belong to its service
