"""Issue 17 benchmarks: the LRS at /xapi/ (docs/lrs.md).

1. Ingest: CLIENTS clients POST batches of 50 new statements (1,000 learners by mbox, 20 verbs, 500
   activities with a parent, a registration each) to /xapi/statements through the gateway with the
   demo client's Basic credentials, for BENCH_SECONDS, progress on PostgreSQL (and SQLite unless
   BENCH_LRS_BACKENDS=PostgreSQL); statements/s. Target >= 2,000/s on PostgreSQL.
2. Queries at scale: BENCH_LRS_STATEMENTS (default 200,000; the target is stated at 10,000,000)
   statements are written straight into the store (COPY on PostgreSQL, the rows and filter index the
   store itself writes), shaped like a national deployment: 100 statements per learner, 1,000 per
   activity, 1/50 of all per verb, 10 per registration. Then GET /xapi/statements through the
   gateway with each filter (agent, verb, activity, registration, related activities and agents,
   since, two filters together, the next page by `more`, one statement by id), BENCH_QUERIES each
   (default 200, random values), one client at a time; p50/p95/p99 ms. Target p95 <= 50 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.common import percentile, table
from bench.progress import backends, cpu_seconds, start_platform
from deploy.seed import INSTITUTE_ID
from services.progress.lrs import canonical, formats
from services.progress.lrs.clients import DEMO_KEY, DEMO_SECRET
from services.progress.lrs.store import Owner, Writer, _row

DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
STATEMENTS = int(os.environ.get("BENCH_LRS_STATEMENTS", "200000"))
QUERIES = int(os.environ.get("BENCH_QUERIES", "200"))
BACKENDS = os.environ.get("BENCH_LRS_BACKENDS", "SQLite,PostgreSQL").split(",")
PARTS = set(os.environ.get("BENCH_PARTS", "ingest,queries").split(","))
HEADERS = {"X-Experience-API-Version": "1.0.3"}
AUTH = (DEMO_KEY, DEMO_SECRET)


def learner(n: int) -> dict[str, Any]:
    return {"objectType": "Agent", "mbox": f"mailto:learner{n}@school.example", "name": f"Learner {n}"}


def verb(n: int) -> str:
    return f"http://example.org/verbs/v{n}"


def activity(n: int) -> str:
    return f"http://example.org/activities/a{n}"


def statement(
    learners: int, verbs: int, activities: int, registration: str, timestamp: str
) -> dict[str, Any]:
    a = random.randrange(activities)
    return {
        "id": str(uuid.uuid4()),
        "actor": learner(random.randrange(learners)),
        "verb": {"id": verb(random.randrange(verbs)), "display": {"en-US": "did"}},
        "object": {"id": activity(a), "definition": {"name": {"en-US": f"Activity {a}"}}},
        "result": {"score": {"scaled": round(random.random(), 2)}, "completion": True},
        "context": {
            "registration": registration,
            "contextActivities": {"parent": [{"id": activity(a // 10 + 1_000_000)}]},
        },
        "timestamp": timestamp,
    }


def postgres_cpu(workdir: Path) -> float:
    """CPU seconds of the PostgreSQL server under `workdir` (postmaster, backends, reaped children)."""
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "postgres" and any(str(workdir) in arg for arg in proc.info["cmdline"] or []):
            times = proc.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
            for child in proc.children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    t = child.cpu_times()
                    total += t.user + t.system
    return total


def ingest_with_cpu(platform: Any, workdir: Path) -> tuple[float, float, dict[str, float]]:
    """(statements/s, statements, CPU ms per statement by process) of one ingest run."""
    before = {**cpu_seconds(platform), "postgres": postgres_cpu(workdir)}
    rate, count = asyncio.run(ingest(platform.urls["gateway"]))
    after = {**cpu_seconds(platform), "postgres": postgres_cpu(workdir)}
    per = {k: (after[k] - before[k]) * 1000 / max(1, count) for k in after}
    return rate, count, per


async def ingest(base: str) -> tuple[float, int]:
    """(statements/s, statements stored) measured over DURATION after a warm-up."""
    stored = 0
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=HEADERS, auth=AUTH) as client:

        async def one_client(stop: float) -> None:
            nonlocal stored
            while time.perf_counter() < stop:
                now = datetime.now(UTC).isoformat()
                registration = str(uuid.uuid4())
                batch = [statement(1000, 20, 500, registration, now) for _ in range(50)]
                response = await client.post("/xapi/statements", json=batch)
                response.raise_for_status()
                stored += 50

        await asyncio.gather(*(one_client(time.perf_counter() + 2) for _ in range(CLIENTS)))  # warm-up
        stored = 0
        started = time.perf_counter()
        await asyncio.gather(*(one_client(started + DURATION) for _ in range(CLIENTS)))
        return stored / (time.perf_counter() - started), stored


# -- queries at scale -------------------------------------------------------------------------------


def shape(total: int) -> dict[str, int]:
    return {
        "learners": max(1, total // 100),
        "activities": max(1, total // 1000),
        "verbs": 50,
        "registrations": max(1, total // 10),
    }


def generated(total: int, start: datetime) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(statement row, facet rows) as the store writes them, `total` of them, stored 1 ms apart."""
    sizes = shape(total)
    writer = Writer(
        store=INSTITUTE_ID,
        source="client:bench",
        authority={"objectType": "Agent", "mbox": "mailto:bench@example.org"},
    )
    registrations = [
        str(uuid.UUID(int=random.getrandbits(128))) for _ in range(min(sizes["registrations"], 1_000_000))
    ]
    for index in range(total):
        stored = start + timedelta(milliseconds=index)
        body = statement(
            sizes["learners"],
            sizes["verbs"],
            sizes["activities"],
            registrations[index % len(registrations)],
            formats.iso(stored),
        )
        row = _row(writer, body, Owner(), stored)
        keys = canonical.facet_keys(INSTITUTE_ID, canonical.facets(row["body"]))
        yield row, [{"key": k, "stored": stored, "statement_id": row["id"]} for k in keys]


