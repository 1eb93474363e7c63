"""Quiz policies over the real progress app on SQLite and PostgreSQL (docs/adr/0022-quiz-policy.md):
attempts and cool-down enforced at submission (refusals store nothing, concurrent copies cannot
exceed the limit), the draw per attempt, and results only as far as the feedback policy allows."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from libs.db import session_scope
from services.courses.schemas import AnswerKeyDocument, CourseSummary
from services.progress import service
from services.progress.models import Submission, outbox
from tests.integration.progress_app import TEACHER, ProgressAPI, progress_api  # noqa: F401

pytestmark = pytest.mark.asyncio
SUBMIT = "/api/v1/progress/submissions"
RIGHT = {"q1": "b", "q2": False, "q3": 70}


def quiz(**policy: Any) -> dict[str, Any]:
    return {
        "quiz_id": "quiz",
        "pass_mark": 0.7,
        "policy": policy,
        "questions": [
            {
                "id": "q1",
                "kind": "single",
                "prompt": "Main aim of formative assessment?",
                "options": [{"id": "a", "text": "Grades"}, {"id": "b", "text": "Adjust teaching"}],
                "answer": {
                    "correct": ["b"],
                    "explanation": "Formative assessment steers learning.",
                    "explanations": {"a": "Grades are summative."},
                },
            },
            {
                "id": "q2",
                "kind": "true_false",
                "prompt": "A quick check needs the internet.",
                "answer": {"correct": ["false"], "explanation": "Cards work offline."},
            },
            {
                "id": "q3",
                "kind": "numeric",
                "prompt": "21 of 30 in per cent?",
                "answer": {"value": 70, "tolerance": 0.5, "explanation": "21/30 = 0.7."},
            },
        ],
    }


def with_policy(api: ProgressAPI, **policy: Any) -> str:
    """A new course whose one quiz has this policy; the teacher is enrolled, its key cached."""
    course_id = str(uuid.uuid4())
    course = CourseSummary(
        id=course_id, slug="p", title="P", summary="", language="en", institute_id="i1", latest_version=1
    )
    key = AnswerKeyDocument.model_validate(
        {"course_id": course_id, "version": 1, "pass_mark": 0.7, "lessons": [], "quizzes": [quiz(**policy)]}
    )
    with session_scope(api.engine) as session:
        service.enrol(session, TEACHER, course)
        service.store_answer_key(session, course_id, 1, key)
    return course_id


async def post(api: ProgressAPI, course_id: str, answers: dict[str, Any], **extra: Any) -> Any:
    body = {"course_id": course_id, "quiz_id": "quiz", "answers": answers, **extra}
    return await api.client.post(SUBMIT, json=body, headers=api.token())


def grade(api: ProgressAPI, submission_id: str) -> None:
    with session_scope(api.engine) as session:
        service.grade_submission(session, submission_id)


async def result(api: ProgressAPI, submission_id: str) -> dict[str, Any]:
    response = await api.client.get(f"{SUBMIT}/{submission_id}", headers=api.token())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def attempt(api: ProgressAPI, course_id: str, answers: dict[str, Any]) -> dict[str, Any]:
    response = await post(api, course_id, answers)
    assert response.status_code == 202, response.text
    grade(api, response.json()["id"])
    return await result(api, response.json()["id"])


def stored(api: ProgressAPI, course_id: str) -> tuple[int, int]:
    """Submissions of the course's quiz, and `submission.received` events, stored so far."""
    with session_scope(api.engine, readonly=True) as session:
        rows = session.exec(select(Submission)).all()
        events = session.execute(outbox.select().where(outbox.c.topic == "submission.received")).all()
    mine = [r for r in rows if r.quiz_id == "quiz" and r.user_id == TEACHER.id]
    ids = {r.id for r in mine}
    return len(mine), len([e for e in events if e.payload["submission_id"] in ids])


def problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"].endswith(slug), body
    return body


async def test_attempts_run_out_with_a_409_that_stores_nothing(progress_api: ProgressAPI) -> None:  # noqa: F811
    api = progress_api
    course = with_policy(api, max_attempts=2)
    first = await attempt(api, course, {"q1": "a"})
    assert first["attempt"] == 1 and first["attempts_left"] == 1 and first["max_attempts"] == 2
    last = await attempt(api, course, {"q1": "a"})
    assert last["attempt"] == 2 and last["attempts_left"] == 0
    before = stored(api, course)
    problem(await post(api, course, RIGHT), 409, "no-attempts-left")
    assert stored(api, course) == before == (2, 2)
    state = (
        await api.client.get(f"/api/v1/progress/quizzes/{course}/quiz/attempt", headers=api.token())
    ).json()
    assert state["attempts_left"] == 0 and not state["can_submit"] and state["questions"] == []


