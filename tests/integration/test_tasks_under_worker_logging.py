"""Every Celery task of the platform runs under the worker's own logging configuration (INFO, JSON),
against real databases, fed the real events its producers wrote: a log call the worker's logging
rejects (an `extra` key that is a LogRecord attribute, such as `created`) fails here, not in
production after the task's commit. A task added without an entry in RUNS fails the last check."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from libs.celery_app import celery_app
from libs.db import create_db_engine, session_scope
from libs.outbox import envelope
from tests.conftest import Databases

PREFIXES = ("progress.", "certificates.", "courses.", "gateway.", "registry.")


def our_tasks() -> set[str]:
    celery_app.loader.import_default_modules()  # what the worker imports: the `include` list
    return {name for name in celery_app.tasks if name.startswith(PREFIXES)}


@pytest.fixture
def worker_logging() -> Iterator[None]:
    """Logging exactly as `celery worker` sets it up (the setup_logging signal handler)."""
    from libs.celery_app import _configure_logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    _configure_logging()
    assert root.level == logging.INFO
    yield
    root.handlers[:], root.level = saved


class Platform:
    """Fresh progress and certificates databases wired into the services' settings, as a worker sees them."""

    def __init__(self, databases: Databases, gateway_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        from gateway import settings as gateway_settings
        from services.certificates import settings as certificates_settings
        from services.progress import settings as progress_settings

        self.progress_url = databases.fresh("progress")
        self.certificates_url = databases.fresh("certificates")
        monkeypatch.setenv("USTAZ_PROGRESS_DATABASE_URL", self.progress_url)
        monkeypatch.setenv("USTAZ_CERTIFICATES_DATABASE_URL", self.certificates_url)
        monkeypatch.setenv("USTAZ_GATEWAY_URL", gateway_url)
        monkeypatch.setenv("USTAZ_SMTP_PORT", "9")  # nothing listens: a delivery fails and is logged
        self.gateway_db = databases.fresh("gateway")  # the registry's jobs run against the gateway's
        monkeypatch.setenv("USTAZ_GATEWAY_DATABASE_URL", self.gateway_db)
        for module in (progress_settings, certificates_settings, gateway_settings):
            module.get_settings.cache_clear()
        self.ran: set[str] = set()

    def events(self, url: str, topic: str) -> list[dict[str, Any]]:
        from services.progress.models import outbox

        engine = create_db_engine(url)
        with session_scope(engine, readonly=True) as session:
            rows = session.execute(select(outbox).where(outbox.c.topic == topic)).all()
        engine.dispose()
        return [envelope(row) for row in rows]

    def run(self, name: str, *args: Any) -> None:
        our_tasks()
        result = celery_app.tasks[name].apply(args=list(args), throw=True)
        assert result.successful(), (name, result.result)
        self.ran.add(name)


def seed_progress(url: str) -> str:
    """A teacher enrolled in the demo course, its answer key cached, a passing submission received."""
    from datetime import date, timedelta

    from libs.outbox import emit
    from services.progress import service
    from services.progress.coverage.schemas import ProgrammeDefined
    from services.progress.models import Programme, outbox
    from services.progress.schemas import SubmissionCreate
    from tests.integration.test_progress_rules import COURSE, RIGHT, TEACHER, answer_key

    engine = create_db_engine(url)
    with session_scope(engine) as session:
        service.enrol(session, TEACHER, COURSE)
        service.store_answer_key(session, "c1", 1, answer_key())
        submission, _ = service.submit(
            session, TEACHER, SubmissionCreate(course_id="c1", quiz_id="q1", answers=RIGHT)
        )
        programme = Programme(
            title="Demo programme",
            course_ids=["c1"],
            target_filter={},
            deadline=date.today() + timedelta(days=90),
            created_by="analyst-1",
        )
        session.add(programme)
        session.flush()
        emit(session, outbox, ProgrammeDefined(programme_id=programme.id))
    with session_scope(engine) as session:  # a past webinar, a registrant, its recording added
        recorded_webinar(session)
    engine.dispose()
    return submission.id


def recorded_webinar(session: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from libs.auth import Principal
    from services.progress.practice import webinars
    from services.progress.practice.schemas import WebinarIn
    from services.progress.settings import get_settings

    admin = Principal(id="admin-1", roles=("institute_admin",), institute="i1")
    body = WebinarIn.model_validate(
        {
            "title": "Worker webinar",
            "starts_at": datetime.now(UTC) - timedelta(hours=1),
            "minutes": 60,
            "link": "https://meet.example.kz/w",
        }
    )
    made = webinars.schedule(session, admin, body)
    session.flush()
    webinars.register(session, get_settings(), Principal(id="t-1", roles=("teacher",), lang="kk"), made.id)
    webinars.set_recording(session, admin, made.id, "https://video.example.kz/w")


def seed_certificates(url: str) -> None:
    from services.certificates.models import Issuer

    engine = create_db_engine(url)
    with session_scope(engine) as session:
        session.add(Issuer(institute_id="i1", name="Demo institute"))
    engine.dispose()


def pending(url: str) -> set[tuple[str, str]]:
    """(topic, consumer) of every delivery still pending in a service's outbox."""
    from libs.outbox import deliveries_table
    from services.progress.models import outbox

    deliveries = deliveries_table(outbox)
    engine = create_db_engine(url)
    with session_scope(engine, readonly=True) as session:
        rows = session.execute(
            select(outbox.c.topic, deliveries.c.consumer).join(outbox, outbox.c.id == deliveries.c.event_id)
        ).all()
    engine.dispose()
    return {(r.topic, r.consumer) for r in rows}


def revoke_the_certificate(url: str) -> None:
    """The institute's admin revokes the certificate just issued (certificate.status_changed)."""
    from libs.auth import Principal
    from libs.crypto import fernet
    from services.certificates import service
    from services.certificates.models import Certificate
    from services.certificates.settings import get_settings

    admin = Principal(id="admin-1", roles=("institute_admin",), institute="i1")
    engine = create_db_engine(url)
    with session_scope(engine) as session:
        cert = session.execute(select(Certificate)).scalars().one()
        settings = get_settings()
        service.revoke(
            session,
            admin,
            cert.id,
            "issued in error",
            fernet(settings.key_encryption_key),
            settings.public_url,
        )
    engine.dispose()


def by_topic(platform: Platform, url: str, topic: str, task: str) -> None:
    events = platform.events(url, topic)
    assert events, f"no {topic} event to feed {task}"
    for event in events:
        platform.run(task, event)


def drive_the_registry(platform: Platform, gateway_db: str) -> None:
    """An upload large enough to run as a job (its registry.import_requested in the gateway's outbox),
    the job itself, the sweep; an account message (an activation code) delivered by progress."""
    import uuid

    from gateway.models import outbox as gateway_outbox
    from gateway.registry.imports import cli_actor, new_run
    from gateway.schemas import AccountMessage
    from libs.outbox import emit

    engine = create_db_engine(gateway_db)
    units = b"code,parent_code,kind,name\nKZ,,country,Kazakhstan\nKZ-W,KZ,region,Worker Region\n"
    with session_scope(engine) as session:
        run = new_run(
            session,
            "org-units",
            filename="units.csv",
            dry_run=False,
            via="api",
            actor=cli_actor(),
            content=units,
        )
        emit(
            session,
            gateway_outbox,
            AccountMessage(
                message_id=str(uuid.uuid4()), user_id="registry-1", kind="activation_code", channel="sms",
                address="+77011234567", language="ru", code="123456", minutes=15, link="http://x/activate",
            ),
        )  # fmt: skip
        run_id = run.id
    with session_scope(engine, readonly=True) as session:
        rows = session.execute(select(gateway_outbox)).all()
    engine.dispose()
    events = {topic: [envelope(r) for r in rows if r.topic == topic] for topic in {r.topic for r in rows}}
    for event in events["registry.import_requested"]:
        platform.run("gateway.start_registry_import", event)
    platform.run("gateway.registry.run_import", run_id)
    platform.run("gateway.registry.sweep_imports")
    for event in events["account.message"]:
        platform.run("progress.deliver_account_message", event)
    # progress confirms the account messages to the gateway, their producer, by message (libs/outbox.py)
    messages = [e["id"] for e in events["account.message"]]
    platform.run("gateway.confirm_deliveries", "progress.deliver_account_message", messages)


def drive_everything(platform: Platform) -> None:
    """The chain a passing submission causes, each consumer fed its producer's outbox rows, then every
    periodic task."""
    seed_progress(platform.progress_url)
    seed_certificates(platform.certificates_url)
    progress, certificates = platform.progress_url, platform.certificates_url
    by_topic(platform, progress, "submission.received", "progress.grade_submission")
    by_topic(platform, progress, "enrolment.created", "progress.funnel_rollup")
    by_topic(platform, progress, "submission.graded", "progress.attainment_rollup")
    by_topic(platform, progress, "enrolment.started", "progress.funnel_rollup")
    by_topic(platform, progress, "course.completed", "progress.funnel_rollup")
    by_topic(platform, progress, "programme.defined", "progress.programme_coverage")
    by_topic(platform, progress, "webinar.recording_added", "progress.notify_webinar_recording")
    by_topic(platform, progress, "course.completed", "certificates.issue_certificate")
    by_topic(platform, certificates, "certificate.issued", "progress.deliver_certificate_ready")
    by_topic(platform, certificates, "certificate.issued", "progress.certificate_rollup")
    revoke_the_certificate(certificates)
    by_topic(platform, certificates, "certificate.status_changed", "progress.deliver_certificate_notice")
    # The consumers in the producing service confirmed in their transactions; the others confirm by
    # message to the producer (libs/outbox.py): after those, nothing is pending anywhere.
    assert pending(progress) == {("course.completed", "certificates.issue_certificate")}
    assert pending(certificates) == {
        ("certificate.issued", "progress.certificate_rollup"),
        ("certificate.issued", "progress.deliver_certificate_ready"),
        ("certificate.status_changed", "progress.deliver_certificate_notice"),
    }
    completed = [e["id"] for e in platform.events(progress, "course.completed")]
    platform.run("progress.confirm_deliveries", "certificates.issue_certificate", completed)
    issued = [e["id"] for e in platform.events(certificates, "certificate.issued")]
    for consumer in ("progress.deliver_certificate_ready", "progress.certificate_rollup"):
        platform.run("certificates.confirm_deliveries", consumer, issued)
    changed = [e["id"] for e in platform.events(certificates, "certificate.status_changed")]
    platform.run("certificates.confirm_deliveries", "progress.deliver_certificate_notice", changed)
    assert pending(progress) == pending(certificates) == set()
    drive_the_registry(platform, platform.gateway_db)
    for name in PERIODIC:
        platform.run(name)


PERIODIC = (
    "progress.purge_processed_events",
    "progress.requeue_stale_submissions",
    "progress.send_reminders",
    "progress.deliver_messages",
    "progress.recompute_rollups",
    "progress.decide_patterns",
    "progress.org_units_rollup",
    "progress.coverage_refresh",
    "progress.practice_webinar_reminders",
    "progress.practice_community_digest",
)
Driver = Callable[[Platform], None]


def test_every_task_runs_under_the_worker_logging(
    databases: Databases,
    gateway_url: str,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    worker_logging: None,
) -> None:
    platform = Platform(databases, gateway_url, monkeypatch)
    drive_everything(platform)
    missing = our_tasks() - platform.ran
    assert not missing, (
        f"tasks never run under the worker's logging (add them to this test): {sorted(missing)}"
    )
