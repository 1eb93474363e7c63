"""Webinars and communities beyond the basics (SQLite and PostgreSQL): the reminder shortly before a
webinar and its recording for registrants; community moderation by suspension, the weekly digest, the
index of spaces — each bad input with its problem type and nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from libs.db import session_scope
from services.progress.models import Reminder
from services.progress.practice import webinars
from services.progress.practice.models import Webinar
from services.progress.settings import ProgressSettings
from tests.integration.practice_app import PracticeAPI, practice_api  # noqa: F401
from tests.integration.test_practice import INSTITUTE, P, problem

pytestmark = pytest.mark.asyncio
SOON = Reminder.period.startswith("soon:")  # type: ignore[attr-defined]


async def scheduled(
    api: PracticeAPI, starts_in: timedelta, title: str = "Formative assessment"
) -> dict[str, Any]:
    body = {
        "title": title,
        "starts_at": (datetime.now(UTC) + starts_in).isoformat(),
        "minutes": 60,
        "link": "https://meet.example.kz/b/ustaz-2",
    }
    r = await api.client.post(f"{P}/webinars", json=body, headers=api.auth("admin-1", **INSTITUTE))
    assert r.status_code == 201, r.text
    return dict(r.json())


def sweep(api: PracticeAPI, at: datetime | None = None) -> int:
    """What beat's progress.practice_webinar_reminders does."""
    with session_scope(api.engine) as session:
        return webinars.remind_soon(session, ProgressSettings(), at or datetime.now(UTC), 60)


async def test_a_reminder_shortly_before_the_webinar_once(practice_api: PracticeAPI) -> None:
    api = practice_api
    soon = await scheduled(api, timedelta(minutes=30))
    later = await scheduled(api, timedelta(hours=5), "Later")
    for webinar in (soon, later):
        for teacher in ("teacher-1", "teacher-2"):
            r = await api.client.post(
                f"{P}/webinars/{webinar['id']}/register", headers=api.auth(teacher, lang="kk")
            )
            assert r.status_code == 200, r.text
    # teacher-2 turned webinar reminders off after registering
    r = await api.client.put(
        "/api/v1/progress/reminders/preferences",
        json={"unsubscribed": ["webinar"], "channels": []},
        headers=api.auth("teacher-2"),
    )
    assert r.status_code == 200, r.text
    assert api.count(Reminder, Reminder.rule == "webinar") == 4  # one each at registration
    assert sweep(api) == 1 and sweep(api) == 0  # again: nothing new
    [reminder] = _reminders(api, SOON)
    assert reminder.user_id == "teacher-1" and reminder.language == "kk"
    assert "Formative assessment" in reminder.subject and reminder.link == "https://meet.example.kz/b/ustaz-2"
    assert sweep(api, datetime.now(UTC) + timedelta(hours=4, minutes=30)) == 1  # the later one's turn
    assert api.count(Reminder, SOON) == 2


def _reminders(api: PracticeAPI, *where: Any) -> list[Reminder]:
    from sqlmodel import select

    with session_scope(api.engine, readonly=True) as session:
        return list(session.exec(select(Reminder).where(*where)).all())


async def test_the_recording_is_added_afterwards_and_shown_to_registrants(practice_api: PracticeAPI) -> None:
    api = practice_api
    admin = api.auth("admin-1", **INSTITUTE)
    past = await scheduled(api, -timedelta(hours=3))
    coming = await scheduled(api, timedelta(days=1))
    await api.client.post(f"{P}/webinars/{past['id']}/register", headers=api.auth("teacher-1"))
    url = "https://video.example.kz/recordings/formative"
    problem(
        await api.client.post(
            f"{P}/webinars/{coming['id']}/recording", json={"recording": url}, headers=admin
        ),
        409,
        "conflict",
    )
    problem(
        await api.client.post(
            f"{P}/webinars/{past['id']}/recording", json={"recording": "not a url"}, headers=admin
        ),
        422,
        "validation-error",
    )
    other = api.auth("admin-2", roles=("institute_admin",), inst="inst-2", scope="institute:inst-2")
    problem(
        await api.client.post(f"{P}/webinars/{past['id']}/recording", json={"recording": url}, headers=other),
        403,
        "forbidden",
    )
    problem(
        await api.client.post(
            f"{P}/webinars/{past['id']}/recording", json={"recording": url}, headers=api.auth("teacher-1")
        ),
        403,
        "forbidden",
    )
    assert {w.recording for w in _webinars(api)} == {""}  # nothing changed
    r = await api.client.post(f"{P}/webinars/{past['id']}/recording", json={"recording": url}, headers=admin)
    assert r.status_code == 200 and r.json()["recording"] == url, r.text
    mine = {
        w["id"]: w
        for w in (await api.client.get(f"{P}/webinars", headers=api.auth("teacher-1"))).json()["items"]
    }
    assert mine[past["id"]]["recording"] == url
    theirs = {
        w["id"]: w
        for w in (await api.client.get(f"{P}/webinars", headers=api.auth("teacher-2"))).json()["items"]
    }
    assert theirs[past["id"]]["recording"] == ""  # not registered: not theirs


def _webinars(api: PracticeAPI) -> list[Webinar]:
    from sqlmodel import select

    with session_scope(api.engine, readonly=True) as session:
        return list(session.exec(select(Webinar)).all())
