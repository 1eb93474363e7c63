"""Analytics rollups: maintained incrementally from events, recomputed nightly from the raw tables.

Both paths share one definition of what each enrolment and each teacher contributes:

- an enrolment contributes, for each funnel stage it reached, 1 to the cell (org unit, institute,
  course, language, week of that stage, stage) of *every* org unit on its path (country, region,
  district, school); `started` = the first statement about the course (or the completion, if
  earlier), `completed` = the completion row, `certified` = the first certificate issued for the
  (teacher, course). Its days to completion go into `rollup_durations` the same way;
- a teacher contributes, for each indicator with graded evidence, 1 to (org unit, indicator,
  rating) on every level of their org path (the path of the enrolment of their latest graded
  submission), and for each competency (the indicator code without its last ".n" part: the
  framework's code convention) the weakest rating of its evidenced indicators.

The incremental path (`refresh_enrolment`, `refresh_teacher`) recomputes one enrolment's or one
teacher's contribution from the raw rows, compares it with what was counted last time
(`rollup_enrolment_facts`, `rollup_teacher_ratings`) and moves only the difference into the cells.
So an enrolment is counted once per stage however many statements or redeliveries arrive, events
may come in any order, and a refresh that finds nothing new writes nothing. `recompute` rebuilds
every table from scratch the same way; tests prove the two agree exactly.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, func, insert, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from libs.db import as_utc, dialect_insert
from services.certificates.schemas import CertificateIssued
from services.progress import competency, repository
from services.progress.models import (
    AnswerKeyCache,
    AttainmentCell,
    CertificateFact,
    Completion,
    DurationCell,
    Enrolment,
    EnrolmentFacts,
    FunnelCell,
    FunnelTotal,
    Statement,
    Submission,
    TeacherFacts,
    TeacherRating,
)
from services.progress.schemas import CourseCompleted, EnrolmentCreated, EnrolmentStarted

log = logging.getLogger("ustaz.progress.rollups")
STAGES = ("enrolled", "started", "completed", "certified")
RATINGS = ("not_yet", "developing", "proficient")
FUNNEL = FunnelCell.__table__  # type: ignore[attr-defined]
TOTALS = FunnelTotal.__table__  # type: ignore[attr-defined]
DURATIONS = DurationCell.__table__  # type: ignore[attr-defined]
ATTAINMENT = AttainmentCell.__table__  # type: ignore[attr-defined]
FACTS = EnrolmentFacts.__table__  # type: ignore[attr-defined]
RATINGS_TABLE = TeacherRating.__table__  # type: ignore[attr-defined]
TEACHERS = TeacherFacts.__table__  # type: ignore[attr-defined]
FUNNEL_KEY = ("org_unit", "institute_id", "course_id", "language", "week", "stage")
TOTALS_KEY = ("org_unit", "stage")
DURATION_KEY = ("org_unit", "institute_id", "course_id", "days")
ATTAINMENT_KEY = ("org_unit", "kind", "code", "rating")
FACT_FIELDS = ("org_path", "institute_id", "course_id", "language", *STAGES, "days_to_complete")


def _aware(moment: Any) -> datetime | None:
    return None if moment is None else as_utc(moment)


def week_of(moment: datetime) -> date:
    """The Monday (UTC) of the ISO week of `moment`."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def units_of(org_path: str) -> list[tuple[str, int]]:
    """(code, level) of every org unit on a path, country first."""
    return [(code, level) for level, code in enumerate(org_path.split("/")) if code]


# -- what one enrolment / one teacher contributes ---------------------------------------------------


def enrolment_facts(
    enrolment: Any, started_at: datetime | None, completed_at: datetime | None, certified_at: datetime | None
) -> dict[str, Any]:
    enrolled_at = _aware(enrolment.enrolled_at)
    assert enrolled_at is not None
    started_at, completed_at, certified_at = _aware(started_at), _aware(completed_at), _aware(certified_at)
    if completed_at is not None and (started_at is None or completed_at < started_at):
        started_at = completed_at
    days = max(0, (completed_at - enrolled_at).days) if completed_at is not None else None
    return {
        "org_path": enrolment.org_path,
        "institute_id": enrolment.institute_id,
        "course_id": enrolment.course_id,
        "language": enrolment.language,
        "enrolled": week_of(enrolled_at),
        "started": week_of(started_at) if started_at else None,
        "completed": week_of(completed_at) if completed_at else None,
        "certified": week_of(certified_at) if certified_at else None,
        "days_to_complete": days,
    }


