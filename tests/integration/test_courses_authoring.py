"""Authoring workflow on SQLite and PostgreSQL: draft -> in review -> published -> archived, immutable
versions, diffs, translations, institute boundaries, and answer keys that never reach learners."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from deploy.seed import COURSE_EN_ID, INSTITUTE_ID, demo_course
from tests.conftest import mint
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="session")
OTHER_INSTITUTE = "00000000-0000-4000-8000-000000000099"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def author(issuer: Any) -> dict[str, str]:
    return bearer(mint(issuer, roles=("author",), inst=INSTITUTE_ID, name="Author"))


@pytest.fixture
def admin(issuer: Any) -> dict[str, str]:
    return bearer(mint(issuer, roles=("institute_admin",), inst=INSTITUTE_ID, name="Admin"))


@pytest.fixture
def stranger(issuer: Any) -> dict[str, str]:
    return bearer(mint(issuer, roles=("author",), inst=OTHER_INSTITUTE, name="Other author"))


def draft_body(slug: str = "new-course", language: str = "en", **extra: Any) -> dict[str, Any]:
    data = copy.deepcopy(demo_course("en"))
    data.update(slug=slug, language=language, title="Digital tools for assessment")
    data.update(extra)
    return data


async def create(client: httpx.AsyncClient, headers: dict[str, str], **kw: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/courses", json=draft_body(**kw), headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def put(
    client: httpx.AsyncClient, course_id: str, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    """PUT the draft as an editor does: with the ETag of the draft just read."""
    etag = (await client.get(f"/api/v1/courses/{course_id}/draft", headers=headers)).headers["etag"]
    return await client.put(
        f"/api/v1/courses/{course_id}/draft", json=body, headers={**headers, "if-match": etag}
    )


async def publish(
    client: httpx.AsyncClient, course_id: str, author: dict[str, str], admin: dict[str, str]
) -> dict[str, Any]:
    assert (await client.post(f"/api/v1/courses/{course_id}/submit", headers=author)).status_code == 200
    response = await client.post(
        f"/api/v1/courses/{course_id}/review", json={"decision": "approve"}, headers=admin
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_draft_review_publish_archive(
    courses_client: httpx.AsyncClient, author: dict[str, str], admin: dict[str, str]
) -> None:
    c = courses_client
    view = await create(c, author)
    cid = view["id"]
    assert (
        view["status"] == "draft" and view["institute_id"] == INSTITUTE_ID and view["latest_version"] is None
    )
    # A draft is not in the catalogue and has no public page.
    listed = (await c.get("/api/v1/courses", params={"lang": "en"})).json()["items"]
    assert cid not in [i["id"] for i in listed]
    assert_problem(await c.get(f"/api/v1/courses/{cid}"), 404)

    assert (await c.post(f"/api/v1/courses/{cid}/submit", headers=author)).json()["status"] == "in_review"
    # Locked while in review; an author cannot review.
    locked = {**author, "if-match": "*"}
    assert_problem(await c.put(f"/api/v1/courses/{cid}/draft", json=draft_body(), headers=locked), 409)
    assert_problem(
        await c.post(f"/api/v1/courses/{cid}/review", json={"decision": "approve"}, headers=author), 403
    )
    # Sending back needs a comment, and the comment reaches the author.
    assert_problem(
        await c.post(f"/api/v1/courses/{cid}/review", json={"decision": "send_back"}, headers=admin), 422
    )
    back = (
        await c.post(
            f"/api/v1/courses/{cid}/review",
            json={"decision": "send_back", "comment": "Add an example for grade 5."},
            headers=admin,
        )
    ).json()
    assert back["status"] == "draft" and back["review_comment"] == "Add an example for grade 5."
    assert (await c.get(f"/api/v1/courses/{cid}/draft", headers=author)).json()["review_comment"]

    published = await publish(c, cid, author, admin)
    assert published["status"] == "published" and published["latest_version"] == 1
    listed = (await c.get("/api/v1/courses", params={"lang": "en"})).json()["items"]
    assert cid in [i["id"] for i in listed]
    v1 = (await c.get(f"/api/v1/courses/{cid}/versions/1")).json()
    assert v1["version"] == 1 and v1["licence"] == "CC-BY-4.0" and v1["audience"]["stage"] == "in-service"

    archived = await c.post(f"/api/v1/courses/{cid}/archive", headers=admin)
    assert archived.json()["status"] == "archived"
    listed = (await c.get("/api/v1/courses", params={"lang": "en"})).json()["items"]
    assert cid not in [i["id"] for i in listed]
    # Enrolled learners keep reading the version they have.
    assert (await c.get(f"/api/v1/courses/{cid}/versions/1")).status_code == 200
    assert_problem(await c.put(f"/api/v1/courses/{cid}/draft", json=draft_body(), headers=locked), 409)


async def test_published_versions_are_immutable_and_diffable(
    courses_client: httpx.AsyncClient, author: dict[str, str], admin: dict[str, str]
) -> None:
    c = courses_client
    cid = (await create(c, author, slug="diffed"))["id"]
    await publish(c, cid, author, admin)
    before = (await c.get(f"/api/v1/courses/{cid}/versions/1")).json()

    for method in ("PUT", "PATCH", "DELETE"):
        response = await c.request(
            method, f"/api/v1/courses/{cid}/versions/1", json=draft_body(slug="diffed"), headers=author
        )
        assert_problem(response, 409)

    body = draft_body(slug="diffed", pass_mark=0.8)
    lessons = body["modules"][0]["items"]
    lessons[0]["markdown"] += "\n\nA new closing paragraph."
    removed = lessons.pop(1)
    quiz = next(i for m in body["modules"] for i in m["items"] if i["type"] == "quiz")
    quiz["questions"][0]["prompt"] = "Reworded prompt?"
    quiz["questions"].append(
        {"id": "qnew", "kind": "true_false", "prompt": "New?", "answer": {"correct": ["true"]}}
    )
    body["modules"][0]["items"].append({"type": "lesson", "id": "lnew", "title": "Added", "markdown": "Hi"})
    response = await put(c, cid, body, author)
    assert response.status_code == 200 and response.json()["status"] == "draft"
    assert (await publish(c, cid, author, admin))["latest_version"] == 2

    assert (await c.get(f"/api/v1/courses/{cid}/versions/1")).json() == before  # version 1 untouched
    diff = (await c.get(f"/api/v1/courses/{cid}/diff", params={"from": 1, "to": 2})).json()
    assert diff["metadata"] == ["pass_mark"]
    changes = {(i["id"], i["change"]) for i in diff["items"]}
    assert changes == {(lessons[0]["id"], "changed"), (removed["id"], "removed"), ("lnew", "added")}
    assert next(i for i in diff["items"] if i["change"] == "changed")["fields"] == ["markdown"]
    qchanges = {(q["id"], q["change"]) for q in diff["questions"]}
    assert qchanges == {
        (f"{quiz['id']}/{quiz['questions'][0]['id']}", "changed"),
        (f"{quiz['id']}/qnew", "added"),
    }
    assert_problem(await c.get(f"/api/v1/courses/{cid}/diff", params={"from": 1, "to": 9}), 404)
    assert_problem(await c.get(f"/api/v1/courses/{cid}/diff", params={"from": "x", "to": 2}), 422)


async def test_another_institute_cannot_touch_a_course(
    courses_client: httpx.AsyncClient, author: dict[str, str], stranger: dict[str, str], issuer: Any
) -> None:
    c = courses_client
    cid = (await create(c, author, slug="guarded"))["id"]
    for method, path, body in (
        ("GET", "draft", None),
        ("PUT", "draft", draft_body(slug="guarded")),
        ("POST", "submit", None),
    ):
        assert_problem(
            await c.request(method, f"/api/v1/courses/{cid}/{path}", json=body, headers=stranger), 403
        )
    other_admin = bearer(mint(issuer, roles=("institute_admin",), inst=OTHER_INSTITUTE))
    assert_problem(await c.post(f"/api/v1/courses/{cid}/archive", headers=other_admin), 403)
    teacher = bearer(mint(issuer, roles=("teacher",), inst=INSTITUTE_ID))
    assert_problem(await c.post("/api/v1/courses", json=draft_body(slug="t"), headers=teacher), 403)
    assert_problem(await c.post("/api/v1/courses", json=draft_body(slug="anon")), 401)
    # Nothing changed.
    assert (await c.get(f"/api/v1/courses/{cid}/draft", headers=author)).json()["status"] == "draft"


async def test_bad_drafts_are_refused(courses_client: httpx.AsyncClient, author: dict[str, str]) -> None:
    c = courses_client
    huge = draft_body(slug="huge")
    huge["modules"][0]["items"][0]["markdown"] = "x" * (200 * 1024 + 1)
    assert_problem(await c.post("/api/v1/courses", json=huge, headers=author), 413)
    assert_problem(await c.post("/api/v1/courses", json=draft_body(slug="Bad Slug"), headers=author), 422)
    assert_problem(
        await c.post(
            "/api/v1/courses", json=draft_body(slug="lic", licence="All rights reserved"), headers=author
        ),
        422,
    )
    assert_problem(
        await c.post("/api/v1/courses", json=draft_body(slug="lang", language="xx"), headers=author), 422
    )
    no_alt = draft_body(slug="no-alt")
    lesson = no_alt["modules"][0]["items"][0]
    lesson["markdown"] = "Intro\n\n![](https://example.org/chart.png)"
    problem = assert_problem(await c.post("/api/v1/courses", json=no_alt, headers=author), 422)
    assert problem["errors"] == [
        {
            "field": f"lesson {lesson['id']} line 3",
            "message": "image 'https://example.org/chart.png' has no alt text",
            "code": "image_no_alt",
            "name": "markdown",
            "item": lesson["id"],
            "question": None,
            "line": 3,
        }
    ]
    existing = demo_course("en")["slug"]
    assert_problem(await c.post("/api/v1/courses", json=draft_body(slug=existing), headers=author), 409)
    listed = (await c.get("/api/v1/courses", params={"lang": "en"})).json()["items"]
    assert [i["id"] for i in listed] == [COURSE_EN_ID]


async def test_translations_are_linked_courses(
    courses_client: httpx.AsyncClient, author: dict[str, str], admin: dict[str, str]
) -> None:
    c = courses_client
    kk = await create(c, author, slug="assessment-kk", language="kk", translation_of=COURSE_EN_ID)
    await publish(c, kk["id"], author, admin)
    family = (await c.get(f"/api/v1/courses/{COURSE_EN_ID}/translations")).json()
    assert {t["language"] for t in family} == {"ru", "kk"}
    assert {t["language"] for t in (await c.get(f"/api/v1/courses/{kk['id']}/translations")).json()} == {
        "en",
        "ru",
    }
    assert_problem(
        await c.post(
            "/api/v1/courses", json=draft_body(slug="same", translation_of=COURSE_EN_ID), headers=author
        ),
        422,
    )
    assert_problem(
        await c.post(
            "/api/v1/courses",
            json=draft_body(slug="none", language="ru", translation_of="nope"),
            headers=author,
        ),
        422,
    )


async def test_answer_keys_never_reach_learners(
    courses_client: httpx.AsyncClient, author: dict[str, str], admin: dict[str, str], issuer: Any
) -> None:
    c = courses_client
    cid = (await create(c, author, slug="keys"))["id"]
    await publish(c, cid, author, admin)
    teacher = bearer(mint(issuer))
    for path in (
        f"/api/v1/courses/{cid}",
        f"/api/v1/courses/{cid}/versions/1",
        "/api/v1/courses",
        f"/api/v1/courses/{cid}/diff?from=1&to=1",
    ):
        for headers in ({}, teacher):
            body = (await c.get(path, headers=headers)).text
            assert '"answer"' not in body and '"accepted"' not in body and '"correct"' not in body, path
    assert_problem(await c.get(f"/api/v1/courses/{cid}/versions/1/answer-key", headers=teacher), 403)
    assert_problem(await c.get(f"/api/v1/courses/{cid}/draft", headers=teacher), 403)
