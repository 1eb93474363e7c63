"""Exam day (issue 13): thousands of teachers submitting a final quiz at once, through the gateway,
with every process `make run` starts sharing this machine's cores with the load generator.

For each progress database (SQLite, PostgreSQL) and each design:

- **floor**: a no-op Celery round trip (`ustaz.ping`, libs/celery_app.py) sent by the load generator
  at the same rate to the `grading` queue of the platform's worker: what one message per submission
  costs at least, whatever the handler does;
- **today**: the design before issue 13 (BENCH_BASELINE, a commit of this repository, run from a
  `git worktree` of its own, for BENCH_BASELINE_SECONDS);
- **now**: this checkout, for BENCH_EXAM_SECONDS.

Each design gets BENCH_EXAM_TEACHERS teachers (their own tokens, signed with the platform's gateway
key; each enrolled through the gateway), BENCH_EXAM_RATE submissions/s round robin through the
gateway, and then waits until every event has been handled by every consumer. Reported: submit ->
graded (server clocks) p50/p95/p99, each consumer's lag (event committed -> consumer committed, max
and p95), how long after the last submission everything was done, lost and duplicated effects, and
CPU ms per graded submission by process from the first submission until everything was done.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.common import percentile

SECONDS = float(os.environ.get("BENCH_EXAM_SECONDS", "300"))
RATE = float(os.environ.get("BENCH_EXAM_RATE", "250"))
TEACHERS = int(os.environ.get("BENCH_EXAM_TEACHERS", "2500"))
BASELINE = os.environ.get("BENCH_BASELINE", "d5023d6")  # main before issue 13; "" skips it
BASELINE_SECONDS = float(os.environ.get("BENCH_BASELINE_SECONDS", "60"))
FLOOR_SECONDS = float(os.environ.get("BENCH_FLOOR_SECONDS", "60"))
DRAIN_SECONDS = float(os.environ.get("BENCH_DRAIN_SECONDS", "900"))
DATABASES = os.environ.get("BENCH_DATABASES", "SQLite,PostgreSQL").split(",")
RIGHT = {"q1a": "b", "q1b": False, "q1c": 70}
PROCESSES = ("gateway", "progress", "certificates", "courses", "worker", "beat", "redis", "load generator")
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Outcome:
    design: str
    database: str
    seconds: float
    accepted: int = 0
    refused: int = 0
    graded: int = 0
    waits: list[float] = field(default_factory=list)
    lags: dict[str, list[float]] = field(default_factory=dict)
    done_after: float = 0.0  # seconds from the last submission until every consumer was done
    lost: dict[str, int] = field(default_factory=dict)
    duplicated: dict[str, int] = field(default_factory=dict)
    cpu_ms: dict[str, float] = field(default_factory=dict)
    pings: int = 0
    refusals: dict[str, int] = field(default_factory=dict)


# -- load -------------------------------------------------------------------------------------------


async def submit_all(base: str, tokens: list[dict[str, str]], seconds: float, outcome: Outcome) -> None:
    """RATE submissions/s for `seconds`, round robin over the teachers (aiohttp: a cheap client, so
    the load generator's share of the cores stays small)."""
    import aiohttp

    body = {"course_id": _course(), "quiz_id": "q1", "answers": RIGHT}
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(base, connector=connector, timeout=aiohttp.ClientTimeout(60)) as http:

        async def one(headers: dict[str, str]) -> None:
            try:
                async with http.post("/api/v1/progress/submissions", json=body, headers=headers) as answer:
                    await answer.read()
                    status = str(answer.status)
            except (TimeoutError, aiohttp.ClientError) as failed:  # a finding, not a crash
                status = type(failed).__name__
            if status == "202":
                outcome.accepted += 1
            else:
                outcome.refused += 1
                outcome.refusals[status] = outcome.refusals.get(status, 0) + 1

        started = time.perf_counter()
        pending: set[asyncio.Task[None]] = set()
        for n in range(int(RATE * seconds)):
            await asyncio.sleep(max(0.0, started + n / RATE - time.perf_counter()))
            task = asyncio.create_task(one(tokens[n % len(tokens)]))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)


