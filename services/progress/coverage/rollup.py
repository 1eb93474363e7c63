"""Keeping coverage current without asking the gateway per request (ADR 0020): the registry's change feed
copied into `registry_people` (only what coverage needs: who, where, subjects, employment, status), and
each programme's coverage cells and weeks recomputed from that copy and progress's own records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from gateway.registry.schemas import RegistryChanges, ResolvedTeacher
from libs.outbox import utcnow
from services.progress.analytics.cells import week_of
from services.progress.coverage import repository
from services.progress.coverage.repository import Target
from services.progress.models import Programme

FEED = "registry"
Fetch = Callable[[str], RegistryChanges]


def person_row(teacher: ResolvedTeacher) -> dict[str, object]:
    return {
        "registry_id": teacher.registry_id,
        "person_id": teacher.user_id or teacher.registry_id,
        "org_path": teacher.org_path,
        "subjects": ";" + "".join(f"{s};" for s in teacher.subjects),
        "employment": teacher.employment,
        "status": teacher.status,
        "updated_at": teacher.updated_at,
    }


def apply_changes(session: Session, page: RegistryChanges) -> int:
    """One page of the feed into the copy, and the cursor moved past it (same transaction)."""
    latest: dict[str, ResolvedTeacher] = {t.registry_id: t for t in page.teachers}
    repository.upsert_people(session, [person_row(t) for t in latest.values()])
    state = repository.cursor(session, FEED)
    state.cursor, state.synced_at = page.next, utcnow()
    session.add(state)
    return len(latest)


def target_of(session: Session, programme: Programme) -> Target:
    from services.progress.analytics.repository import reads

    flt = programme.target_filter
    path = ""
    if flt.get("org"):
        unit = reads.org_unit(session, flt["org"])
        path = unit.path if unit is not None else "\x00"  # a unit gone from the tree: nobody
    return Target(path=path, subject=flt.get("subject"), employment=flt.get("employment"))


def _prefixes(path: str) -> list[tuple[str, int]]:
    codes = path.split("/")
    return [(codes[depth], depth) for depth in range(len(codes))]


def recompute(session: Session, programme: Programme, now: datetime | None = None) -> int:
    """Rebuild one programme's cells (every unit on every teacher's path) and weeks; returns the cells."""
    target = target_of(session, programme)
    courses = list(programme.course_ids)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for row in repository.coverage_per_path(session, target, courses):
        values: tuple[Any, ...] = tuple(row)
        path, counts = str(values[0]), [int(v or 0) for v in values[1:]]
        for code, level in _prefixes(path):
            cell = totals[code]
            cell[0] = level
            for i, v in enumerate(counts, start=1):
                cell[i] += v
    weeks: dict[tuple[str, date], int] = defaultdict(int)
    for done in repository.completions_per_path(session, target, courses):
        path_at: tuple[Any, ...] = tuple(done)
        week = week_of(path_at[1])
        for code, _ in _prefixes(str(path_at[0])):
            weeks[(code, week)] += 1
    cells = [
        {
            "programme_id": programme.id,
            "org_unit": code,
            "level": v[0],
            "population": v[1],
            "enrolled": v[2],
            "started": v[3],
            "completed": v[4],
            "certified": v[5],
        }
        for code, v in totals.items()
    ]
    week_rows = [
        {"programme_id": programme.id, "org_unit": code, "week": week, "completed": n}
        for (code, week), n in weeks.items()
    ]
    repository.replace_coverage(session, programme.id, cells, week_rows)
    programme.computed_at = now or utcnow()
    session.add(programme)
    return len(cells)
