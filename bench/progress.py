"""Issue 4 benchmarks: statement ingest, grading latency, reminder sweep.

1. Statement ingest through the gateway: clients POST batches of 50 new statements as the demo
   teacher to /api/v1/progress/xapi/statements against the processes `make run` starts, with the
   progress database on SQLite and on PostgreSQL; statements/s.
2. Grading: 1,000 teachers (tokens signed with the platform's own gateway key, each enrolled through
   the gateway) each submitting every 10 s, i.e. 100 submissions/s, round robin, for BENCH_SECONDS
   through the gateway; p50/p95/p99
   from submit (`submitted_at`) to graded (`graded_at`), both server clocks, and graded/s; every
   submission must end graded.
3. Reminder sweep over 100,000 active enrolments (a tenth inactive, a tenth near a deadline):
   seconds per `reminders.sweep`, on SQLite and PostgreSQL, run in-process.

4. Exam day (issue 13, bench/exam.py): 2,500 teachers, 250 submissions/s for 5 minutes, the floor
   (a no-op Celery round trip) and the design before issue 13 in the same run and table.

BENCH_SECONDS (default 10; the issue asks 60 for grading), BENCH_CLIENTS (default 8) and
BENCH_PARTS (default "ingest,exam,sweep"; "grading" is issue 4's 100/s run; bench/exam.py has its own
BENCH_EXAM_* settings).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, make_url, text

from bench.common import percentile, table
from deploy.platform import Platform
from deploy.seed import COURSE_RU_ID
from tests.servers import platform_on_free_ports, postgres_server, teacher_tokens

DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
PARTS = set(os.environ.get("BENCH_PARTS", "ingest,exam,sweep").split(","))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
SUBMIT_RATE = 100
TEACHERS = 1000
RIGHT = {"q1a": "b", "q1b": False, "q1c": 70}


@contextmanager
def backends(workdir: Path) -> Iterator[list[tuple[str, Callable[[str], str | None]]]]:
    """(name, make a fresh database by name -> its URL; None means the platform's own SQLite file)."""
    with postgres_server(workdir / "pg") as admin:
        from libs.db import create_db_engine

        def postgres(name: str) -> str:
            engine = create_db_engine(admin)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            engine.dispose()
            return make_url(admin).set(database=name).render_as_string(hide_password=False)

        def sqlite(name: str) -> str | None:
            return None if name == "platform" else f"sqlite:///{workdir / f'{name}.db'}"

        yield [("SQLite", sqlite), ("PostgreSQL", postgres)]


def start_platform(workdir: Path, progress_url: str | None) -> Platform:
    env = {
        "USTAZ_RATE_LIMIT_PER_IP": "10000000",
        "USTAZ_RATE_LIMIT_PER_USER": "10000000",
        "USTAZ_STATEMENTS_BATCH_MAX": "100",
    }
    if progress_url:
        env["USTAZ_PROGRESS_DATABASE_URL"] = progress_url
    platform = platform_on_free_ports(workdir, extra_env=env)
    platform.start(timeout=180)
    return platform


async def ingest(base: str, headers: dict[str, str], user_id: str) -> float:
    """Statements per second over DURATION seconds, CLIENTS clients posting batches of 50."""
    stored = 0
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers) as client:

        async def batch() -> list[dict[str, Any]]:
            return [
                {
                    "id": str(uuid.uuid4()),
                    "actor": {"account": {"homePage": base, "name": user_id}},
                    "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                    "object": {"id": f"urn:ustaz:course:{COURSE_RU_ID}/item/l1"},
                    "timestamp": datetime.now(UTC).isoformat(),
                }
                for _ in range(50)
            ]

        async def one_client(stop: float) -> None:
            nonlocal stored
            while time.perf_counter() < stop:
                response = await client.post("/api/v1/progress/xapi/statements", json=await batch())
                response.raise_for_status()
                stored += 50

        await asyncio.gather(*(one_client(time.perf_counter() + 1) for _ in range(CLIENTS)))  # warm-up
        stored = 0
        started = time.perf_counter()
        await asyncio.gather(*(one_client(started + DURATION) for _ in range(CLIENTS)))
        return stored / (time.perf_counter() - started)


