"""Redis stopped or hung (SIGSTOP) under the request path (issue 15, items 8 and 10), with a Redis of the
test's own that it stops, freezes and brings back: the rate limiter lets requests through, logged once
per outage and counted in /metrics; an Idempotency-Key write is a 503 with Retry-After and stores
nothing; a hung Redis adds at most its sub-second timeout once, not seconds to every request."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from prometheus_client import REGISTRY

from deploy.platform import redis_binary
from services.progress.models import Submission
from tests.conftest import Databases, serve, service_settings
from tests.integration.progress_app import TEACHER, ProgressAPI
from tests.integration.test_gateway_identity import assert_problem
from tests.integration.test_progress_rules import RIGHT, answer_key
from tests.servers import free_port, redis_answers, wait_for

pytestmark = pytest.mark.asyncio
SUBMIT = "/api/v1/progress/submissions"


class OwnRedis:
    """A redis-server process this test controls."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: redis_answers(self.url), 10, "redis")

    def stop(self) -> None:
        if self.proc is not None:
            self.cont()
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def freeze(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def cont(self) -> None:
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGCONT)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def metric(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def gateway_on(sqlite_databases: Databases, key_dir: Path, redis_url: str) -> Any:
    from deploy.seed import seed_gateway
    from gateway.app import build_app

    settings = service_settings(
        "gateway",
        sqlite_databases.fresh("gateway", seed_gateway),
        signing_key_dir=key_dir,
        redis_url=redis_url,
        redis_retry_seconds=0.3,
    )
    return serve(build_app(settings))


async def login(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post("/auth/login", json={"username": "teacher", "password": "teacher-demo"})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['access_token']}"}


async def me(client: httpx.AsyncClient, headers: dict[str, str]) -> float:
    """One rate-limited request that costs the gateway next to nothing (login's argon2 is CPU-bound)."""
    started = time.perf_counter()
    response = await client.get("/auth/me", headers=headers)
    assert response.status_code == 200, response.text
    return time.perf_counter() - started


async def eventually(predicate: Any, seconds: float = 10.0) -> bool:
    """Poll `predicate` until it holds or `seconds` pass (the limiter shares counts in the background)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return bool(predicate())


def listen(caplog: pytest.LogCaptureFixture) -> None:
    """The app's start-up installs its JSON log handler as the only one; put the capture back."""
    logging.getLogger().addHandler(caplog.handler)


async def test_the_rate_limiter_fails_open_logged_once_per_outage_and_counted(
    sqlite_databases: Databases, key_dir: Path, own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with await gateway_on(sqlite_databases, key_dir, own_redis.url) as client:
        listen(caplog)
        headers = await login(client)
        before = metric("ratelimit_unlimited_requests_total")
        own_redis.stop()
        for _ in range(12):
            await me(client, headers)
        # the counts go to Redis every SHARE_SECONDS; those that could not go are counted unshared
        assert await eventually(lambda: metric("ratelimit_unlimited_requests_total") - before >= 12)
        assert metric("ratelimit_unlimited_requests_total") - before == 12
        opened = [
            r for r in caplog.records if r.name == "ustaz.ratelimit" and "unavailable" in r.getMessage()
        ]
        assert len(opened) == 1
        scraped = (await client.get("/metrics")).text
        assert "ratelimit_unlimited_requests_total" in scraped and "redis_request_path_up 0.0" in scraped

        own_redis.start()  # on the same port

        def working_again() -> bool:
            return any(
                r.name == "ustaz.ratelimit" and "working again" in r.getMessage() for r in caplog.records
            )

        deadline = time.monotonic() + 10
        while not working_again() and time.monotonic() < deadline:
            await me(client, headers)
        assert working_again()
        own_redis.stop()  # a second outage is logged again, once
        for _ in range(5):
            await me(client, headers)

        def opened() -> list[logging.LogRecord]:
            return [
                r for r in caplog.records if r.name == "ustaz.ratelimit" and "unavailable" in r.getMessage()
            ]

        assert await eventually(lambda: len(opened()) >= 2)
    assert len(opened()) == 2


async def test_a_hung_redis_adds_no_seconds_to_requests(
    sqlite_databases: Databases, key_dir: Path, own_redis: OwnRedis
) -> None:
    async with await gateway_on(sqlite_databases, key_dir, own_redis.url) as client:
        headers = await login(client)
        own_redis.freeze()
        try:
            took = [await me(client, headers) for _ in range(20)]
            headers = await login(client)  # logins go through too
        finally:
            own_redis.cont()
    # At most the 0.5 s timeout once per retry interval (0.3 s here), never redis-py's 5 s default.
    assert max(took) < 1.2, took
    assert sorted(took)[len(took) // 2] < 0.3, took


@pytest_asyncio.fixture
async def progress_on_own_redis(
    databases: Databases, gateway_url: str, issuer: Any, own_redis: OwnRedis
) -> Any:
    from libs.db import create_db_engine, session_scope
    from services.progress import service
    from services.progress.app import build_app

    url = databases.fresh("progress")
    engine = create_db_engine(url)
    with session_scope(engine) as session:
        from tests.integration.test_progress_rules import COURSE

        service.enrol(session, TEACHER, COURSE)
        service.store_answer_key(session, "c1", 1, answer_key())
    app = build_app(service_settings("progress", url, gateway_url=gateway_url, redis_url=own_redis.url))
    async with serve(app) as client:
        yield ProgressAPI(client, engine, issuer, app)
    engine.dispose()


@pytest.mark.parametrize("outage", ["stopped", "hung"])
async def test_an_idempotency_key_without_redis_is_a_503_that_stores_nothing(
    progress_on_own_redis: ProgressAPI, own_redis: OwnRedis, outage: str
) -> None:
    api = progress_on_own_redis
    body = {"course_id": "c1", "quiz_id": "q1", "answers": RIGHT}
    if outage == "stopped":
        own_redis.stop()
    else:
        own_redis.freeze()
    try:
        started = time.perf_counter()
        for _ in range(5):
            response = await api.client.post(
                SUBMIT, json=body, headers={**api.token(), "Idempotency-Key": str(uuid.uuid4())}
            )
            problem = assert_problem(response, 503)
            assert 1 <= int(response.headers["retry-after"]) <= 10
            assert "Idempotency-Key" in problem["detail"]
        assert time.perf_counter() - started < 2.5
        assert api.count(Submission) == 0
        # Without the header the write does not need Redis.
        plain = await api.client.post(SUBMIT, json=body, headers=api.token())
        assert plain.status_code == 202, plain.text
        assert api.count(Submission) == 1
    finally:
        own_redis.cont()
