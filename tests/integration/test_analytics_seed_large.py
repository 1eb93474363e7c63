"""The synthetic generator: the same seed gives the same population (whatever PYTHONHASHSEED), a
tree of the requested shape on both sides, and rollups equal to the raw tables."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from sqlalchemy import text

from libs.db import create_db_engine, session_scope
from libs.settings import ROOT
from services.progress.analytics import rollups


def fingerprint(url: str) -> list[Any]:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        rows = [
            conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("enrolments", "statements", "submissions", "completions", "certificate_facts")
        ]
        rows += list(
            conn.execute(
                text("SELECT id, user_id, course_id, org_path, status FROM enrolments ORDER BY id LIMIT 50")
            )
        )
    engine.dispose()
    return rows


def test_the_same_seed_gives_the_same_population(databases: Any, sqlite_databases: Any) -> None:
    runs = []
    for hash_seed in ("1", "2"):
        progress, gateway = databases.fresh("progress"), sqlite_databases.fresh("gateway")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "deploy.seed_large",
                "--teachers",
                "300",
                "--districts",
                "30",
                "--schools",
                "200",
                "--seed",
                "7",
                "--gateway-url",
                gateway,
                "--progress-url",
                progress,
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            env={"PYTHONHASHSEED": hash_seed, "PATH": ""},
        )
        runs.append(fingerprint(progress))
    assert runs[0] == runs[1] and runs[0][0] > 300
    engine = create_db_engine(progress)
    with engine.connect() as conn:
        kinds = dict(conn.execute(text("SELECT kind, count(*) FROM org_units GROUP BY kind")).all())
    assert kinds == {"country": 1, "region": 14, "district": 30, "school": 200}
    gateway_engine = create_db_engine(gateway)
    with gateway_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM org_units")).scalar_one() == 245
    gateway_engine.dispose()
    with session_scope(engine) as session:
        assert rollups.recompute(session) == 0  # the generator's rollups are the recompute's
    engine.dispose()