def funnel_cells(facts: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], int]]:
    for code, level in units_of(facts["org_path"]):
        for stage in STAGES:
            if facts[stage] is not None:
                yield (
                    (code, facts["institute_id"], facts["course_id"], facts["language"], facts[stage], stage),
                    level,
                )


def teacher_facts(enrolments: list[Any], facts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One teacher's contribution to the totals: the path of their latest enrolment (by time, then
    id) and, per stage, whether any of their counted enrolments reached it."""
    if not enrolments:
        return None
    latest = max(enrolments, key=lambda e: (_aware(e.enrolled_at), e.id))
    return {"org_path": latest.org_path, **{s: any(f[s] is not None for f in facts) for s in STAGES}}


def total_cells(teacher: dict[str, Any] | None) -> Iterator[tuple[tuple[Any, ...], int]]:
    if teacher is None:
        return
    for code, level in units_of(teacher["org_path"]):
        for stage in STAGES:
            if teacher[stage]:
                yield (code, stage), level


def duration_cells(facts: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], int]]:
    if facts["days_to_complete"] is None:
        return
    for code, level in units_of(facts["org_path"]):
        yield (code, facts["institute_id"], facts["course_id"], facts["days_to_complete"]), level


def competency_of(indicator: str) -> str:
    return indicator.rsplit(".", 1)[0]


def teacher_ratings(found: dict[str, list[bool]]) -> dict[tuple[str, str], str]:
    """(kind, code) -> rating, for indicators with evidence and their competencies."""
    out: dict[tuple[str, str], str] = {}
    for code, results in found.items():
        if not results:
            continue
        rating = competency.rate(results)
        out[("indicator", code)] = rating
        key = ("competency", competency_of(code))
        if key not in out or competency.ORDER[rating] < competency.ORDER[out[key]]:
            out[key] = rating
    return out


def attainment_cells(
    org_path: str, ratings: dict[tuple[str, str], str]
) -> Iterator[tuple[tuple[Any, ...], int]]:
    for code, level in units_of(org_path):
        for (kind, item), rating in ratings.items():
            yield (code, kind, item, rating), level


# -- applying differences ---------------------------------------------------------------------------


class Deltas:
    def __init__(self) -> None:
        self.by_table: dict[str, dict[tuple[Any, ...], list[int]]] = defaultdict(dict)

    def add(self, table: str, cells: Iterable[tuple[tuple[Any, ...], int]], sign: int) -> None:
        target = self.by_table[table]
        for key, level in cells:
            entry = target.setdefault(key, [level, 0])
            entry[1] += sign

    def apply(self, session: Session) -> int:
        changed = 0
        for name, cells in self.by_table.items():
            table, key = {
                "funnel": (FUNNEL, FUNNEL_KEY),
                "totals": (TOTALS, TOTALS_KEY),
                "durations": (DURATIONS, DURATION_KEY),
                "attainment": (ATTAINMENT, ATTAINMENT_KEY),
            }[name]
            rows = [
                {**dict(zip(key, k, strict=True)), "level": level, "count": delta}
                for k, (level, delta) in sorted(cells.items(), key=lambda item: tuple(map(str, item[0])))
                if delta
            ]
            if rows:
                _add_counts(session, table, key, rows)
                changed += len(rows)
        return changed


def _add_counts(session: Session, table: Table, key: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """count += delta per cell (an upsert; concurrent workers add safely on PostgreSQL)."""
    stmt = dialect_insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key), set_={"count": table.c.count + stmt.excluded.count}
    )
    session.execute(stmt, rows)


# -- incremental ------------------------------------------------------------------------------------


def _first_statement(session: Session, user_id: str, course_id: str) -> datetime | None:
    return _aware(
        session.exec(
            select(func.min(Statement.stored)).where(  # type: ignore[call-overload]
                Statement.user_id == user_id, Statement.course_id == course_id
            )
        ).one()
    )


def _first_certificate(session: Session, user_id: str, course_id: str) -> datetime | None:
    return _aware(
        session.exec(
            select(func.min(CertificateFact.issued_at)).where(  # type: ignore[call-overload]
                CertificateFact.user_id == user_id, CertificateFact.course_id == course_id
            )
        ).one()
    )


def _lock_teacher(session: Session, user_id: str) -> list[Enrolment]:
    """Lock a teacher's enrolments, in id order (PostgreSQL): every refresh touching the teacher's
    totals or ratings takes turns, and always in the same order, so workers never deadlock."""
    return list(
        session.exec(
            select(Enrolment)
            .where(Enrolment.user_id == user_id)
            .order_by(col(Enrolment.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def refresh_enrolment(session: Session, enrolment_id: str) -> bool:
    """Bring the funnel, duration and totals cells up to date for one enrolment and its teacher;
    True if anything changed."""
    found = session.get(Enrolment, enrolment_id)
    if found is None:
        return False
    enrolments = _lock_teacher(session, found.user_id)
    enrolment = next(e for e in enrolments if e.id == enrolment_id)
    completion = session.get(Completion, enrolment_id)
    want = enrolment_facts(
        enrolment,
        _first_statement(session, enrolment.user_id, enrolment.course_id),
        completion.completed_at if completion else None,
        _first_certificate(session, enrolment.user_id, enrolment.course_id),
    )
    stored = session.get(EnrolmentFacts, enrolment_id)
    have = {f: getattr(stored, f) for f in FACT_FIELDS} if stored else None
    deltas = Deltas()
    if have != want:
        if have is not None:
            deltas.add("funnel", funnel_cells(have), -1)
            deltas.add("durations", duration_cells(have), -1)
        deltas.add("funnel", funnel_cells(want), +1)
        deltas.add("durations", duration_cells(want), +1)
        row = stored or EnrolmentFacts(enrolment_id=enrolment_id, **want)
        for name, value in want.items():
            setattr(row, name, value)
        session.add(row)
        session.flush()
    changed = _refresh_teacher_totals(session, enrolment.user_id, enrolments, deltas)
    deltas.apply(session)
    return have != want or changed


def _refresh_teacher_totals(
    session: Session, user_id: str, enrolments: list[Enrolment], deltas: Deltas
) -> bool:
    counted = list(
        session.exec(
            select(EnrolmentFacts).where(col(EnrolmentFacts.enrolment_id).in_([e.id for e in enrolments]))
        )
    )
    want = teacher_facts(enrolments, [{s: getattr(f, s) for s in STAGES} for f in counted])
    stored = session.get(TeacherFacts, user_id)
    have = {"org_path": stored.org_path, **{s: getattr(stored, s) for s in STAGES}} if stored else None
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
    enrolment = repository.enrolment_for(session, user_id, course_id)
    return refresh_enrolment(session, enrolment.id) if enrolment else False


def record_certificate(session: Session, payload: CertificateIssued, issued_at: datetime) -> bool:
    """Keep the raw fact of a `certificate.issued` event, then refresh its enrolment's cells."""
    if session.get(CertificateFact, payload.certificate_id) is None:
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


