"""Course pages through the gateway (in-process) and a real courses service over HTTP, on SQLite and
PostgreSQL: author editor with preview, review screen, and a lesson reader within 14 KB gzip."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from deploy.seed import COURSE_EN_ID, COURSE_RU_ID, demo_course, seed_gateway
from tests.conftest import Databases, seed_courses_service, serve, service_settings, thread_server
from tests.forms import post_form

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
    response = await post_form(
        client, "/login", data={"username": username, "password": f"{username}-demo", "next": "/author"}
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
        assert f'<html lang="{lang}">' in html and "<style>" in html
        assert not re.search(r"<link[^>]+stylesheet|<script[^>]+src=|@font-face|woff", html)
        assert "<table>" in html or "<ul>" in html or "<p>" in html


async def test_author_writes_previews_submits_and_admin_publishes(web: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = web
    await login(client, "author")
    home = await client.get("/author")
    assert home.status_code == 200 and "formative-assessment-with-digital-tools" in home.text
    created = await post_form(
        client, "/author/new", data={"title": "Phones in class", "slug": "phones-in-class", "language": "en"}
    )
    assert created.status_code == 303
    editor_url = created.headers["location"]
    course_id = editor_url.rsplit("/", 1)[1]

    bad = await post_form(
        client,
        editor_url,
        data={
            "action": "save",
            "title": "Phones in class",
            "lesson.l1.title": "Start",
            "estimated_minutes": "15",
            "pass_mark": "0.6",
            "level": "Knowledge Acquisition",
            "licence": "CC-BY-SA-4.0",
            "lesson.l1.markdown": "Intro\n\n![](https://example.org/p.png)",
        },
    )
    assert bad.status_code == 422 and "no alt text" in bad.text and "line 3" in bad.text
    good = await post_form(
        client,
        editor_url,
        data={
            "action": "save",
            "title": "Phones in class",
            "summary": "Using one phone with thirty pupils.",
            "estimated_minutes": "15",
            "pass_mark": "0.6",
            "level": "Knowledge Acquisition",
            "licence": "CC-BY-SA-4.0",
            "stage": "pre-service",
            "subject": "Maths",
            "grade_band": "5-9",
            "lesson.l1.title": "Start",
            "lesson.l1.markdown": "## One phone\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>alert(1)</script>\n\n"
            "[x](javascript:alert(1))",
        },
    )
    assert good.status_code == 200
    preview = good.text.split('class="phone"', 1)[1]
    assert "<h2>One phone</h2>" in preview and "<table>" in preview
    assert "<script>alert" not in good.text and 'href="javascript' not in good.text
    submitted = await post_form(
        client,
        editor_url,
        data={
            "action": "submit",
            "title": "Phones in class",
            "lesson.l1.title": "Start",
            "lesson.l1.markdown": "## One phone",
        },
    )
    assert submitted.status_code == 303 and submitted.headers["location"] == "/author"

    await login(client, "institute")
    listing = await client.get("/author")
    assert f"/review/courses/{course_id}" in listing.text
    review = await client.get(f"/review/courses/{course_id}")
    assert review.status_code == 200 and "One phone" in review.text and 'name="decision"' in review.text
    decided = await post_form(
        client, f"/review/courses/{course_id}", data={"decision": "approve", "comment": ""}
    )
    assert decided.status_code == 303
    page = await client.get(f"/courses/{course_id}")
    assert page.status_code == 200 and "Phones in class" in page.text and "CC-BY-SA-4.0" in page.text


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

    await post_form(client, "/lang", data={"lang": "kk"})  # Kazakh UI: kk -> ru -> en
    kazakh = await client.get("/courses")
    assert kazakh.text.count('<article class="card"') == 1 and f"/courses/{COURSE_RU_ID}" in kazakh.text
    assert 'lang="ru"' in kazakh.text and '<span lang="kk">' in kazakh.text  # "not yet in your language"
    page = await client.get(f"/courses/{COURSE_EN_ID}")
    assert 'role="note"' in page.text  # the fallback notice (tests/integration/test_i18n_pages.py)
    assert f'<a href="/courses/{COURSE_RU_ID}" lang="ru">Русский</a>' in page.text
    assert f"/courses/{COURSE_EN_ID}" in (await client.get("/courses", params={"lang": "en"})).text

    await post_form(client, "/lang", data={"lang": "ru"})
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
    assert (await client.get("/static/../app.py")).status_code == 404
    assert (await client.get("/static/other.js")).status_code == 404


async def test_editor_starts_from_the_published_version_and_edits_quizzes(
    web: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = web
    await login(client, "author")
    editor_url = f"/author/courses/{COURSE_EN_ID}"
    page = await client.get(editor_url)
    quiz = next(i for m in demo_course("en")["modules"] for i in m["items"] if i["type"] == "quiz")
    field = f"quiz.{quiz['id']}.questions"
    assert (
        page.status_code == 200
        and f'name="{field}"' in page.text
        and 'name="lesson.l1.markdown"' in page.text
    )

    broken = await post_form(
        client, editor_url, data={"action": "save", "title": "Formative assessment", field: "[{"}
    )
    assert broken.status_code == 422 and "not valid JSON" in broken.text
    questions = [{**quiz["questions"][0], "prompt": "Edited prompt?"}]
    saved = await post_form(
        client,
        editor_url,
        data={"action": "save", "title": "Formative assessment", field: json.dumps(questions)},
    )
    assert saved.status_code == 200 and "Edited prompt?" in saved.text
    assert "draft" in (await client.get("/author")).text
    # The published version is untouched until the edit is reviewed and approved.
    published = await client.get(f"/courses/{COURSE_EN_ID}/v/1/quizzes/{quiz['id']}")
    assert "Edited prompt?" not in published.text
