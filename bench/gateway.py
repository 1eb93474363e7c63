"""Issue 2 benchmarks: the proxy client choice, the gateway hop, and idle memory of `make run`.

1. Proxy client: the same minimal Starlette reverse proxy built on aiohttp and on httpx, in front
   of the same upstream, each in its own uvicorn process; requests/s and p50/p99 at 16 clients.
2. Gateway hop: a small authenticated GET (GET /api/v1/progress/enrolments with a teacher's
   token), direct to the progress service vs through the gateway, at 1 and 16 clients, against the
   processes `make run` starts (rate limits raised so they do not answer 429).
3. Idle memory: the sum of RSS of every process `make run` starts (Redis, 4 apps, worker with its
   pool, beat), measured after start-up and before any load.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import aiohttp
import httpx
import psutil
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.common import load, table
from deploy.platform import ROOT, Platform
from tests.servers import free_port, platform_on_free_ports, wait_for

DURATION = float(os.environ.get("BENCH_SECONDS", "5"))

# -- the two minimal proxies ------------------------------------------------------------------------

UPSTREAM = os.environ.get("BENCH_UPSTREAM", "http://127.0.0.1:9")
PAYLOAD = {"items": [{"id": i, "title": "Формирующее оценивание"} for i in range(5)], "next": None}


async def _upstream(request: Request) -> Response:
    return JSONResponse(PAYLOAD)


upstream_app = Starlette(routes=[Route("/{path:path}", _upstream)])


async def _aiohttp_proxy(request: Request) -> Response:
    session: aiohttp.ClientSession = request.app.state.session
    async with session.get(UPSTREAM + request.url.path, headers={"authorization": "x"}) as upstream:
        return Response(await upstream.read(), upstream.status, media_type=upstream.content_type)


async def _httpx_proxy(request: Request) -> Response:
    client: httpx.AsyncClient = request.app.state.session
    upstream = await client.get(UPSTREAM + request.url.path, headers={"authorization": "x"})
    return Response(upstream.content, upstream.status_code, media_type=upstream.headers["content-type"])


def _proxy_app(handler, make_session) -> Starlette:  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        app.state.session = make_session()
        yield
        await (
            app.state.session.close() if hasattr(app.state.session, "closed") else app.state.session.aclose()
        )

    return Starlette(routes=[Route("/{path:path}", handler)], lifespan=lifespan)


aiohttp_app = _proxy_app(
    _aiohttp_proxy, lambda: aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
)
httpx_app = _proxy_app(_httpx_proxy, lambda: httpx.AsyncClient(limits=httpx.Limits(max_connections=200)))


@contextmanager
def serve(app: str, env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url), 20, app)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def _answers(url: str) -> bool:
    try:
        httpx.get(url + "/ping", timeout=1)
        return True
    except httpx.HTTPError:
        return False


async def _measure(url: str, concurrency: int, headers: dict[str, str] | None = None) -> dict[str, float]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def call() -> None:
            async with session.get(url, headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status

        return await load(call, concurrency, DURATION)


def proxy_clients() -> str:
    rows = []
    with serve("bench.gateway:upstream_app") as upstream:
        direct = asyncio.run(_measure(upstream + "/x", 16))
        rows.append(["none (upstream direct)", direct["rps"], direct["p50"], direct["p99"], 1.0])
        for name in ("aiohttp", "httpx"):
            with serve(f"bench.gateway:{name}_app", {"BENCH_UPSTREAM": upstream}) as proxy:
                r = asyncio.run(_measure(proxy + "/x", 16))
                rows.append([f"{name} proxy", r["rps"], r["p50"], r["p99"], r["rps"] / direct["rps"]])
    return "### Proxy client (16 clients, same upstream, one uvicorn process each)\n\n" + table(
        ["path", "req/s", "p50 ms", "p99 ms", "of direct"], rows
    )


def gateway_hop_and_memory() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "USTAZ_RATE_LIMIT_PER_USER": "100000000",
            "USTAZ_RATE_LIMIT_PER_IP": "100000000",
            "USTAZ_LOG_LEVEL": "WARNING",
        }
        with platform_on_free_ports(Path(tmp), extra_env=env) as platform:
            platform.start(timeout=120)
            memory = idle_memory(platform)
            urls = platform.urls
            token = httpx.post(
                urls["gateway"] + "/auth/login", json={"username": "teacher", "password": "teacher-demo"}
            ).json()["access_token"]
            headers = {"authorization": f"Bearer {token}"}
            rows = []
            for concurrency in (1, 16):
                direct = asyncio.run(
                    _measure(urls["progress"] + "/api/v1/progress/enrolments", concurrency, headers)
                )
                hop = asyncio.run(
                    _measure(urls["gateway"] + "/api/v1/progress/enrolments", concurrency, headers)
                )
                rows.append(
                    [
                        concurrency,
                        direct["rps"],
                        hop["rps"],
                        hop["rps"] / direct["rps"],
                        direct["p50"],
                        hop["p50"],
                        hop["p50"] - direct["p50"],
                        direct["p99"],
                        hop["p99"],
                    ]
                )
    hop_table = table(
        [
            "clients",
            "direct req/s",
            "gateway req/s",
            "ratio",
            "direct p50 ms",
            "gateway p50 ms",
            "added p50 ms",
            "direct p99 ms",
            "gateway p99 ms",
        ],
        rows,
    )
    mem_rows = [[name, f"{rss / 2**20:.0f}", f"{pss / 2**20:.0f}"] for name, (rss, pss) in memory.items()]
    mem_rows.append(
        [
            "**total**",
            f"**{sum(m[0] for m in memory.values()) / 2**20:.0f}**",
            f"**{sum(m[1] for m in memory.values()) / 2**20:.0f}**",
        ]
    )
    return (
        "### Gateway hop (GET /api/v1/progress/enrolments, teacher token)\n\n"
        + hop_table
        + "\n### Idle memory of `make run` (RSS, MiB)\n\n"
        + table(["process", "RSS MiB", "PSS MiB"], mem_rows)
    )


def idle_memory(platform: Platform) -> dict[str, tuple[int, int]]:
    """RSS (what the target is stated in; counts pages shared by forked children twice) and PSS."""
    memory = {}
    for name in platform.procs:
        infos = [psutil.Process(pid).memory_full_info() for pid in platform.pids(name)]
        memory[name] = (sum(i.rss for i in infos), sum(i.pss for i in infos))
    return memory


def main() -> str:
    return "## Gateway (issue 2)\n\n" + proxy_clients() + "\n" + gateway_hop_and_memory()


if __name__ == "__main__":
    print(main())