def _teacher_path(session: Session, user_id: str) -> str | None:
    row = session.exec(
        select(Enrolment.org_path)
        .join(Submission, col(Submission.enrolment_id) == Enrolment.id)
        .where(Submission.user_id == user_id, Submission.status == "graded")
        .order_by(col(Submission.graded_at).desc(), col(Submission.id).desc())
        .limit(1)
    ).first()
    return row


def refresh_teacher(session: Session, user_id: str) -> bool:
    """Bring the attainment cells up to date for one teacher (after a graded submission)."""
    _lock_teacher(session, user_id)  # take turns with other refreshes of this teacher
    org_path = _teacher_path(session, user_id)
    want = teacher_ratings(competency.evidence(session, user_id)) if org_path else {}
    stored = {
        (r.kind, r.code): r
        for r in session.exec(select(TeacherRating).where(TeacherRating.user_id == user_id))
    }
    have_path = next(iter(stored.values())).org_path if stored else None
    have = {k: r.rating for k, r in stored.items()}
    if have == want and (not want or have_path == org_path):
        return False
    deltas = Deltas()
    if have_path:
        deltas.add("attainment", attainment_cells(have_path, have), -1)
    if org_path:
        deltas.add("attainment", attainment_cells(org_path, want), +1)
    deltas.apply(session)
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


