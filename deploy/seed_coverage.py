"""Coverage for the large synthetic population (`make seed-large`, bench/coverage.py): the gateway's
registry copied into progress's `registry_people` (what `progress.coverage_refresh` does through the
change feed, here in bulk from the two databases), one national programme over the courses the
population is enrolled in, and its coverage computed. The feed cursor is set past the copied rows, so
the first refresh of a running platform reads only what changed since."""

from __future__ import annotations

import sys
import time
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, text

from deploy.seed import fixed_id
from deploy.seed_large import Progress, Writer, _chunks
from libs.db import create_db_engine, session_scope

LARGE_PROGRAMME_ID = fixed_id("programme:national-large")


def _aware(value: datetime | str) -> datetime:
    """A timestamp as the database driver gives it (SQLite: text) -> an aware datetime."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def copy_registry(gateway_url: str, progress_url: str) -> int:
    """Every registry teacher (id, account, school path, subjects, employment, status) into progress."""
    from services.progress.coverage.repository import PEOPLE

    gateway = create_db_engine(gateway_url)
    query = text(
        "SELECT t.id, t.user_id, o.path, t.subjects, t.employment, t.status, t.updated_at "
        "FROM registry_teachers t JOIN org_units o ON o.id = t.school_id ORDER BY t.updated_at, t.id"
    )
    with gateway.connect() as conn:
        rows = [
            {
                "registry_id": r[0], "person_id": r[1] or r[0], "org_path": r[2], "subjects": r[3] or ";",
                "employment": r[4], "status": r[5], "updated_at": _aware(r[6]),
            }
            for r in conn.execute(query)
        ]  # fmt: skip
    gateway.dispose()
    progress = create_db_engine(progress_url)
    with progress.connect() as conn:  # rows copied already (the demo registry's, say) are kept
        present = {str(r[0]) for r in conn.execute(select(PEOPLE.c.registry_id))}
    rows = [r for r in rows if r["registry_id"] not in present]
    if not rows:
        progress.dispose()
        return 0
    writer, bar = Writer(progress), Progress(len(rows), "coverage")
    for chunk in _chunks(rows, 20_000):
        writer.write(PEOPLE, chunk)
        bar.step(len(chunk))
    if rows:
        last = rows[-1]
        moment = last["updated_at"]
        with session_scope(progress) as session:
            from services.progress.coverage import repository, rollup

            state = repository.cursor(session, rollup.FEED)
            state.cursor, state.synced_at = f"{moment.isoformat()}|{last['registry_id']}", datetime.now(UTC)
            session.add(state)
    progress.dispose()
    return len(rows)


def define_and_compute(progress_url: str, deadline: date = date(2027, 6, 30)) -> dict[str, Any]:
    """The national programme over (up to) two of the population's courses, computed now."""
    from services.progress.coverage import rollup
    from services.progress.models import Programme

    engine = create_db_engine(progress_url)
    started = time.monotonic()
    with session_scope(engine) as session:
        courses = [
            r[0]
            for r in session.execute(text("SELECT DISTINCT course_id FROM enrolments ORDER BY 1 LIMIT 2"))
        ]
        programme = session.get(Programme, LARGE_PROGRAMME_ID)
        if programme is None:
            programme = Programme(
                id=LARGE_PROGRAMME_ID, title="National digital skills (synthetic)", course_ids=courses,
                target_filter={"employment": "in_service"}, target_percent=90, deadline=deadline,
                created_by="seed",
            )  # fmt: skip
            session.add(programme)
            session.flush()
        cells = rollup.recompute(session, programme)
    engine.dispose()
    seconds = time.monotonic() - started
    sys.stderr.write(f"coverage       {cells:,} cells computed in {seconds:.1f} s\n")
    return {
        "programme_id": LARGE_PROGRAMME_ID,
        "coverage_cells": cells,
        "coverage_seconds": round(seconds, 1),
    }


def seed_coverage_large(gateway_url: str, progress_url: str) -> dict[str, Any]:
    copied = copy_registry(gateway_url, progress_url)
    return {"registry_people_copied": copied, **define_and_compute(progress_url)}


def seed_coverage_demo(gateway_url: str, progress_url: str, programme_id: str) -> int:
    """`make run`'s seed: the demo registry copied into progress and the demo programme computed, so the
    coverage dashboard has figures before beat's first refresh. Returns the cells computed."""
    from services.progress.coverage import rollup
    from services.progress.models import Programme

    copy_registry(gateway_url, progress_url)
    engine = create_db_engine(progress_url)
    with session_scope(engine) as session:
        programme = session.get(Programme, programme_id)
        cells = rollup.recompute(session, programme) if programme is not None else 0
    engine.dispose()
    return cells
