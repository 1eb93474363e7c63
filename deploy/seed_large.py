"""A realistic national population for dashboards and benchmarks (`make seed-large`):

    python -m deploy.seed_large --teachers 100000 --seed 42 [--gateway-url URL] [--progress-url URL]

- the org-unit tree of a country of 14 regions, ~200 districts and ~10,000 schools, written to the
  gateway's `org_units` and to the progress service's read model (ADR 0011);
- N teachers (default 100,000) spread over the schools, each enrolled in 1–5 of 8 courses (three
  languages, three institutes) over the past year; lesson views (xAPI statements), graded quiz
  submissions, completions and certificates, with completion rates that differ by region and
  district (a "propensity" per region, noise per district and school);
- then the rollups, built by the same recompute the nightly task runs.

Teachers exist only as ids in progress (the gateway gets no 100,000 user accounts: dashboards never
need them). Fixed seed: the same arguments give the same data. Rows go in batches (COPY on
PostgreSQL). Run after `python -m libs.migrate all upgrade` (and, for the demo, `deploy.seed`).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, insert, select

from deploy.seed import NS, fixed_id
from libs.db import create_db_engine, session_scope

REGIONS = [
    ("KZ-AKM", "Akmola Region"),
    ("KZ-AKT", "Aktobe Region"),
    ("KZ-ALM", "Almaty Region"),
    ("KZ-ATY", "Atyrau Region"),
    ("KZ-VOS", "East Kazakhstan Region"),
    ("KZ-ZHA", "Jambyl Region"),
    ("KZ-ZAP", "West Kazakhstan Region"),
    ("KZ-KAR", "Karaganda Region"),
    ("KZ-KUS", "Kostanay Region"),
    ("KZ-KZY", "Kyzylorda Region"),
    ("KZ-MAN", "Mangystau Region"),
    ("KZ-PAV", "Pavlodar Region"),
    ("KZ-SEV", "North Kazakhstan Region"),
    ("KZ-YUZ", "Turkistan Region"),
]
COURSES = [
    (f"large-course-{i}", title, lang, inst)
    for i, (title, lang, inst) in enumerate(
        [
            ("Formative assessment with digital tools", "en", "NDI"),
            ("Формативное оценивание", "ru", "NDI"),
            ("Цифрлық құралдармен бағалау", "kk", "NDI"),
            ("Safe internet in school", "ru", "ORLEU"),
            ("Data literacy for teachers", "en", "ORLEU"),
            ("Жобалық оқыту", "kk", "ORLEU"),
            ("Инклюзивное образование онлайн", "ru", "NIS"),
            ("Coding in the classroom", "en", "NIS"),
        ]
    )
]
QUIZ_ANSWERS = {
    "right": {"q1a": "b", "q1b": False, "q1c": 70},
    "half": {"q1a": "b", "q1b": True, "q1c": 1},
    "wrong": {"q1a": "a", "q1b": True, "q1c": 1},
}
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"
PASSED, FAILED = "http://adlnet.gov/expapi/verbs/passed", "http://adlnet.gov/expapi/verbs/failed"


class Progress:
    """A progress bar on stderr."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done, self.started = max(total, 1), label, 0, time.monotonic()

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.done % max(1, self.total // 100) < n or self.done >= self.total:
            share = self.done / self.total
            bar = "#" * int(share * 30)
            sys.stderr.write(
                f"\r{self.label:<14} [{bar:<30}] {share:4.0%} {self.done:,}/{self.total:,} "
                f"{time.monotonic() - self.started:5.0f} s"
            )
            sys.stderr.flush()
            if self.done >= self.total:
                sys.stderr.write("\n")


def tree(rng: random.Random, districts: int, schools: int) -> list[tuple[str, str, str, str | None]]:
    """(code, name, kind, parent code), country first; districts and schools spread unevenly."""
    units: list[tuple[str, str, str, str | None]] = [("KZ", "Kazakhstan", "country", None)]
    weights = [rng.uniform(0.5, 1.8) for _ in REGIONS]
    per_region = _split(districts, weights, rng)
    district_codes = []
    for (code, name), count in zip(REGIONS, per_region, strict=True):
        units.append((code, name, "region", "KZ"))
        for d in range(1, count + 1):
            district_codes.append(f"{code}-D{d:02d}")
            units.append((f"{code}-D{d:02d}", f"{name.split()[0]} District {d}", "district", code))
    per_district = _split(schools, [rng.uniform(0.3, 2.0) for _ in district_codes], rng)
    for district, count in zip(district_codes, per_district, strict=True):
        for s in range(1, count + 1):
            units.append((f"{district}-S{s:03d}", f"School No. {s} ({district})", "school", district))
    return units


def _split(total: int, weights: list[float], rng: random.Random) -> list[int]:
    scale = total / sum(weights)
    counts = [max(1, int(w * scale)) for w in weights]
    while sum(counts) < total:
        counts[rng.randrange(len(counts))] += 1
    while sum(counts) > total:
        i = rng.randrange(len(counts))
        if counts[i] > 1:
            counts[i] -= 1
    return counts


def paths_of(units: list[tuple[str, str, str, str | None]]) -> dict[str, str]:
    paths: dict[str, str] = {}
    for code, _, _, parent in units:
        paths[code] = f"{paths[parent]}/{code}" if parent else code
    return paths


# -- writing ----------------------------------------------------------------------------------------


class Writer:
    """Batched inserts: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def write(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if not self.postgres:
            with self.engine.begin() as conn:
                conn.execute(insert(table), rows)
            return
        columns = list(rows[0])
        json_columns = {c.name for c in table.columns if c.type.__class__.__name__ == "JSON"}
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(
                        [
                            json.dumps(row[c]) if c in json_columns and row[c] is not None else row[c]
                            for c in columns
                        ]
                    )
            raw.commit()
        finally:
            raw.close()


def _table(model: type[Any]) -> Table:
    table = model.__table__  # SQLModel sets it on each table class; the checker cannot see it
    assert isinstance(table, Table)
    return table


def seed_gateway_tree(url: str, units: list[tuple[str, str, str, str | None]]) -> int:
    from gateway.models import OrgUnit

    engine = create_db_engine(url)
    table = _table(OrgUnit)
    with engine.connect() as conn:
        existing = {row[0] for row in conn.execute(select(table.c.code))}
    paths = paths_of(units)
    rows = [
        {
            "id": fixed_id(f"org:{code}"),
            "code": code,
            "name": name,
            "kind": kind,
            "parent_id": fixed_id(f"org:{parent}") if parent else None,
            "path": paths[code],
        }
        for code, name, kind, parent in units
        if code not in existing
    ]
    writer = Writer(engine)
    for chunk in _chunks(rows, 5000):  # parents come first, so each chunk's parents exist
        writer.write(table, chunk)
    engine.dispose()
    return len(rows)


def _chunks(rows: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def answer_key(course_id: str) -> dict[str, Any]:
    from deploy.seed import demo_course
    from services.courses.schemas import AnswerKeyDocument, CourseContent, Lesson, Quiz, QuizKey

    content = CourseContent.model_validate(
        {**demo_course("ru"), "course_id": course_id, "version": 1, "institute_id": "i", "language": "ru"}
    )
    items = content.items()
    return AnswerKeyDocument(
        course_id=course_id,
        version=1,
        pass_mark=content.pass_mark,
        lessons=[i.id for i in items if isinstance(i, Lesson)],
        quizzes=[
            QuizKey(quiz_id=i.id, pass_mark=content.pass_mark, questions=i.questions)
            for i in items
            if isinstance(i, Quiz)
        ],
    ).model_dump(mode="json")


Unit = tuple[str, str, str, str | None]
COURSE_COUNTS = (1, 1, 2, 2, 2, 3, 3, 4, 5)  # how many courses a teacher takes, drawn uniformly
FLUSH_ROWS = 20_000
HOMEPAGE = "https://ustaz.example"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def store_reference_data(engine: Engine, units: list[Unit]) -> dict[str, Any]:
    """The org-unit read model and every course's answer key in progress; returns the answer key."""
    from services.progress import analytics, service

    paths = paths_of(units)
    with session_scope(engine) as session:
        rows = [{"code": c, "name": n, "kind": k, "parent": p, "path": paths[c]} for c, n, k, p in units]
        analytics.upsert_org_units(session, rows)
        key = answer_key("x")
        for course_id, *_ in COURSES:
            service.store_answer_key(session, course_id, 1, {**key, "course_id": course_id})
    return answer_key("x")


@dataclass(frozen=True)
class Population:
    """Where the teachers work and how likely they are to complete: a propensity per region, noise per
    district; `schools[n]` is teacher n's school."""

    paths: dict[str, str]
    schools: list[str]
    propensity: dict[str, float]
    district_noise: dict[str, float]
    institutes: dict[str, str]

    @classmethod
    def draw(cls, units: list[Unit], teachers: int, rng: random.Random) -> Population:
        paths = paths_of(units)
        schools = [code for code, _, kind, _ in units if kind == "school"]
        districts = sorted({paths[code].split("/")[2] for code in schools})
        propensity = {code: rng.uniform(0.25, 0.85) for code, _ in REGIONS}
        district_noise = {d: rng.uniform(-0.15, 0.15) for d in districts}
        school_weights = [rng.uniform(0.2, 3.0) for _ in schools]
        institutes = {inst: str(uuid.uuid5(NS, f"institute:{inst}")) for inst in ("NDI", "ORLEU", "NIS")}
        picks = rng.choices(schools, weights=school_weights, k=teachers)
        return cls(paths, picks, propensity, district_noise, institutes)

    def p_complete(self, school: str) -> float:
        _, region, district, *_ = self.paths[school].split("/")
        return min(0.95, max(0.05, self.propensity[region] + self.district_noise[district]))


class Batches:
    """Rows per progress table, written all together (enrolments first: the others refer to them)."""

    ORDER = ("enrolments", "completions", "submissions", "statements", "certificates")

    def __init__(self, engine: Engine) -> None:
        from services.progress.models import CertificateFact, Completion, Enrolment, Statement, Submission

        models = (Enrolment, Completion, Submission, Statement, CertificateFact)
        self.tables = {name: _table(model) for name, model in zip(self.ORDER, models, strict=True)}
        self.writer = Writer(engine)
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in self.ORDER}
        self.counts = dict.fromkeys(
            ("enrolments", "statements", "submissions", "completions", "certificates"), 0
        )

    def add(self, name: str, row: dict[str, Any]) -> None:
        self.rows[name].append(row)

    def flush(self, force: bool = False) -> None:
        """Write when any table has FLUSH_ROWS waiting (or always, with `force`)."""
        if not force and max(len(rows) for rows in self.rows.values()) < FLUSH_ROWS:
            return
        for name in self.ORDER:
            if self.rows[name]:
                self.writer.write(self.tables[name], self.rows[name])
                self.counts[name] += len(self.rows[name])
                self.rows[name] = []


