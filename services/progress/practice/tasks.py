"""Tasks of professional learning (docs/practice.md): beat's reminder shortly before a webinar and the
communities' weekly digest; the consumer of `webinar.recording_added` (the registrants' notice).
Safe to run twice: every reminder has its key, every event is handled once."""

from __future__ import annotations

import logging

from celery.schedules import crontab
from sqlmodel import Session

from libs.celery_app import celery_app
from libs.consumers import consumer, periodic
from libs.db import after_commit, session_scope
from libs.events import DB_CONTENTION, Event
from libs.outbox import utcnow
from services.progress.models import processed_events
from services.progress.practice import digest, webinars
from services.progress.practice.schemas import WebinarRecordingAdded
from services.progress.practice.settings import get_practice_settings
from services.progress.settings import get_settings
from services.progress.tasks import database_url, deliver_soon, engine

log = logging.getLogger("ustaz.progress.practice.tasks")


@periodic("progress.practice_webinar_reminders", DB_CONTENTION)
def webinar_reminders() -> None:
    """Remind registrants of the webinars starting within the next `webinar_reminder_minutes`."""
    with session_scope(engine()) as session:
        made = webinars.remind_soon(
            session, get_settings(), utcnow(), get_practice_settings().webinar_reminder_minutes
        )
    log.info("webinar reminders", extra={"reminders": made})
    if made:
        deliver_soon()


@consumer(
    "progress.notify_webinar_recording",
    WebinarRecordingAdded,
    database_url=database_url,
    processed=processed_events,
)
def notify_webinar_recording(session: Session, event: Event[WebinarRecordingAdded]) -> None:
    """On `webinar.recording_added`: each registrant's notice with the link (once per link)."""
    made = webinars.notify_recording(session, get_settings(), utcnow(), event.payload)
    log.info("webinar recording notices", extra={"webinar_id": event.payload.webinar_id, "reminders": made})
    if made:
        after_commit(session, deliver_soon)


@periodic("progress.practice_community_digest", DB_CONTENTION)
def community_digest() -> None:
    """Monday morning: each member's digest of the week's new threads in their spaces."""
    with session_scope(engine()) as session:
        made = digest.weekly_digest(session, get_settings(), utcnow())
    log.info("community digest", extra={"reminders": made})
    if made:
        deliver_soon()


_rules = get_practice_settings()
celery_app.conf.beat_schedule.update(
    {
        "progress-practice-webinar-reminders": {
            "task": "progress.practice_webinar_reminders",
            "schedule": _rules.webinar_sweep_seconds,
            "options": {"expires": _rules.webinar_sweep_seconds},
        },
        "progress-practice-community-digest": {
            "task": "progress.practice_community_digest",
            "schedule": crontab(day_of_week=1, hour=4, minute=0),  # Monday 04:00 UTC: morning in the region
        },
    }
)
