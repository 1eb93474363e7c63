"""One institute cannot take over another's course in a language (issue 15, item 3), on SQLite and
PostgreSQL: only the owning institute links translations to its course (at creation and again when
publishing); another institute publishes its own adaptation instead, stored as an adaptation of the
original (its own family, not a translation) and carrying the licence's attribution."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlmodel import Session, create_engine

from deploy.seed import COURSE_EN_ID, COURSE_RU_ID, INSTITUTE_ID
from tests.conftest import Databases, mint, seed_courses_service, serve, service_settings
from tests.integration.test_courses_authoring import (  # noqa: F401 (fixtures)
    OTHER_INSTITUTE,
    admin,
    author,
    bearer,
    create,
    draft_body,
    publish,
)
from tests.integration.test_courses_pages import web  # noqa: F401 (fixture)
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture
async def courses_db(databases: Databases, gateway_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The courses service in-process on a fresh database of the parametrised backend, and its URL."""
    from services.courses.app import build_app

    url = databases.fresh("courses", seed_courses_service)
    async with serve(build_app(service_settings("courses", url, gateway_url=gateway_url))) as client:
        yield client, url


@pytest.fixture
def y_author(issuer: Any) -> dict[str, str]:
    return bearer(mint(issuer, roles=("author",), inst=OTHER_INSTITUTE, name="Y author"))


@pytest.fixture
def y_admin(issuer: Any) -> dict[str, str]:
    return bearer(mint(issuer, roles=("institute_admin",), inst=OTHER_INSTITUTE, name="Y admin"))


async def russian_catalogue(c: httpx.AsyncClient) -> list[dict[str, Any]]:
    return list((await c.get("/api/v1/courses", params={"lang": "ru", "limit": 100})).json()["items"])


async def family(c: httpx.AsyncClient) -> set[str]:
    return {t["id"] for t in (await c.get(f"/api/v1/courses/{COURSE_EN_ID}/translations")).json()}


async def test_another_institute_cannot_link_a_translation_to_a_course(
    courses_client: httpx.AsyncClient, y_author: dict[str, str], y_admin: dict[str, str]
) -> None:
    """The takeover from the issue: institute Y links a Russian 'translation' of X's course."""
    c = courses_client
    before_catalogue, before_family = await russian_catalogue(c), await family(c)
    for language, original in (("ru", COURSE_EN_ID), ("kk", COURSE_EN_ID), ("kk", COURSE_RU_ID)):
        body = draft_body(slug=f"y-takeover-{language}", language=language, translation_of=original)
        problem = assert_problem(await c.post("/api/v1/courses", json=body, headers=y_author), 403)
        assert "adapted_from" in problem["detail"]  # it says what Y may do instead
    assert (await c.get("/api/v1/courses/authoring", headers=y_author)).json() == []
    assert await family(c) == before_family
    after = await russian_catalogue(c)
    assert after == before_catalogue and COURSE_RU_ID in {i["id"] for i in after}


async def test_a_linked_translation_of_another_institutes_course_is_not_published(
    courses_db: tuple[httpx.AsyncClient, str], y_author: dict[str, str], y_admin: dict[str, str]
) -> None:
    """A link made before the rule (or by any other way in) is refused again at publication: 403 and
    the course stays in review, unpublished, out of the family and the catalogue."""
    c, url = courses_db
    view = await create(c, y_author, slug="y-course-ru", language="ru")
    assert (await c.post(f"/api/v1/courses/{view['id']}/submit", headers=y_author)).status_code == 200
    engine = create_engine(url)
    with Session(engine) as session:
        from services.courses.models import Course

        row = session.get(Course, view["id"])
        assert row is not None
        row.translation_of = COURSE_EN_ID  # the link the old code let Y make
        session.add(row)
        session.commit()
    engine.dispose()
    refused = await c.post(
        f"/api/v1/courses/{view['id']}/review", json={"decision": "approve"}, headers=y_admin
    )
    assert_problem(refused, 403)
    after = (await c.get(f"/api/v1/courses/{view['id']}/draft", headers=y_author)).json()
    assert after["status"] == "in_review" and after["latest_version"] is None
    assert view["id"] not in await family(c)
    assert COURSE_RU_ID in {i["id"] for i in await russian_catalogue(c)}
    assert view["id"] not in {i["id"] for i in await russian_catalogue(c)}


async def test_an_adaptation_is_its_own_course_with_the_originals_attribution(
    courses_client: httpx.AsyncClient, y_author: dict[str, str], y_admin: dict[str, str]
) -> None:
    c = courses_client
    before_family = await family(c)
    view = await create(
        c, y_author, slug="y-adaptation-ru", language="ru", adapted_from=COURSE_RU_ID, licence="CC-BY-4.0"
    )
    assert view["adapted_from"] == COURSE_RU_ID and view["translation_of"] is None
    await publish(c, view["id"], y_author, y_admin)
    original = (await c.get(f"/api/v1/courses/{COURSE_RU_ID}")).json()
    detail = (await c.get(f"/api/v1/courses/{view['id']}")).json()
    assert detail["adapted_from"] == {
        "course_id": COURSE_RU_ID,
        "title": original["title"],
        "institute_id": INSTITUTE_ID,
        "licence": original["content"]["licence"],
        "language": "ru",
    }
    assert detail["translation_of"] is None and detail["institute_id"] == OTHER_INSTITUTE
    assert await family(c) == before_family  # not a translation of X's course
    listed = {i["id"]: i for i in await russian_catalogue(c)}
    assert COURSE_RU_ID in listed and listed[COURSE_RU_ID]["adapted_from"] is None
    assert listed[view["id"]]["adapted_from"]["title"] == original["title"]


