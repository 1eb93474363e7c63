"""The communities' weekly digest (docs/practice.md): each member who took part in a space gets, once
an ISO week, the threads others started there in the last seven days (featured best practice first),
as a reminder of its own rule (`community_digest`), so it can be unsubscribed from like any other."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from services.progress import reminders
from services.progress import repository as progress_repository
from services.progress.practice import repository
from services.progress.practice.models import Thread
from services.progress.settings import ProgressSettings

RULE = "community_digest"
MAX_TITLES = 10


def week_of(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_digest(session: Session, settings: ProgressSettings, now: datetime) -> int:
    """One digest per member and ISO week (a second run that week makes none)."""
    threads = repository.threads_since(session, now - timedelta(days=7))
    by_space: dict[str, list[Thread]] = {}
    for thread in threads:
        by_space.setdefault(thread.space_id, []).append(thread)
    news: dict[str, list[Thread]] = {}
    languages: dict[str, str] = {}
    for space_id, author, language in repository.participants(session, list(by_space)):
        news.setdefault(author, []).extend(t for t in by_space[space_id] if t.author_id != author)
        languages[author] = language
    made = 0
    for person, items in sorted(news.items()):
        if not items:
            continue
        items.sort(key=lambda t: (not t.featured, t.created_at))
        titles = [("★ " if t.featured else "") + t.title for t in items[:MAX_TITLES]]
        made += (
            reminders.remind(
                session,
                settings,
                now,
                user_id=person,
                rule=RULE,
                course_id="",
                period=week_of(now),
                language=languages.get(person) or "ru",
                prefs=progress_repository.reminder_preferences(session, person),
                values={"count": len(items), "threads": "; ".join(titles)},
                link="/community",
            )
            is not None
        )
    return made
