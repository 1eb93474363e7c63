"""The same enrolment or submission sent concurrently, with and without an Idempotency-Key, on SQLite
and PostgreSQL: one execution, the rest get its result (or a clean 409), never a 500 (issue 15, item 8)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import pytest

from deploy.seed import COURSE_RU_ID
from services.progress.models import Enrolment, Submission
from tests.integration import progress_app
from tests.integration.progress_app import ProgressAPI
from tests.integration.test_progress_enrolments import with_courses  # noqa: F401 (fixture)
from tests.integration.test_progress_rules import RIGHT

pytestmark = pytest.mark.asyncio
progress_api = progress_app.progress_api
ENROL = "/api/v1/progress/enrolments"
SUBMIT = "/api/v1/progress/submissions"
COPIES = 20


async def _all(api: ProgressAPI, path: str, body: dict[str, Any], headers: dict[str, str]) -> list[Any]:
    return list(
        await asyncio.gather(*(api.client.post(path, json=body, headers=headers) for _ in range(COPIES)))
    )


async def test_concurrent_enrolments_without_a_key_enrol_once(with_courses: ProgressAPI) -> None:  # noqa: F811
    api = with_courses
    answers = await _all(api, ENROL, {"course_id": COURSE_RU_ID}, api.token("t-race"))
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 1, 200: COPIES - 1}, [a.text for a in answers if a.status_code >= 300]
    assert len({a.json()["id"] for a in answers}) == 1
    assert api.count(Enrolment, Enrolment.user_id == "t-race") == 1
    assert len(api.events("enrolment.created")) == 1


async def test_concurrent_enrolments_with_one_key_run_once(with_courses: ProgressAPI) -> None:  # noqa: F811
    api = with_courses
    headers = {**api.token("t-key"), "Idempotency-Key": str(uuid.uuid4())}
    answers = await _all(api, ENROL, {"course_id": COURSE_RU_ID}, headers)
    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}, [a.text for a in answers]
    assert statuses[201] >= 1
    created = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(created) == 1 and api.count(Enrolment, Enrolment.user_id == "t-key") == 1
    replayed = [a for a in answers if a.status_code == 201 and a.headers.get("idempotent-replayed")]
    assert len(replayed) == statuses[201] - 1


async def test_concurrent_identical_submissions_store_one(progress_api: ProgressAPI) -> None:
    api = progress_api
    body = {"id": str(uuid.uuid4()), "course_id": "c1", "quiz_id": "q1", "answers": RIGHT}
    answers = await _all(api, SUBMIT, body, api.token())
    assert Counter(a.status_code for a in answers) == {202: COPIES}, [a.text for a in answers]
    assert {a.json()["id"] for a in answers} == {body["id"]}
    assert api.count(Submission, Submission.id == body["id"]) == 1
    assert len(api.events("submission.received")) == 1


async def test_concurrent_submissions_with_one_key_run_once(progress_api: ProgressAPI) -> None:
    api = progress_api
    headers = {**api.token(), "Idempotency-Key": str(uuid.uuid4())}
    body = {"course_id": "c1", "quiz_id": "q1", "answers": RIGHT}
    answers = await _all(api, SUBMIT, body, headers)
    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) <= {202, 409} and statuses[202] >= 1, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers if a.status_code == 202}) == 1
    assert api.count(Submission) == 1 and len(api.events("submission.received")) == 1