@pytest.mark.parametrize(
    ("extra", "status", "field"),
    [
        ({"adapted_from": "00000000-0000-4000-8000-000000000000"}, 422, "adapted_from"),
        ({"adapted_from": COURSE_EN_ID, "translation_of": COURSE_EN_ID}, 422, "adapted_from"),
        # CC BY-SA: an adaptation carries the same licence.
        ({"adapted_from": "SA", "licence": "CC-BY-4.0"}, 422, "licence"),
        # No derivatives: no adaptation at all.
        ({"adapted_from": "ND", "licence": "CC-BY-ND-4.0"}, 422, "adapted_from"),
    ],
)
async def test_an_adaptation_the_licence_does_not_allow_is_refused(
    courses_client: httpx.AsyncClient,
    author: dict[str, str],
    admin: dict[str, str],
    y_author: dict[str, str],
    extra: dict[str, Any],
    status: int,
    field: str,
) -> None:
    c = courses_client
    if extra["adapted_from"] in ("SA", "ND"):
        licence = {"SA": "CC-BY-SA-4.0", "ND": "CC-BY-ND-4.0"}[extra["adapted_from"]]
        original = await create(c, author, slug=f"x-{licence.lower().replace('.', '-')}", licence=licence)
        await publish(c, original["id"], author, admin)
        extra = {**extra, "adapted_from": original["id"]}
    body = draft_body(slug="y-refused", language="ru", **extra)
    problem = assert_problem(await c.post("/api/v1/courses", json=body, headers=y_author), status)
    assert field in {e["field"] for e in problem["errors"]}
    assert (await c.get("/api/v1/courses/authoring", headers=y_author)).json() == []


async def test_the_catalogue_and_course_page_show_an_adaptation_as_such(
    web: tuple[httpx.AsyncClient, str], y_author: dict[str, str], y_admin: dict[str, str]
) -> None:
    """Institute Y's Russian adaptation of X's course: its page and its catalogue card credit the
    original (title, X's name, licence); the Russian catalogue still shows X's own course for X's."""
    client, courses_url = web
    async with httpx.AsyncClient(base_url=courses_url) as c:
        original = (await c.get(f"/api/v1/courses/{COURSE_RU_ID}")).json()
        view = await create(c, y_author, slug="y-page-adaptation", language="ru", adapted_from=COURSE_RU_ID)
        await publish(c, view["id"], y_author, y_admin)
    client.cookies.set("ustaz_lang", "en")
    page = await client.get(f"/courses/{view['id']}")
    assert page.status_code == 200
    note = page.text.split("data-attribution", 1)[1].split("</p>", 1)[0]
    assert "Adapted from" in note and f'href="/courses/{COURSE_RU_ID}"' in note
    assert original["title"] in note and "National Institute for Teacher Development (demo)" in note
    assert original["content"]["licence"] in note
    assert "data-attribution" not in (await client.get(f"/courses/{COURSE_RU_ID}")).text
    catalogue = (await client.get("/courses", params={"lang": "ru"})).text
    cards = catalogue.split('<article class="card"')[1:]
    own = next(card for card in cards if f'href="/courses/{COURSE_RU_ID}"' in card)
    adapted = next(card for card in cards if f'href="/courses/{view["id"]}"' in card)
    assert "data-attribution" not in own
    assert "Adapted from" in adapted and "National Institute for Teacher Development (demo)" in adapted
    # The catalogue in Russian, one course per family: X's course is still X's.
    client.cookies.set("ustaz_lang", "ru")
    best = (await client.get("/courses")).text
    assert f'href="/courses/{COURSE_RU_ID}"' in best and f'href="/courses/{view["id"]}"' in best


async def test_a_link_stored_before_the_rule_puts_nothing_in_the_family(
    courses_db: tuple[httpx.AsyncClient, str], y_author: dict[str, str], y_admin: dict[str, str]
) -> None:
    """A course of Y already published and linked to X's course (as the old code allowed): it is not in
    X's family, and the catalogue lists it as a course of its own, so X's Russian course keeps its place."""
    c, url = courses_db
    view = await create(c, y_author, slug="y-old-link-kk", language="kk")
    await publish(c, view["id"], y_author, y_admin)
    engine = create_engine(url)
    with Session(engine) as session:
        from services.courses.models import Course

        row = session.get(Course, view["id"])
        assert row is not None
        row.translation_of = COURSE_EN_ID
        session.add(row)
        session.commit()
    engine.dispose()
    assert view["id"] not in await family(c)
    assert COURSE_EN_ID not in {
        t["id"] for t in (await c.get(f"/api/v1/courses/{view['id']}/translations")).json()
    }
    listed = {i["id"]: i for i in (await c.get("/api/v1/courses", params={"limit": 100})).json()["items"]}
    assert listed[view["id"]]["translation_of"] is None
    assert listed[COURSE_RU_ID]["translation_of"] == COURSE_EN_ID
