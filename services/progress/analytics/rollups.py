"""Analytics rollups: maintained incrementally from events, recomputed nightly from the raw tables.

Both paths share one definition of what each enrolment and each teacher contributes (cells.py).
The incremental path (`refresh_enrolment`, `refresh_teacher`) recomputes one enrolment's or one
teacher's contribution from the raw rows, compares it with what was counted last time
(`rollup_enrolment_facts`, `rollup_teacher_facts`, `rollup_teacher_ratings`) and moves only the
difference into the cells. So an enrolment is counted once per stage however many statements or
redeliveries arrive, events may come in any order, and a refresh that finds nothing new writes
nothing. `recompute` rebuilds every table from scratch the same way; tests prove the two agree exactly.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from libs.outbox import utcnow
from services.certificates.schemas import CertificateIssued
from services.progress import competency
from services.progress import repository as progress_repository
from services.progress.analytics.cells import (
    FACT_FIELDS,
    KEYS,
    Deltas,
    EnrolmentLike,
    Facts,
    TeacherTotals,
    attainment_cells,
    duration_cells,
    enrolment_facts,
    funnel_cells,
    month_cells,
    teacher_ratings,
    teacher_totals,
    total_cells,
)
from services.progress.analytics.repository import rollup as repository
from services.progress.analytics.schemas import STAGES
from services.progress.models import CertificateFact, EnrolmentFacts, TeacherFacts, TeacherRating
from services.progress.schemas import CourseCompleted, EnrolmentCreated, EnrolmentStarted

log = logging.getLogger("ustaz.progress.rollups")
WATERMARKS = ("funnel", "attainment")  # the groups of tables whose freshness is kept
Snapshot = dict[str, dict[tuple[Any, ...], int]]


def apply(session: Session, deltas: Deltas) -> int:
    """Add the changes to the cells; how many cells changed."""
    changed = 0
    for name in list(deltas.by_table):
        rows = deltas.rows(name, ordered=True)
        if rows:
            repository.add_counts(session, name, KEYS[name], rows)
            changed += len(rows)
    return changed


# -- incremental ------------------------------------------------------------------------------------


def _facts_of(stored: EnrolmentFacts) -> Facts:
    return {
        "org_path": stored.org_path,
        "institute_id": stored.institute_id,
        "course_id": stored.course_id,
        "language": stored.language,
        "enrolled": stored.enrolled,
        "started": stored.started,
        "completed": stored.completed,
        "certified": stored.certified,
        "days_to_complete": stored.days_to_complete,
        "enrolled_on": stored.enrolled_on,
        "started_on": stored.started_on,
        "completed_on": stored.completed_on,
        "certified_on": stored.certified_on,
    }


def _totals_of(stored: TeacherFacts) -> TeacherTotals:
    return {
        "org_path": stored.org_path,
        "enrolled": stored.enrolled,
        "started": stored.started,
        "completed": stored.completed,
        "certified": stored.certified,
    }


def refresh_enrolment(session: Session, enrolment_id: str) -> bool:
    """Bring the funnel, duration and totals cells up to date for one enrolment and its teacher;
    True if anything changed."""
    return refresh_enrolments(session, [enrolment_id]) > 0


def refresh_enrolments(session: Session, enrolment_ids: Iterable[str]) -> int:
    """`refresh_enrolment` for each of these enrolments (each once), their cells' changes summed
    and written with one upsert per cell table; how many enrolments changed anything."""
    deltas = Deltas()
    changed = sum(_refresh_one(session, e, deltas) for e in sorted(set(enrolment_ids)))
    apply(session, deltas)
    return changed


def _refresh_one(session: Session, enrolment_id: str, deltas: Deltas) -> bool:
    found = progress_repository.enrolment(session, enrolment_id)
    if found is None:
        return False
    enrolments = repository.lock_teacher(session, found.user_id)
    enrolment = next(e for e in enrolments if e.id == enrolment_id)
    completion = progress_repository.completion(session, enrolment_id)
    want = enrolment_facts(
        enrolment,
        repository.first_statement(session, enrolment.user_id, enrolment.course_id),
        completion.completed_at if completion else None,
        repository.first_certificate(session, enrolment.user_id, enrolment.course_id),
    )
    stored = repository.counted_facts(session, enrolment_id)
    have = _facts_of(stored) if stored else None
    if have != want:
        if have is not None:
            deltas.add("funnel", funnel_cells(have), -1)
            deltas.add("months", month_cells(have), -1)
            deltas.add("durations", duration_cells(have), -1)
        deltas.add("funnel", funnel_cells(want), +1)
        deltas.add("months", month_cells(want), +1)
        deltas.add("durations", duration_cells(want), +1)
        row = stored or EnrolmentFacts(enrolment_id=enrolment_id, **want)
        for name, value in want.items():
            setattr(row, name, value)
        session.add(row)
        session.flush()
    changed = _refresh_teacher_totals(session, enrolment.user_id, enrolments, deltas)
    return have != want or changed


def _refresh_teacher_totals(
    session: Session, user_id: str, enrolments: Sequence[EnrolmentLike], deltas: Deltas
) -> bool:
    counted = repository.counted_facts_of(session, [e.id for e in enrolments])
    want = teacher_totals(enrolments, [{s: getattr(f, s) for s in STAGES} for f in counted])
    stored = repository.counted_totals(session, user_id)
    have = _totals_of(stored) if stored else None
    if have == want:
        return False
    deltas.add("totals", total_cells(have), -1)
    deltas.add("totals", total_cells(want), +1)
    if want is None:
        if stored is not None:
            session.delete(stored)
    else:
        row = stored or TeacherFacts(user_id=user_id, org_path=want["org_path"])
        for name, value in want.items():
            setattr(row, name, value)
        session.add(row)
    session.flush()
    return True


def record_certificates(session: Session, issued: Sequence[tuple[CertificateIssued, datetime]]) -> int:
    """Keep the raw facts of `certificate.issued` events, then refresh their enrolments' cells
    together (`refresh_enrolments`)."""
    for payload, issued_at in issued:
        _keep_certificate_fact(session, payload, issued_at)
    return refresh_enrolments(
        session, enrolment_ids_of(session, [(p.user_id, p.course_id) for p, _ in issued])
    )


def enrolment_ids_of(session: Session, pairs: Iterable[tuple[str, str | None]]) -> list[str]:
    """The enrolments of these (teacher, course) pairs that exist."""
    found = (progress_repository.enrolment_for(session, u, c) for u, c in set(pairs) if c)
    return [e.id for e in found if e is not None]


def _keep_certificate_fact(session: Session, payload: CertificateIssued, issued_at: datetime) -> None:
    if repository.certificate_fact(session, payload.certificate_id) is None:
        session.add(
            CertificateFact(
                certificate_id=payload.certificate_id,
                user_id=payload.user_id,
                course_id=payload.course_id,
                issued_at=issued_at,
            )
        )
        session.flush()


def refresh_teacher(session: Session, user_id: str) -> bool:
    """Bring the attainment cells up to date for one teacher (after a graded submission)."""
    return refresh_teachers(session, [user_id]) > 0


def refresh_teachers(session: Session, user_ids: Sequence[str]) -> int:
    """Bring the attainment cells up to date for several teachers at once (a batch of graded
    submissions): their enrolments locked, their evidence and what was counted read with one query
    each, one upsert per cell table. Returns how many teachers' counts changed."""
    users = sorted(set(user_ids))
    repository.lock_teachers(session, users)  # take turns with other refreshes of these teachers
    graded = repository.graded_with_paths(session, users)
    counted = repository.counted_ratings_of(session, users)
    keys: dict[tuple[str, int], Any] = {}

    def key_of(course_id: str, version: int) -> Any:
        if (course_id, version) not in keys:
            cached = progress_repository.answer_key(session, course_id, version)
            keys[(course_id, version)] = cached.key if cached else None
        return keys[(course_id, version)]

    deltas = Deltas()
    changed = 0
    for user_id in users:
        rows, org_path = graded.get(user_id, ([], None))
        want = teacher_ratings(competency.evidence_from(rows, key_of)) if org_path else {}
        stored = {(r.kind, r.code): r for r in counted.get(user_id, [])}
        have_path = next(iter(stored.values())).org_path if stored else None
        have = {k: r.rating for k, r in stored.items()}
        if have == want and (not want or have_path == org_path):
            continue
        changed += 1
        if have_path:
            deltas.add("attainment", attainment_cells(have_path, have), -1)
        if org_path:
            deltas.add("attainment", attainment_cells(org_path, want), +1)
        for key, row in stored.items():
            if key not in want:
                session.delete(row)
        for (kind, code), rating in want.items():
            row = stored.get((kind, code)) or TeacherRating(
                user_id=user_id, kind=kind, code=code, org_path="", rating=""
            )
            row.org_path, row.rating = org_path or "", rating
            session.add(row)
    if changed:
        apply(session, deltas)
        session.flush()
    return changed


