"""Reminders on SQLite and PostgreSQL, delivered to a real local SMTP sink (aiosmtpd) and a real
local HTTP receiver standing in for the SMS gateway: language, quiet hours, one per rule and
period, unsubscribe, retries, and a failing channel that never holds up the other."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from libs.db import session_scope
from services.certificates.schemas import CertificateIssued
from services.progress import delivery, reminders
from services.progress.models import Delivery, Enrolment, Reminder, ReminderPreferences
from services.progress.settings import ProgressSettings
from tests.integration import progress_app
from tests.integration.progress_app import TEACHER_ID, ProgressAPI
from tests.integration.test_gateway_identity import assert_problem
from tests.integration.test_progress_rules import TEACHER, engine  # noqa: F401
from tests.servers import free_port

progress_api = progress_app.progress_api
QUIET_EVENING = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # 22:00 in Almaty (UTC+5): quiet hours
QUIET_ENDS = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 08:00 in Almaty
NOON = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # 12:00 in Almaty


class Sink:
    """A real SMTP server on a free port, keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"


class Receiver:
    """A real HTTP server standing in for the SMS gateway: records each POST, answers `status`."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server hook)
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append({"auth": self.headers.get("authorization"), **json.loads(body)})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"


@pytest.fixture
def sink() -> Iterator[Sink]:
    running = Sink()
    running.start()
    yield running
    running.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    yield running
    running.server.shutdown()


@pytest.fixture
def settings(sink: Sink, receiver: Receiver) -> ProgressSettings:
    return ProgressSettings(
        smtp_port=sink.port,
        sms_gateway_url=receiver.url,
        sms_gateway_token="sms-token",
        public_url="https://ustaz.example",
        reminder_secret="test-reminder-secret",
        delivery_max_attempts=3,
        delivery_backoff_seconds=60,
    )


@pytest.fixture
def teacher(engine: Any) -> Any:  # noqa: F811
    """The enrolled Russian-speaking teacher, inactive for ten days, with e-mail and phone."""
    with session_scope(engine) as session:
        enrolment = session.exec(select(Enrolment)).one()
        enrolment.enrolled_at = QUIET_EVENING - timedelta(days=10)
        session.add(enrolment)
        session.add(
            ReminderPreferences(
                user_id=TEACHER.id,
                language="ru",
                time_zone="Asia/Almaty",
                email="aigerim@school.kz",
                phone="+77011234567",
            )
        )
    return engine


def sweep(db: Any, settings: ProgressSettings, now: datetime) -> int:
    with session_scope(db) as session:
        return reminders.sweep(session, settings, now)


def rows(db: Any, model: Any) -> list[Any]:
    with session_scope(db, readonly=True) as session:
        return list(session.exec(select(model)))


def test_a_russian_reminder_waits_out_quiet_hours_then_arrives_by_email_and_sms(
    teacher: Any, settings: ProgressSettings, sink: Sink, receiver: Receiver
) -> None:
    assert sweep(teacher, settings, QUIET_EVENING) == 1
    assert sweep(teacher, settings, QUIET_EVENING + timedelta(hours=1)) == 0  # one per rule per period
    [reminder] = rows(teacher, Reminder)
    assert reminder.rule == "inactive" and reminder.language == "ru"
    assert reminder.subject == "Курс ждёт вас: Демо" and "10 дн." in reminder.body

    assert delivery.deliver_due(teacher, settings, QUIET_EVENING)["deferred"] == 2
    assert {d.next_attempt_at for d in rows(teacher, Delivery)} == {QUIET_ENDS}
    assert delivery.deliver_due(teacher, settings, QUIET_ENDS - timedelta(minutes=1)) == {
        "sent": 0,
        "deferred": 0,
        "retry": 0,
        "failed": 0,
    }
    assert sink.messages == [] and receiver.received == []  # nothing inside quiet hours

    assert delivery.deliver_due(teacher, settings, QUIET_ENDS)["sent"] == 2
    [mail] = sink.messages
    assert mail["Subject"] == "Курс ждёт вас: Демо" and mail["To"] == "aigerim@school.kz"
    assert mail["Content-Language"] == "ru"
    text = mail.get_content()
    assert "Вы не открывали курс «Демо» уже 10 дн." in text and "Отписаться" in text
    assert mail["List-Unsubscribe"].startswith("<https://ustaz.example/unsubscribe?token=")
    [sms] = receiver.received
    assert sms["to"] == "+77011234567" and sms["text"].startswith("Курс ждёт вас: Демо")
    assert sms["auth"] == "Bearer sms-token" and sms["language"] == "ru"
    assert {d.status for d in rows(teacher, Delivery)} == {"sent"}
    assert delivery.deliver_due(teacher, settings, NOON)["sent"] == 0  # sent once


def test_a_failing_sms_gateway_never_blocks_email_and_retries_with_backoff(
    teacher: Any, settings: ProgressSettings, sink: Sink, receiver: Receiver
) -> None:
    receiver.status = 500
    sweep(teacher, settings, NOON)
    assert delivery.deliver_due(teacher, settings, NOON) == {
        "sent": 1,
        "deferred": 0,
        "retry": 1,
        "failed": 0,
    }
    assert len(sink.messages) == 1
    sms = next(d for d in rows(teacher, Delivery) if d.channel == "sms")
    assert (sms.status, sms.attempts, sms.next_attempt_at) == ("pending", 1, NOON + timedelta(seconds=60))
    assert "500" in sms.last_error
    assert delivery.deliver_due(teacher, settings, NOON + timedelta(seconds=30))["retry"] == 0  # not yet due
    assert delivery.deliver_due(teacher, settings, NOON + timedelta(seconds=60))["retry"] == 1
    sms = next(d for d in rows(teacher, Delivery) if d.channel == "sms")
    assert sms.next_attempt_at == NOON + timedelta(seconds=60 + 120)  # doubled
    assert delivery.deliver_due(teacher, settings, NOON + timedelta(seconds=180))["failed"] == 1
    assert len(receiver.received) == 3 and len(sink.messages) == 1


def test_an_unreachable_smtp_server_never_blocks_sms(
    teacher: Any, settings: ProgressSettings, sink: Sink, receiver: Receiver
) -> None:
    sink.stop()
    sweep(teacher, settings, NOON)
    assert delivery.deliver_due(teacher, settings, NOON) == {
        "sent": 1,
        "deferred": 0,
        "retry": 1,
        "failed": 0,
    }
    assert len(receiver.received) == 1
    mail = next(d for d in rows(teacher, Delivery) if d.channel == "email")
    assert mail.status == "pending" and "ConnectionRefused" in mail.last_error
    sink.start()
    assert delivery.deliver_due(teacher, settings, NOON + timedelta(minutes=1))["sent"] == 1
    assert len(sink.messages) == 1


def test_deadline_rule_and_opt_outs(teacher: Any, settings: ProgressSettings) -> None:
    with session_scope(teacher) as session:
        enrolment = session.exec(select(Enrolment)).one()
        enrolment.deadline = NOON + timedelta(days=2, hours=3)
        enrolment.enrolled_at = NOON - timedelta(days=1)  # active: only the deadline applies
        session.add(enrolment)
    assert sweep(teacher, settings, NOON) == 1
    [reminder] = rows(teacher, Reminder)
    assert reminder.rule == "deadline" and reminder.subject == "Скоро срок: Демо"
    assert "до 2026-11-28 15:00" in reminder.body  # the deadline in the teacher's time zone
    assert sweep(teacher, settings, NOON + timedelta(hours=5)) == 0
    # A teacher who opted out of everything gets nothing, not even the in-app message.
    with session_scope(teacher) as session:
        token = reminders.unsubscribe_token(settings.reminder_secret, TEACHER.id, "all")
        assert reminders.unsubscribe(session, settings.reminder_secret, token).unsubscribed == ["all"]
    with session_scope(teacher) as session:
        enrolment = session.exec(select(Enrolment)).one()
        enrolment.enrolled_at = NOON - timedelta(days=30)
        session.add(enrolment)
    assert sweep(teacher, settings, NOON + timedelta(days=8)) == 0


def test_a_certificate_notice_is_created_once_per_certificate(
    teacher: Any, settings: ProgressSettings
) -> None:
    payload = CertificateIssued(certificate_id="cert-1", user_id=TEACHER.id, course_id="c1")
    for _ in range(2):
        with session_scope(teacher) as session:
            reminders.certificate_ready(session, settings, NOON, payload)
    [reminder] = rows(teacher, Reminder)
    assert (
        reminder.subject == "Ваш сертификат готов: Демо"
        and reminder.link == "https://ustaz.example/me/certificates"
    )
    assert sorted(d.channel for d in rows(teacher, Delivery)) == ["email", "sms"]


def test_quiet_hours_across_midnight_and_in_the_afternoon() -> None:
    prefs = ReminderPreferences(user_id="x", time_zone="Asia/Almaty", quiet_start="21:00", quiet_end="08:00")
    assert delivery.quiet_until(QUIET_EVENING, prefs, "UTC") == QUIET_ENDS
    assert delivery.quiet_until(QUIET_ENDS - timedelta(hours=2), prefs, "UTC") == QUIET_ENDS  # 06:00 local
    assert delivery.quiet_until(NOON, prefs, "UTC") is None
    siesta = ReminderPreferences(user_id="x", time_zone="Asia/Almaty", quiet_start="13:00", quiet_end="15:00")
    assert delivery.quiet_until(NOON + timedelta(hours=1, minutes=30), siesta, "UTC") == NOON + timedelta(
        hours=3
    )
    assert delivery.quiet_until(NOON, siesta, "UTC") is None


@pytest.mark.asyncio
async def test_preferences_inbox_and_unsubscribe_over_http(progress_api: ProgressAPI) -> None:
    api = progress_api
    url = "/api/v1/progress/reminders/preferences"
    assert (await api.client.get(url, headers=api.token())).json()["language"] == "ru"  # the token's language
    for bad in (
        {"time_zone": "Mars/Olympus"},
        {"phone": "8701"},
        {"email": "nobody"},
        {"quiet_start": "25:00"},
        {"channels": ["pigeon"]},
        {"unsubscribed": ["everything"]},
        {"colour": "red"},
    ):
        assert_problem(await api.client.put(url, json=bad, headers=api.token()), 422)
    assert api.count(ReminderPreferences) == 0
    saved = await api.client.put(
        url,
        json={"time_zone": "Asia/Bishkek", "phone": "+996700123456", "channels": ["sms"]},
        headers=api.token(),
    )
    assert (
        saved.status_code == 200 and saved.json()["language"] == "ru" and saved.json()["channels"] == ["sms"]
    )

    with session_scope(api.engine) as session:
        reminders.certificate_ready(
            session,
            api.app.state.settings,
            NOON,
            CertificateIssued(certificate_id="c-9", user_id=TEACHER_ID, course_id="c1"),
        )
    inbox = (await api.client.get("/api/v1/progress/inbox", headers=api.token())).json()
    assert inbox["unread"] == 1 and inbox["items"][0]["rule"] == "certificate"
    message_id = inbox["items"][0]["id"]
    assert_problem(
        await api.client.post(
            f"/api/v1/progress/inbox/{message_id}/read", headers=api.token(progress_app.OTHER_ID)
        ),
        404,
    )
    read = await api.client.post(f"/api/v1/progress/inbox/{message_id}/read", headers=api.token())
    assert read.status_code == 204
    assert (await api.client.get("/api/v1/progress/inbox", headers=api.token())).json()["unread"] == 0

    unsubscribe = "/api/v1/progress/reminders/unsubscribe"
    assert_problem(await api.client.post(unsubscribe, params={"token": "forged.token"}), 400)
    forged = reminders.unsubscribe_token("another-secret", TEACHER_ID, "inactive")
    assert_problem(await api.client.post(unsubscribe, params={"token": forged}), 400)
    token = reminders.unsubscribe_token(api.app.state.settings.reminder_secret, TEACHER_ID, "inactive")
    done = await api.client.post(unsubscribe, params={"token": token})  # no login needed
    assert done.status_code == 200 and done.json()["unsubscribed"] == ["inactive"]
    prefs = (await api.client.get(url, headers=api.token())).json()
    assert prefs["unsubscribed"] == ["inactive"] and prefs["time_zone"] == "Asia/Bishkek"


def test_a_burst_of_new_messages_asks_for_one_delivery_run(redis_url: str) -> None:
    """Real Redis, no worker: the queued `deliver_messages` messages are counted in the broker."""
    import redis

    from services.progress import tasks

    r = redis.Redis.from_url(redis_url)
    r.delete("reminders", tasks.DELIVERY_PENDING)
    for _ in range(3):
        tasks.deliver_soon()
    assert r.llen("reminders") == 1
    r.delete(tasks.DELIVERY_PENDING)  # what a delivery run does before it scans
    tasks.deliver_soon()
    assert r.llen("reminders") == 2
    r.delete("reminders", tasks.DELIVERY_PENDING)