async def enrol_all(base: str, tokens: list[dict[str, str]]) -> None:
    import aiohttp

    async with aiohttp.ClientSession(base) as http:
        slots = asyncio.Semaphore(16)

        async def enrol(headers: dict[str, str]) -> None:
            async with (
                slots,
                http.post(
                    "/api/v1/progress/enrolments", json={"course_id": _course()}, headers=headers
                ) as answer,
            ):
                assert answer.status in (200, 201), await answer.text()

        await asyncio.gather(*(enrol(h) for h in tokens))


def _course() -> str:
    from deploy.seed import COURSE_RU_ID

    return COURSE_RU_ID


# -- what happened (the databases' own records; the same queries on both designs) ----------------------


def _moment(value: Any) -> datetime:
    from libs.db import as_utc

    return as_utc(value)


def _rows(url: str, sql: str) -> list[Any]:
    from libs.db import create_db_engine

    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


def expected_and_done(urls: dict[str, str]) -> tuple[dict[str, int], dict[str, int]]:
    """Per consumer: events of its topics in their producer's outbox, and events it has recorded."""
    from libs.events import CONSUMERS

    events: Counter[str] = Counter()
    for producer in ("progress", "certificates"):
        for topic, n in _rows(urls[producer], "SELECT topic, count(*) FROM outbox GROUP BY topic"):
            events[topic] += n
    expected = {c.name: sum(events[t] for t in c.topics) for c in CONSUMERS}
    done: dict[str, int] = {}
    for service in ("progress", "certificates"):
        for consumer, n in _rows(urls[service], "SELECT consumer, count(*) FROM processed_events GROUP BY 1"):
            done[consumer] = n
    return expected, done


def drained(urls: dict[str, str], accepted: int) -> bool:
    """Every accepted submission graded and every event recorded by each of its consumers."""
    graded = _rows(urls["progress"], "SELECT count(*) FROM submissions WHERE status = 'graded'")[0][0]
    if graded < accepted:
        return False
    expected, done = expected_and_done(urls)
    return all(done.get(name, 0) >= n for name, n in expected.items())


def collect(urls: dict[str, str], outcome: Outcome) -> None:
    progress, certificates = urls["progress"], urls["certificates"]
    subs = _rows(progress, "SELECT submitted_at, graded_at FROM submissions WHERE status = 'graded'")
    outcome.graded = len(subs)
    outcome.waits = [(_moment(g) - _moment(s)).total_seconds() for s, g in subs]
    created = {
        row[0]: _moment(row[1])
        for url in (progress, certificates)
        for row in _rows(url, "SELECT id, created_at FROM outbox")
    }
    for url in (progress, certificates):
        for event_id, consumer, at in _rows(
            url, "SELECT event_id, consumer, processed_at FROM processed_events"
        ):
            if event_id in created:
                lag = (_moment(at) - created[event_id]).total_seconds()
                outcome.lags.setdefault(consumer, []).append(lag)
    graded_events = Counter(
        _payload(p)["submission_id"]
        for (p,) in _rows(progress, "SELECT payload FROM outbox WHERE topic = 'submission.graded'")
    )
    completions = _rows(progress, "SELECT count(*) FROM completions")[0][0]
    certs, cert_enrolments = _rows(
        certificates, "SELECT count(*), count(DISTINCT enrolment_id) FROM certificates"
    )[0]
    messages = _rows(progress, "SELECT count(*) FROM reminders WHERE rule = 'certificate'")[0][0]
    facts = _rows(progress, "SELECT count(*) FROM certificate_facts")[0][0]
    totals = dict(_rows(progress, "SELECT stage, count FROM rollup_funnel_totals WHERE level = 0"))
    teachers_completed = _rows(progress, "SELECT count(DISTINCT user_id) FROM completions")[0][0]
    expected, done = expected_and_done(urls)
    outcome.lost = {
        "submissions not graded": outcome.accepted - outcome.graded,
        "completions without a certificate": completions - cert_enrolments,
        "certificates without a message": certs - messages,
        "certificates not in the rollups": certs - facts,
        "completed teachers not in the funnel totals": teachers_completed - int(totals.get("completed", 0)),
        "events a consumer never recorded": sum(max(0, n - done.get(c, 0)) for c, n in expected.items()),
    }
    outcome.duplicated = {
        "submissions graded twice": sum(n - 1 for n in graded_events.values() if n > 1),
        "certificates for one enrolment": certs - cert_enrolments,
        "messages for one certificate": max(0, messages - certs),
    }