@dataclass(frozen=True)
class Course:
    """One enrolment as drawn: `last` is the teacher's last activity in the course."""

    enrolment_id: str
    user_id: str
    course_id: str
    enrolled_at: datetime
    completed_at: datetime | None
    last: datetime


class Teachers:
    """Draws each teacher's enrolments, lesson views, quiz attempts, completions and certificates.
    The order of the draws from `rng` is what makes a seed give the same population: keep it."""

    def __init__(
        self, population: Population, key: dict[str, Any], rng: random.Random, now: datetime
    ) -> None:
        from services.progress import service

        self.population, self.rng, self.now = population, rng, now
        self.lessons: list[str] = key["lessons"]
        self.grade = {name: service.grade_quiz(key["quizzes"][0], a) for name, a in QUIZ_ANSWERS.items()}

    def teacher(self, n: int, out: Batches) -> None:
        school = self.population.schools[n]
        p_complete = self.population.p_complete(school)
        for course in self.rng.sample(COURSES, self.rng.choice(COURSE_COUNTS)):
            self.enrol(f"teacher-{n:07d}", school, course, p_complete, out)

    def enrol(
        self, user_id: str, school: str, course: tuple[str, str, str, str], p_complete: float, out: Batches
    ) -> None:
        rng, now = self.rng, self.now
        course_id, title, lang, inst = course
        enrolment_id = _uuid(rng)
        enrolled_at = now - timedelta(days=rng.uniform(0, 365))
        p_start = min(0.98, p_complete + 0.2)
        started = rng.random() < p_start
        completes = started and rng.random() < p_complete / p_start
        completed_at = min(now, enrolled_at + timedelta(days=rng.expovariate(1 / 21))) if completes else None
        out.add(
            "enrolments",
            {
                "id": enrolment_id,
                "user_id": user_id,
                "user_name": "",
                "course_id": course_id,
                "version": 1,
                "course_title": title,
                "language": lang,
                "institute_id": self.population.institutes[inst],
                "org_path": self.population.paths[school],
                "status": "completed" if completes else "active",
                "enrolled_at": enrolled_at,
                "completed_at": completed_at,
                "deadline": None,
                "require_lessons": False,
                "enrolled_by": None,
            },
        )
        if not started:
            return
        last = completed_at or min(now, enrolled_at + timedelta(days=rng.uniform(0.1, 60)))
        drawn = Course(enrolment_id, user_id, course_id, enrolled_at, completed_at, last)
        self.lesson_views(drawn, out)
        self.quiz_attempts(drawn, out)
        if completed_at is not None:
            self.completion(drawn, completed_at, self.population.paths[school], out)

    def lesson_views(self, c: Course, out: Batches) -> None:
        for lesson in self.lessons[: self.rng.randint(1, len(self.lessons))]:
            moment = c.enrolled_at + (c.last - c.enrolled_at) * self.rng.random()
            statement_id = _uuid(self.rng)
            activity = f"urn:ustaz:course:{c.course_id}/item/{lesson}"
            body = {
                "id": statement_id,
                "actor": {"account": {"homePage": HOMEPAGE, "name": c.user_id}},
                "verb": {"id": EXPERIENCED},
                "object": {"id": activity},
            }
            out.add(
                "statements",
                {
                    "id": statement_id,
                    "user_id": c.user_id,
                    "course_id": c.course_id,
                    "verb": EXPERIENCED,
                    "activity_id": activity,
                    "body": body,
                    "digest": hashlib.sha256(statement_id.encode()).hexdigest(),
                    "timestamp": moment,
                    "stored": moment,
                    "future_timestamp": False,
                    "voided": False,
                    "voids": None,
                },
            )

    def quiz_attempts(self, c: Course, out: Batches) -> None:
        """A completer passes, maybe after one wrong attempt; anyone else has one attempt that fails."""
        if c.completed_at is not None:
            outcomes = ["wrong"] * self.rng.randint(0, 1) + ["right"]
        else:
            outcomes = [self.rng.choice(("half", "wrong"))]
        for attempt, outcome in enumerate(outcomes):
            score, passed, results = self.grade[outcome]
            submitted = c.last - timedelta(minutes=10 * (len(outcomes) - attempt))
            out.add(
                "submissions",
                {
                    "id": _uuid(self.rng),
                    "enrolment_id": c.enrolment_id,
                    "user_id": c.user_id,
                    "quiz_id": "q1",
                    "answers": QUIZ_ANSWERS[outcome],
                    "status": "graded",
                    "score": score,
                    "passed": passed,
                    "results": results,
                    "submitted_at": submitted,
                    "graded_at": submitted + timedelta(seconds=2),
                    "requeued_at": None,
                },
            )

    def completion(self, c: Course, completed_at: datetime, org_path: str, out: Batches) -> None:
        """The completion and, for nine in ten, its certificate."""
        out.add(
            "completions",
            {
                "enrolment_id": c.enrolment_id,
                "user_id": c.user_id,
                "course_id": c.course_id,
                "version": 1,
                "org_path": org_path,
                "completed_at": completed_at,
            },
        )
        if self.rng.random() < 0.9:
            out.add(
                "certificates",
                {
                    "certificate_id": _uuid(self.rng),
                    "user_id": c.user_id,
                    "course_id": c.course_id,
                    "issued_at": completed_at + timedelta(minutes=1),
                },
            )


