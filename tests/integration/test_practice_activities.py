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


async def register(api: PracticeAPI, webinar: dict[str, Any], teacher: str, lang: str) -> None:
    r = await api.client.post(f"{P}/webinars/{webinar['id']}/register", headers=api.auth(teacher, lang=lang))
    assert r.status_code == 200, r.text


async def opt_out_of_webinars(api: PracticeAPI, teacher: str) -> None:
    r = await api.client.put(
        "/api/v1/progress/reminders/preferences",
        json={"unsubscribed": ["webinar"], "channels": []},
        headers=api.auth(teacher),
    )
    assert r.status_code == 200, r.text


async def test_a_reminder_shortly_before_the_webinar_once(practice_api: PracticeAPI) -> None:
    api = practice_api
    soon = await scheduled(api, timedelta(minutes=30))
    later = await scheduled(api, timedelta(hours=5), "Later")
    for webinar in (soon, later):
        for teacher in ("teacher-1", "teacher-2"):
            await register(api, webinar, teacher, "kk")
    await opt_out_of_webinars(api, "teacher-2")  # after registering
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


def recording_events(api: PracticeAPI) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from libs.outbox import envelope
    from services.progress.models import outbox

    with session_scope(api.engine, readonly=True) as session:
        rows = session.execute(select(outbox).where(outbox.c.topic == "webinar.recording_added")).all()
    return [envelope(row) for row in rows]


REC = Reminder.period.startswith("rec:")


