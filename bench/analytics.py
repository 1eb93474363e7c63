"""Issue 6 benchmarks: dashboards at national scale on PostgreSQL.

1. `deploy.seed_large` into the PostgreSQL databases of the gateway and progress (BENCH_TEACHERS,
   default 100,000 teachers), then the processes `make run` starts on them.
2. p50/p95 through the gateway (BENCH_CLIENTS clients, BENCH_SECONDS each) of the national funnel
   by region, a region's drill-down by district and the competency heat table (national analyst).
3. The same three answers computed from the raw tables (no rollups) in the same run: SQL over
   enrolments/statements/completions/certificate facts, and the per-teacher evidence pass for the
   heat table; p50 of BENCH_RAW_RUNS runs, and the ratio.
4. Rollup lag under ingest: statements posted through the gateway at BENCH_RATE records/s for
   BENCH_LAG_SECONDS (each with its `statement.recorded` event through the outbox; only a teacher's
   first record of a course also emits `enrolment.started` for the analytics queue), while a probe
   enrols a new teacher every second (the service's own function, committed with its event); lag =
   the probe's rollup commit (processed_events) - its record commit (outbox), p50/p95/max; and how
   long the outbox and the analytics queue took to drain after the ingest stopped.
5. The suppression engine on one level's table of 10-200 units, first and cached (bench/engine.py,
   in process; runnable alone and small: `BENCH_ENGINE_UNITS=10,40 python -m bench engine`).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url, text

from bench.common import load, percentile, table
from deploy.seed import COURSE_RU_ID
from tests.servers import platform_on_free_ports, postgres_server

TEACHERS = int(os.environ.get("BENCH_TEACHERS", "100000"))
DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
RAW_RUNS = int(os.environ.get("BENCH_RAW_RUNS", "3"))
RATE = int(os.environ.get("BENCH_RATE", "500"))
LAG_SECONDS = float(os.environ.get("BENCH_LAG_SECONDS", "30"))
A = "/api/v1/progress/analytics"

RAW_FUNNEL = """
WITH e AS (SELECT id, user_id, course_id, split_part(org_path, '/', :depth) AS unit FROM enrolments
           WHERE org_path LIKE :prefix)
SELECT unit,
       count(*) AS enrolled,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM statements s WHERE s.user_id = e.user_id
                                      AND s.course_id = e.course_id)) AS started,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM completions c WHERE c.enrolment_id = e.id)) AS completed,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM certificate_facts f WHERE f.user_id = e.user_id
                                      AND f.course_id = e.course_id)) AS certified
FROM e GROUP BY unit
"""


def create_databases(admin: str, names: list[str]) -> dict[str, str]:
    from libs.db import create_db_engine

    engine = create_db_engine(admin)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return {n: make_url(admin).set(database=n).render_as_string(hide_password=False) for n in names}


def raw_funnel(engine: Any, prefix: str, depth: int) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(RAW_FUNNEL), {"prefix": prefix, "depth": depth}))


def raw_heat(engine: Any) -> dict[tuple[str, str, str], int]:
    """The heat table by region from the raw records: every teacher's evidence, rated, then counted."""
    from collections import Counter

    from libs.db import session_scope
    from services.progress.analytics.cells import teacher_ratings
    from services.progress.analytics.rollups import evidence_by_teacher

    counts: Counter[tuple[str, str, str]] = Counter()
    with session_scope(engine, readonly=True) as session:
        for _, path, found in evidence_by_teacher(session):
            region = path.split("/")[1] if "/" in path else path
            for (kind, code), rating in teacher_ratings(found).items():
                if kind == "competency":
                    counts[(region, code, rating)] += 1
    return counts


