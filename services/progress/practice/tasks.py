"""Periodic tasks of professional learning (beat): the reminder shortly before a webinar, and the
communities' weekly digest (docs/practice.md). Safe to run twice: every reminder has its key."""

from __future__ import annotations

import logging

from celery.schedules import crontab

from libs.celery_app import celery_app
from libs.consumers import periodic
from libs.db import session_scope
from libs.events import DB_CONTENTION
from libs.outbox import utcnow
from services.progress.practice import digest, webinars
from services.progress.practice.settings import get_practice_settings
from services.progress.settings import get_settings
from services.progress.tasks import deliver_soon, engine

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