def cpu_seconds(platform: Platform) -> dict[str, float]:
    """CPU time (user + system) of each process `make run` starts, its children included (living ones
    directly, finished ones through the parent's accounting), and of this load generator."""
    import psutil

    spent = {"load generator": time.process_time()}
    for name, proc in platform.procs.items():
        root = psutil.Process(proc.pid)
        t = root.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system
        for child in root.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                c = child.cpu_times()
                total += c.user + c.system
        spent[name] = total
    return spent


async def enrol_all(base: str, teachers: list[dict[str, str]]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        slots = asyncio.Semaphore(8)

        async def enrol(headers: dict[str, str]) -> None:
            async with slots:
                response = await client.post(
                    "/api/v1/progress/enrolments", json={"course_id": COURSE_RU_ID}, headers=headers
                )
                assert response.status_code in (200, 201), response.text

        await asyncio.gather(*(enrol(h) for h in teachers))


async def grading(base: str, teachers: list[dict[str, str]], database: str) -> dict[str, float]:
    ids: list[str] = []
    refused: list[str] = []  # a submission the server did not accept is a finding, not a crash
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def submit(headers: dict[str, str]) -> None:
            response = await client.post(
                "/api/v1/progress/submissions",
                headers=headers,
                json={"course_id": COURSE_RU_ID, "quiz_id": "q1", "answers": RIGHT},
            )
            if response.status_code != 202:
                refused.append(f"{response.status_code} {response.text[:300]}")
                return
            ids.append(response.json()["id"])

        started = time.perf_counter()
        pending: list[asyncio.Task[None]] = []
        for n in range(int(SUBMIT_RATE * DURATION)):
            await asyncio.sleep(max(0.0, started + n / SUBMIT_RATE - time.perf_counter()))
            pending.append(asyncio.create_task(submit(teachers[n % len(teachers)])))
        await asyncio.gather(*pending)
    from libs.db import create_db_engine

    engine = create_db_engine(database)
    deadline = time.monotonic() + 300
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT submitted_at, graded_at FROM submissions WHERE status = 'graded'")
            ).all()
        if len(rows) >= len(ids) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    engine.dispose()

    def moment(value: Any) -> datetime:
        return datetime.fromisoformat(value) if isinstance(value, str) else value

    waits = [(moment(g) - moment(s)).total_seconds() for s, g in rows]
    span = (max(moment(g) for _, g in rows) - min(moment(s) for s, _ in rows)).total_seconds()
    for answer in sorted(set(refused)):
        print(f"refused submission: {answer}", file=sys.stderr)
    return {
        "submitted": len(ids),
        "refused": len(refused),
        "graded": len(rows),
        "p50": percentile(waits, 0.5) * 1000,
        "p95": percentile(waits, 0.95) * 1000,
        "p99": percentile(waits, 0.99) * 1000,
        "per_s": len(rows) / span,
    }


def sweep_seconds(database: str, enrolments: int = 100_000) -> tuple[float, int]:
    from libs.db import create_db_engine, session_scope
    from libs.migrate import upgrade
    from services.progress import reminders
    from services.progress.models import Enrolment
    from services.progress.settings import ProgressSettings

    upgrade("progress", database)
    engine = create_db_engine(database)
    now = datetime.now(UTC)
    rows = []
    for i in range(enrolments):
        kind = i % 10
        rows.append(
            {
                "id": str(uuid.uuid4()),
                "user_id": f"t{i}",
                "user_name": "",
                "course_id": COURSE_RU_ID,
                "version": 1,
                "course_title": "Курс",
                "language": "ru",
                "institute_id": "i",
                "org_path": "KZ/KZ-ALM",
                "status": "active",
                "require_lessons": False,
                "enrolled_at": now - timedelta(days=30 if kind == 0 else 1),
                "deadline": now + timedelta(days=2) if kind == 1 else None,
            }
        )
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(Enrolment.__table__), rows[start : start + 5000])  # type: ignore[attr-defined]
    settings = ProgressSettings()
    started = time.perf_counter()
    with session_scope(engine) as session:
        created = reminders.sweep(session, settings, now)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, created


