"""Issue 17: the progress service's CPU per statement for a batch of 50, in-process (no HTTP): the
statement resource's validation and record path (`statement_api.validated` + `record`, one
transaction a batch) with an LRS client's Credential, the bench's statements (bench/lrs.py), on
SQLite and PostgreSQL. PostgreSQL's own CPU (its backends) is measured beside. A quick way to see
what a change to the store costs without starting the platform; `BENCH_PROFILE=1` prints a CPU
profile of the last batches. `BENCH_BATCHES` batches are measured (default 60) after 20 warm-up ones.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.common import table
from bench.lrs import postgres_cpu, statement
from bench.progress import backends

BATCHES = int(os.environ.get("BENCH_BATCHES", "60"))
PROFILE = os.environ.get("BENCH_PROFILE", "") == "1"
HOME = "https://ustaz.example"


def _bodies(count: int) -> list[bytes]:
    out = []
    for _ in range(count):
        registration, now = str(uuid.uuid4()), datetime.now(UTC).isoformat()
        out.append(json.dumps([statement(1000, 20, 500, registration, now) for _ in range(50)]).encode())
    return out


def measure(url: str, workdir: Path | None) -> tuple[float, float, str]:
    """(in-process CPU ms per statement, PostgreSQL CPU ms per statement, profile text)."""
    from libs.db import create_db_engine, session_scope
    from libs.migrate import upgrade
    from services.progress.lrs import statement_api
    from services.progress.lrs.auth import Credential

    upgrade("progress", url)
    engine = create_db_engine(url)
    credential = Credential(
        store="bench-institute",
        source="client:bench",
        authority={"objectType": "Agent", "account": {"homePage": HOME + "/lrs-clients", "name": "bench"}},
        client_id="bench",
        rate_limit=10**9,
    )

    def one(body: bytes) -> None:
        statements = statement_api.validated(json.loads(body), {}, batch_max=500)
        with session_scope(engine) as session:
            statement_api.record(session, credential, statements, {}, {HOME})

    bodies = _bodies(20 + BATCHES + (20 if PROFILE else 0))
    for body in bodies[:20]:
        one(body)
    cpu, pg = time.process_time(), postgres_cpu(workdir) if workdir else 0.0
    for body in bodies[20 : 20 + BATCHES]:
        one(body)
    count = BATCHES * 50
    own = (time.process_time() - cpu) * 1000 / count
    server = (postgres_cpu(workdir) - pg) * 1000 / count if workdir else 0.0
    text = ""
    if PROFILE:
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for body in bodies[20 + BATCHES :]:
            one(body)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(45)
        text = out.getvalue()
    engine.dispose()
    return own, server, text


def main() -> str:
    rows = []
    profiles = []
    with tempfile.TemporaryDirectory(prefix="bench-lrs-inprocess-") as tmp, backends(Path(tmp)) as dbs:
        for name, new_database in dbs:
            url = new_database("lrs_inprocess")
            assert url is not None
            own, server, text = measure(url, Path(tmp) if name == "PostgreSQL" else None)
            rows.append([name, f"{own:.3f}", f"{server:.3f}" if name == "PostgreSQL" else "-"])
            profiles.append(text)
    out = [
        "## LRS in-process ingest (issue 17) — `python -m bench lrs_inprocess`\n",
        f"validated + record, batches of 50, {BATCHES} batches after 20 warm-up ones; CPU ms per statement:\n",
        table(["database", "progress (in-process)", "PostgreSQL"], rows),
    ]
    return "".join(out + [p for p in profiles if p])
