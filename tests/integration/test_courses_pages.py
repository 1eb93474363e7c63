"""Course pages through the gateway (in-process) and a real courses service over HTTP, on SQLite and
PostgreSQL: the lesson reader within 14 KB gzip, fallbacks, the service worker (the editor and review
pages: test_editor_pages.py)."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from deploy.seed import COURSE_EN_ID, COURSE_RU_ID, demo_course, seed_gateway
from tests.conftest import Databases, seed_courses_service, serve, service_settings, thread_server

pytestmark = pytest.mark.asyncio(loop_scope="session")
LESSON_BUDGET = 14 * 1024


@pytest_asyncio.fixture
async def web(databases: Databases, gateway_url: str, key_dir: Path) -> AsyncIterator[tuple[Any, str]]:
    """(make_client, courses_url): `make_client()` opens a fresh browser-like client on the gateway."""
    from gateway.app import build_app as gateway_app
    from services.courses.app import build_app as courses_app

    courses = courses_app(
        service_settings("courses", databases.fresh("courses", seed_courses_service), gateway_url=gateway_url)
    )
    with thread_server(courses) as courses_url:
        gateway = gateway_app(
            service_settings(
                "gateway",
                databases.fresh("gateway", seed_gateway),
                signing_key_dir=key_dir,
                courses_url=courses_url,
                rate_limit_per_ip=10_000,
                cookie_secure=False,
            )
        )
        async with serve(gateway) as client:
            yield client, courses_url


async def login(client: httpx.AsyncClient, username: str) -> None:
    client.cookies.clear()
    response = await client.post(
        "/login", data={"username": username, "password": f"{username}-demo", "next": "/author"}
    )
    assert response.status_code == 303, response.text


def lessons(lang: str) -> list[str]:
    return [i["id"] for m in demo_course(lang)["modules"] for i in m["items"] if i["type"] == "lesson"]


@pytest.mark.parametrize(("course_id", "lang"), [(COURSE_EN_ID, "en"), (COURSE_RU_ID, "ru")])
async def test_lesson_page_fits_14_kb_gzip_with_inline_css(
    web: tuple[httpx.AsyncClient, str], course_id: str, lang: str
) -> None:
    client, _ = web
    for lesson_id in lessons(lang):
        response = await client.get(f"/courses/{course_id}/v/1/lessons/{lesson_id}")
        assert response.status_code == 200
        html = response.text
        size = len(gzip.compress(response.content, 9))
        assert size <= LESSON_BUDGET, (lesson_id, size)
        print(f"lesson {lang}/{lesson_id}: {len(response.content)} B raw, {size} B gzip")
        assert '<html lang="en">' in html and f'<article lang="{lang}"' in html and "<style>" in html
        assert not re.search(r"<link[^>]+stylesheet|<script[^>]+src=|@font-face|woff", html)
        assert "<table>" in html or "<ul>" in html or "<p>" in html


async def test_author_of_another_institute_gets_403_page(web: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = web
    await login(client, "teacher")
    response = await client.get(f"/author/courses/{COURSE_EN_ID}")
    assert response.status_code == 403


async def test_content_falls_back_along_the_language_chain(web: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = web
    client.cookies.clear()
    english = await client.get("/courses")
    assert english.text.count('<article class="card"') == 1 and f"/courses/{COURSE_EN_ID}" in english.text

    await client.post("/lang", data={"lang": "kk"})  # Kazakh UI: kk -> ru -> en
    kazakh = await client.get("/courses")
    assert kazakh.text.count('<article class="card"') == 1 and f"/courses/{COURSE_RU_ID}" in kazakh.text
    assert 'lang="ru"' in kazakh.text and '<span lang="kk">' in kazakh.text  # "not yet in your language"
    page = await client.get(f"/courses/{COURSE_EN_ID}")
    assert 'role="note"' in page.text  # the fallback notice (tests/integration/test_i18n_pages.py)
    assert f'<a href="/courses/{COURSE_RU_ID}" lang="ru">Русский</a>' in page.text
    assert f"/courses/{COURSE_EN_ID}" in (await client.get("/courses", params={"lang": "en"})).text

    await client.post("/lang", data={"lang": "ru"})
    page = await client.get(f"/courses/{COURSE_RU_ID}")
    assert 'role="note"' not in page.text


async def test_service_worker_is_served_small_from_the_root(web: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = web
    sw = await client.get("/sw.js")
    assert sw.status_code == 200 and sw.headers["content-type"].startswith("text/javascript")
    assert sw.headers["cache-control"] == "no-cache" and "ustaz.use(" in sw.text
    helper = await client.get("/static/offline.js")
    assert helper.status_code == 200 and "serviceWorker" in helper.text
    assert len(gzip.compress(sw.content)) + len(gzip.compress(helper.content)) < 2048
    # The offline queue of learning records is a module the worker imports, served from the same place.
    assert "importScripts('/static/sw-queue.js')" in sw.text
    queue = await client.get("/static/sw-queue.js")
    assert queue.status_code == 200 and "UstazQueue" in queue.text
    # The start page for offline: a page the worker keeps, listing what is saved from its caches.
    saved = await client.get("/static/saved.js")
    assert saved.status_code == 200 and "/offline/manifest.json" in saved.text
    start = await client.get("/offline")
    assert start.status_code == 200 and 'id="saved"' in start.text and "/static/saved.js" in start.text
    assert "'/static/saved.js'" in sw.text and "START = '/offline'" in sw.text
    assert (await client.get("/static/../app.py")).status_code == 404
    assert (await client.get("/static/other.js")).status_code == 404


async def transferred(client: httpx.AsyncClient, path: str, accept: str) -> tuple[httpx.Response, int, int]:
    """A response as sent on the wire for `Accept-Encoding: accept`: (response, wire bytes, raw bytes)."""
    async with client.stream("GET", path, headers={"accept-encoding": accept}) as response:
        wire = b"".join([chunk async for chunk in response.aiter_raw()])
    decoded = httpx.Response(200, headers=response.headers, content=wire).content
    return response, len(wire), len(decoded)


@pytest.mark.parametrize("accept", ["br", "gzip", "gzip, deflate, br, zstd"])
async def test_every_text_response_is_compressed(web: tuple[httpx.AsyncClient, str], accept: str) -> None:
    client, _ = web
    client.cookies.clear()
    expected = {"br": "br", "gzip": "gzip", "gzip, deflate, br, zstd": "zstd"}[accept]
    for path in (
        f"/courses/{COURSE_RU_ID}/v/1/lessons/l1",
        "/courses",
        "/login",
        "/sw.js",
        "/api/v1/courses",
    ):
        response, wire, raw = await transferred(client, path, accept)
        assert response.status_code == 200, path
        assert response.headers.get("content-encoding") == expected, path
        assert "accept-encoding" in response.headers.get("vary", "").lower(), path
        assert wire < raw * 0.6, (path, wire, raw)
        if "/lessons/" in path:
            assert wire <= LESSON_BUDGET, wire
    problem, wire, raw = await transferred(client, "/api/v1/courses/no-such-course", accept)
    assert problem.status_code == 404 and problem.headers["content-type"].startswith("application/problem")
    identity, wire, raw = await transferred(client, "/courses", "identity")
    assert "content-encoding" not in identity.headers and wire == raw
