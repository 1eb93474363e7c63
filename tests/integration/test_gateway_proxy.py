"""The gateway forwards /api/v1/<service>/... over HTTP, with request ids, limits and rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.conftest import Databases, seed_courses_service, serve, service_settings, thread_server
from tests.integration.test_gateway_identity import assert_problem
from tests.servers import free_port

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
def courses_url(sqlite_databases: Databases, gateway_url: str) -> Iterator[str]:
    from services.courses.app import build_app

    app = build_app(
        service_settings(
            "courses", sqlite_databases.fresh("courses", seed_courses_service), gateway_url=gateway_url
        )
    )
    with thread_server(app) as url:
        yield url


async def gateway(sqlite_databases: Databases, key_dir: Path, courses_url: str, **over: Any) -> Any:
    from deploy.seed import seed_gateway
    from gateway.app import build_app

    settings = service_settings(
        "gateway",
        sqlite_databases.fresh("gateway", seed_gateway),
        signing_key_dir=key_dir,
        courses_url=courses_url,
        progress_url=f"http://127.0.0.1:{free_port()}",
        **over,
    )
    return serve(build_app(settings))


@pytest_asyncio.fixture
async def proxied(
    sqlite_databases: Databases, key_dir: Path, courses_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with await gateway(sqlite_databases, key_dir, courses_url, max_body_bytes=4096) as client:
        yield client


async def test_requests_reach_the_service_with_the_request_id(
    proxied: httpx.AsyncClient, courses_url: str
) -> None:
    through = await proxied.get("/api/v1/courses", params={"lang": "en"}, headers={"x-request-id": "req-42"})
    async with httpx.AsyncClient() as direct_client:
        direct = await direct_client.get(f"{courses_url}/api/v1/courses", params={"lang": "en"})
    assert through.status_code == 200 and through.json() == direct.json()
    assert through.headers["x-request-id"] == "req-42"
    assert through.headers["etag"] == direct.headers["etag"]


async def test_service_problems_pass_through(proxied: httpx.AsyncClient) -> None:
    assert_problem(await proxied.get("/api/v1/courses/no-such-course"), 404)


async def test_a_down_service_is_a_502_problem(proxied: httpx.AsyncClient) -> None:
    body = assert_problem(await proxied.get("/api/v1/progress/enrolments"), 502)
    assert "progress" in body["detail"]


async def test_oversize_bodies_are_refused_before_the_service(proxied: httpx.AsyncClient) -> None:
    assert_problem(await proxied.post("/api/v1/courses", content=b"x" * 5000), 413)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while streaming
        for _ in range(10):
            yield b"x" * 1000

    assert_problem(await proxied.post("/api/v1/courses", content=chunks()), 413)


async def test_rate_limit_answers_429_with_retry_after(
    sqlite_databases: Databases, key_dir: Path, courses_url: str, redis_url: str
) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    async with await gateway(sqlite_databases, key_dir, courses_url, rate_limit_per_ip=3) as client:
        statuses = [(await client.get("/api/v1/courses")).status_code for _ in range(3)]
        limited = await client.get("/api/v1/courses")
    assert statuses == [200, 200, 200]
    assert_problem(limited, 429)
    assert 0 < int(limited.headers["retry-after"]) <= 60
    redis.Redis.from_url(redis_url).flushdb()


async def test_openapi_merges_every_service(proxied: httpx.AsyncClient) -> None:
    spec = (await proxied.get("/openapi.json")).json()
    assert "/auth/login" in spec["paths"] and "/api/v1/courses" in spec["paths"]
    assert spec["info"]["x-unavailable-services"] == ["progress", "certificates"]
    docs = await proxied.get("/docs")
    assert docs.status_code == 200 and "/api/v1/courses" in docs.text


async def test_the_served_document_is_the_one_built_from_the_route_tables(proxied: httpx.AsyncClient) -> None:
    """What the gateway merges from the services over HTTP is what gateway.openapi builds in-process
    (and commits as docs/openapi.json) for the services that answer."""
    from gateway.openapi import document

    served = (await proxied.get("/openapi.json")).json()
    built = document()
    answering = {
        p: ops
        for p, ops in built["paths"].items()
        if not p.startswith(("/api/v1/progress", "/api/v1/certificates"))
    }
    assert served["paths"] == answering
    assert served["paths"]["/api/v1/courses/{course_id}/versions/{version}"]["get"]["parameters"][1] == {
        "name": "version",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