def timed(fn: Any, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def through_gateway(
    base: str, headers: dict[str, str], path: str, params: dict[str, str]
) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        first = await client.get(A + path, params=params)
        first.raise_for_status()

        async def call() -> None:
            (await client.get(A + path, params=params)).raise_for_status()

        return await load(call, CLIENTS, DURATION)


def probe_enrol(engine: Any, n: int) -> None:
    from deploy.seed import INSTITUTE_ID
    from libs.auth import Principal
    from libs.db import session_scope
    from services.courses.schemas import CourseSummary
    from services.progress import service

    teacher = Principal(
        id=f"probe-{n}", roles=("teacher",), org=("KZ", "KZ-ALM", "KZ-ALM-TAL", "KZ-ALM-TAL-S01")
    )
    course = CourseSummary(
        id=COURSE_RU_ID,
        slug="probe",
        title="probe",
        summary="",
        language="ru",
        institute_id=INSTITUTE_ID,
        latest_version=1,
    )
    with session_scope(engine) as session:
        service.enrol(session, teacher, course)


async def ingest(base: str, headers: dict[str, str], user_id: str, engine: Any) -> int:
    """Statements at RATE records/s (batches of 10) for LAG_SECONDS, and a probe enrolment a second;
    returns how many statements were sent."""
    sent = 0
    per_batch = 10
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        started = time.perf_counter()
        pending = []

        async def post() -> None:
            nonlocal sent
            batch = [
                {
                    "id": str(uuid.uuid4()),
                    "actor": {"account": {"homePage": base, "name": user_id}},
                    "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                    "object": {"id": f"urn:ustaz:course:{COURSE_RU_ID}/item/l1"},
                }
                for _ in range(per_batch)
            ]
            (await client.post("/api/v1/progress/xapi/statements", json=batch)).raise_for_status()
            sent += per_batch

        async def probes() -> None:
            for n in range(int(LAG_SECONDS)):
                await asyncio.sleep(max(0.0, started + n - time.perf_counter()))
                await asyncio.to_thread(probe_enrol, engine, n)

        probing = asyncio.create_task(probes())
        for n in range(int(RATE / per_batch * LAG_SECONDS)):
            await asyncio.sleep(max(0.0, started + n * per_batch / RATE - time.perf_counter()))
            pending.append(asyncio.create_task(post()))
        await asyncio.gather(*pending, probing)
    return sent


def lag_figures(engine: Any, since: Any) -> dict[str, float]:
    query = text("""SELECT EXTRACT(EPOCH FROM (p.processed_at - o.created_at)) FROM outbox o
                    JOIN processed_events p ON p.event_id = o.id AND p.consumer = 'progress.funnel_rollup'
                    WHERE o.topic = 'enrolment.created' AND o.created_at >= :since""")
    with engine.connect() as conn:
        lags = [float(r[0]) for r in conn.execute(query, {"since": since})]
    if not lags:
        return {"n": 0, "p50": float("nan"), "p95": float("nan"), "max": float("nan")}
    return {"n": len(lags), "p50": statistics.median(lags), "p95": percentile(lags, 0.95), "max": max(lags)}


def wait_drained(engine: Any, redis_url: str, since: Any, timeout: float = 600) -> float:
    """Seconds until every event is published and the analytics queue is empty."""
    import redis

    client = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    pending = text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    while time.monotonic() - started < timeout:
        with engine.connect() as conn:
            unpublished = conn.execute(pending).scalar_one()
        if not unpublished and client.llen("analytics") == 0:
            break
        time.sleep(0.2)
    return time.monotonic() - started


def main() -> str:
    from datetime import UTC, datetime

    from deploy.seed_large import seed_large
    from libs.db import create_db_engine

    with (
        tempfile.TemporaryDirectory(prefix="bench-analytics-") as tmp,
        postgres_server(Path(tmp) / "pg") as admin,
    ):
        urls = create_databases(admin, ["gateway", "progress"])
        env = {
            "USTAZ_GATEWAY_DATABASE_URL": urls["gateway"],
            "USTAZ_PROGRESS_DATABASE_URL": urls["progress"],
            "USTAZ_RATE_LIMIT_PER_IP": "10000000",
            "USTAZ_RATE_LIMIT_PER_USER": "10000000",
        }
        platform = platform_on_free_ports(Path(tmp) / "platform", extra_env=env)
        with platform:
            platform.start(timeout=180)
            seeded = seed_large(
                teachers=TEACHERS, seed=42, gateway_url=urls["gateway"], progress_url=urls["progress"]
            )
            base = platform.urls["gateway"]
            login = httpx.post(f"{base}/auth/login", json={"username": "analyst", "password": "analyst-demo"})
            headers = {"authorization": f"Bearer {login.json()['access_token']}"}
            queries = [
                ("national funnel by region", "/funnel", {}, lambda e: raw_funnel(e, "KZ/%", 2)),
                (
                    "Almaty Region by district",
                    "/funnel",
                    {"org": "KZ-ALM"},
                    lambda e: raw_funnel(e, "KZ/KZ-ALM/%", 3),
                ),
                ("competency heat table by region", "/attainment", {}, raw_heat),
            ]
            engine = create_db_engine(urls["progress"])
            rows = []
            for name, path, params, raw in queries:
                via = asyncio.run(through_gateway(base, headers, path, params))
                raw_ms = timed(lambda raw=raw: raw(engine), RAW_RUNS)
                rows.append([name, via["p50"], via["p95"], via["rps"], raw_ms, raw_ms / via["p50"]])

            teacher = httpx.post(
                f"{base}/auth/login", json={"username": "teacher", "password": "teacher-demo"}
            )
            t_headers = {"authorization": f"Bearer {teacher.json()['access_token']}"}
            httpx.post(
                f"{base}/api/v1/progress/enrolments", json={"course_id": COURSE_RU_ID}, headers=t_headers
            )
            import jwt

            teacher_id = jwt.decode(teacher.json()["access_token"], options={"verify_signature": False})[
                "sub"
            ]
            since = datetime.now(UTC)
            started = time.perf_counter()
            sent = asyncio.run(ingest(base, t_headers, teacher_id, engine))
            ingest_seconds = time.perf_counter() - started
            drain = wait_drained(engine, platform.redis_url, since)
            time.sleep(2)  # the last tasks taken from the queue finish
            lag = lag_figures(engine, since)
            engine.dispose()
    size = (
        f"{TEACHERS:,} teachers, {seeded['org_units']:,} org units, {seeded['enrolments']:,} enrolments, "
        f"{seeded['statements']:,} statements, {seeded['submissions']:,} graded submissions, "
        f"{seeded['completions']:,} completions, {seeded['certificates']:,} certificates; generated in "
        f"{seeded['generate_seconds']} s, rollups recomputed in {seeded['rollup_seconds']} s"
    )
    from bench import engine as engine_bench

    return "\n".join(
        [
            engine_bench.main(),
            f"Analytics on PostgreSQL: {size}\n",
            f"Dashboard queries through the gateway ({CLIENTS} clients, {DURATION:g} s each) vs the same answer "
            f"from raw tables (median of {RAW_RUNS}, in-process, no HTTP)\n\n"
            + table(["query", "p50 ms", "p95 ms", "req/s", "raw tables ms", "raw / rollup p50"], rows),
            f"Rollup lag at {RATE} records/s for {LAG_SECONDS:g} s ({sent} statements sent in {ingest_seconds:.1f} s; "
            "lag of probe enrolments, one a second, from record commit to rollup commit)\n\n"
            + table(
                ["probes", "p50 s", "p95 s", "max s", "queue drained after ingest, s"],
                [[lag["n"], lag["p50"], lag["p95"], lag["max"], drain]],
            ),
        ]
    )