def mark_fresh(session: Session, tables: str, at: datetime) -> None:
    """The rollups `tables` (funnel | attainment) now include what happened up to `at` ("data as of")."""
    repository.advance_watermark(session, tables, at)


def funnel_events(
    session: Session, payloads: Sequence[EnrolmentCreated | EnrolmentStarted | CourseCompleted]
) -> int:
    """Refresh the funnel cells of the enrolments these events are about, each once, together."""
    ids = [p.enrolment_id for p in payloads if isinstance(p, EnrolmentCreated | CourseCompleted)]
    pairs = [(p.user_id, p.course_id) for p in payloads if isinstance(p, EnrolmentStarted)]
    return refresh_enrolments(session, [*ids, *enrolment_ids_of(session, pairs)])


# -- recompute from the raw tables ------------------------------------------------------------------


def evidence_by_teacher(session: Session) -> Iterator[tuple[str, str, dict[str, list[bool]]]]:
    """(teacher, org path of their latest graded submission, indicator -> results) for every teacher
    with a graded submission: `competency.evidence`'s rule, over all teachers in one ordered pass."""
    keys = repository.answer_keys(session)
    for user_id, rows in itertools.groupby(repository.graded_by_teacher(session), key=lambda r: r.user_id):
        graded = list(rows)
        found = competency.evidence_from((r.graded for r in graded), lambda c, v: keys.get((c, v)))
        yield user_id, graded[-1].org_path, found