def user_id(token: str) -> str:
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


def main() -> str:
    ingest_rows, grading_rows, sweep_rows, cpu_rows = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-progress-") as tmp, backends(Path(tmp)) as dbs:
        for name, new_database in dbs:
            workdir = Path(tmp) / name
            url = new_database("platform")
            if PARTS & {"ingest", "grading"}:
                ingest_and_grading(workdir, url, name, ingest_rows, grading_rows, cpu_rows)
            if "sweep" in PARTS:
                seconds, created = sweep_seconds(new_database("sweep") or "")
                sweep_rows.append([name, 100_000, created, seconds])
    exam = ""
    if "exam" in PARTS:
        from bench import exam as exam_day

        exam = exam_day.main()
    return "\n".join(
        [
            exam,
            "Statement ingest through the gateway (batches of 50)\n\n"
            + table(["progress database", "clients", "batch", "statements/s"], ingest_rows),
            "Grading: submit to graded (server clocks)\n\n"
            + table(
                [
                    "progress database",
                    "submitted/s",
                    "seconds",
                    "accepted (202)",
                    "refused",
                    "graded",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "graded/s",
                ],
                grading_rows,
            ),
            "CPU ms per graded submission, by process (from the first submission until all are graded)\n\n"
            + table(["progress database", *CPU_COLUMNS], cpu_rows),
            "Reminder sweep\n\n"
            + table(["database", "active enrolments", "reminders created", "seconds"], sweep_rows),
        ]
    )


CPU_COLUMNS = ("gateway", "progress", "worker", "redis", "load generator")


def ingest_and_grading(
    workdir: Path,
    url: str | None,
    name: str,
    ingest_rows: list[list[Any]],
    grading_rows: list[list[Any]],
    cpu_rows: list[list[Any]],
) -> None:
    with start_platform(workdir, url) as platform:
        base = platform.urls["gateway"]
        token = httpx.post(f"{base}/auth/login", json={"username": "teacher", "password": "teacher-demo"})
        access = token.json()["access_token"]
        headers = {"authorization": f"Bearer {access}"}
        httpx.post(f"{base}/api/v1/progress/enrolments", json={"course_id": COURSE_RU_ID}, headers=headers)
        if "ingest" in PARTS:
            ingest_rows.append([name, CLIENTS, 50, asyncio.run(ingest(base, headers, user_id(access)))])
        if "grading" in PARTS:
            teachers = teacher_tokens(workdir / "gateway-keys", TEACHERS)
            asyncio.run(enrol_all(base, teachers))
            before = cpu_seconds(platform)
            g = asyncio.run(grading(base, teachers, url or f"sqlite:///{workdir / 'progress.db'}"))
            after = cpu_seconds(platform)
            if g["refused"]:  # what the services logged about it, before the temporary directory goes
                for log_file in sorted((workdir / "logs").glob("*.log")):
                    for line in log_file.read_text(errors="replace").splitlines():
                        if '"level": "error"' in line and "WorkerLostError" not in line:
                            print(f"{log_file.name}: {line[:2000]}", file=sys.stderr)
            cpu_rows.append(
                [name] + [f"{(after[k] - before[k]) * 1000 / max(1, g['graded']):.2f}" for k in CPU_COLUMNS]
            )
            grading_rows.append(
                [
                    name,
                    SUBMIT_RATE,
                    DURATION,
                    g["submitted"],
                    g["refused"],
                    g["graded"],
                    g["p50"],
                    g["p95"],
                    g["p99"],
                    g["per_s"],
                ]
            )