def _payload(value: Any) -> dict[str, Any]:
    import json

    return value if isinstance(value, dict) else dict(json.loads(value))


# -- CPU ----------------------------------------------------------------------------------------------


def cpu_seconds(platform: Any) -> dict[str, float]:
    """CPU (user + system) of each process `make run` starts, its pool children included, and of
    this load generator."""
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


# -- one design ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def platform_for(workdir: Path, progress_url: str | None, root: Path) -> Iterator[Any]:
    from tests.servers import platform_on_free_ports

    env = {"USTAZ_RATE_LIMIT_PER_IP": "10000000", "USTAZ_RATE_LIMIT_PER_USER": "10000000"}
    if progress_url:
        env["USTAZ_PROGRESS_DATABASE_URL"] = progress_url
    platform = platform_on_free_ports(workdir, extra_env=env, root=root)
    with platform:
        platform.start(timeout=240)
        yield platform


def run_design(
    design: str, database: str, workdir: Path, progress_url: str | None, root: Path, seconds: float
) -> Outcome:
    from tests.servers import teacher_tokens

    outcome = Outcome(design, database, seconds)
    with platform_for(workdir, progress_url, root) as platform:
        urls = {
            "progress": progress_url or f"sqlite:///{workdir / 'progress.db'}",
            "certificates": f"sqlite:///{workdir / 'certificates.db'}",
        }
        base = platform.urls["gateway"]
        tokens = teacher_tokens(workdir / "gateway-keys", TEACHERS)
        asyncio.run(enrol_all(base, tokens))
        wait(lambda: drained(urls, 0), 300, "the enrolments' events")
        before = cpu_seconds(platform)
        asyncio.run(submit_all(base, tokens, seconds, outcome))
        last = time.monotonic()
        try:
            wait(lambda: drained(urls, outcome.accepted), DRAIN_SECONDS, f"{design}: every effect")
            outcome.done_after = time.monotonic() - last
        except TimeoutError as late:  # reported as such: the figures so far still say where it stands
            print(late, file=sys.stderr)
            outcome.done_after = float("inf")
        after = cpu_seconds(platform)
        collect(urls, outcome)
        outcome.cpu_ms = {k: (after[k] - before[k]) * 1000 / max(1, outcome.graded) for k in after}
        if design == "now":
            floor(platform, outcome)
    return outcome


def floor(platform: Any, outcome: Outcome) -> None:
    """The no-op round trip at the same rate, on the same worker, right after the design's run."""
    import redis
    from celery import Celery

    sender = Celery("floor", broker=platform.redis_url)
    sender.conf.update(task_serializer="json")
    client = redis.Redis.from_url(platform.redis_url)
    client.delete("floor")
    before = cpu_seconds(platform)
    started = time.perf_counter()
    count = int(RATE * FLOOR_SECONDS)
    with sender.connection_for_write() as connection:
        for n in range(count):
            time.sleep(max(0.0, started + n / RATE - time.perf_counter()))
            sender.send_task(
                "ustaz.ping", args=["floor", time.time()], queue="grading", connection=connection
            )
    wait(lambda: client.llen("floor") >= count, 300, "the no-op round trips")
    after = cpu_seconds(platform)
    done = [tuple(map(float, str(m, "ascii").split(","))) for m in client.lrange("floor", 0, -1)]  # type: ignore[arg-type]
    floor_outcome = Outcome("floor (no-op Celery round trip)", outcome.database, FLOOR_SECONDS)
    floor_outcome.accepted = floor_outcome.graded = len(done)
    floor_outcome.waits = [d - s for s, d in done]
    floor_outcome.cpu_ms = {k: (after[k] - before[k]) * 1000 / max(1, len(done)) for k in after}
    FLOORS.append(floor_outcome)


FLOORS: list[Outcome] = []


def wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not done within {timeout:.0f} s")
        time.sleep(2.0)  # the checks run in this process: its CPU counts as the load generator's


