"""The gateway forwards /api/v1/<service>/... over HTTP, with request ids, limits and rate limits."""

from __future__ import annotations

import contextlib
import logging
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
    import time

    import redis

    for _attempt in range(2):  # fixed one-minute windows: four requests across a boundary start anew
        redis.Redis.from_url(redis_url).flushdb()
        window = int(time.time()) // 60
        async with await gateway(sqlite_databases, key_dir, courses_url, rate_limit_per_ip=3) as client:
            statuses = [(await client.get("/api/v1/courses")).status_code for _ in range(3)]
            limited = await client.get("/api/v1/courses")
        if int(time.time()) // 60 == window:
            break
    assert statuses == [200, 200, 200]
    assert_problem(limited, 429)
    assert 0 < int(limited.headers["retry-after"]) <= 60
    redis.Redis.from_url(redis_url).flushdb()


async def test_gateway_replicas_share_their_counts_through_redis(
    sqlite_databases: Databases, key_dir: Path, courses_url: str, redis_url: str
) -> None:
    """Each process counts without a round trip per request and adds its counts to Redis every
    SHARE_SECONDS: a second replica refuses once the first one's requests have reached Redis."""
    import asyncio
    import time

    import redis

    from deploy.seed import seed_gateway
    from gateway.app import build_app
    from gateway.ratelimit import WINDOW

    ip = "10.9.8.7"  # a client of its own: no other test's counts in its key
    client = redis.Redis.from_url(redis_url)
    key = f"rl:ip:{ip}:{int(time.time()) // WINDOW}"
    client.delete(key)

    @contextlib.asynccontextmanager
    async def replica() -> AsyncIterator[httpx.AsyncClient]:
        settings = service_settings(
            "gateway",
            sqlite_databases.fresh("gateway", seed_gateway),
            signing_key_dir=key_dir,
            courses_url=courses_url,
            rate_limit_per_ip=3,
        )
        app = build_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=(ip, 4321))
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield http

    async def total_reaches(n: int) -> None:
        deadline = time.monotonic() + 5
        while int(client.get(key) or 0) < n:
            assert time.monotonic() < deadline, f"{n} requests never reached Redis"
            await asyncio.sleep(0.02)

    async with replica() as first, replica() as second:
        assert [(await first.get("/api/v1/courses")).status_code for _ in range(2)] == [200, 200]
        await total_reaches(2)
        assert (await second.get("/api/v1/courses")).status_code == 200  # 3 of 3, 1 of them its own
        await total_reaches(3)  # its share, which reads the total back
        limited = await second.get("/api/v1/courses")  # counting alone it would be at 2 of 3
    assert_problem(limited, 429)
    client.delete(key)


async def test_openapi_merges_every_service(proxied: httpx.AsyncClient) -> None:
    spec = (await proxied.get("/openapi.json")).json()
    assert "/auth/login" in spec["paths"] and "/api/v1/courses" in spec["paths"]
    assert spec["info"]["x-unavailable-services"] == ["progress", "certificates"]
    docs = await proxied.get("/docs")
    assert docs.status_code == 200 and "/api/v1/courses" in docs.text
    assert "multipart/form-data: alt, file" in docs.text  # the image upload's form, beside JSON bodies


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
        "schema": {"type": "integer", "minimum": 0, "maximum": 999_999_999},
    }


