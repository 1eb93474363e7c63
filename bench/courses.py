"""Courses: lesson page bytes (raw and gzip) for the seeded lessons, and catalogue list/search through
the gateway on 10,000 published courses (SQLite; courses over real HTTP, gateway in-process).

    python -m bench courses        (BENCH_COURSES=2000 for a quicker run)
"""

from __future__ import annotations

import asyncio
import gzip
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bench.common import first_paints, load, table

N_COURSES = int(os.environ.get("BENCH_COURSES", "10000"))
WORDS = [
    "assessment",
    "digital",
    "pedagogy",
    "policy",
    "phone",
    "offline",
    "project",
    "inclusive",
    "reading",
    "mathematics",
    "science",
    "feedback",
    "collaboration",
    "safety",
    "data",
]


def _serve(app: Any) -> tuple[uvicorn.Server, str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def _fill(url: str, n: int) -> None:
    """n published courses (a row, a version and the search index each), in one transaction."""
    from deploy.seed import INSTITUTE_ID, demo_course
    from libs.db import create_db_engine, session_scope
    from services.courses import service
    from services.courses.models import Course
    from services.courses.schemas import CourseContent

    base = demo_course("en")
    engine = create_db_engine(url)
    with session_scope(engine) as session:
        for i in range(n):
            words = " ".join(WORDS[(i * k) % len(WORDS)] for k in (1, 3, 7))
            course = Course(
                slug=f"bench-{i}",
                title=f"Course {i}: {words}",
                summary=f"A course about {words}.",
                language=("en", "ru", "kk")[i % 3],
                institute_id=INSTITUTE_ID,
            )
            session.add(course)
            session.flush()
            content = CourseContent.model_validate(
                {
                    **base,
                    "title": course.title,
                    "summary": course.summary,
                    "course_id": course.id,
                    "version": 0,
                    "language": course.language,
                    "institute_id": INSTITUTE_ID,
                    "level": ("Knowledge Acquisition", "Knowledge Deepening")[i % 2],
                }
            )
            service.publish(session, course, content)
    engine.dispose()


async def _measure(gateway: Any, courses_url: str) -> str:
    from deploy.seed import COURSE_EN_ID, COURSE_RU_ID, demo_course

    rows: list[list[Any]] = []
    transport = httpx.ASGITransport(app=gateway)
    async with (
        gateway.router.lifespan_context(gateway),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):
        for course_id, lang in ((COURSE_EN_ID, "en"), (COURSE_RU_ID, "ru")):
            for module in demo_course(lang)["modules"]:
                for item in module["items"]:
                    if item["type"] != "lesson":
                        continue
                    page = await client.get(f"/courses/{course_id}/v/1/lessons/{item['id']}")
                    rows.append(
                        [
                            f"lesson {lang}/{item['id']}",
                            len(page.content),
                            len(gzip.compress(page.content, 6)),
                        ]
                    )
        out = "### Lesson pages (target <= 14,336 B gzip)\n\n" + table(
            ["page", "raw bytes", "gzip bytes"], rows
        )

        results = []
        for name, params in (
            ("list, first page", {}),
            ("list, language ru", {"lang": "ru"}),
            ("search 'digital phone'", {"q": "digital phone"}),
            ("search + filter competency II.KA", {"q": "pedagogy", "competency": "II.KA"}),
        ):

            async def call(params: dict[str, str] = params) -> None:
                response = await client.get("/api/v1/courses", params=params)
                assert response.status_code == 200, response.text

            r = await load(call, concurrency=8, duration=5)
            results.append([name, r["n"], r["rps"], r["p50"], r["p99"]])
        out += (
            f"\n### Catalogue through the gateway, {N_COURSES:,} published courses (SQLite, 8 clients, 5 s)\n\n"
            + table(["request", "n", "req/s", "p50 ms", "p99 ms"], results)
        )
    return out


def _first_paint(gateway_url: str) -> str:
    """Time to first contentful paint of the seeded lessons (bench.common.first_paints)."""
    from deploy.seed import COURSE_EN_ID, COURSE_RU_ID, demo_course

    lessons = [
        (lang, course_id, item["id"])
        for course_id, lang in ((COURSE_EN_ID, "en"), (COURSE_RU_ID, "ru"))
        for module in demo_course(lang)["modules"]
        for item in module["items"]
        if item["type"] == "lesson"
    ]
    paints = first_paints([f"{gateway_url}/courses/{c}/v/1/lessons/{i}" for _, c, i in lessons])
    rows = [
        [f"lesson {lang}/{i}", "no paint" if ms is None else ms]
        for (lang, _, i), ms in zip(lessons, paints, strict=True)
    ]
    return (
        "\n### Lesson first contentful paint, Chromium at 240 kbps / 840 ms RTT (target <= 3,000 ms)\n\n"
        + table(["page", "FCP ms"], rows)
    )


def main() -> str:
    from deploy.seed import seed_courses, seed_framework, seed_gateway
    from gateway.app import build_app as gateway_app
    from gateway.keys import write_new_key
    from gateway.settings import GatewaySettings
    from libs.db import create_db_engine, session_scope
    from libs.migrate import upgrade
    from services.courses.app import build_app as courses_app
    from services.courses.settings import CoursesSettings

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        urls = {name: f"sqlite:///{root / (name + '.db')}" for name in ("courses", "gateway")}
        for name, seeds in (("courses", (seed_framework, seed_courses)), ("gateway", (seed_gateway,))):
            upgrade(name, urls[name])
            engine = create_db_engine(urls[name])
            with session_scope(engine) as session:
                for seed in seeds:
                    seed(session)
            engine.dispose()
        started = time.perf_counter()
        _fill(urls["courses"], N_COURSES)
        fill_s = time.perf_counter() - started
        keys = root / "keys"
        keys.mkdir()
        write_new_key(keys)
        server, courses_url = _serve(
            courses_app(CoursesSettings(courses_database_url=urls["courses"], log_level="WARNING"))
        )
        try:
            gateway = gateway_app(
                GatewaySettings(
                    gateway_database_url=urls["gateway"],
                    signing_key_dir=keys,
                    courses_url=courses_url,
                    rate_limit_per_ip=10**9,
                    log_level="WARNING",
                )
            )
            out = asyncio.run(_measure(gateway, courses_url))
            web, web_url = _serve(
                gateway_app(
                    GatewaySettings(
                        gateway_database_url=urls["gateway"],
                        signing_key_dir=keys,
                        courses_url=courses_url,
                        log_level="WARNING",
                    )
                )
            )
            try:
                out += _first_paint(web_url)
            finally:
                web.should_exit = True
        finally:
            server.should_exit = True
    return f"## Courses (publishing {N_COURSES:,} courses took {fill_s:.1f} s)\n\n" + out
