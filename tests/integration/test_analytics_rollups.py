"""Rollups maintained from events equal a recomputation from the raw tables, exactly, after a
randomised sequence of enrolments, statements, graded submissions, completions and certificates
with events handled late, out of order and redelivered (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from libs.auth import Principal
from libs.db import create_db_engine, session_scope
from libs.events import SUBSCRIPTIONS
from libs.outbox import envelope
from services.courses.schemas import AnswerKeyDocument
from services.progress import service, statements
from services.progress.analytics import cells, rollups, tasks
from services.progress.analytics.schemas import STAGES
from services.progress.models import Enrolment, FunnelCell, outbox
from services.progress.schemas import SubmissionCreate
from services.progress.xapi import VERBS, course_activity
from services.progress.xapi import Statement as StatementIn
from tests.integration.test_progress_rules import COURSE, RIGHT, answer_key

# The analytics consumers, as the worker runs them (each handles an event once, in the caller's transaction).
ROLLUPS = {c.spec.name: c for c in (tasks.funnel_rollup, tasks.certificate_rollup, tasks.attainment_rollup)}
PATHS = [
    "KZ/KZ-ALM/KZ-ALM-TAL/KZ-ALM-TAL-S01",
    "KZ/KZ-ALM/KZ-ALM-TAL/KZ-ALM-TAL-S02",
    "KZ/KZ-ALM/KZ-ALM-KAP",
    "KZ/KZ-AKM/KZ-AKM-KOK/KZ-AKM-KOK-S07",
    "KZ/KZ-AKM",
]
COURSES = [
    COURSE,
    COURSE.model_copy(update={"id": "c2", "title": "Demo", "language": "en", "institute_id": "i2"}),
]
WRONG = {"q1a": "a", "q1b": True, "q1c": 10}
HALF = {"q1a": "b", "q1b": True, "q1c": 10}


def key_for(course_id: str) -> AnswerKeyDocument:
    return answer_key().model_copy(update={"course_id": course_id})


class World:
    """Raw changes through the real service functions; their outbox events kept for delivery later."""

    def __init__(self, engine: Any, rng: random.Random) -> None:
        self.engine, self.rng = engine, rng
        self.teachers = [
            Principal(id=f"t{i}", roles=("teacher",), name=f"T{i}", org=tuple(rng.choice(PATHS).split("/")))
            for i in range(24)
        ]
        self.delivered: list[dict[str, Any]] = []  # (consumer, envelope) already handled once
        self.seen: set[str] = set()
        with session_scope(engine) as session:
            for course in COURSES:
                service.store_answer_key(session, course.id, 1, key_for(course.id))

    def pending(self) -> list[tuple[str, dict[str, Any]]]:
        with session_scope(self.engine, readonly=True) as session:
            rows = list(session.execute(select(outbox).order_by(outbox.c.created_at)))
        out = []
        for row in rows:
            for consumer in SUBSCRIPTIONS.get(row.topic, []):
                if consumer in ROLLUPS and f"{row.id}:{consumer}" not in self.seen:
                    out.append((consumer, envelope(row)))
        return out

    def deliver(self, consumer: str, event: dict[str, Any]) -> None:
        with session_scope(self.engine) as session:
            ROLLUPS[consumer].handle(session, event)
        self.seen.add(f"{event['id']}:{consumer}")
        self.delivered.append({"consumer": consumer, "event": event})

    def step(self) -> None:
        rng = self.rng
        teacher = rng.choice(self.teachers)
        course = rng.choice(COURSES)
        action = rng.choice(["enrol", "enrol", "statement", "statement", "submit", "submit", "certificate"])
        with session_scope(self.engine) as session:
            enrolment = session.exec(
                select(Enrolment).where(Enrolment.user_id == teacher.id, Enrolment.course_id == course.id)
            ).first()
            if action == "enrol" or enrolment is None:
                enrolled, created = service.enrol(session, teacher, course)
                if created:  # spread enrolments over weeks so cells differ by week
                    enrolled.enrolled_at = datetime.now(UTC) - timedelta(days=rng.randint(0, 60))
                    session.add(enrolled)
                return
            enrolment = enrolment[0] if not isinstance(enrolment, Enrolment) else enrolment
            if action == "statement":
                body = StatementIn.model_validate(
                    {
                        "id": str(uuid.uuid4()),
                        "actor": {"account": {"homePage": "https://ustaz.example", "name": teacher.id}},
                        "verb": {"id": VERBS["experienced"]},
                        "object": {"id": course_activity(course.id, "l1")},
                    }
                )
                moment = datetime.now(UTC) - timedelta(days=rng.randint(0, 30))
                statements.store(session, teacher.id, [body], moment, enrolment.org_path, [course.id])
            elif action == "submit":
                answers = rng.choice([RIGHT, WRONG, HALF])
                submission, _ = service.submit(
                    session, teacher, SubmissionCreate(course_id=course.id, quiz_id="q1", answers=answers)
                )
                service.grade_submission(session, submission.id)
            elif enrolment.status == "completed":
                from libs.outbox import emit
                from services.certificates.schemas import CertificateIssued

                emit(
                    session,
                    outbox,
                    CertificateIssued(
                        certificate_id=str(uuid.uuid4()),
                        user_id=teacher.id,
                        course_id=course.id,
                        org_path=enrolment.org_path,
                    ),
                )

    def run(self, steps: int) -> None:
        for _ in range(steps):
            if self.rng.random() < 0.55:
                self.step()
            else:
                self.handle_some()
        while self.pending():
            self.handle_some(everything=True)

    def handle_some(self, everything: bool = False) -> None:
        pending = self.pending()
        self.rng.shuffle(pending)
        for consumer, event in pending if everything else pending[: self.rng.randint(0, 4)]:
            self.deliver(consumer, event)
        # Redeliveries: the broker hands back events already handled.
        for old in self.rng.sample(self.delivered, min(len(self.delivered), self.rng.randint(0, 3))):
            with session_scope(self.engine) as session:
                assert not ROLLUPS[old["consumer"]].handle(session, old["event"])


@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_rollups_equal_a_recomputation(databases: Any, seed: int) -> None:
    engine = create_db_engine(databases.fresh("progress"))
    try:
        world = World(engine, random.Random(seed))
        world.run(400)
        with session_scope(engine, readonly=True) as session:
            incremental = rollups.snapshot(session)
        with session_scope(engine) as session:
            drift = rollups.recompute(session)
        with session_scope(engine, readonly=True) as session:
            recomputed = rollups.snapshot(session)
        assert drift == 0
        assert incremental == recomputed
        # The sequence exercised every stage and every table.
        stages = {key[5] for key in recomputed["funnel"]}
        assert stages == set(STAGES), stages
        assert recomputed["durations"] and recomputed["attainment"]
        # Every level of the tree has its cells; the country's enrolled count is each enrolment once.
        with session_scope(engine, readonly=True) as session:
            enrolments = len(session.exec(select(Enrolment)).all())
            national = sum(
                c.count
                for c in session.exec(
                    select(FunnelCell).where(FunnelCell.org_unit == "KZ", FunnelCell.stage == "enrolled")
                )
            )
            levels = {c.level for c in session.exec(select(FunnelCell))}
        assert national == enrolments and levels == {0, 1, 2, 3}
        # The totals count each teacher once, however many courses they are enrolled in.
        with session_scope(engine, readonly=True) as session:
            teachers = len({e.user_id for e in session.exec(select(Enrolment))})
            several = enrolments > teachers
        assert recomputed["totals"][("KZ", "enrolled")] == teachers and several
    finally:
        engine.dispose()


def test_a_refresh_that_finds_nothing_new_writes_nothing(databases: Any) -> None:
    engine = create_db_engine(databases.fresh("progress"))
    try:
        world = World(engine, random.Random(7))
        world.run(60)
        with session_scope(engine) as session:
            ids = [e.id for e in session.exec(select(Enrolment))]
            assert ids
            assert not any(rollups.refresh_enrolment(session, i) for i in ids)
            assert not any(rollups.refresh_teacher(session, t.id) for t in world.teachers)
    finally:
        engine.dispose()


def test_data_as_of_follows_the_events_counted_and_the_recompute(databases: Any) -> None:
    """Each group of rollups knows how fresh it is: the newest event its consumers counted (a late,
    older event leaves it), and after the nightly recompute the moment the recompute read the raw tables."""
    from libs.db import as_utc
    from services.progress.analytics.repository.reads import watermark

    engine = create_db_engine(databases.fresh("progress"))
    try:
        with session_scope(engine, readonly=True) as session:
            assert watermark(session, "funnel") is None and watermark(session, "attainment") is None
        world = World(engine, random.Random(3))
        world.run(80)

        def newest(*consumers: str) -> datetime:
            times = [d["event"]["occurred_at"] for d in world.delivered if d["consumer"] in consumers]
            return max(as_utc(datetime.fromisoformat(t)) for t in times)

        with session_scope(engine, readonly=True) as session:
            funnel, attainment = watermark(session, "funnel"), watermark(session, "attainment")
        assert funnel == newest("progress.funnel_rollup", "progress.certificate_rollup")
        assert attainment == newest("progress.attainment_rollup")
        with session_scope(engine) as session:  # an event older than the watermark, counted late
            rollups.mark_fresh(session, "funnel", funnel - timedelta(hours=5))
        with session_scope(engine, readonly=True) as session:
            assert watermark(session, "funnel") == funnel
        before = datetime.now(UTC)
        with session_scope(engine) as session:
            rollups.recompute(session)
        with session_scope(engine, readonly=True) as session:
            for name in ("funnel", "attainment"):
                fresh = watermark(session, name)
                assert fresh is not None and before <= fresh <= datetime.now(UTC), name
    finally:
        engine.dispose()


def test_week_of_is_the_iso_monday() -> None:
    assert cells.week_of(datetime(2026, 11, 26, 23, 0, tzinfo=UTC)) == date(2026, 11, 23)
    assert cells.week_of(datetime(2026, 11, 23, 0, 0, tzinfo=UTC)) == date(2026, 11, 23)
    assert cells.units_of("KZ/KZ-ALM") == [("KZ", 0), ("KZ-ALM", 1)]


def test_the_nightly_recompute_finds_and_repairs_drift(databases: Any) -> None:
    from sqlalchemy import update

    from services.progress.models import EnrolmentFacts, FunnelTotal

    engine = create_db_engine(databases.fresh("progress"))
    try:
        World(engine, random.Random(3)).run(80)
        with session_scope(engine, readonly=True) as session:
            good = rollups.snapshot(session)
        with session_scope(engine) as session:  # a lost event and a double count
            first = session.exec(select(EnrolmentFacts)).first()
            assert first is not None
            session.execute(
                update(EnrolmentFacts)
                .where(EnrolmentFacts.enrolment_id == first.enrolment_id)
                .values(started=None)
            )
            session.execute(
                update(FunnelTotal)
                .where(FunnelTotal.org_unit == "KZ", FunnelTotal.stage == "enrolled")
                .values(count=FunnelTotal.count + 1)
            )
        with session_scope(engine) as session:
            assert rollups.recompute(session) >= 2
        with session_scope(engine, readonly=True) as session:
            assert rollups.snapshot(session) == good
        with session_scope(engine) as session:
            assert rollups.recompute(session) == 0
    finally:
        engine.dispose()


def test_concurrent_workers_count_everything_once(databases: Any) -> None:
    """Four workers take the events (each delivered twice) at once, as the Celery pool does; a
    transient database error is retried like the task's autoretry. The result equals the recompute."""
    import threading

    from sqlalchemy.exc import IntegrityError, OperationalError

    engine = create_db_engine(databases.fresh("progress"))
    try:
        world = World(engine, random.Random(11))
        for _ in range(250):
            world.step()
        work = world.pending() * 2
        random.Random(5).shuffle(work)
        lock = threading.Lock()
        errors: list[BaseException] = []

        def worker() -> None:
            while True:
                with lock:
                    if not work:
                        return
                    consumer, event = work.pop()
                for _attempt in range(20):
                    try:
                        with session_scope(engine) as session:
                            ROLLUPS[consumer].handle(session, event)
                        break
                    except (OperationalError, IntegrityError):
                        continue
                    except BaseException as exc:  # noqa: BLE001 - reported below
                        errors.append(exc)
                        return

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        with session_scope(engine, readonly=True) as session:
            incremental = rollups.snapshot(session)
        with session_scope(engine) as session:
            assert rollups.recompute(session) == 0
        with session_scope(engine, readonly=True) as session:
            assert rollups.snapshot(session) == incremental
    finally:
        engine.dispose()


