"""What every page shares: sign-in redirects back to where the person was going, a page for another
role is a 403 page, and a service that does not answer is an error page, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from tests.conftest import Databases, serve, service_settings
from tests.forms import post_form
from tests.servers import free_port

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture
async def pages(databases: Databases, redis_url: str, key_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with its pages, its services pointed at ports where nothing listens."""
    from deploy.seed import seed_gateway
    from gateway.app import build_app

    nowhere = {f"{s}_url": f"http://127.0.0.1:{free_port()}" for s in ("courses", "progress", "certificates")}
    settings = service_settings(
        "gateway",
        databases.fresh("gateway", seed_gateway),
        signing_key_dir=key_dir,
        rate_limit_per_ip=10_000,
        **nowhere,
    )
    async with serve(build_app(settings)) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, username: str) -> None:
    response = await post_form(client, "/login", data={"username": username, "password": f"{username}-demo"})
    assert response.status_code == 303, response.text


@pytest.mark.parametrize(
    ("method", "path", "back_to"),
    [
        ("GET", "/me/courses", "/me/courses"),
        ("GET", "/author", "/author"),
        ("POST", "/courses/c1/enrol", "/courses/c1"),
        ("POST", "/me/inbox/r1/read", "/me/inbox"),
    ],
)
async def test_signing_in_leads_back(pages: httpx.AsyncClient, method: str, path: str, back_to: str) -> None:
    response = await pages.request(method, path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={back_to}"


async def test_a_page_for_another_role_is_a_403_page(pages: httpx.AsyncClient) -> None:
    await sign_in(pages, "teacher")
    response = await pages.get("/institute/progress")
    assert response.status_code == 403
    # The teacher's account is in Russian, so the page is too.
    assert (
        response.headers["content-type"].startswith("text/html")
        and "<h1>Доступ запрещён</h1>" in response.text
    )


async def test_a_service_that_does_not_answer_is_an_error_page(pages: httpx.AsyncClient) -> None:
    await sign_in(pages, "teacher")
    response = await pages.get("/me/courses")
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "не отвечает" in response.text  # "Part of Ustaz is not answering", in the teacher's Russian
