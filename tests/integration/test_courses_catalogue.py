"""Catalogue search and filters on SQLite (FTS5) and PostgreSQL (tsvector), cursor pages, ETag/304."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from deploy.seed import COURSE_EN_ID, COURSE_RU_ID, INSTITUTE_ID
from tests.integration.test_courses_authoring import admin, author, create, publish  # noqa: F401 (fixtures)
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def ids(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/api/v1/courses", params=params)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["items"]]


async def test_full_text_search_on_title_and_summary(courses_client: httpx.AsyncClient) -> None:
    c = courses_client
    assert await ids(c, q="formative") == [COURSE_EN_ID]
    assert await ids(c, q="FORMAT") == [COURSE_EN_ID]  # prefix, any case
    assert await ids(c, q="weak connection") == [COURSE_EN_ID]  # words of the summary, in any order
    assert await ids(c, q="connection weak") == [COURSE_EN_ID]
    assert await ids(c, q="formative zebra") == []  # every word must match
    ru = await c.get(f"/api/v1/courses/{COURSE_RU_ID}")
    word = ru.json()["title"].split()[0]
    assert await ids(c, q=word.upper()) == [COURSE_RU_ID]  # Cyrillic case folding
    assert await ids(c, q='" OR * NEAR( -') == []  # words only: no query syntax reaches the index (no 500)
    assert await ids(c, q='"*') == sorted([COURSE_EN_ID, COURSE_RU_ID])  # no words: no search


async def test_filters(
    courses_client: httpx.AsyncClient,
    author: dict[str, str],
    admin: dict[str, str],
) -> None:
    c = courses_client
    both = sorted([COURSE_EN_ID, COURSE_RU_ID])
    assert await ids(c, competency="II.KA.1") == both
    assert await ids(c, competency="II.KA") == both  # a competency matches its indicators
    assert await ids(c, competency="II") == both  # and an aspect
    assert await ids(c, competency="VI.KC") == []
    assert await ids(c, competency="II.K") == []  # codes, not string prefixes
    assert await ids(c, institute=INSTITUTE_ID) == both
    assert await ids(c, institute="someone-else") == []
    assert await ids(c, level="Knowledge Acquisition") == both
    assert await ids(c, level="Knowledge Creation") == []

    new = await create(c, author, slug="creating-knowledge", level="Knowledge Creation")
    await publish(c, new["id"], author, admin)
    assert await ids(c, level="Knowledge Creation") == [new["id"]]
    assert await ids(c, level="Knowledge Creation", lang="ru") == []
    assert new["id"] in await ids(c, q="digital tools assessment", competency="II.KA.1", lang="en")
    assert_problem(await c.get("/api/v1/courses", params={"colour": "red"}), 422)
    assert_problem(await c.get("/api/v1/courses", params={"limit": 0}), 422)


async def test_cursor_pages_and_not_modified(
    courses_client: httpx.AsyncClient,
    author: dict[str, str],
    admin: dict[str, str],
) -> None:
    c = courses_client
    for n in range(3):
        await publish(
            c, (await create(c, author, slug=f"paged-{n}", title=f"Paged course {n}"))["id"], author, admin
        )
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await c.get("/api/v1/courses", params=params)).json()
        assert len(page["items"]) <= 2
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and len(set(seen)) == 5
    first = await c.get("/api/v1/courses", params={"q": "paged"})
    assert first.headers["cache-control"].startswith("public, max-age=")
    same = await c.get(
        "/api/v1/courses", params={"q": "paged"}, headers={"if-none-match": first.headers["etag"]}
    )
    assert same.status_code == 304 and same.content == b""
    # A new publication changes the page, so the old ETag no longer matches.
    await publish(
        c, (await create(c, author, slug="paged-more", title="Paged course 4"))["id"], author, admin
    )
    changed = await c.get(
        "/api/v1/courses", params={"q": "paged"}, headers={"if-none-match": first.headers["etag"]}
    )
    assert changed.status_code == 200 and len(changed.json()["items"]) == 4
