"""Professional learning end to end over the API (SQLite and PostgreSQL): coaching, observation
synced exactly once moving the profile, webinars to transcript hours, communities, coverage, and
every bad input of issue 14 with its problem type and nothing changed."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from services.progress.models import Reminder, Statement
from services.progress.practice.models import (
    Evidence,
    ModerationEntry,
    Observation,
    ObservationForm,
    Plan,
    Post,
)
from tests.integration.practice_app import S02, PracticeAPI, practice_api  # noqa: F401
from tests.integration.test_progress_competency import framework

pytestmark = pytest.mark.asyncio
P = "/api/v1/progress/practice"
INDICATORS = [i["code"] for i in framework()["items"] if i["kind"] == "indicator"]
COORDINATOR = {
    "roles": ("coordinator",),
    "scope": "org:KZ/KZ-ALM/KZ-ALM-TAL",
    "org": ("KZ", "KZ-ALM", "KZ-ALM-TAL"),
}
INSTITUTE = {"roles": ("institute_admin",), "inst": "inst-1", "scope": "institute:inst-1"}


def problem(response: Any, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith(slug), response.json()


async def coach_for_s01(api: PracticeAPI) -> None:
    """coach-1 coaches school S01, where teacher-1 works (known once they used practice)."""
    r = await api.client.post(
        f"{P}/coaches",
        json={"user_id": "coach-1", "name": "Coach", "school": "KZ-ALM-TAL-S01"},
        headers=api.auth("coord-1", **COORDINATOR),
    )
    assert r.status_code == 201, r.text
    for teacher, org in (("teacher-1", None), ("teacher-2", S02)):
        r = await api.client.get(f"{P}/plans/me", headers=api.auth(teacher, **({"org": org} if org else {})))
        assert r.status_code == 200, r.text


def rubric(rows: int = 2, codes: list[str] | None = None) -> dict[str, Any]:
    names = codes or INDICATORS[:rows]
    return {
        "title": "Lesson observation",
        "rows": [
            {"indicator": c, "title": c, "levels": ["absent", "emerging", "secure", "leading"]} for c in names
        ],
        "fields": ["What went well"],
    }


async def unsubscribe_from_coaching_steps(
    api: PracticeAPI, coach: dict[str, str], session: dict[str, Any]
) -> None:
    """The teacher's reminder links to unsubscribing from coaching steps (not another rule); after it, a
    new step reminds only the coach."""
    from urllib.parse import parse_qs, urlsplit

    from sqlmodel import select

    from libs.db import session_scope
    from services.progress.delivery import unsubscribe_link
    from services.progress.settings import ProgressSettings

    with session_scope(api.engine, readonly=True) as db:
        mine = db.exec(select(Reminder).where(Reminder.user_id == "teacher-1")).one()
    token = parse_qs(urlsplit(unsubscribe_link(ProgressSettings(), mine)).query)["token"][0]
    done = await api.client.post(f"/api/v1/progress/reminders/unsubscribe?token={token}")
    assert done.status_code == 200 and done.json()["unsubscribed"] == ["coaching_step"], done.text
    again = await api.client.post(f"{P}/plans/teacher-1/sessions", json=session, headers=coach)
    assert again.status_code == 201, again.text
    assert api.count(Reminder, Reminder.rule == "coaching_step") == 3  # the coach's only
    assert api.count(Reminder, Reminder.user_id == "teacher-1") == 1


async def test_coaching_plan_sessions_reminders_and_comments(practice_api: PracticeAPI) -> None:
    api = practice_api
    outside = await api.client.post(
        f"{P}/coaches",
        json={"user_id": "coach-9", "school": "KZ-AST-S09"},
        headers=api.auth("coord-1", **COORDINATOR),
    )
    problem(outside, 403, "forbidden")
    await coach_for_s01(api)
    coach = api.auth("coach-1", name="Coach")
    mine = (await api.client.get(f"{P}/coach/teachers", headers=coach)).json()
    assert [t["user_id"] for t in mine["teachers"]] == ["teacher-1"]
    plan = (await api.client.get(f"{P}/plans/teacher-1", headers=coach)).json()
    assert len(plan["suggested"]) == 5 and set(plan["suggested"]) <= set(INDICATORS)
    bad = await api.client.put(
        f"{P}/plans/teacher-1", json={"indicators": ["NOT.AN.INDICATOR"]}, headers=coach
    )
    problem(bad, 422, "validation-error")
    assert api.count(Plan) == 0
    other = await api.client.put(f"{P}/plans/teacher-2", json={"indicators": INDICATORS[:1]}, headers=coach)
    problem(other, 403, "forbidden")
    ok = await api.client.put(
        f"{P}/plans/teacher-1", json={"indicators": plan["suggested"][:2]}, headers=coach
    )
    assert ok.status_code == 200 and ok.json()["indicators"] == plan["suggested"][:2]
    due = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    session = {
        "held_on": datetime.now(UTC).isoformat(),
        "indicators": INDICATORS[:1],
        "notes": "Good questioning",
        "steps": [{"text": "Try pair work", "due": due}],
    }
    r = await api.client.post(f"{P}/plans/teacher-1/sessions", json=session, headers=coach)
    assert r.status_code == 201, r.text
    assert api.count(Reminder, Reminder.rule == "coaching_step") == 2  # the teacher and the coach
    await unsubscribe_from_coaching_steps(api, coach, session)
    r = await api.client.post(
        f"{P}/comments/session:{r.json()['id']}", json={"text": "Thank you"}, headers=api.auth("teacher-1")
    )
    assert r.status_code == 201
    seen = (await api.client.get(f"{P}/plans/me", headers=api.auth("teacher-1"))).json()
    assert (
        seen["sessions"][0]["notes"] == "Good questioning"
        and seen["sessions"][0]["comments"][0]["text"] == "Thank you"
    )
    stranger = await api.client.get(f"{P}/plans/teacher-1", headers=api.auth("teacher-2", org=S02))
    problem(stranger, 403, "forbidden")


async def test_observation_synced_once_moves_two_ratings_with_its_source(practice_api: PracticeAPI) -> None:
    api = practice_api
    await coach_for_s01(api)
    admin = api.auth("admin-1", **INSTITUTE)
    bad = await api.client.post(f"{P}/forms", json=rubric(codes=[INDICATORS[0], "XX.KA.9"]), headers=admin)
    problem(bad, 422, "validation-error")
    assert "XX.KA.9" in bad.json()["indicators"] and api.count(ObservationForm) == 0
    form = (await api.client.post(f"{P}/forms", json=rubric(2), headers=admin)).json()
    coach = api.auth("coach-1", name="Coach Aruzhan")
    a, b = INDICATORS[:2]
    queued = {
        "id": str(uuid.uuid4()),
        "form_id": form["id"],
        "teacher_id": "teacher-1",
        "observed_on": "2026-11-30T09:00:00Z",
        "ratings": {a: 4, b: 3},
        "notes": {"What went well": "Groups"},
    }
    first = await api.client.post(f"{P}/observations", json=[queued], headers=coach)
    assert first.status_code == 200 and first.json()["new"] == [queued["id"]], first.text
    again = await api.client.post(f"{P}/observations", json=[queued], headers=coach)  # the phone resends
    assert again.status_code == 200 and again.json()["new"] == []
    assert api.count(Observation) == 1
    changed = await api.client.post(
        f"{P}/observations", json={**queued, "ratings": {a: 1, b: 1}}, headers=coach
    )
    problem(changed, 409, "conflict")
    outside = {**queued, "id": str(uuid.uuid4()), "teacher_id": "teacher-2"}
    problem(await api.client.post(f"{P}/observations", json=[outside], headers=coach), 403, "forbidden")
    wrong = {**queued, "id": str(uuid.uuid4()), "ratings": {INDICATORS[5]: 2}}
    problem(await api.client.post(f"{P}/observations", json=wrong, headers=coach), 422, "validation-error")
    assert api.count(Observation) == 1
    teacher = api.auth("teacher-1")
    profile = (await api.client.get("/api/v1/progress/competencies/me", headers=teacher)).json()
    rated = {r["code"]: r for r in profile["indicators"]}
    for code in (a, b):
        assert rated[code]["rating"] == "proficient"
        assert (
            rated[code]["sources"][0]["kind"] == "observation"
            and rated[code]["sources"][0]["by"] == "Coach Aruzhan"
        )
    assert rated[INDICATORS[2]]["rating"] == "not_yet" and not rated[INDICATORS[2]]["sources"]
    ack = await api.client.post(f"{P}/observations/{queued['id']}/acknowledge", headers=teacher)
    assert ack.status_code == 200 and ack.json()["acknowledged_at"]
    low = {**queued, "id": str(uuid.uuid4()), "ratings": {a: 1, b: 4}}
    assert (await api.client.post(f"{P}/observations", json=low, headers=coach)).status_code == 200
    plan = (await api.client.get(f"{P}/plans/me", headers=teacher)).json()
    assert [o["follow_up"] for o in plan["observations"]] == [[], [a]]
    assert plan["indicators"] == [a]  # the low rating proposes a coaching step on it


async def test_webinar_attendance_becomes_transcript_hours(practice_api: PracticeAPI) -> None:
    api = practice_api
    admin = api.auth("admin-1", **INSTITUTE)
    body = {
        "title": "Digital assessment",
        "starts_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "minutes": 90,
        "link": "https://meet.example.kz/b/ustaz-1",
    }
    webinar = (await api.client.post(f"{P}/webinars", json=body, headers=admin)).json()
    teacher = api.auth("teacher-1")
    for _ in range(2):
        r = await api.client.post(f"{P}/webinars/{webinar['id']}/register", headers=teacher)
        assert r.status_code == 200 and r.json()["registered"]
    assert api.count(Reminder, Reminder.rule == "webinar", Reminder.user_id == "teacher-1") == 1
    for _ in range(2):
        r = await api.client.post(
            f"{P}/webinars/{webinar['id']}/attendance", json={"user_ids": ["teacher-1"]}, headers=admin
        )
        assert r.status_code == 200, r.text
    attended = Statement.verb == "http://adlnet.gov/expapi/verbs/attended"
    assert api.count(Statement, attended, Statement.user_id == "teacher-1") == 1
    stored = (await api.client.get("/api/v1/progress/xapi/statements", headers=teacher)).json()["statements"]
    assert (
        stored[0]["verb"]["id"].endswith("/attended")
        and stored[0]["object"]["id"] == f"urn:ustaz:webinar:{webinar['id']}"
    )
    record = (await api.client.get(f"{P}/transcript/me", headers=teacher)).json()
    assert record["by_kind"] == {"webinar": 1.5} and record["total_hours"] == 1.5
    assert record["lines"][0]["title"] == "Digital assessment"
    listed = (await api.client.get(f"{P}/webinars", headers=teacher)).json()["items"]
    assert listed[0]["attended"] and listed[0]["link"] == "https://meet.example.kz/b/ustaz-1"


async def test_community_featured_locked_and_moderated(practice_api: PracticeAPI) -> None:
    api = practice_api
    space = f"competency:{INDICATORS[0].rsplit('.', 1)[0]}"
    teacher = api.auth("teacher-1")
    r = await api.client.post(
        f"{P}/spaces/{space}/threads",
        json={"title": "Pair work with one tablet", "text": "What we tried", "language": "ru"},
        headers=teacher,
    )
    thread = r.json()["id"]
    moderator = api.auth("coord-1", **COORDINATOR)
    problem(
        await api.client.post(
            f"{P}/threads/{thread}/moderation", json={"action": "feature"}, headers=teacher
        ),
        403,
        "forbidden",
    )
    for action in ("feature", "lock"):
        assert (
            await api.client.post(
                f"{P}/threads/{thread}/moderation", json={"action": action}, headers=moderator
            )
        ).status_code == 200
    locked = await api.client.post(f"{P}/threads/{thread}/posts", json={"text": "me too"}, headers=teacher)
    problem(locked, 409, "conflict")
    assert api.count(Post) == 1
    listed = (await api.client.get(f"{P}/spaces/{space}", headers=teacher)).json()
    assert listed["threads"][0]["featured"] and listed["threads"][0]["locked"]
    post = (await api.client.get(f"{P}/threads/{thread}", headers=teacher)).json()["posts"][0]["id"]
    assert (
        await api.client.post(
            f"{P}/posts/{post}/moderation", json={"action": "hide", "reason": "spam"}, headers=moderator
        )
    ).status_code == 200
    hidden = (await api.client.get(f"{P}/threads/{thread}", headers=teacher)).json()["posts"][0]
    assert hidden["hidden"] and hidden["text"] == ""
    assert [e.action for e in _entries(api)] == ["feature", "lock", "hide"]
    record = (await api.client.get(f"{P}/transcript/me", headers=teacher)).json()
    assert record["by_kind"] == {"featured": 1.0}  # a featured contribution counts in the CPD record


def _entries(api: PracticeAPI) -> list[ModerationEntry]:
    from sqlmodel import col, select

    from libs.db import session_scope

    with session_scope(api.engine, readonly=True) as session:
        return list(session.exec(select(ModerationEntry).order_by(col(ModerationEntry.at))).all())


async def test_coordinator_sees_coaching_coverage_suppressed(practice_api: PracticeAPI) -> None:
    api = practice_api
    await coach_for_s01(api)
    for n in range(3, 15):
        await api.client.get(f"{P}/plans/me", headers=api.auth(f"teacher-{n}"))
    coach = api.auth("coach-1")
    held = {"held_on": datetime.now(UTC).isoformat(), "indicators": [], "notes": ""}
    for n in range(3, 14):
        assert (
            await api.client.post(f"{P}/plans/teacher-{n}/sessions", json=held, headers=coach)
        ).status_code == 201
    report = (
        await api.client.get(f"{P}/dashboard/coaching", headers=api.auth("coord-1", **COORDINATOR))
    ).json()
    rows = {r["unit"]: r for r in report["rows"]}
    month = datetime.now(UTC).strftime("%Y-%m")
    assert rows["KZ-ALM-TAL-S01"]["teachers"] is None or rows["KZ-ALM-TAL-S01"]["teachers"] == 13
    assert rows["KZ-ALM-TAL-S02"]["teachers"] is None  # one teacher: a small cell
    assert rows["KZ-ALM-TAL-S01"]["sessions_by_month"][month] in (None, 11)
    problem(await api.client.get(f"{P}/dashboard/coaching", headers=api.auth("teacher-1")), 403, "forbidden")
    form = (
        await api.client.post(f"{P}/forms", json=rubric(1), headers=api.auth("admin-1", **INSTITUTE))
    ).json()
    code = INDICATORS[0]
    for n in range(3, 14):  # 11 teachers observed, 10 meet the indicator
        level = 1 if n == 3 else 4
        item = {
            "id": str(uuid.uuid4()),
            "form_id": form["id"],
            "teacher_id": f"teacher-{n}",
            "observed_on": "2026-11-30T09:00:00Z",
            "ratings": {code: level},
        }
        assert (await api.client.post(f"{P}/observations", json=item, headers=coach)).status_code == 200
    results = (
        await api.client.get(f"{P}/dashboard/observations", headers=api.auth("coord-1", **COORDINATOR))
    ).json()
    assert results["cells"] == [{"unit": "KZ-ALM-TAL-S01", "indicator": code, "observed": 11, "met": 10}]


def png(width: int = 400) -> bytes:
    """A photo-sized picture that compresses well as PNG (a gradient), so it fits the upload cap."""
    out = io.BytesIO()
    Image.linear_gradient("L").resize((width, width * 3 // 4)).convert("RGB").save(out, "PNG")
    return out.getvalue()


async def test_portfolio_uploads_refused_and_signed_off_evidence_counts(practice_api: PracticeAPI) -> None:
    api = practice_api
    await coach_for_s01(api)
    teacher = api.auth("teacher-1")
    code = INDICATORS[3]
    fields = {"indicator": code, "kind": "photo", "consent": "on"}
    problem(
        await api.client.post(
            f"{P}/evidence",
            data=fields,
            files={"file": ("a.txt", b"not an image", "text/plain")},
            headers=teacher,
        ),
        415,
        "unsupported-media-type",
    )
    huge = b"\x89PNG" + b"0" * (2 * 1024 * 1024)
    problem(
        await api.client.post(
            f"{P}/evidence", data=fields, files={"file": ("a.png", huge, "image/png")}, headers=teacher
        ),
        413,
        "payload-too-large",
    )
    no_consent = {"indicator": code, "kind": "photo"}
    problem(
        await api.client.post(
            f"{P}/evidence", data=no_consent, files={"file": ("a.png", png(), "image/png")}, headers=teacher
        ),
        422,
        "validation-error",
    )
    assert api.count(Evidence) == 0
    r = await api.client.post(
        f"{P}/evidence", data=fields, files={"file": ("a.png", png(2000), "image/png")}, headers=teacher
    )
    assert r.status_code == 201, r.text
    evidence = r.json()["id"]
    image = await api.client.get(f"{P}/evidence/{evidence}/image", headers=teacher)
    assert image.headers["content-type"] == "image/jpeg" and len(image.content) <= 60 * 1024
    assert Image.open(io.BytesIO(image.content)).width <= 800
    problem(
        await api.client.get(f"{P}/portfolio/teacher-1", headers=api.auth("teacher-2", org=S02)),
        403,
        "forbidden",
    )
    problem(await api.client.post(f"{P}/evidence/{evidence}/sign-off", headers=teacher), 403, "forbidden")
    assert (
        await api.client.post(f"{P}/evidence/{evidence}/sign-off", headers=api.auth("coach-1", name="Coach"))
    ).status_code == 200
    profile = (await api.client.get("/api/v1/progress/competencies/me", headers=teacher)).json()
    rated = {r["code"]: r for r in profile["indicators"]}[code]
    assert rated["rating"] == "proficient" and rated["sources"][0]["kind"] == "evidence"
    record = (await api.client.get(f"{P}/transcript/me", headers=teacher)).json()
    assert record["by_kind"] == {"evidence": 0.5}
