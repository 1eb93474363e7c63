"""Enrolment over HTTP against a real courses service: self-enrolment, cohort enrolment by an
institute admin, and `Idempotency-Key` replays on enrolments and submissions (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlmodel import select
from starlette.concurrency import run_in_threadpool

from deploy.seed import COURSE_RU_ID, INSTITUTE_ID, REGISTRY_TEACHERS, demo_iins, fixed_id
from gateway.registry.schemas import ResolvedTeacher, ResolveRequest, ResolveResponse
from libs.db import create_db_engine, session_scope
from libs.idempotency import slot
from libs.service_client import service_path
from libs.state import typed_state
from services.progress.models import Enrolment, Submission
from tests.conftest import mint, seed_courses_service, serve, service_settings, thread_server
from tests.integration import progress_app
from tests.integration.progress_app import TEACHER_ID, ProgressAPI
from tests.integration.test_gateway_identity import assert_problem
from tests.integration.test_progress_rules import RIGHT

pytestmark = pytest.mark.asyncio
progress_api = progress_app.progress_api
ENROL = "/api/v1/progress/enrolments"
COHORT = "/api/v1/progress/cohorts"
SUBMIT = "/api/v1/progress/submissions"


@pytest_asyncio.fixture
async def with_courses(
    databases: Any, registry_gateway_url: str, redis_url: str, issuer: Any
) -> AsyncIterator[ProgressAPI]:
    """Progress in-process, talking to a real courses service over HTTP for the published course."""
    from services.courses.app import build_app as build_courses
    from services.progress.app import build_app

    gateway_url = registry_gateway_url
    courses = build_courses(
        service_settings("courses", databases.fresh("courses", seed_courses_service), gateway_url=gateway_url)
    )
    url = databases.fresh("progress")
    engine = create_db_engine(url)
    with thread_server(courses) as courses_url:
        app = build_app(service_settings("progress", url, gateway_url=gateway_url, courses_url=courses_url))
        async with serve(app) as client:
            yield ProgressAPI(client, engine, issuer, app)
    engine.dispose()


async def registry_entry(api: ProgressAPI, n: int) -> ResolvedTeacher:
    """Demo registry teacher `n` as the gateway's registry has them (asked as progress asks)."""
    from services.progress.state import ProgressState

    client = typed_state(api.app, ProgressState).gateway
    answer = await run_in_threadpool(
        client.post_model,
        service_path("registry", "resolve"),
        ResolveRequest(national_ids=[DEMO_IINS[n]]),
        ResolveResponse,
    )
    return answer.items[0]


def admin(api: ProgressAPI, inst: str = INSTITUTE_ID) -> dict[str, str]:
    token = mint(api.issuer, sub="admin-1", roles=("institute_admin",), scope=f"institute:{inst}", inst=inst)
    return {"authorization": f"Bearer {token}"}


DEMO_IINS = demo_iins(REGISTRY_TEACHERS + 1)
T_A, T_B = fixed_id("registry:demo:1"), fixed_id("registry:demo:2")  # two demo registry teachers


def cohort(**extra: Any) -> dict[str, Any]:
    return {"course_id": COURSE_RU_ID, "national_ids": [DEMO_IINS[1], DEMO_IINS[2]], **extra}


async def test_an_institute_admin_enrols_a_cohort_pinned_with_a_deadline(with_courses: ProgressAPI) -> None:
    api = with_courses
    await api.client.post(ENROL, json={"course_id": COURSE_RU_ID}, headers=api.token(T_B))
    deadline = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    response = await api.client.post(COHORT, json=cohort(deadline=deadline.isoformat()), headers=admin(api))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["enrolled"] == [T_A] and body["already_enrolled"] == [T_B] and body["version"] == 1
    assert DEMO_IINS[1] not in response.text
    with session_scope(api.engine, readonly=True) as session:
        a = session.exec(select(Enrolment).where(Enrolment.user_id == T_A)).one()
        b = session.exec(select(Enrolment).where(Enrolment.user_id == T_B)).one()
    assert a.deadline == deadline and a.require_lessons and a.enrolled_by == "admin-1" and a.version == 1
    registry = await registry_entry(api, 1)
    assert (a.org_path, a.user_name) == (registry.org_path, registry.display_name)  # the registry's
    assert b.deadline is None and b.enrolled_by is None  # self-enrolled first: left as it was
    mine = (await api.client.get(ENROL, headers=api.token(T_A))).json()["items"]
    assert [e["course_id"] for e in mine] == [COURSE_RU_ID] and mine[0]["require_lessons"] is True