async def test_registrants_are_notified_of_the_recording_once_per_link_by_a_worker(
    practice_api: PracticeAPI, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recording added: a `webinar.recording_added` event in the same transaction, consumed by a
    real Celery worker through the broker: each registrant's inbox notice with the link, in the
    language they registered in, not for one who turned webinar reminders off. The same link again
    emits nothing; a redelivered event makes nothing; a changed link notifies again. Bad input: a link
    that is not http(s) or too long 422, a webinar not held yet 409 — nothing changed, no event."""
    import time
    import uuid

    from celery.contrib.testing.worker import start_worker

    from libs.celery_app import celery_app
    from services.progress import settings as progress_settings

    api = practice_api
    admin = api.auth("admin-1", **INSTITUTE)
    past = await scheduled(api, -timedelta(hours=2), "Questioning that makes pupils think")
    coming = await scheduled(api, timedelta(days=2))
    for teacher, lang in (("teacher-1", "kk"), ("teacher-2", "ru"), ("teacher-3", "en")):
        await register(api, past, teacher, lang)
    await opt_out_of_webinars(api, "teacher-3")
    url = "https://video.example.kz/recordings/questioning"
    rec = f"{P}/webinars/{past['id']}/recording"
    for bad in ("ftp://video.example.kz/q.mp4", "javascript:alert(1)", "https://v.example.kz/" + "a" * 500):
        problem(await api.client.post(rec, json={"recording": bad}, headers=admin), 422, "validation-error")
    problem(
        await api.client.post(
            f"{P}/webinars/{coming['id']}/recording", json={"recording": url}, headers=admin
        ),
        409,
        "conflict",
    )
    assert {w.recording for w in _webinars(api)} == {""} and recording_events(api) == []  # nothing changed

    for _ in range(2):  # the same link twice: one change, one event
        r = await api.client.post(rec, json={"recording": url}, headers=admin)
        assert r.status_code == 200 and r.json()["recording"] == url, r.text
    [first] = recording_events(api)
    assert first["payload"] == {"webinar_id": past["id"], "title": past["title"], "recording": url}

    monkeypatch.setenv("USTAZ_PROGRESS_DATABASE_URL", api.engine.url.render_as_string(hide_password=False))
    progress_settings.get_settings.cache_clear()
    celery_app.loader.import_default_modules()  # what the worker imports: the `include` list
    task = celery_app.tasks["progress.notify_webinar_recording"]
    queue = f"test-{uuid.uuid4().hex[:8]}"

    def notices(expected: int) -> list[Reminder]:
        deadline = time.monotonic() + 30
        while api.count(Reminder, REC) < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        return sorted(_reminders(api, REC), key=lambda m: (m.created_at, m.user_id))

    try:
        with start_worker(
            celery_app, pool="solo", queues=[queue], perform_ping_check=False, shutdown_timeout=10
        ):
            task.apply_async(args=(first,), queue=queue)
            task.apply_async(args=(first,), queue=queue)  # the relay sends it again: nothing new
            got = notices(2)
            assert [(m.user_id, m.language, m.rule) for m in got] == [
                ("teacher-1", "kk", "webinar"),
                ("teacher-2", "ru", "webinar"),
            ]  # teacher-3 opted out of webinar reminders
            assert all(m.link == url and past["title"] in m.body for m in got)
            assert got[0].subject == "Вебинар жазбасы: Questioning that makes pupils think"
            assert got[1].subject == "Запись вебинара: Questioning that makes pupils think"

            fixed = "https://video.example.kz/recordings/questioning-v2"
            r = await api.client.post(rec, json={"recording": fixed}, headers=admin)
            assert r.status_code == 200, r.text
            second = [e for e in recording_events(api) if e["id"] != first["id"]]
            assert [e["payload"]["recording"] for e in second] == [fixed]
            task.apply_async(args=(second[0],), queue=queue)
            got = notices(4)
        assert len(got) == 4 and [m.link for m in got[2:]] == [fixed, fixed]
        inbox = (await api.client.get("/api/v1/progress/inbox", headers=api.auth("teacher-2"))).json()
        assert sum(fixed in str(item) for item in inbox["items"]) == 1
    finally:
        progress_settings.get_settings.cache_clear()


def _webinars(api: PracticeAPI) -> list[Webinar]:
    from sqlmodel import select

    with session_scope(api.engine, readonly=True) as session:
        return list(session.exec(select(Webinar)).all())


async def thread_in(api: PracticeAPI, space: str, teacher: str, title: str) -> str:
    body = {"title": title, "text": "What we tried", "language": "kk"}
    r = await api.client.post(f"{P}/spaces/{space}/threads", json=body, headers=api.auth(teacher))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_a_suspended_member_cannot_post_until_reinstated(practice_api: PracticeAPI) -> None:
    from services.progress.practice.models import ModerationEntry, Post, Suspension
    from tests.integration.test_practice import COORDINATOR

    api = practice_api
    moderator = api.auth("coord-1", **COORDINATOR)
    thread = await thread_in(api, "cluster:KZ-ALM-TAL", "teacher-1", "Homework on phones")
    r = await api.client.post(
        f"{P}/threads/{thread}/posts", json={"text": "spam"}, headers=api.auth("teacher-2")
    )
    post = r.json()["id"]
    problem(
        await api.client.post(
            f"{P}/posts/{post}/moderation", json={"action": "suspend"}, headers=api.auth("teacher-1")
        ),
        403,
        "forbidden",
    )
    assert api.count(Suspension) == 0
    r = await api.client.post(
        f"{P}/posts/{post}/moderation", json={"action": "suspend", "reason": "spam"}, headers=moderator
    )
    assert r.status_code == 200, r.text
    posts = api.count(Post)
    problem(
        await api.client.post(
            f"{P}/threads/{thread}/posts", json={"text": "again"}, headers=api.auth("teacher-2")
        ),
        403,
        "forbidden",
    )
    problem(
        await api.client.post(
            f"{P}/spaces/cluster:KZ-ALM-TAL/threads",
            json={"title": "x", "text": "y"},
            headers=api.auth("teacher-2"),
        ),
        403,
        "forbidden",
    )
    assert api.count(Post) == posts  # nothing stored
    seen = (await api.client.get(f"{P}/threads/{thread}", headers=moderator)).json()["posts"]
    assert seen[1]["hidden"] and seen[1]["author_id"] == "teacher-2"  # moderators see who wrote it
    assert (await api.client.get(f"{P}/threads/{thread}", headers=api.auth("teacher-1"))).json()["posts"][1][
        "author_id"
    ] == ""
    member = f"{P}/members/teacher-2/moderation"
    problem(await api.client.post(member, json={"action": "ban"}, headers=moderator), 422, "validation-error")
    problem(
        await api.client.post(
            f"{P}/members/coord-1/moderation", json={"action": "suspend"}, headers=moderator
        ),
        422,
        "validation-error",
    )
    assert (await api.client.post(member, json={"action": "reinstate"}, headers=moderator)).status_code == 200
    problem(await api.client.post(member, json={"action": "reinstate"}, headers=moderator), 404, "not-found")
    r = await api.client.post(
        f"{P}/threads/{thread}/posts", json={"text": "sorry"}, headers=api.auth("teacher-2")
    )
    assert r.status_code == 201, r.text
    from sqlmodel import col, select

    with session_scope(api.engine, readonly=True) as session:
        trail = session.exec(select(ModerationEntry).order_by(col(ModerationEntry.at))).all()
    assert [(e.action, e.target) for e in trail] == [
        ("suspend", "member:teacher-2"), ("suspend", f"post:{post}"), ("reinstate", "member:teacher-2"),
    ]  # fmt: skip


async def test_weekly_digest_once_a_week_unsubscribable_and_the_index(practice_api: PracticeAPI) -> None:
    from urllib.parse import parse_qs, urlsplit

    from services.progress.delivery import unsubscribe_link
    from services.progress.practice import digest
    from tests.integration.test_practice import COORDINATOR

    api = practice_api
    t0 = datetime.now(UTC)
    space = "competency:TL.KD"
    first = await thread_in(api, space, "teacher-1", "One tablet, four students")
    await api.client.post(
        f"{P}/threads/{first}/posts", json={"text": "We too"}, headers=api.auth("teacher-2")
    )
    second = await thread_in(api, space, "teacher-3", "Exit tickets by SMS")
    r = await api.client.post(
        f"{P}/threads/{second}/moderation",
        json={"action": "feature"},
        headers=api.auth("coord-1", **COORDINATOR),
    )
    assert r.status_code == 200
    await thread_in(api, "course:other", "teacher-9", "Elsewhere")

    def run(at: datetime) -> int:
        with session_scope(api.engine) as session:
            return digest.weekly_digest(session, ProgressSettings(), at)

    assert run(t0) == 3 and run(t0) == 0  # teacher-9 is alone in their space: no news for them
    digests = {r.user_id: r for r in _reminders(api, Reminder.rule == "community_digest")}
    assert set(digests) == {"teacher-1", "teacher-2", "teacher-3"}
    assert (
        "★ Exit tickets by SMS" in digests["teacher-1"].body and "One tablet" not in digests["teacher-1"].body
    )
    assert digests["teacher-2"].body.index("★ Exit tickets") < digests["teacher-2"].body.index("One tablet")
    assert (
        digests["teacher-1"].language == "kk"
        and digests["teacher-2"].language == "ru"
        and digests["teacher-3"].link == "/community"
    )
    token = parse_qs(urlsplit(unsubscribe_link(ProgressSettings(), digests["teacher-1"])).query)["token"][0]
    done = await api.client.post(f"/api/v1/progress/reminders/unsubscribe?token={token}")
    assert done.status_code == 200 and done.json()["unsubscribed"] == ["community_digest"], done.text
    next_week = t0 + timedelta(
        days=(7 - t0.weekday()) % 7 or 7
    )  # next Monday: the threads still within 7 days
    assert run(next_week) == 2  # teacher-1 unsubscribed; the others get next week's
    listed = (await api.client.get(f"{P}/spaces", headers=api.auth("teacher-1"))).json()["items"]
    assert [(s["id"], s["threads"], s["featured"]) for s in listed] == [("course:other", 1, 0), (space, 2, 1)]


async def test_a_coach_assigned_by_cohort_coaches_its_enrolled_teachers(practice_api: PracticeAPI) -> None:
    from deploy.seed import COURSE_RU_ID, INSTITUTE_ID
    from services.progress.practice.models import CohortAssignment
    from tests.integration.practice_app import S02
    from tests.integration.test_practice import COORDINATOR

    api = practice_api
    # teacher-5 (school S02, no coach there) enrols in the institute's course; teacher-6 does not
    r = await api.client.post(
        "/api/v1/progress/enrolments",
        json={"course_id": COURSE_RU_ID},
        headers=api.auth("teacher-5", org=S02),
    )
    assert r.status_code in (200, 201), r.text
    await api.client.get(f"{P}/plans/me", headers=api.auth("teacher-6", org=S02))
    admin = api.auth(
        "admin-1", roles=("institute_admin",), inst=INSTITUTE_ID, scope=f"institute:{INSTITUTE_ID}"
    )
    appoint = f"{P}/coaches"
    for body, headers, status in (
        ({"user_id": "coach-9", "course_id": COURSE_RU_ID, "school": "KZ-ALM-TAL-S01"}, admin, 422),  # both
        ({"user_id": "coach-9"}, admin, 422),  # neither
        (
            {"user_id": "coach-9", "course_id": "00000000-0000-0000-0000-00000000dead"},
            admin,
            422,
        ),  # no course
        (
            {"user_id": "coach-9", "course_id": COURSE_RU_ID},
            api.auth("admin-2", **INSTITUTE),
            403,
        ),  # not theirs
        ({"user_id": "coach-9", "course_id": COURSE_RU_ID}, api.auth("coord-1", **COORDINATOR), 403),
    ):
        response = await api.client.post(appoint, json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert api.count(CohortAssignment) == 0
    r = await api.client.post(
        appoint, json={"user_id": "coach-9", "name": "Cohort coach", "course_id": COURSE_RU_ID}, headers=admin
    )
    assert r.status_code == 201 and r.json()["courses"] == [COURSE_RU_ID] and r.json()["schools"] == [], (
        r.text
    )
    coach = api.auth("coach-9")
    listed = (await api.client.get(f"{P}/coach/teachers", headers=coach)).json()["teachers"]
    assert [t["user_id"] for t in listed] == ["teacher-5"]
    held = {"held_on": datetime.now(UTC).isoformat(), "indicators": [], "notes": "first session"}
    assert (
        await api.client.post(f"{P}/plans/teacher-5/sessions", json=held, headers=coach)
    ).status_code == 201
    problem(
        await api.client.post(f"{P}/plans/teacher-6/sessions", json=held, headers=coach), 403, "forbidden"
    )
    plan = (await api.client.get(f"{P}/plans/me", headers=api.auth("teacher-5", org=S02))).json()
    assert plan["sessions"][0]["notes"] == "first session"
    report = (
        await api.client.get(f"{P}/dashboard/coaching", headers=api.auth("coord-1", **COORDINATOR))
    ).json()
    s02 = next(r for r in report["rows"] if r["unit"] == "KZ-ALM-TAL-S02")
    assert s02["teachers"] is None and s02["with_coach"] is None  # two teachers: small cells, suppressed
    from libs.auth import Principal
    from services.progress.practice.dashboard import coverage

    with session_scope(api.engine, readonly=True) as session:  # below the threshold, the counts underneath
        raw = coverage(
            session, Principal(id="c", roles=("coordinator",), scope="org:KZ/KZ-ALM/KZ-ALM-TAL"), 1
        )
    assert {r.unit: r.with_coach for r in raw.rows}["KZ-ALM-TAL-S02"] == 1
