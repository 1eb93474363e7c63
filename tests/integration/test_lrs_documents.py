"""State, Activity Profile and Agent Profile documents of /xapi on SQLite and PostgreSQL: ETags,
If-Match / If-None-Match (412), a profile PUT that states no intent (400, or 409 over an existing
document), JSON merge on POST, listing and deleting; /activities and /agents."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.integration.lrs_app import LRS, basic, lrs, statement
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio
_ = lrs
AGENT = json.dumps({"mbox": "mailto:learner@example.org"})
ACTIVITY = "http://example.org/activities/course-1"


async def test_state_documents_put_get_merge_list_delete(lrs: LRS) -> None:
    registration = str(uuid.uuid4())
    base = {"activityId": ACTIVITY, "agent": AGENT, "registration": registration}
    at = {**base, "stateId": "bookmark"}
    put = await lrs.client.put("/xapi/activities/state", params=at, json={"page": 3}, headers=basic())
    assert put.status_code == 204, put.text
    got = await lrs.client.get("/xapi/activities/state", params=at, headers=basic())
    assert (
        got.json() == {"page": 3} and got.headers["etag"].startswith('"') and "last-modified" in got.headers
    )
    merged = await lrs.client.post("/xapi/activities/state", params=at, json={"score": 7}, headers=basic())
    assert merged.status_code == 204
    assert (await lrs.client.get("/xapi/activities/state", params=at, headers=basic())).json() == {
        "page": 3,
        "score": 7,
    }
    text = {**basic(), "content-type": "text/plain"}
    assert_problem(
        await lrs.client.post("/xapi/activities/state", params=at, content=b"x", headers=text), 400
    )
    await lrs.client.put(
        "/xapi/activities/state", params={**base, "stateId": "suspend"}, content=b"raw", headers=text
    )
    listed = await lrs.client.get("/xapi/activities/state", params=base, headers=basic())
    assert sorted(listed.json()) == ["bookmark", "suspend"]
    other = await lrs.client.get("/xapi/activities/state", params=base, headers=basic("other-key"))
    assert other.json() == []  # another institute's store
    assert (
        await lrs.client.delete("/xapi/activities/state", params=base, headers=basic())
    ).status_code == 204
    assert_problem(await lrs.client.get("/xapi/activities/state", params=at, headers=basic()), 404)
    for bad in (
        {"activityId": ACTIVITY},
        {**at, "activityId": "not an iri"},
        {**at, "agent": "{}"},
        {**at, "registration": "x"},
        {**at, "colour": "blue"},
    ):
        assert_problem(await lrs.client.get("/xapi/activities/state", params=bad, headers=basic()), 400)


async def test_profile_concurrency_follows_etags(lrs: LRS) -> None:
    at = {"activityId": ACTIVITY, "profileId": "settings"}
    url = "/xapi/activities/profile"
    assert_problem(
        await lrs.client.put(url, params=at, json={"v": 1}, headers=basic()), 400
    )  # no intent stated
    created = await lrs.client.put(url, params=at, json={"v": 1}, headers={**basic(), "If-None-Match": "*"})
    assert created.status_code == 204
    etag = (await lrs.client.get(url, params=at, headers=basic())).headers["etag"]
    assert_problem(
        await lrs.client.put(url, params=at, json={"v": 2}, headers={**basic(), "If-None-Match": "*"}), 412
    )
    assert_problem(await lrs.client.put(url, params=at, json={"v": 2}, headers=basic()), 409)
    assert_problem(
        await lrs.client.put(url, params=at, json={"v": 2}, headers={**basic(), "If-Match": '"stale"'}), 412
    )
    assert (await lrs.client.get(url, params=at, headers=basic())).json() == {"v": 1}  # nothing changed
    replaced = await lrs.client.put(url, params=at, json={"v": 2}, headers={**basic(), "If-Match": etag})
    assert replaced.status_code == 204
    assert (await lrs.client.get(url, params=at, headers=basic())).json() == {"v": 2}
    agent_profile = {"agent": AGENT, "profileId": "prefs"}
    put = await lrs.client.put(
        "/xapi/agents/profile",
        params=agent_profile,
        json={"lang": "kk"},
        headers={**basic(), "If-None-Match": "*"},
    )
    assert put.status_code == 204
    assert (
        await lrs.client.get("/xapi/agents/profile", params={"agent": AGENT}, headers=basic())
    ).json() == ["prefs"]


async def test_activities_merge_definitions_and_agents_answer_a_person(lrs: LRS) -> None:
    first = statement(object={"id": ACTIVITY, "definition": {"name": {"en-US": "Course one"}}})
    second = statement(object={"id": ACTIVITY, "definition": {"name": {"kk-KZ": "Бірінші курс"}}})
    await lrs.post([first, second])
    activity = (
        await lrs.client.get("/xapi/activities", params={"activityId": ACTIVITY}, headers=basic())
    ).json()
    assert activity["definition"]["name"] == {"en-US": "Course one", "kk-KZ": "Бірінші курс"}
    person = (await lrs.client.get("/xapi/agents", params={"agent": AGENT}, headers=basic())).json()
    assert person == {"objectType": "Person", "name": ["A learner"], "mbox": ["mailto:learner@example.org"]}
    assert_problem(await lrs.client.get("/xapi/activities", headers=basic()), 400)
    assert_problem(await lrs.client.get("/xapi/agents", params={"agent": "[]"}, headers=basic()), 400)