async def test_bad_cohorts_are_refused_and_store_nothing(with_courses: ProgressAPI) -> None:
    api = with_courses
    other_inst = admin(api, inst=str(uuid.uuid4()))
    assert_problem(await api.client.post(COHORT, json=cohort(), headers=other_inst), 403)
    assert_problem(await api.client.post(COHORT, json=cohort(), headers=api.token(T_A)), 403)
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert_problem(await api.client.post(COHORT, json=cohort(deadline=past), headers=admin(api)), 422)
    twice = cohort(national_ids=[DEMO_IINS[1], DEMO_IINS[1]])
    assert_problem(await api.client.post(COHORT, json=twice, headers=admin(api)), 422)
    both = cohort(filter={"org": "KZ-AKM"})
    assert_problem(await api.client.post(COHORT, json=both, headers=admin(api)), 422)
    no_such_field = {"course_id": COURSE_RU_ID, "filter": {"region": "KZ-AKM"}}
    assert_problem(await api.client.post(COHORT, json=no_such_field, headers=admin(api)), 422)
    assert_problem(
        await api.client.post(COHORT, json={**cohort(), "course_id": "nope"}, headers=admin(api)), 404
    )
    assert api.count(Enrolment) == 0


async def test_an_idempotency_key_replays_an_enrolment(with_courses: ProgressAPI) -> None:
    api = with_courses
    headers = {**api.token(), "Idempotency-Key": str(uuid.uuid4())}
    first = await api.client.post(ENROL, json={"course_id": COURSE_RU_ID}, headers=headers)
    again = await api.client.post(ENROL, json={"course_id": COURSE_RU_ID}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    plain = await api.client.post(ENROL, json={"course_id": COURSE_RU_ID}, headers=api.token())
    assert plain.status_code == 200 and "idempotent-replayed" not in plain.headers
    other = await api.client.post(ENROL, json={"course_id": "other"}, headers=headers)
    assert_problem(other, 422)
    assert api.count(Enrolment) == 1


async def test_an_idempotency_key_makes_a_resent_submission_count_once(progress_api: ProgressAPI) -> None:
    api = progress_api
    key = str(uuid.uuid4())
    headers = {**api.token(), "Idempotency-Key": key}
    body = {"course_id": "c1", "quiz_id": "q1", "answers": RIGHT}
    first = await api.client.post(SUBMIT, json=body, headers=headers)
    again = await api.client.post(SUBMIT, json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again.headers["location"] == first.headers["location"]
    assert api.count(Submission) == 1 and len(api.events("submission.received")) == 1
    changed = await api.client.post(SUBMIT, json={**body, "answers": {"q1a": "a"}}, headers=headers)
    assert_problem(changed, 422)
    # The same key from another user is another key.
    theirs = await api.client.post(
        SUBMIT, json=body, headers={**api.token(progress_app.OTHER_ID), "Idempotency-Key": key}
    )
    assert theirs.status_code == 202 and theirs.json()["id"] != first.json()["id"]
    # While the first request is still running (its claim holds no response yet) the same one is a 409.
    kept = json.loads(await api.app.state.redis.get(slot(TEACHER_ID, key)))
    await api.app.state.redis.set(
        slot(TEACHER_ID, key), json.dumps({"fingerprint": kept["fingerprint"]}), ex=60
    )
    assert_problem(await api.client.post(SUBMIT, json=body, headers=headers), 409)
    assert_problem(
        await api.client.post(SUBMIT, json=body, headers={**api.token(), "Idempotency-Key": "x" * 300}), 400
    )
    assert api.count(Submission) == 2


async def test_a_failed_request_releases_its_key(progress_api: ProgressAPI) -> None:
    api = progress_api
    headers = {**api.token(), "Idempotency-Key": str(uuid.uuid4())}
    bad = {"course_id": "c1", "quiz_id": "q9", "answers": {"x": "y"}}
    assert_problem(await api.client.post(SUBMIT, json=bad, headers=headers), 422)
    assert_problem(await api.client.post(SUBMIT, json=bad, headers=headers), 422)  # ran again, not replayed
    with session_scope(api.engine, readonly=True) as session:
        assert session.exec(select(Submission)).all() == []


async def test_my_progress_and_my_institutes_cohort_progress(with_courses: ProgressAPI) -> None:
    from services.progress.xapi import VERBS, course_activity

    api = with_courses
    assert (await api.client.post(COHORT, json=cohort(), headers=admin(api))).status_code == 201
    view = {
        "id": str(uuid.uuid4()),
        "actor": {"account": {"homePage": "https://ustaz.example", "name": T_A}},
        "verb": {"id": VERBS["experienced"]},
        "object": {"id": course_activity(COURSE_RU_ID, "l1")},
    }
    assert (await api.client.post("/api/v1/progress/me/progress", headers=api.token(T_A))).status_code == 405
    mine = (await api.client.get("/api/v1/progress/me/progress", headers=api.token(T_A))).json()["items"]
    assert [(c["lessons_total"], c["quizzes_total"], c["percent"]) for c in mine] == [(2, 1, 0)]
    stored = await api.client.post("/api/v1/progress/xapi/statements", json=view, headers=api.token(T_A))
    assert stored.status_code == 200, stored.text
    submitted = await api.client.post(
        SUBMIT, json={"course_id": COURSE_RU_ID, "quiz_id": "q1", "answers": RIGHT}, headers=api.token(T_A)
    )
    assert submitted.status_code == 202
    mine = (await api.client.get("/api/v1/progress/me/progress", headers=api.token(T_A))).json()["items"]
    assert (mine[0]["lessons_viewed"], mine[0]["percent"]) == (1, 33)
    assert [r["status"] for r in mine[0]["results"]] == ["received"]  # graded later by a worker

    report = await api.client.get(f"/api/v1/progress/cohorts/{COURSE_RU_ID}", headers=admin(api))
    assert report.status_code == 200
    rows = {t["user_id"]: t for t in report.json()["teachers"]}
    assert set(rows) == {T_A, T_B} and rows[T_A]["percent"] == 33 and rows[T_B]["percent"] == 0
    other = await api.client.get(
        f"/api/v1/progress/cohorts/{COURSE_RU_ID}", headers=admin(api, str(uuid.uuid4()))
    )
    assert other.json()["teachers"] == []
    assert_problem(
        await api.client.get(f"/api/v1/progress/cohorts/{COURSE_RU_ID}", headers=api.token(T_A)), 403
    )


async def test_bad_submissions_over_http_store_nothing(progress_api: ProgressAPI) -> None:
    api = progress_api
    cases = [
        ({"course_id": "c1", "quiz_id": "q9", "answers": {"x": "y"}}, 422),  # quiz not in the pinned version
        ({"course_id": "c1", "quiz_id": "q1", "answers": {"zzz": "a"}}, 422),  # question not in the quiz
        ({"course_id": "c-other", "quiz_id": "q1", "answers": RIGHT}, 403),  # not enrolled
        ({"course_id": "c1", "quiz_id": "q1", "answers": {}}, 422),  # nothing answered
        ({"course_id": "c1", "quiz_id": "q1", "answers": RIGHT, "extra": 1}, 422),
        ({"id": "not-a-uuid", "course_id": "c1", "quiz_id": "q1", "answers": RIGHT}, 422),
    ]
    for body, status in cases:
        assert_problem(await api.client.post(SUBMIT, json=body, headers=api.token()), status)
    assert_problem(
        await api.client.post(SUBMIT, json=cases[0][0], headers=api.token(roles=("analyst",))), 403
    )
    assert api.count(Submission) == 0 and api.events("submission.received") == []