def test_enrolment_started_is_emitted_for_the_earliest_record_only(databases: Any) -> None:
    engine = create_db_engine(databases.fresh("progress"))
    teacher = Principal(id="t-start", roles=("teacher",), org=("KZ", "KZ-ALM"))
    now = datetime.now(UTC)

    def record(moment: datetime, course: str | None = "c1") -> None:
        body = StatementIn.model_validate(
            {
                "id": str(uuid.uuid4()),
                "actor": {"account": {"homePage": "https://ustaz.example", "name": teacher.id}},
                "verb": {"id": VERBS["experienced"]},
                "object": {"id": course_activity("c1", "l1")},
            }
        )
        with session_scope(engine) as session:
            statements.store(
                session,
                teacher.id,
                [body, body.model_copy(update={"id": uuid.uuid4()})],
                moment,
                "KZ/KZ-ALM",
                [course, course],
            )

    def started() -> list[Any]:
        with session_scope(engine, readonly=True) as session:
            return [
                r.payload
                for r in session.execute(select(outbox).where(outbox.c.topic == "enrolment.started"))
            ]

    try:
        with session_scope(engine) as session:
            service.enrol(session, teacher, COURSES[0])
        record(now)
        assert [(p["user_id"], p["course_id"]) for p in started()] == [("t-start", "c1")]  # one for the batch
        record(now + timedelta(minutes=5))
        record(now, course=None)
        assert len(started()) == 1  # later records, and records about no course, are not a start
        record(now - timedelta(days=3))  # an earlier record (an offline phone's, back-dated here)
        assert len(started()) == 2
    finally:
        engine.dispose()
