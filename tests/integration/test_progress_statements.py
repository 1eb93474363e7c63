"""xAPI statements over HTTP on SQLite and PostgreSQL: append-only, deduplicated by id, every bad
input a problem+json that stores nothing."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from libs.db import session_scope
from services.progress.models import Completion, Enrolment, Statement
from services.progress.xapi import VERBS, course_activity
from tests.integration import progress_app
from tests.integration.progress_app import OTHER_ID, TEACHER_ID, ProgressAPI
from tests.integration.test_gateway_identity import assert_problem

progress_api = progress_app.progress_api

pytestmark = pytest.mark.asyncio
URL = "/api/v1/progress/xapi/statements"


def statement(
    item: str = "l1", verb: str = "experienced", user: str = TEACHER_ID, **extra: Any
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"account": {"homePage": "https://ustaz.example", "name": user}},
        "verb": {"id": VERBS[verb]},
        "object": {"id": course_activity("c1", item)},
        "timestamp": "2026-11-20T09:30:00+05:00",
        **extra,
    }


async def post(api: ProgressAPI, body: Any, user: str = TEACHER_ID) -> Any:
    return await api.client.post(URL, json=body, headers=api.token(user))


async def test_a_statement_is_stored_with_server_time_and_its_own_timestamp(
    progress_api: ProgressAPI,
) -> None:
    sent = statement()
    before = datetime.now(UTC)
    response = await post(progress_api, sent)
    assert response.status_code == 200, response.text
    assert response.json() == {"ids": [sent["id"]], "flagged": []}
    assert response.headers["x-experience-api-version"] == "1.0.3"
    page = (await progress_api.client.get(URL, headers=progress_api.token())).json()
    [got] = page["statements"]
    assert got["id"] == sent["id"] and got["timestamp"] == "2026-11-20T04:30:00Z"
    assert before <= datetime.fromisoformat(got["stored"]) <= datetime.now(UTC)
    assert got["version"] == "1.0.3" and got["authority"]["account"]["name"] == "ustaz-progress"
    # The teacher's first record of the course starts the enrolment for analytics (the only event a
    # statement causes; statements themselves are read from the store, not from events).
    [event] = progress_api.events("enrolment.started")
    assert event.payload["user_id"] == TEACHER_ID and event.payload["course_id"] == "c1"
    assert datetime.fromisoformat(event.payload["stored"]) == datetime.fromisoformat(got["stored"])


async def test_500_offline_records_resent_three_times_and_shuffled_are_held_once(
    progress_api: ProgressAPI,
) -> None:
    records = [statement(item=random.choice(["l1", "l2", "q1"])) for _ in range(500)]
    for _ in range(3):
        shuffled = random.sample(records, len(records))
        for start in range(0, 500, 100):
            response = await post(progress_api, shuffled[start : start + 100])
            assert response.status_code == 200, response.text
    assert progress_api.count(Statement) == 500
    assert len(progress_api.events("enrolment.started")) == 1


async def test_same_id_with_other_content_is_409_and_the_batch_stores_nothing(
    progress_api: ProgressAPI,
) -> None:
    first = statement()
    assert (await post(progress_api, first)).status_code == 200
    changed = {**first, "verb": {"id": VERBS["completed"]}}
    fresh = statement(item="l2")
    body = assert_problem(await post(progress_api, [fresh, changed]), 409)
    assert body["ids"] == [first["id"]]
    assert progress_api.count(Statement) == 1
    # The same instant spelled in another time zone is the same content.
    same = {**first, "timestamp": "2026-11-20T04:30:00Z"}
    assert (await post(progress_api, same)).status_code == 200


async def test_a_batch_repeating_an_id_is_400(progress_api: ProgressAPI) -> None:
    one = statement()
    body = assert_problem(await post(progress_api, [one, statement(item="l2"), one]), 400)
    assert body["ids"] == [one["id"]]
    assert progress_api.count(Statement) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: s["verb"].update(id="http://adlnet.gov/expapi/verbs/liked"), "0.verb.id"),
        (lambda s: s.pop("actor"), "0.actor"),
        (lambda s: s.pop("object"), "0.object"),
        (lambda s: s.update(id="not-a-uuid"), "0.id"),
        (lambda s: s.update(timestamp="2026-11-20T09:30:00"), "0.timestamp"),
        (lambda s: s.update(timestamp="yesterday"), "0.timestamp"),
        (lambda s: s["object"].update(id="no scheme here"), "0.object"),
        (lambda s: s.update(result={"score": {"scaled": 1.5}}), "0.result.score.scaled"),
        (lambda s: s.update(result={"duration": "90 seconds"}), "0.result.duration"),
        (lambda s: s.update(attachments=[]), "0.attachments"),
        (lambda s: s.update(stored="2026-11-20T09:30:00Z"), "0.stored"),
        (lambda s: s.update(object={"objectType": "StatementRef", "id": str(uuid.uuid4())}), "0"),
    ],
)
async def test_malformed_statements_are_422_and_store_nothing(
    progress_api: ProgressAPI, change: Any, field: str
) -> None:
    bad = statement()
    change(bad)
    body = assert_problem(await post(progress_api, [statement(item="l2"), bad][1:]), 422)
    assert any(e["field"].startswith(field) for e in body["errors"]), body["errors"]
    assert progress_api.count(Statement) == 0


async def test_not_json_empty_and_non_statement_bodies_are_400(progress_api: ProgressAPI) -> None:
    headers = {**progress_api.token(), "content-type": "application/json"}
    assert_problem(await progress_api.client.post(URL, content=b"{nope", headers=headers), 400)
    assert_problem(await post(progress_api, []), 400)
    assert_problem(await post(progress_api, "a statement"), 400)
    assert progress_api.count(Statement) == 0


async def test_an_oversize_batch_is_413(progress_api: ProgressAPI) -> None:
    body = assert_problem(await post(progress_api, [statement() for _ in range(101)]), 413)
    assert "at most 100" in body["detail"]
    assert progress_api.count(Statement) == 0


async def test_a_future_timestamp_is_accepted_and_flagged(progress_api: ProgressAPI) -> None:
    future = statement(timestamp=(datetime.now(UTC) + timedelta(days=2)).isoformat())
    slightly_fast = statement(item="l2", timestamp=(datetime.now(UTC) + timedelta(minutes=1)).isoformat())
    response = await post(progress_api, [future, slightly_fast])
    assert response.status_code == 200 and response.json()["flagged"] == [future["id"]]
    page = (await progress_api.client.get(URL, headers=progress_api.token())).json()
    assert page["flagged"] == [future["id"]]
    assert (await post(progress_api, future)).json()["flagged"] == [future["id"]]  # also when resent


async def test_another_teachers_actor_is_403_to_write_and_to_read(progress_api: ProgressAPI) -> None:
    body = assert_problem(await post(progress_api, [statement(), statement(user=OTHER_ID)]), 403)
    assert len(body["ids"]) == 1
    assert progress_api.count(Statement) == 0
    agent = json.dumps({"account": {"homePage": "https://ustaz.example", "name": OTHER_ID}})
    assert_problem(
        await progress_api.client.get(URL, params={"agent": agent}, headers=progress_api.token()), 403
    )
    mine = json.dumps({"account": {"homePage": "https://ustaz.example", "name": TEACHER_ID}})
    assert (
        await progress_api.client.get(URL, params={"agent": mine}, headers=progress_api.token())
    ).status_code == 200
    # Reading returns only your own records.
    assert (await post(progress_api, statement(user=OTHER_ID), user=OTHER_ID)).status_code == 200
    page = (await progress_api.client.get(URL, headers=progress_api.token())).json()
    assert page["statements"] == []


async def test_a_course_not_enrolled_is_403_and_an_item_outside_the_version_422(
    progress_api: ProgressAPI,
) -> None:
    stranger = statement()
    stranger["object"]["id"] = course_activity("c9", "l1")
    assert_problem(await post(progress_api, stranger), 403)
    assert_problem(await post(progress_api, statement(item="l99")), 422)
    in_context = statement()
    in_context["object"]["id"] = "https://example.org/video/1"
    in_context["context"] = {"contextActivities": {"parent": [{"id": course_activity("c9")}]}}
    assert_problem(await post(progress_api, in_context), 403)
    assert progress_api.count(Statement) == 0
    teacher_only = {"authorization": progress_api.token(roles=("analyst",))["authorization"]}
    assert_problem(await progress_api.client.post(URL, json=statement(), headers=teacher_only), 403)
    assert_problem(await progress_api.client.post(URL, json=statement()), 401)


async def test_voiding_hides_a_statement_and_is_itself_recorded(progress_api: ProgressAPI) -> None:
    target = statement()
    await post(progress_api, target)
    void = statement(verb="voided", object={"objectType": "StatementRef", "id": target["id"]})
    assert (await post(progress_api, void)).status_code == 200
    page = (await progress_api.client.get(URL, headers=progress_api.token())).json()
    assert [s["id"] for s in page["statements"]] == [void["id"]]
    voided = (
        await progress_api.client.get(
            URL, params={"voidedStatementId": target["id"]}, headers=progress_api.token()
        )
    ).json()
    assert [s["id"] for s in voided["statements"]] == [target["id"]]
    hidden = (
        await progress_api.client.get(URL, params={"statementId": target["id"]}, headers=progress_api.token())
    ).json()
    assert hidden["statements"] == []
    # Voiding a voiding statement, a missing one, one in the same batch, or someone else's: refused.
    assert_problem(
        await post(
            progress_api, statement(verb="voided", object={"objectType": "StatementRef", "id": void["id"]})
        ),
        422,
    )
    assert_problem(
        await post(
            progress_api,
            statement(verb="voided", object={"objectType": "StatementRef", "id": str(uuid.uuid4())}),
        ),
        422,
    )
    later = statement(item="l2")
    assert_problem(
        await post(
            progress_api,
            [later, statement(verb="voided", object={"objectType": "StatementRef", "id": later["id"]})],
        ),
        422,
    )
    theirs = statement(user=OTHER_ID)
    await post(progress_api, theirs, user=OTHER_ID)
    assert_problem(
        await post(
            progress_api, statement(verb="voided", object={"objectType": "StatementRef", "id": theirs["id"]})
        ),
        403,
    )
    assert progress_api.count(Statement) == 3


async def test_filters_and_cursor_pages_cover_everything_once(progress_api: ProgressAPI) -> None:
    views = [statement(item=i) for i in ("l1", "l2", "l1", "l2", "l1")]
    answers = [statement(item="q1", verb="answered") for _ in range(2)]
    await post(progress_api, views)
    middle = datetime.now(UTC)
    await post(progress_api, answers)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    pages = 0
    while True:
        page = (await progress_api.client.get(URL, params=params, headers=progress_api.token())).json()
        seen += [s["id"] for s in page["statements"]]
        pages += 1
        if not page["more"]:
            break
        params = dict(httpx_params(page["more"]))
    assert pages == 3 and sorted(seen) == sorted(s["id"] for s in views + answers) and len(set(seen)) == 7
    # newest first: a batch keeps its order (its i-th statement is stored i µs after the first)
    assert seen[:2] == [answers[1]["id"], answers[0]["id"]]

    async def ids(**query: Any) -> set[str]:
        page = (await progress_api.client.get(URL, params=query, headers=progress_api.token())).json()
        return {s["id"] for s in page["statements"]}

    assert await ids(verb=VERBS["answered"]) == {s["id"] for s in answers}
    assert await ids(activity=course_activity("c1", "l2")) == {views[1]["id"], views[3]["id"]}
    assert await ids(since=middle.isoformat()) == {s["id"] for s in answers}
    assert await ids(until=middle.isoformat()) == {s["id"] for s in views}
    ascending = (
        await progress_api.client.get(
            URL, params={"ascending": "true", "limit": 7}, headers=progress_api.token()
        )
    ).json()
    assert [s["id"] for s in ascending["statements"]][-2:] == [s["id"] for s in answers]
    assert_problem(
        await progress_api.client.get(URL, params={"cursor": "garbage!"}, headers=progress_api.token()), 400
    )
    assert_problem(await progress_api.client.get(URL, params={"limit": 0}, headers=progress_api.token()), 422)
    assert_problem(
        await progress_api.client.get(
            URL, params={"since": "2026-01-01T00:00:00"}, headers=progress_api.token()
        ),
        422,
    )


def httpx_params(more: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl, urlsplit

    return parse_qsl(urlsplit(more).query)


async def test_lesson_views_complete_an_enrolment_that_requires_them(progress_api: ProgressAPI) -> None:
    from services.progress import service
    from services.progress.schemas import SubmissionCreate
    from tests.integration.progress_app import TEACHER
    from tests.integration.test_progress_rules import RIGHT

    with session_scope(progress_api.engine) as session:
        enrolment = session.exec(select(Enrolment).where(Enrolment.user_id == TEACHER_ID)).one()
        enrolment.require_lessons = True
        session.add(enrolment)
    with session_scope(progress_api.engine) as session:
        submission, _ = service.submit(
            session, TEACHER, SubmissionCreate(course_id="c1", quiz_id="q1", answers=RIGHT)
        )
    with session_scope(progress_api.engine) as session:
        assert service.grade_submission(session, submission.id).passed
    assert progress_api.count(Completion) == 0  # quiz passed, lessons not yet viewed
    graded = progress_api.events("submission.graded")
    assert len(graded) == 1 and graded[0].payload["passed"] is True
    page = (
        await progress_api.client.get(URL, params={"verb": VERBS["passed"]}, headers=progress_api.token())
    ).json()
    assert page["statements"][0]["object"]["id"] == course_activity("c1", "q1")
    await post(progress_api, statement(item="l1"))
    assert progress_api.count(Completion) == 0
    await post(progress_api, [statement(item="l2"), statement(item="l2")])
    await post(progress_api, statement(item="l1"))
    assert progress_api.count(Completion) == 1
    assert len(progress_api.events("course.completed")) == 1
