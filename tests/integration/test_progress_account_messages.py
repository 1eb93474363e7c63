"""The gateway's account messages delivered by progress (SQLite and PostgreSQL) through the consumer
that the outbox relay's task runs, to a real SMTP sink and a real HTTP receiver for SMS: at once, in
quiet hours too, without an unsubscribe footer, once per message id."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from gateway.schemas import AccountMessage
from libs.db import session_scope
from services.progress import delivery, reminders
from services.progress.models import Delivery, Reminder
from services.progress.tasks import deliver_account_message
from tests.integration.test_progress_reminders import (  # noqa: F401  (fixtures)
    QUIET_EVENING,
    Receiver,
    Sink,
    receiver,
    rows,
    settings,
    sink,
)
from tests.integration.test_progress_rules import engine  # noqa: F401


def event(payload: AccountMessage) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "topic": "account.message",
        "occurred_at": QUIET_EVENING.isoformat(),
        "payload": payload.model_dump(mode="json"),
    }


def test_codes_go_out_at_once_even_in_quiet_hours(
    engine: Any, settings: Any, sink: Sink, receiver: Receiver
) -> None:  # noqa: F811
    sms = AccountMessage(
        message_id=str(uuid.uuid4()), user_id="registry-1", kind="activation_code", channel="sms",
        address="+77011234567", language="kk", code="123456", minutes=15, link="https://ustaz.example/activate",
    )  # fmt: skip
    mail = sms.model_copy(
        update={
            "message_id": str(uuid.uuid4()),
            "kind": "reset_code",
            "channel": "email",
            "address": "a@school.kz",
            "language": "en",
        }
    )
    with session_scope(engine) as session:  # at 22:00 in Almaty, inside the quiet hours
        assert reminders.account_message(session, QUIET_EVENING, sms) is not None
        assert reminders.account_message(session, QUIET_EVENING, mail) is not None
        assert reminders.account_message(session, QUIET_EVENING, sms) is None  # once per message id
    [code_sms, code_mail] = sorted(rows(engine, Reminder), key=lambda r: r.rule)
    assert code_sms.subject == "Код Ustaz 123456" and "15 мин" in code_sms.body  # kk falls back to ru
    assert delivery.deliver_due(engine, settings, QUIET_EVENING)["sent"] == 2  # 22:00 in Almaty: sent anyway
    assert receiver.received[0]["to"] == "+77011234567" and "123456" in receiver.received[0]["text"]
    [message] = sink.messages
    assert message["To"] == "a@school.kz" and "List-Unsubscribe" not in message
    assert "Unsubscribe" not in message.get_content() and "code is 123456" in message.get_content()
    assert {d.status for d in rows(engine, Delivery)} == {"sent"}
    assert delivery.deliver_due(engine, settings, QUIET_EVENING + timedelta(minutes=1))["sent"] == 0


def test_the_consumer_handles_each_event_once(engine: Any, redis_url: str) -> None:  # noqa: F811
    payload = AccountMessage(
        message_id=str(uuid.uuid4()), user_id="u1", kind="account_locked", channel="email",
        address="a@school.kz", language="ru", minutes=15, link="https://ustaz.example/password-reset",
    )  # fmt: skip
    delivered = event(payload)
    with session_scope(engine) as session:
        assert deliver_account_message.handle(session, delivered) is True
        assert deliver_account_message.handle(session, delivered) is False  # a redelivery: nothing new
    [notice] = rows(engine, Reminder)
    assert notice.subject == "Ustaz: вход заблокирован" and "15 мин" in notice.body