def generate(
    progress_url: str, units: list[Unit], teachers: int, rng: random.Random, now: datetime
) -> dict[str, int]:
    """Enrolments, statements, submissions, completions and certificate facts into progress."""
    engine = create_db_engine(progress_url)
    key = store_reference_data(engine, units)
    draw = Teachers(Population.draw(units, teachers, rng), key, rng, now)
    out = Batches(engine)
    bar = Progress(teachers, "teachers")
    for n in range(teachers):
        draw.teacher(n, out)
        bar.step()
        if n % 2000 == 1999:
            out.flush()
    out.flush(force=True)
    engine.dispose()
    return out.counts


def build_rollups(progress_url: str) -> float:
    from services.progress import rollups

    engine = create_db_engine(progress_url)
    started = time.monotonic()
    sys.stderr.write("rollups        recomputing from the raw tables...\n")
    with session_scope(engine) as session:
        rollups.recompute(session)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return time.monotonic() - started


def seed_large(
    *,
    teachers: int,
    seed: int,
    gateway_url: str | None,
    progress_url: str,
    districts: int = 200,
    schools: int = 10_000,
    now: datetime | None = None,
) -> dict[str, Any]:
    rng = random.Random(seed)
    now = now or datetime(2026, 11, 1, tzinfo=UTC)
    started = time.monotonic()
    units = tree(rng, districts, schools)
    gateway_rows = seed_gateway_tree(gateway_url, units) if gateway_url else 0
    counts = generate(progress_url, units, teachers, rng, now)
    generated = time.monotonic() - started
    rollup_seconds = build_rollups(progress_url)
    return {
        "org_units": len(units),
        "gateway_org_units_added": gateway_rows,
        **counts,
        "teachers": teachers,
        "generate_seconds": round(generated, 1),
        "rollup_seconds": round(rollup_seconds, 1),
    }


def main(argv: list[str] | None = None) -> None:
    from libs.migrate import database_url

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teachers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--districts", type=int, default=200)
    parser.add_argument("--schools", type=int, default=10_000)
    parser.add_argument("--gateway-url", help="gateway database (default: its settings)")
    parser.add_argument("--progress-url", help="progress database (default: its settings)")
    parser.add_argument("--no-gateway", action="store_true", help="write the tree to progress only")
    args = parser.parse_args(argv)
    result = seed_large(
        teachers=args.teachers,
        seed=args.seed,
        districts=args.districts,
        schools=args.schools,
        gateway_url=None if args.no_gateway else (args.gateway_url or database_url("gateway")),
        progress_url=args.progress_url or database_url("progress"),
    )
    out = io.StringIO()
    json.dump(result, out, indent=2)
    print(out.getvalue())


if __name__ == "__main__":
    main()