def compute_all(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Every rollup table's wanted content, from the raw tables only."""
    started = repository.first_statements(session)
    certified = repository.first_certificates(session)
    completed = repository.completion_times(session)
    facts, funnel = [], Deltas()
    by_teacher: dict[str, tuple[list[EnrolmentLike], list[Facts]]] = {}
    for row in repository.enrolment_columns(session):
        want = enrolment_facts(
            row,
            started.get((row.user_id, row.course_id)),
            completed.get(row.id),
            certified.get((row.user_id, row.course_id)),
        )
        facts.append({"enrolment_id": row.id, **want})
        funnel.add("funnel", funnel_cells(want), +1)
        funnel.add("months", month_cells(want), +1)
        funnel.add("durations", duration_cells(want), +1)
        mine = by_teacher.setdefault(row.user_id, ([], []))
        mine[0].append(row)
        mine[1].append(want)
    teachers = []
    for user_id, (rows_of, facts_of) in by_teacher.items():
        teacher = teacher_totals(rows_of, facts_of)
        assert teacher is not None
        teachers.append({"user_id": user_id, **teacher})
        funnel.add("totals", total_cells(teacher), +1)
    ratings, attainment = [], Deltas()
    for user_id, org_path, found in evidence_by_teacher(session):
        wanted = teacher_ratings(found)
        ratings += [
            {"user_id": user_id, "kind": k, "code": c, "org_path": org_path, "rating": r}
            for (k, c), r in wanted.items()
        ]
        attainment.add("attainment", attainment_cells(org_path, wanted), +1)
    return {
        "facts": facts,
        "teachers": teachers,
        "funnel": funnel.rows("funnel"),
        "months": funnel.rows("months"),
        "totals": funnel.rows("totals"),
        "durations": funnel.rows("durations"),
        "ratings": ratings,
        "attainment": attainment.rows("attainment"),
    }


def snapshot(session: Session, only: tuple[str, ...] = ()) -> Snapshot:
    """The rollup cells as they are (non-zero counts), for comparing with a recomputation."""
    return {
        name: repository.cells(session, name, key) for name, key in KEYS.items() if not only or name in only
    }


def recompute(session: Session) -> int:
    """Rebuild every rollup table from the raw tables (nightly); returns how many differences it
    found with what the events had maintained: enrolments counted in another week or stage, and
    cells of the totals, durations and attainment tables (0 when the event path missed nothing;
    the week and month cells follow from the enrolments, so they are not compared one by one)."""
    repository.lock_rollups(session)
    began = utcnow()  # the raw tables are read from here on: the rollups are as of this moment
    compared = ("totals", "durations", "attainment")
    before = snapshot(session, compared)
    counted = repository.all_counted_facts(session, FACT_FIELDS)
    wanted = compute_all(session)
    stale = sum(counted.get(f["enrolment_id"]) != tuple(f[k] for k in FACT_FIELDS) for f in wanted["facts"])
    stale += len(counted.keys() - {f["enrolment_id"] for f in wanted["facts"]})
    for name in ("facts", "teachers", "funnel", "months", "totals", "durations", "ratings", "attainment"):
        repository.replace_table(session, name, wanted[name])
    after = snapshot(session, compared)
    drift = sum(len(set(before[n].items()) ^ set(after[n].items())) for n in after) + stale
    for tables in WATERMARKS:
        mark_fresh(session, tables, began)
    if drift and counted:
        log.warning(
            "rollups drifted from the raw tables; recomputed",
            extra={"differences": drift, "enrolments": stale},
        )
    return drift
