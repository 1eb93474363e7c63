"""The outbox: an event commits with its change, reaches Redis only after the commit, survives a
broker outage, and a redelivered event is consumed once."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from celery import Celery
from sqlalchemy import func, select

from libs.db import create_db_engine, session_scope
from libs.outbox import OutboxRelay, emit, emit_many, first_delivery
from services.progress.models import Enrolment, outbox, processed_events
from services.progress.schemas import SubmissionReceived


def celery_publisher(broker_url: str) -> Any:
    app = Celery("test", broker=broker_url)
    app.conf.update(task_serializer="json", broker_connection_retry=False, broker_connection_max_retries=0)

    def publish(task: str, event: dict[str, Any], task_id: str) -> None:
        app.send_task(task, args=[event], task_id=task_id, queue="grading", retry=False)

    return publish


def queued(redis_url: str) -> list[dict[str, Any]]:
    client = redis.Redis.from_url(redis_url)
    return [json.loads(m) for m in client.lrange("grading", 0, -1)]


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


def test_a_rolled_back_change_publishes_nothing(engine: Any, clean_queue: str) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.add(enrolment())
        emit(session, outbox, SubmissionReceived(submission_id="s1"))
        raise RuntimeError("the request failed after the event was written")
    relay = OutboxRelay(engine, outbox, celery_publisher(clean_queue))
    assert relay.relay_once() == 0
    assert queued(clean_queue) == []
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Enrolment)) == 0


def test_a_committed_event_is_published_once_with_its_id(engine: Any, clean_queue: str) -> None:
    with session_scope(engine) as session:
        session.add(enrolment())
        event_id = emit(session, outbox, SubmissionReceived(submission_id="s1"))
    relay = OutboxRelay(engine, outbox, celery_publisher(clean_queue))
    assert relay.relay_once() == 1
    assert relay.relay_once() == 0  # already marked published
    messages = queued(clean_queue)
    assert len(messages) == 1
    headers = messages[0]["headers"]
    assert headers["task"] == "progress.grade_submission"
    assert headers["id"] == f"{event_id}:progress.grade_submission"


def test_a_batch_of_events_is_one_insert_and_each_is_published(engine: Any, clean_queue: str) -> None:
    with session_scope(engine) as session:
        assert emit_many(session, outbox, []) == []
        assert "outbox_emitted" not in session.info  # nothing to wake a relay for
        ids = emit_many(session, outbox, [SubmissionReceived(submission_id=f"s{i}") for i in range(5)])
    assert len(set(ids)) == 5
    relay = OutboxRelay(engine, outbox, celery_publisher(clean_queue))
    assert relay.relay_once() == 5
    assert sorted(m["headers"]["id"] for m in queued(clean_queue)) == sorted(
        f"{i}:progress.grade_submission" for i in ids
    )


def test_events_wait_out_a_broker_outage(engine: Any, clean_queue: str) -> None:
    from tests.servers import free_port

    with session_scope(engine) as session:
        emit(session, outbox, SubmissionReceived(submission_id="s2"))
    down = OutboxRelay(engine, outbox, celery_publisher(f"redis://127.0.0.1:{free_port()}/0"))
    assert down.relay_once() == 0
    with session_scope(engine) as session:
        row = session.execute(select(outbox)).one()
        assert row.published_at is None and row.attempts == 1
    assert OutboxRelay(engine, outbox, celery_publisher(clean_queue)).relay_once() == 1
    assert len(queued(clean_queue)) == 1


def test_a_consumer_sees_each_event_once(engine: Any) -> None:
    with session_scope(engine) as session:
        assert first_delivery(session, processed_events, "e1", "progress.grade_submission")
    with session_scope(engine) as session:
        assert not first_delivery(session, processed_events, "e1", "progress.grade_submission")
        assert first_delivery(session, processed_events, "e1", "another.consumer")