class DroppingUpstream:
    """An HTTP/1.1 upstream that closes the connection without answering the next `drop` requests
    (as uvicorn does to a keep-alive connection that idled past --timeout-keep-alive the moment a
    request arrives on it), then answers 200 with how many requests it has read."""

    def __init__(self) -> None:
        self.drop = 0
        self.seen: list[str] = []

    async def handle(self, reader: Any, writer: Any) -> None:
        import asyncio

        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                length = next(
                    (
                        int(line.split(":", 1)[1])
                        for line in head.split("\r\n")
                        if line.lower().startswith("content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                self.seen.append(head.split(" ", 2)[0])
                if self.drop:
                    self.drop -= 1
                    writer.close()
                    return
                body = f'{{"seen": {len(self.seen)}}}'.encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        writer.close()


@pytest_asyncio.fixture
async def dropping(
    sqlite_databases: Databases, key_dir: Path, courses_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, DroppingUpstream]]:
    import asyncio

    from deploy.seed import seed_gateway
    from gateway.app import build_app

    upstream = DroppingUpstream()
    server = await asyncio.start_server(upstream.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = service_settings(
        "gateway",
        sqlite_databases.fresh("gateway", seed_gateway),
        signing_key_dir=key_dir,
        courses_url=courses_url,
        progress_url=f"http://127.0.0.1:{port}",
    )
    async with server, serve(build_app(settings)) as client:
        yield client, upstream


async def test_a_repeatable_request_is_sent_again_once_when_the_connection_closes(
    dropping: tuple[httpx.AsyncClient, DroppingUpstream],
) -> None:
    client, upstream = dropping
    upstream.drop = 1
    answer = await client.get("/api/v1/progress/enrolments")
    assert answer.status_code == 200 and upstream.seen == ["GET", "GET"]
    upstream.drop = 1
    keyed = await client.post(
        "/api/v1/progress/submissions", json={"quiz_id": "q1"}, headers={"Idempotency-Key": "k-1"}
    )
    assert keyed.status_code == 200 and upstream.seen[2:] == ["POST", "POST"]


async def test_a_post_without_idempotency_key_is_not_repeated_and_the_502_names_its_cause(
    dropping: tuple[httpx.AsyncClient, DroppingUpstream], caplog: pytest.LogCaptureFixture
) -> None:
    client, upstream = dropping
    upstream.drop = 1
    with caplog.at_level(logging.WARNING, logger="ustaz.proxy"):
        answer = await client.post("/api/v1/progress/submissions", json={"quiz_id": "q1"})
    assert_problem(answer, 502)
    assert upstream.seen == ["POST"]  # the service may have acted on it: never sent twice
    (line,) = [r for r in caplog.records if r.name == "ustaz.proxy"]
    assert line.__dict__["upstream"] == "progress" and line.__dict__["error"] == "ServerDisconnectedError"
    upstream.drop = 2  # a repeatable request is sent twice at most
    assert_problem(await client.get("/api/v1/progress/enrolments"), 502)
    assert upstream.seen == ["POST", "GET", "GET"]
    upstream.drop = 2
    keyed = await client.post(
        "/api/v1/progress/submissions", json={"quiz_id": "q1"}, headers={"Idempotency-Key": "k-2"}
    )
    assert_problem(keyed, 502)
    assert upstream.seen == ["POST", "GET", "GET", "POST", "POST"]


async def test_every_502_logs_its_cause_with_the_request_id(
    proxied: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="ustaz.proxy")
    response = await proxied.get("/api/v1/progress/enrolments", headers={"x-request-id": "req-502"})
    assert_problem(response, 502)
    [line] = [r for r in caplog.records if r.name == "ustaz.proxy"]
    assert line.msg == "upstream failed" and line.upstream == "progress" and line.status == 502  # type: ignore[attr-defined]
    assert line.error == "ClientConnectorError" and line.cause  # type: ignore[attr-defined]
    assert line.request_id == "req-502"  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def redirecting_courses_url(sqlite_databases: Databases, gateway_url: str) -> Iterator[str]:
    """The courses service as it was before issue 15: Starlette's redirect_slashes on, so
    `/api/v1/courses/` answers 307 with its own internal address."""
    from services.courses.app import build_app

    app = build_app(
        service_settings(
            "courses", sqlite_databases.fresh("courses", seed_courses_service), gateway_url=gateway_url
        )
    )
    app.router.redirect_slashes = True
    with thread_server(app) as url:
        yield url


async def test_an_upstream_redirect_never_names_an_internal_address(
    sqlite_databases: Databases, key_dir: Path, redirecting_courses_url: str
) -> None:
    public = "https://ustaz.example.org"
    async with await gateway(sqlite_databases, key_dir, redirecting_courses_url, public_url=public) as client:
        response = await client.get("/api/v1/courses/", params={"lang": "en"})
    assert response.status_code == 307
    assert response.headers["location"] == f"{public}/api/v1/courses?lang=en"


def test_internal_locations_are_rewritten_and_others_pass() -> None:
    from gateway.proxy import public_location
    from gateway.settings import GatewaySettings

    settings = GatewaySettings(public_url="https://ustaz.kz", courses_url="http://courses:8000")
    assert public_location("http://courses:8000/api/v1/x?a=1", settings) == "https://ustaz.kz/api/v1/x?a=1"
    assert public_location("http://127.0.0.1:8000/y", settings) == "https://ustaz.kz/y"  # the gateway's own
    assert public_location("/api/v1/x", settings) == "/api/v1/x"
    assert public_location("https://example.org/z", settings) == "https://example.org/z"


async def test_a_body_sent_too_slowly_is_a_408_and_reaches_no_service(
    sqlite_databases: Databases, key_dir: Path, courses_url: str
) -> None:
    import asyncio

    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"credential": "'
        for _ in range(20):
            await asyncio.sleep(0.1)
            yield b"x"

    async with await gateway(
        sqlite_databases, key_dir, courses_url, body_grace_seconds=0.3, body_min_rate=1000
    ) as client:
        response = await client.post(
            "/api/v1/courses", content=trickle(), headers={"content-type": "application/json"}
        )
    body = assert_problem(response, 408)
    assert body["type"] == "/problems/body-timeout" and response.headers["connection"] == "close"


async def test_each_service_has_its_own_upstream_pool(
    sqlite_databases: Databases, key_dir: Path, courses_url: str
) -> None:
    async with await gateway(sqlite_databases, key_dir, courses_url, upstream_pool_size=7) as client:
        sessions = client._transport.app.state.proxy_sessions  # type: ignore[attr-defined]
        assert set(sessions) == {"courses", "progress", "certificates"}
        assert len({id(s.connector) for s in sessions.values()}) == 3
        assert {s.connector.limit for s in sessions.values()} == {7}