# -- recompute from the raw tables ------------------------------------------------------------------


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "LOCK TABLE rollup_enrolment_facts, rollup_teacher_facts, rollup_funnel, rollup_funnel_totals, "
                "rollup_durations, "
                "rollup_teacher_ratings, rollup_attainment IN EXCLUSIVE MODE"
            )
        )


def _chunks(rows: list[dict[str, Any]], size: int = 5000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _replace(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Empty a rollup table and fill it (TRUNCATE and COPY on PostgreSQL, in the same transaction)."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(delete(table))
        for chunk in _chunks(rows):
            session.execute(insert(table), chunk)
        return
    session.execute(text(f"TRUNCATE {table.name}"))
    if not rows:
        return
    columns = list(rows[0])
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def compute_all(session: Session) -> dict[str, Any]:
    """Every rollup table's wanted content, from the raw tables only."""
    started = dict(
        ((u, c), _aware(t))
        for u, c, t in session.exec(
            select(Statement.user_id, Statement.course_id, func.min(Statement.stored))  # type: ignore[call-overload]
            .where(col(Statement.course_id).is_not(None))
            .group_by(Statement.user_id, Statement.course_id)
        )
    )
    certified = dict(
        ((u, c), _aware(t))
        for u, c, t in session.exec(
            select(
                CertificateFact.user_id, CertificateFact.course_id, func.min(CertificateFact.issued_at)
            ).group_by(CertificateFact.user_id, CertificateFact.course_id)  # type: ignore[call-overload]
        )
    )
    completed = dict(session.exec(select(Completion.enrolment_id, Completion.completed_at)).all())  # type: ignore[call-overload]
    facts, funnel, durations = [], Deltas(), Deltas()
    columns = (
        Enrolment.id,
        Enrolment.user_id,
        Enrolment.course_id,
        Enrolment.org_path,
        Enrolment.institute_id,
        Enrolment.language,
        Enrolment.enrolled_at,
    )
    by_teacher: dict[str, tuple[list[Any], list[dict[str, Any]]]] = {}
    for row in session.exec(select(*columns).execution_options(yield_per=5000)):  # type: ignore[call-overload]
        want = enrolment_facts(
            row,
            started.get((row.user_id, row.course_id)),
            completed.get(row.id),
            certified.get((row.user_id, row.course_id)),
        )
        facts.append({"enrolment_id": row.id, **want})
        funnel.add("funnel", funnel_cells(want), +1)
        durations.add("durations", duration_cells(want), +1)
        mine = by_teacher.setdefault(row.user_id, ([], []))
        mine[0].append(row)
        mine[1].append(want)
    teachers = []
    for user_id, (rows_of, facts_of) in by_teacher.items():
        teacher = teacher_facts(rows_of, facts_of)
        assert teacher is not None
        teachers.append({"user_id": user_id, **teacher})
        funnel.add("totals", total_cells(teacher), +1)
    ratings, attainment = [], Deltas()
    for user_id, org_path, found in _evidence_by_teacher(session):
        want_ratings = teacher_ratings(found)
        ratings += [
            {"user_id": user_id, "kind": k, "code": c, "org_path": org_path, "rating": r}
            for (k, c), r in want_ratings.items()
        ]
        attainment.add("attainment", attainment_cells(org_path, want_ratings), +1)

    def rows(deltas: Deltas, name: str, key: tuple[str, ...]) -> list[dict[str, Any]]:
        return [
            {**dict(zip(key, k, strict=True)), "level": level, "count": n}
            for k, (level, n) in deltas.by_table[name].items()
            if n
        ]

    return {
        "facts": facts,
        "teachers": teachers,
        "funnel": rows(funnel, "funnel", FUNNEL_KEY),
        "totals": rows(funnel, "totals", TOTALS_KEY),
        "durations": rows(durations, "durations", DURATION_KEY),
        "ratings": ratings,
        "attainment": rows(attainment, "attainment", ATTAINMENT_KEY),
    }


def _evidence_by_teacher(session: Session) -> Iterator[tuple[str, str, dict[str, list[bool]]]]:
    """(teacher, org path, indicator -> results) for every teacher with a graded submission: the
    same rule as `competency.evidence`, over all teachers in one ordered pass."""
    keys = {(k.course_id, k.version): k.key for k in session.exec(select(AnswerKeyCache))}
    query = (
        select(
            Submission.user_id,
            Submission.quiz_id,
            Submission.results,
            Enrolment.course_id,  # type: ignore[call-overload]
            Enrolment.version,
            Enrolment.org_path,
        )
        .join(Enrolment, col(Submission.enrolment_id) == Enrolment.id)
        .where(Submission.status == "graded")
        .order_by(col(Submission.user_id), col(Submission.graded_at), col(Submission.id))
        .execution_options(yield_per=5000)
    )
    current: str | None = None
    latest: dict[tuple[str, str], Any] = {}
    path = ""

    def flush() -> tuple[str, str, dict[str, list[bool]]]:
        found: dict[str, list[bool]] = {}
        for row in latest.values():
            key = keys.get((row.course_id, row.version), {"quizzes": []})
            quiz = next((q for q in key["quizzes"] if q["quiz_id"] == row.quiz_id), None)
            correct = (row.results or {}).get("correct", {})
            for question in quiz["questions"] if quiz else []:
                for code in question.get("indicators", []):
                    found.setdefault(code, []).append(bool(correct.get(question["id"])))
        return current or "", path, found

    for row in session.exec(query):
        if row.user_id != current:
            if current is not None:
                yield flush()
            current, latest = row.user_id, {}
        latest[(row.course_id, row.quiz_id)] = row
        path = row.org_path
    if current is not None:
        yield flush()


def snapshot(session: Session, only: tuple[str, ...] = ()) -> dict[str, dict[tuple[Any, ...], int]]:
    """The rollup cells as they are (non-zero counts), for comparing with a recomputation."""
    out = {}
    for name, table, key in (
        ("funnel", FUNNEL, FUNNEL_KEY),
        ("totals", TOTALS, TOTALS_KEY),
        ("durations", DURATIONS, DURATION_KEY),
        ("attainment", ATTAINMENT, ATTAINMENT_KEY),
    ):
        if only and name not in only:
            continue
        out[name] = {
            tuple(_norm(getattr(r, k)) for k in key): r.count
            for r in session.execute(sa_select(table))
            if r.count
        }
    return out


def _norm(value: Any) -> Any:
    return (
        date.fromisoformat(value)
        if isinstance(value, str) and len(value) == 10 and value[4] == "-"
        else value
    )


def recompute(session: Session) -> int:
    """Rebuild every rollup table from the raw tables (nightly); returns how many differences it
    found with what the events had maintained: enrolments counted in another week or stage, and
    cells of the totals, durations and attainment tables (0 when the event path missed nothing;
    the week-by-week cells follow from the enrolments, so they are not compared one by one)."""
    _lock(session)
    before = snapshot(session, ("totals", "durations", "attainment"))
    counted = {
        r.enrolment_id: tuple(_norm(getattr(r, f)) for f in FACT_FIELDS)
        for r in session.execute(sa_select(FACTS))
    }
    wanted = compute_all(session)
    stale = sum(counted.get(f["enrolment_id"]) != tuple(f[k] for k in FACT_FIELDS) for f in wanted["facts"])
    stale += len(counted.keys() - {f["enrolment_id"] for f in wanted["facts"]})
    _replace(session, FACTS, wanted["facts"])
    _replace(session, TEACHERS, wanted["teachers"])
    _replace(session, FUNNEL, wanted["funnel"])
    _replace(session, TOTALS, wanted["totals"])
    _replace(session, DURATIONS, wanted["durations"])
    _replace(session, RATINGS_TABLE, wanted["ratings"])
    _replace(session, ATTAINMENT, wanted["attainment"])
    after = snapshot(session, ("totals", "durations", "attainment"))
    drift = sum(len(set(before[n].items()) ^ set(after[n].items())) for n in after) + stale
    if drift and counted:
        log.warning(
            "rollups drifted from the raw tables; recomputed",
            extra={"differences": drift, "enrolments": stale},
        )
    return drift


# -- the event consumers' effects (services/progress/tasks.py binds them to their topics) --------------


def funnel_event(session: Session, payload: EnrolmentCreated | EnrolmentStarted | CourseCompleted) -> bool:
    """Refresh the funnel cells of the enrolment an event is about."""
    if isinstance(payload, EnrolmentCreated | CourseCompleted):
        return refresh_enrolment(session, payload.enrolment_id)
    return refresh_enrolment_of(session, payload.user_id, payload.course_id)
