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
from collections.abc import Iterator, Sequence
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
    deltas = Deltas()
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
    apply(session, deltas)
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


def refresh_enrolment_of(session: Session, user_id: str, course_id: str | None) -> bool:
    if not course_id:
        return False
    enrolment = progress_repository.enrolment_for(session, user_id, course_id)
    return refresh_enrolment(session, enrolment.id) if enrolment else False


def record_certificate(session: Session, payload: CertificateIssued, issued_at: datetime) -> bool:
    """Keep the raw fact of a `certificate.issued` event, then refresh its enrolment's cells."""
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
    return refresh_enrolment_of(session, payload.user_id, payload.course_id)


def refresh_teacher(session: Session, user_id: str) -> bool:
    """Bring the attainment cells up to date for one teacher (after a graded submission)."""
    repository.lock_teacher(session, user_id)  # take turns with other refreshes of this teacher
    org_path = repository.teacher_path(session, user_id)
    want = teacher_ratings(competency.evidence(session, user_id)) if org_path else {}
    stored = {(r.kind, r.code): r for r in repository.counted_ratings(session, user_id)}
    have_path = next(iter(stored.values())).org_path if stored else None
    have = {k: r.rating for k, r in stored.items()}
    if have == want and (not want or have_path == org_path):
        return False
    deltas = Deltas()
    if have_path:
        deltas.add("attainment", attainment_cells(have_path, have), -1)
    if org_path:
        deltas.add("attainment", attainment_cells(org_path, want), +1)
    apply(session, deltas)
    for key, row in stored.items():
        if key not in want:
            session.delete(row)
    for (kind, code), rating in want.items():
        row = stored.get((kind, code)) or TeacherRating(
            user_id=user_id, kind=kind, code=code, org_path="", rating=""
        )
        row.org_path, row.rating = org_path or "", rating
        session.add(row)
    session.flush()
    return True


def mark_fresh(session: Session, tables: str, at: datetime) -> None:
    """The rollups `tables` (funnel | attainment) now include what happened up to `at` ("data as of")."""
    repository.advance_watermark(session, tables, at)


def funnel_event(session: Session, payload: EnrolmentCreated | EnrolmentStarted | CourseCompleted) -> bool:
    """Refresh the funnel cells of the enrolment an event is about."""
    if isinstance(payload, EnrolmentCreated | CourseCompleted):
        return refresh_enrolment(session, payload.enrolment_id)
    return refresh_enrolment_of(session, payload.user_id, payload.course_id)


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
