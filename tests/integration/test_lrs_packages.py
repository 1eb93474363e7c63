"""cmi5 and SCORM packages as course content, through the progress service's HTTP API and /xapi on
SQLite and PostgreSQL: import (as the course's item q1), launch for an enrolled teacher, cmi5's fetch
URL and LMS.LaunchData, the AU's statements under cmi5's rules (403s store nothing), moveOn →
satisfied → the course completed; SCORM's runtime page, files and commit into the State API."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from libs.auth import Principal
from libs.db import session_scope
from libs.errors import Forbidden, Unprocessable
from services.courses.schemas import CourseDetail
from services.progress.lrs import cmi5, packages
from services.progress.lrs.models import ContentPackage, LaunchSession, PackageFile
from services.progress.models import Completion, Statement
from tests.integration.lrs_app import LRS, PUBLIC, VERSION, basic, lrs
from tests.integration.progress_app import OTHER_ID, TEACHER_ID
from tests.integration.test_gateway_identity import assert_problem
from tests.packages import cmi5_package, scorm12_package, scorm2004_package

pytestmark = pytest.mark.asyncio
_ = lrs
AUTHOR = Principal(id="author-1", roles=("author",), name="Author", institute="i1")
COURSE = CourseDetail.model_validate(
    {
        "id": "c1",
        "slug": "demo",
        "title": "Демо",
        "summary": "",
        "language": "ru",
        "institute_id": "i1",
        "latest_version": 1,
        "content": {
            "title": "Демо",
            "framework": "F",
            "pass_mark": 0.7,
            "estimated_minutes": 30,
            "level": "Knowledge Acquisition",
            "licence": "CC-BY-4.0",
            "audience": {},
            "completion": {},
            "modules": [
                {
                    "id": "m1",
                    "title": "M",
                    "items": [
                        {"type": "lesson", "id": "l1", "title": "L1"},
                        {"type": "lesson", "id": "l2", "title": "L2"},
                        {"type": "quiz", "id": "q1", "title": "Q", "questions": []},
                    ],
                }
            ],
            "course_id": "c1",
            "version": 1,
            "language": "ru",
            "institute_id": "i1",
        },
    }
)
ACTOR = {"objectType": "Agent", "account": {"homePage": PUBLIC, "name": TEACHER_ID}}


def imported(lrs: LRS, data: bytes, item: str = "q1") -> ContentPackage:
    with session_scope(lrs.engine) as session:
        package = packages.import_package(session, AUTHOR, COURSE, item, data, max_unpacked=10_000_000)
        session.flush()
        session.expunge(package)
    return package


async def launched(lrs: LRS, package: ContentPackage, unit: str | None = None, sub: str = TEACHER_ID) -> Any:
    response = await lrs.client.post(
        f"/api/v1/progress/lrs/packages/{package.id}/launch", json={"unit": unit}, headers=lrs.bearer(sub)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def token_of(lrs: LRS, fetch_url: str) -> dict[str, str]:
    answer = await lrs.client.post(urlsplit(fetch_url).path)
    assert answer.status_code == 200, answer.text
    return {"authorization": f"Basic {answer.json()['auth-token']}", **VERSION}


def au_statement(
    verb: str, au: str, registration: str, *, moveon: bool = False, **extra: Any
) -> dict[str, Any]:
    categories = [{"id": cmi5.CATEGORY}] + ([{"id": cmi5.MOVEON}] if moveon else [])
    return {
        "id": str(uuid.uuid4()),
        "actor": ACTOR,
        "verb": {"id": cmi5.CMI5_VERBS[verb]},
        "object": {"id": au},
        "context": {"registration": registration, "contextActivities": {"category": categories}},
        **extra,
    }


def completions(lrs: LRS) -> list[Completion]:
    with session_scope(lrs.engine, readonly=True) as session:
        return list(session.exec(select(Completion)).all())


def verbs_stored(lrs: LRS, registration: str) -> list[str]:
    with session_scope(lrs.engine, readonly=True) as session:
        rows = session.exec(select(Statement).order_by(Statement.stored)).all()  # type: ignore[arg-type]
        return [
            cmi5.VERB_NAMES.get(r.body["verb"]["id"], r.body["verb"]["id"])
            for r in rows
            if (r.body.get("context") or {}).get("registration") == registration
        ]


async def run_au(lrs: LRS, headers: dict[str, str], au: str, registration: str, score: float | None) -> None:
    batch = [au_statement("initialized", au, registration)]
    batch.append(au_statement("completed", au, registration, moveon=True, result={"completion": True}))
    if score is not None:
        batch.append(
            au_statement(
                "passed", au, registration, moveon=True, result={"success": True, "score": {"scaled": score}}
            )
        )
    batch.append(au_statement("terminated", au, registration))
    response = await lrs.client.post("/xapi/statements", json=batch, headers=headers)
    assert response.status_code == 200, response.text


async def test_a_cmi5_course_launched_run_and_satisfied_completes_the_course(lrs: LRS) -> None:
    package = imported(lrs, cmi5_package())
    intro, test = (u["activity_id"] for u in package.units)
    first = await launched(lrs, package, intro)
    query = {k: v[0] for k, v in parse_qs(urlsplit(first["url"]).query).items()}
    assert urlsplit(first["url"]).path == f"/xapi/content/{first['launch_id']}/intro/index.html"
    assert query["endpoint"] == f"{PUBLIC}/xapi/" and query["activityId"] == intro
    assert query["registration"] == first["registration"] and json.loads(query["actor"]) == ACTOR
    assert (await lrs.client.get(urlsplit(first["url"]).path)).text.startswith("<!doctype html>")

    headers = await token_of(lrs, query["fetch"])
    again = await lrs.client.post(urlsplit(query["fetch"]).path)
    assert again.status_code == 400 and again.json()["error-code"] == "1"
    state = await lrs.client.get(
        "/xapi/activities/state",
        params={
            "activityId": intro,
            "agent": query["actor"],
            "registration": query["registration"],
            "stateId": "LMS.LaunchData",
        },
        headers=headers,
    )
    assert state.status_code == 200
    data = state.json()
    assert data["moveOn"] == "Completed" and data["launchMode"] == "Normal"
    assert data["contextTemplate"]["extensions"][cmi5.SESSION_EXT] == first["launch_id"]
    assert verbs_stored(lrs, first["registration"]) == ["launched"]

    await run_au(lrs, headers, intro, first["registration"], None)
    assert completions(lrs) == []  # one AU of two satisfied
    second = await launched(lrs, package, test)
    assert second["registration"] == first["registration"]  # one registration per teacher and package
    second_query = {k: v[0] for k, v in parse_qs(urlsplit(second["url"]).query).items()}
    assert urlsplit(second["url"]).query.startswith("lang=en&")
    headers2 = await token_of(lrs, second_query["fetch"])
    await run_au(lrs, headers2, test, second["registration"], 0.9)
    [done] = completions(lrs)
    assert (done.user_id, done.course_id) == (TEACHER_ID, "c1")
    stored = verbs_stored(lrs, first["registration"])
    assert stored.count("satisfied") == 2 and stored.count("launched") == 2  # the block, then the course
    with session_scope(lrs.engine, readonly=True) as session:
        satisfied = [
            r.body["object"]["id"]
            for r in session.exec(select(Statement)).all()
            if r.body["verb"]["id"] == cmi5.CMI5_VERBS["satisfied"]
        ]
    assert sorted(satisfied) == ["https://example.org/cmi5/block/1", "https://example.org/cmi5/course"]

    with session_scope(lrs.engine, readonly=True) as session:
        owners = {r.user_id for r in session.exec(select(Statement)).all()}
    assert owners == {TEACHER_ID}
    late = au_statement("completed", test, second["registration"], moveon=True, result={"completion": True})
    refused = await lrs.client.post("/xapi/statements", json=late, headers=headers2)
    assert_problem(refused, 403)
    assert "terminated" in refused.json()["detail"]


async def test_broken_cmi5_rules_are_403_and_store_nothing(lrs: LRS) -> None:
    package = imported(lrs, cmi5_package())
    test = package.units[1]["activity_id"]
    out = await launched(lrs, package, test)
    fetch = parse_qs(urlsplit(out["url"]).query)["fetch"][0]
    headers = await token_of(lrs, fetch)
    reg = out["registration"]
    before = lrs.count()
    cases = [
        [au_statement("completed", test, reg, moveon=True, result={"completion": True})],  # not initialized
        [
            au_statement("initialized", test, reg),
            au_statement(
                "passed", test, reg, moveon=True, result={"success": True, "score": {"scaled": 0.5}}
            ),
        ],
        [{**au_statement("initialized", test, reg), "actor": {"mbox": "mailto:someone@example.org"}}],
        [au_statement("initialized", test, str(uuid.uuid4()))],
    ]
    for batch in cases:
        assert_problem(await lrs.client.post("/xapi/statements", json=batch, headers=headers), 403)
    assert lrs.count() == before
    # the token reads only its own registration; a client's key still reads everything of its store
    assert_problem(await lrs.client.get("/xapi/statements", headers=headers), 403)
    own = await lrs.client.get("/xapi/statements", params={"registration": reg}, headers=headers)
    assert own.status_code == 200 and [s["verb"]["id"] for s in own.json()["statements"]] == [
        cmi5.CMI5_VERBS["launched"]
    ]
    assert (await lrs.get(registration=reg)).json()["statements"]
    someone = json.dumps({"account": {"homePage": PUBLIC, "name": OTHER_ID}})
    for path in ("/xapi/agents", "/xapi/agents/profile"):
        assert_problem(await lrs.client.get(path, params={"agent": someone}, headers=headers), 403)
    mine = await lrs.client.get("/xapi/agents", params={"agent": json.dumps(ACTOR)}, headers=headers)
    assert mine.status_code == 200
    bad = base64.b64encode(f"cmi5-{out['launch_id']}:wrong".encode()).decode()
    assert_problem(
        await lrs.client.get(
            "/xapi/statements",
            params={"registration": reg},
            headers={"authorization": f"Basic {bad}", **VERSION},
        ),
        401,
    )


async def test_launching_needs_an_enrolled_teacher_and_a_known_unit(lrs: LRS) -> None:
    package = imported(lrs, scorm12_package())
    path = f"/api/v1/progress/lrs/packages/{package.id}/launch"
    assert_problem(await lrs.client.post(path, json={}, headers=lrs.bearer("stranger")), 404)
    assert_problem(
        await lrs.client.post(path, json={"unit": "urn:nope"}, headers=lrs.bearer(TEACHER_ID)), 404
    )
    assert_problem(
        await lrs.client.post(path, json={}, headers=lrs.bearer(TEACHER_ID, roles=("author",))), 403
    )
    assert_problem(
        await lrs.client.post(
            "/api/v1/progress/lrs/packages/nope/launch", json={}, headers=lrs.bearer(TEACHER_ID)
        ),
        404,
    )
    with session_scope(lrs.engine, readonly=True) as session:
        assert session.exec(select(LaunchSession)).all() == []
    fetch = await lrs.client.post("/xapi/cmi5/fetch/no-such-launch")
    assert fetch.status_code == 400 and fetch.json()["error-code"] == "3"
    assert_problem(await lrs.client.get("/xapi/content/no-such-launch/sco/index.html"), 404)


async def test_import_refuses_a_stranger_a_bad_item_and_a_bad_package_storing_nothing(lrs: LRS) -> None:
    other = Principal(id="author-2", roles=("author",), name="Other", institute="i2")
    with session_scope(lrs.engine) as session:
        with pytest.raises(Forbidden):
            packages.import_package(session, other, COURSE, "q1", scorm12_package(), max_unpacked=10**7)
        with pytest.raises(Unprocessable) as no_item:
            packages.import_package(session, AUTHOR, COURSE, "nope", scorm12_package(), max_unpacked=10**7)
        with pytest.raises(Unprocessable) as broken:
            packages.import_package(session, AUTHOR, COURSE, "q1", b"not a zip", max_unpacked=10**7)
    assert no_item.value.extra["errors"][0]["field"] == "item_id"
    assert broken.value.extra["errors"] == [
        {"file": "(package)", "message": "is not a zip file (nor a cmi5.xml)"}
    ]
    assert lrs.count_rows(ContentPackage) == lrs.count_rows(PackageFile) == 0


@pytest.mark.parametrize("make", [scorm12_package, scorm2004_package])
async def test_a_scorm_commit_keeps_the_cmi_data_and_a_pass_completes_the_course(lrs: LRS, make: Any) -> None:
    package = imported(lrs, make())
    out = await launched(lrs, package)
    assert urlsplit(out["url"]).path == f"/xapi/scorm/{out['launch_id']}/"
    page = await lrs.client.get(urlsplit(out["url"]).path)
    assert page.status_code == 200 and "/xapi/scorm-runtime.js" in page.text
    assert f"/xapi/content/{out['launch_id']}/sco/index.html" in page.text
    runtime = await lrs.client.get("/xapi/scorm-runtime.js")
    assert "API_1484_11" in runtime.text and "LMSInitialize" in runtime.text
    sco = await lrs.client.get(f"/xapi/content/{out['launch_id']}/sco/index.html")
    assert sco.headers["content-type"].startswith("text/html")
    assert sco.headers["x-frame-options"] == "SAMEORIGIN"  # framed by the runtime page, by no other site
    assert "frame-ancestors 'self'" in sco.headers["content-security-policy"]
    assert "connect-src 'self'" in sco.headers["content-security-policy"]

    v12 = package.kind == "scorm12"
    incomplete = {"cmi.core.lesson_status": "incomplete"} if v12 else {"cmi.completion_status": "incomplete"}
    commit = f"/xapi/scorm/{out['launch_id']}/commit"
    assert (await lrs.client.post(commit, json={"cmi": incomplete})).status_code == 200
    assert completions(lrs) == []
    cmi = (
        {"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "85", "cmi.core.exit": "suspend"}
        if v12
        else {
            "cmi.completion_status": "completed",
            "cmi.success_status": "passed",
            "cmi.score.scaled": "0.85",
        }
    )
    assert (await lrs.client.post(commit, json={"cmi": cmi, "finished": True})).status_code == 200
    [done] = completions(lrs)
    assert done.user_id == TEACHER_ID
    verbs = verbs_stored(lrs, out["registration"])
    assert "passed" in verbs and verbs.count("satisfied") == 1

    state = await lrs.client.get(
        "/xapi/activities/state",
        params={
            "activityId": package.units[0]["activity_id"],
            "agent": json.dumps(ACTOR),
            "registration": out["registration"],
            "stateId": packages.SCORM_STATE,
        },
        headers=basic(),
    )
    assert state.status_code == 200 and state.json() == cmi
    resumed = await launched(lrs, package)
    page = await lrs.client.get(urlsplit(resumed["url"]).path)
    assert "0.85" in page.text or "85" in page.text  # the saved cmi data is handed to the runtime


async def test_a_bad_scorm_commit_is_a_problem_and_changes_nothing(lrs: LRS) -> None:
    package = imported(lrs, scorm12_package())
    out = await launched(lrs, package, sub=OTHER_ID)
    commit = f"/xapi/scorm/{out['launch_id']}/commit"
    before = lrs.count()
    assert_problem(await lrs.client.post(commit, json={"cmi": {"cmi.core.lesson_status": 3}}), 422)
    assert_problem(await lrs.client.post(commit, json={"values": {}}), 422)
    assert_problem(await lrs.client.post("/xapi/scorm/nope/commit", json={"cmi": {}}), 404)
    assert lrs.count() == before


async def test_a_session_left_unterminated_is_abandoned_when_the_au_is_launched_again(lrs: LRS) -> None:
    package = imported(lrs, cmi5_package())
    intro = package.units[0]["activity_id"]
    first = await launched(lrs, package, intro)
    headers = await token_of(lrs, parse_qs(urlsplit(first["url"]).query)["fetch"][0])
    started = au_statement("initialized", intro, first["registration"])
    assert (await lrs.client.post("/xapi/statements", json=started, headers=headers)).status_code == 200
    await launched(lrs, package, intro)
    assert verbs_stored(lrs, first["registration"]) == ["launched", "initialized", "abandoned", "launched"]
    late = au_statement("completed", intro, first["registration"], moveon=True, result={"completion": True})
    refused = await lrs.client.post("/xapi/statements", json=late, headers=headers)
    assert_problem(refused, 403)
    assert "abandoned" in refused.json()["detail"]