async def test_the_cool_down_is_a_429_with_retry_after_then_the_attempt_opens(
    progress_api: ProgressAPI,
) -> None:  # noqa: F811
    api = progress_api
    course = with_policy(api, cooldown_seconds=2)
    await attempt(api, course, {"q1": "a"})
    refused = await post(api, course, RIGHT)
    body = problem(refused, 429, "cool-down")
    assert 1 <= int(refused.headers["Retry-After"]) <= 2 and body["available_at"]
    assert stored(api, course) == (1, 1)
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while (response := await post(api, course, RIGHT)).status_code == 429:  # poll until the cool-down ends
        assert datetime.now(UTC) < deadline, "the cool-down did not end"
        await asyncio.sleep(0.2)
    assert response.status_code == 202, response.text
    assert response.json()["attempt"] == 2 and stored(api, course) == (2, 2)


async def test_concurrent_submissions_cannot_exceed_the_limit(progress_api: ProgressAPI) -> None:  # noqa: F811
    api = progress_api
    course = with_policy(api, max_attempts=3)
    responses = await asyncio.gather(*[post(api, course, RIGHT) for _ in range(12)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [202] * 3 + [409] * 9, [r.text for r in responses if r.status_code not in (202, 409)]
    assert stored(api, course) == (3, 3)
    assert sorted(r.json()["attempt"] for r in responses if r.status_code == 202) == [1, 2, 3]


async def test_an_attempt_submitted_twice_is_refused_the_second_time(progress_api: ProgressAPI) -> None:  # noqa: F811
    api = progress_api
    course = with_policy(api, max_attempts=5)
    assert (await post(api, course, RIGHT, attempt=1)).status_code == 202
    problem(await post(api, course, RIGHT, attempt=1), 409, "attempt-submitted")
    assert stored(api, course) == (1, 1)


async def test_each_attempt_shows_wrong_questions_with_explanations_but_not_the_key(
    progress_api: ProgressAPI,
) -> None:  # noqa: F811
    api = progress_api
    course = with_policy(api, max_attempts=2, feedback="each_attempt")
    first = await attempt(api, course, {"q1": "a", "q2": False, "q3": 70})
    by_id = {q["id"]: q for q in first["questions"]}
    assert by_id["q1"]["correct"] is False and by_id["q2"]["correct"] is True
    assert by_id["q1"]["explanation"] == "Formative assessment steers learning."
    assert by_id["q1"]["chosen"] == [{"option": "a", "explanation": "Grades are summative."}]
    assert all(q["answer"] is None for q in first["questions"]), "no correct answer before the last attempt"
    assert first["pass_mark"] == 0.7 and first["attempts_left"] == 1
    last = await attempt(api, course, {"q1": "a"})
    assert {q["id"]: q["answer"] for q in last["questions"]}["q1"]["correct"] == ["b"]


def _visible(view: dict[str, Any]) -> dict[str, Any]:
    """What a result tells about the answers: everything but its own identity, times and counters."""
    skip = {"id", "submitted_at", "graded_at", "attempt", "attempts_left", "available_at"}
    return {k: v for k, v in view.items() if k not in skip}


async def test_trial_and_error_learns_only_the_score_after_the_last_and_score_only(
    progress_api: ProgressAPI,
) -> None:  # noqa: F811
    api = progress_api
    for feedback in ("after_last", "score_only"):
        course = with_policy(api, max_attempts=3, feedback=feedback)
        # Two attempts with the same score, right on different questions: the results must not differ,
        # so no attempt can tell which answer was the right one.
        one = await attempt(api, course, {"q1": "b", "q2": True, "q3": 1})
        two = await attempt(api, course, {"q1": "a", "q2": False, "q3": 1})
        assert one["score"] == two["score"] and one["questions"] is None and one["results"] is None
        assert _visible(one) == _visible(two), feedback
        last = await attempt(api, course, {"q1": "a", "q2": True, "q3": 70})
        if feedback == "after_last":
            answers = {q["id"]: q["answer"] for q in last["questions"]}
            assert answers["q1"]["correct"] == ["b"] and answers["q3"]["value"] == 70
        else:
            assert last["questions"] is None and last["results"] is None
        # Earlier attempts, read again after the last, follow the policy too.
        again = await result(api, one["id"])
        assert (again["questions"] is None) is (feedback == "score_only")


async def test_a_drawn_attempt_is_stable_and_graded_on_its_own_questions(progress_api: ProgressAPI) -> None:  # noqa: F811
    api = progress_api
    course = with_policy(api, draw=2, shuffle_options=True, max_attempts=3)
    url = f"/api/v1/progress/quizzes/{course}/quiz/attempt"
    first = (await api.client.get(url, headers=api.token())).json()
    assert first == (await api.client.get(url, headers=api.token())).json(), "a reload shows the same draw"
    drawn = [q["id"] for q in first["questions"]]
    assert len(drawn) == 2 and first["attempt"] == 1
    left_out = ({"q1", "q2", "q3"} - set(drawn)).pop()
    problem(await post(api, course, {left_out: RIGHT[left_out]}, attempt=1), 422, "validation-error")
    assert stored(api, course) == (0, 0)
    view = await attempt(api, course, {q: RIGHT[q] for q in drawn})
    assert view["score"] == 1.0 and view["passed"] and {q["id"] for q in view["questions"]} == set(drawn)