@contextlib.contextmanager
def baseline_checkout(workdir: Path) -> Iterator[Path | None]:
    if not BASELINE:
        yield None
        return
    checkout = workdir / "baseline"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(checkout), BASELINE],
        check=True,
        capture_output=True,
    )
    try:
        yield checkout
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(checkout)], check=False)


# -- the table ----------------------------------------------------------------------------------------


def rows(outcomes: list[Outcome]) -> tuple[list[list[Any]], list[list[Any]], list[list[Any]]]:
    latency, effects, cpu = [], [], []
    for o in outcomes:
        w = o.waits or [0.0]
        latency.append(
            [
                o.design,
                o.database,
                f"{RATE:.0f}/s × {o.seconds:.0f} s",
                o.accepted,
                o.refused,
                o.graded,
                percentile(w, 0.5) * 1000,
                percentile(w, 0.95) * 1000,
                percentile(w, 0.99) * 1000,
            ]
        )
        if o.lags:
            worst = {c: max(v) for c, v in o.lags.items()}
            effects.append(
                [
                    o.design,
                    o.database,
                    f"{o.done_after:.1f} s",
                    f"{max(worst.values()):.1f} s",
                    "; ".join(
                        f"{c.split('.', 1)[1]} {percentile(v, 0.95):.2f}/{max(v):.1f}"
                        for c, v in sorted(o.lags.items())
                    ),
                    sum(o.lost.values()),
                    sum(o.duplicated.values()),
                ]
            )
        cpu.append(
            [
                o.design,
                o.database,
                *(f"{o.cpu_ms.get(p, 0):.2f}" for p in PROCESSES),
                f"{sum(o.cpu_ms.values()):.2f}",
            ]
        )
    return latency, effects, cpu


def _progress(outcomes: list[Outcome]) -> None:
    """Each design's figures on stderr as soon as they exist (a long run may be cut short)."""
    for line in rows(outcomes[-2:] if outcomes[-1].design.startswith("floor") else outcomes[-1:]):
        for row in line:
            print(" | ".join(str(c) for c in row), file=sys.stderr, flush=True)


def main() -> str:
    from bench.common import table
    from bench.progress import backends

    outcomes: list[Outcome] = []
    keep = os.environ.get("BENCH_EXAM_KEEP")  # a directory kept after the run: the processes' logs
    scratch = contextlib.nullcontext(keep) if keep else tempfile.TemporaryDirectory(prefix="bench-exam-")
    with scratch as tmp, backends(Path(tmp)) as dbs:
        with baseline_checkout(Path(tmp)) as baseline:
            for name, new_database in dbs:
                if name not in DATABASES:
                    continue
                outcomes.append(
                    run_design("now", name, Path(tmp) / f"{name}-now", new_database("now"), ROOT, SECONDS)
                )
                outcomes.extend(FLOORS)
                FLOORS.clear()
                _progress(outcomes)
                if baseline is not None:
                    outcomes.append(
                        run_design(
                            "today",
                            name,
                            Path(tmp) / f"{name}-today",
                            new_database("today"),
                            baseline,
                            BASELINE_SECONDS,
                        )
                    )
                    _progress(outcomes)
    for o in outcomes:
        if o.refusals:
            print(f"{o.design} on {o.database}: refused {o.refusals}", file=sys.stderr)
        problems = {k: v for k, v in {**o.lost, **o.duplicated}.items() if v}
        if problems:
            print(f"{o.design} on {o.database}: {problems}", file=sys.stderr)
    latency, effects, cpu = rows(outcomes)
    return "\n".join(
        [
            f"Exam day: {TEACHERS} teachers, submit -> graded (server clocks)\n\n"
            + table(
                [
                    "design",
                    "progress database",
                    "load",
                    "accepted",
                    "refused",
                    "graded",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                ],
                latency,
            ),
            "Downstream effects (consumer lag p95/max in s, event committed -> consumer committed)\n\n"
            + table(
                [
                    "design",
                    "progress database",
                    "all done after the last submission",
                    "worst lag",
                    "by consumer",
                    "lost",
                    "duplicated",
                ],
                effects,
            ),
            "CPU ms per graded submission (per message for the floor), by process\n\n"
            + table(["design", "progress database", *PROCESSES, "total"], cpu),
        ]
    )