COLUMNS = (
    "id",
    "store",
    "user_id",
    "course_id",
    "verb",
    "activity_id",
    "body",
    "digest",
    "timestamp",
    "stored",
    "future_timestamp",
    "voided",
    "voids",
    "ref_id",
    "registration",
    "source",
)


def fill(url: str, total: int, begin: datetime) -> float:
    """Write `total` statements straight into the store, stored from `begin` on; seconds taken."""
    started = time.perf_counter()
    if url.startswith("sqlite"):
        _fill_sqlite(url, total, begin)
    else:
        _fill_postgres(url, total, begin)
    return time.perf_counter() - started


def _fill_postgres(url: str, total: int, begin: datetime) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn, conn.cursor() as cur:
        rows = generated(total, begin)
        while True:
            chunk = [next(rows, None) for _ in range(20_000)]
            chunk = [c for c in chunk if c is not None]
            if not chunk:
                break
            with cur.copy(f"COPY statements ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row, _ in chunk:
                    copy.write_row([json.dumps(row[c]) if c == "body" else row[c] for c in COLUMNS])
            with cur.copy("COPY statement_facets (key, stored, statement_id) FROM STDIN") as copy:
                for _, facets in chunk:
                    for facet in facets:
                        copy.write_row([facet["key"], facet["stored"], facet["statement_id"]])
            conn.commit()
        cur.execute("ANALYZE statements")
        cur.execute("ANALYZE statement_facets")
        conn.commit()


def _fill_sqlite(url: str, total: int, begin: datetime) -> None:
    from sqlalchemy import insert

    from libs.db import create_db_engine
    from services.progress.lrs.models import StatementFacet
    from services.progress.models import Statement, table_of

    engine = create_db_engine(url)
    rows = generated(total, begin)
    while True:
        chunk = [c for c in (next(rows, None) for _ in range(5_000)) if c is not None]
        if not chunk:
            break
        with engine.begin() as conn:
            conn.execute(insert(table_of(Statement)), [r for r, _ in chunk])
            conn.execute(insert(table_of(StatementFacet)), [f for _, fs in chunk for f in fs])
    engine.dispose()


def queries(total: int, begin: datetime) -> dict[str, Any]:
    """name -> a function giving the query parameters of one request (random values that exist)."""
    sizes = shape(total)
    since = formats.iso(begin + timedelta(milliseconds=total // 2))  # the newer half

    def agent() -> str:
        return json.dumps({"mbox": learner(random.randrange(sizes["learners"]))["mbox"]})

    return {
        "no filter (newest 100)": lambda: {},
        "agent": lambda: {"agent": agent()},
        "verb": lambda: {"verb": verb(random.randrange(sizes["verbs"]))},
        "activity": lambda: {"activity": activity(random.randrange(sizes["activities"]))},
        "related_activities (a parent)": lambda: {
            "activity": activity(random.randrange(max(1, sizes["activities"] // 10)) + 1_000_000),
            "related_activities": "true",
        },
        "agent, related_agents": lambda: {"agent": agent(), "related_agents": "true"},
        "agent + verb": lambda: {"agent": agent(), "verb": verb(random.randrange(sizes["verbs"]))},
        "verb + since, ascending": lambda: {
            "verb": verb(random.randrange(sizes["verbs"])),
            "since": since,
            "ascending": "true",
        },
        "activity, limit 10, format ids": lambda: {
            "activity": activity(random.randrange(sizes["activities"])),
            "limit": "10",
            "format": "ids",
        },
    }


async def measure(base: str, total: int, begin: datetime) -> list[list[Any]]:
    rows: list[list[Any]] = []
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=HEADERS, auth=AUTH) as client:
        for name, params in queries(total, begin).items():
            samples, returned = await _samples(client, params)
            rows.append([name, *_stats(samples), returned / len(samples)])
        # the next page by `more`, and one statement by id
        pages: list[float] = []
        singles: list[float] = []
        for _ in range(QUERIES // 2):
            first = (
                await client.get(
                    "/xapi/statements", params={"verb": verb(random.randrange(50)), "limit": "20"}
                )
            ).json()
            if first["more"]:
                started = time.perf_counter()
                response = await client.get(first["more"])
                pages.append(time.perf_counter() - started)
                response.raise_for_status()
            if first["statements"]:
                started = time.perf_counter()
                (
                    await client.get("/xapi/statements", params={"statementId": first["statements"][0]["id"]})
                ).raise_for_status()
                singles.append(time.perf_counter() - started)
        rows.append(["the next page (more), verb, limit 20", *_stats(pages), 20.0])
        rows.append(["statementId", *_stats(singles), 1.0])
    return rows


async def _samples(client: httpx.AsyncClient, params: Any) -> tuple[list[float], int]:
    samples: list[float] = []
    returned = 0
    for _ in range(QUERIES):
        query = params()
        started = time.perf_counter()
        response = await client.get("/xapi/statements", params=query)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
        returned += len(response.json()["statements"])
    return samples, returned


def _stats(samples: list[float]) -> list[float]:
    if not samples:
        return [0.0, 0.0, 0.0]
    return [percentile(samples, q) * 1000 for q in (0.5, 0.95, 0.99)]


def main() -> str:
    out = ["## LRS (issue 17) — `python -m bench lrs`\n"]
    ingest_rows: list[list[Any]] = []
    query_rows: list[list[Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-lrs-") as tmp, backends(Path(tmp)) as dbs:
        for name, new_database in dbs:
            if name not in BACKENDS:
                continue
            if "ingest" in PARTS:
                url = new_database("lrs_ingest")
                with start_platform(Path(tmp) / f"{name}-ingest", url) as platform:
                    rate, _, per = ingest_with_cpu(platform, Path(tmp))
                    cpu = sum(per.values())
                    busiest = ", ".join(
                        f"{k} {v:.3f}" for k, v in sorted(per.items(), key=lambda kv: -kv[1]) if v >= 0.005
                    )
                    ingest_rows.append([name, rate, cpu, 2000 / cpu if cpu else 0.0, busiest])
            if "queries" not in PARTS:
                continue
            url = new_database("lrs_queries")
            with start_platform(Path(tmp) / f"{name}-queries", url) as platform:
                begin = datetime.now(UTC) - timedelta(milliseconds=STATEMENTS + 60_000)
                seconds = fill(url, STATEMENTS, begin)
                results = asyncio.run(measure(platform.urls["gateway"], STATEMENTS, begin))
                query_rows += [[name, *r] for r in results]
                out.append(f"{name}: {STATEMENTS:,} statements written into the store in {seconds:.0f} s.\n")
    out.append(
        f"\nIngest, batches of 50 through the gateway with Basic auth, {CLIENTS} clients, {DURATION:g} s:\n"
    )
    out.append(
        "(CPU ms per statement: every process of the platform, PostgreSQL and this load generator; "
        "2 cores' worth of it, 2,000 ms/s, divided by that is the rate the machine sustains when "
        "nothing else runs on it.)\n"
    )
    out.append(
        table(
            [
                "database",
                "statements/s (wall)",
                "CPU ms per statement",
                "statements/s per 2 busy cores",
                "CPU ms by process",
            ],
            ingest_rows,
        )
    )
    out.append(
        f"\nGET /xapi/statements at {STATEMENTS:,} stored statements, {QUERIES} requests each, one at a time:\n"
    )
    out.append(
        table(["database", "query", "p50 ms", "p95 ms", "p99 ms", "statements per answer"], query_rows)
    )
    return "".join(out)
