"""The offline queue (gateway/web/static/sw-queue.js) in a real service worker in real Chromium:
records made while the server is unreachable are kept, retried with backoff, sent in batches of at
most 50 with their original ids and timestamps, and the server holds each exactly once."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from deploy.demo import login
from deploy.seed import COURSE_RU_ID
from tests.conftest import thread_server

pytestmark = pytest.mark.e2e
QUEUE_JS = Path(__file__).resolve().parents[2] / "gateway" / "web" / "static" / "sw-queue.js"
SW_JS = """importScripts("/static/sw-queue.js");
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));"""


class Phone:
    """The origin the page and worker run on: serves the queue script and stands in for the
    gateway's /me/statements (which adds the session's actor), passing batches to the real
    platform as the teacher, or answering 503 while `down`."""

    def __init__(self, gateway: str, headers: dict[str, str]) -> None:
        self.gateway, self.headers = gateway, headers
        self.user_id = jwt.decode(headers["authorization"].split()[1], options={"verify_signature": False})[
            "sub"
        ]
        self.down = True
        self.refused = 0
        self.batches: list[int] = []
        self.app = Starlette(
            routes=[
                Route("/", self.page),
                Route("/sw.js", self.worker),
                Route("/static/sw-queue.js", self.queue),
                Route("/me/statements", self.statements, methods=["POST"]),
            ]
        )

    async def page(self, request: Request) -> Response:
        return Response("<!doctype html><title>phone</title><p>phone</p>", media_type="text/html")

    async def worker(self, request: Request) -> Response:
        return Response(SW_JS, media_type="text/javascript")

    async def queue(self, request: Request) -> Response:
        return Response(QUEUE_JS.read_text(), media_type="text/javascript")

    async def statements(self, request: Request) -> Response:
        if self.down:
            self.refused += 1
            return JSONResponse({"title": "Service unavailable", "status": 503}, status_code=503)
        batch = await request.json()
        self.batches.append(len(batch))
        actor = {"account": {"homePage": self.gateway, "name": self.user_id}}
        async with httpx.AsyncClient(timeout=15) as client:
            upstream = await client.post(
                f"{self.gateway}/api/v1/progress/xapi/statements",
                headers=self.headers,
                json=[{"actor": actor, **s} for s in batch],
            )
        return Response(
            upstream.content,
            status_code=upstream.status_code,
            media_type=upstream.headers.get("content-type"),
        )


def wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout} s")
        time.sleep(0.2)


def test_records_made_offline_reach_the_server_once_with_their_timestamps(
    platform: Any, browser: Any
) -> None:
    gateway = platform.urls["gateway"]
    with httpx.Client(base_url=gateway, timeout=15) as client:
        headers = login(client, "teacher")
        client.post("/api/v1/progress/enrolments", json={"course_id": COURSE_RU_ID}, headers=headers)
    phone = Phone(gateway, headers)
    started = datetime.now(UTC) - timedelta(seconds=1)
    taken = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    records = [
        {
            "id": str(uuid.uuid4()),
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": f"urn:ustaz:course:{COURSE_RU_ID}/item/{'l1' if i % 2 else 'l2'}"},
            "timestamp": (taken + timedelta(minutes=i)).isoformat().replace("+00:00", "Z"),
        }
        for i in range(120)
    ]
    with thread_server(phone.app) as origin:
        context = browser.new_context()
        page = context.new_page()
        page.goto(origin + "/")
        page.evaluate("""async () => {
            await navigator.serviceWorker.register("/sw.js");
            await navigator.serviceWorker.ready;
            if (!navigator.serviceWorker.controller) {
                await new Promise((ok) => navigator.serviceWorker.addEventListener("controllerchange", ok));
            }
        }""")
        # Offline: every record queued (the first 20 twice, as a phone resends), nothing arrives.
        page.evaluate(
            """(records) => {
            const worker = navigator.serviceWorker.controller;
            for (const r of records.concat(records.slice(0, 20))) worker.postMessage({type: "ustaz:statement", statement: r});
        }""",
            records,
        )
        wait(lambda: phone.refused >= 2, 30, "the queue retrying while the server is down")
        assert phone.batches == []
        phone.down = False  # the network is back: the queue's own backoff timer sends everything

        def stored() -> dict[str, Any]:
            with httpx.Client(base_url=gateway, timeout=15) as client:
                page_ = client.get(
                    "/api/v1/progress/xapi/statements",
                    headers=headers,
                    params={"since": started.isoformat(), "limit": 500},
                ).json()
            return {s["id"]: s for s in page_["statements"]}

        ids = {r["id"] for r in records}
        wait(lambda: ids <= set(stored()), 90, "the queued records reaching the server")
        context.close()
    held = stored()
    assert len(ids & set(held)) == 120
    assert max(phone.batches) <= 50 and sum(phone.batches) >= 120
    first = records[0]
    assert held[first["id"]]["timestamp"] == first["timestamp"]  # the phone's clock, kept for display
    assert datetime.fromisoformat(held[first["id"]]["stored"]) >= started  # the server's clock
