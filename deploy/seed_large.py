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
import io
import json
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Table, insert, select, text

from deploy.population import COURSES, Population, Teachers, Unit, paths_of, tree
from deploy.seed import fixed_id
from libs.db import create_db_engine, session_scope


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


def seed_gateway_tree(url: str, units: list[Unit]) -> int:
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


FLUSH_ROWS = 20_000


def store_reference_data(engine: Engine, units: list[Unit]) -> dict[str, Any]:
    """The org-unit read model and every course's answer key in progress; returns the answer key."""
    from gateway.schemas import OrgUnitNode
    from services.courses.schemas import AnswerKeyDocument
    from services.progress import service
    from services.progress.analytics.service import upsert_org_units

    paths = paths_of(units)
    with session_scope(engine) as session:
        nodes = [OrgUnitNode(code=c, name=n, kind=k, parent=p, path=paths[c]) for c, n, k, p in units]
        upsert_org_units(session, nodes)
        key = answer_key("x")
        for course_id, *_ in COURSES:
            document = AnswerKeyDocument.model_validate({**key, "course_id": course_id})
            service.store_answer_key(session, course_id, 1, document)
    return answer_key("x")


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


def seed_registry_large(
    gateway_url: str, progress_url: str, units: list[tuple[str, str, str, str | None]], seed: int
) -> int:
    """The teacher registry of the same country: every teacher progress knows (registry id = their user
    id, at the school of their enrolments) and half as many again who never enrolled (the teachers who
    still need training), with valid IINs, by COPY on PostgreSQL. Returns the rows added."""
    from gateway.registry.national_id import iin_check_digit, national_ids
    from gateway.registry.repository import TEACHERS
    from gateway.registry.teachers import digest_for
    from gateway.settings import get_settings

    ids = national_ids(get_settings())
    rng = random.Random(seed + 11)
    progress = create_db_engine(progress_url)
    with progress.connect() as conn:
        query = text("SELECT user_id, min(org_path) FROM enrolments GROUP BY user_id")
        known: dict[str, str] = {str(user_id): str(path) for user_id, path in conn.execute(query)}
    progress.dispose()
    schools = [code for code, _, kind, _ in units if kind == "school"]
    people = [(user_id, path.rsplit("/", 1)[-1]) for user_id, path in sorted(known.items())]
    people += [(f"registry-{n:07d}", rng.choice(schools)) for n in range(len(people) // 2)]
    engine = create_db_engine(gateway_url)
    with engine.connect() as conn:
        if conn.execute(select(TEACHERS.c.id).limit(1)).first() is not None:
            engine.dispose()
            return 0  # filled already (the registry is never filled twice)
    school_ids = {code: fixed_id(f"org:{code}") for code in schools}
    now = datetime.now(UTC)
    rows, seen = [], set()
    for user_id, school in people:
        while True:
            first11 = f"{rng.randrange(50, 100):02d}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
            first11 += f"{rng.choice((3, 4))}{rng.randrange(10_000):04d}"
            check = iin_check_digit(first11)
            if check is not None and first11 not in seen:
                seen.add(first11)
                break
        iin = first11 + str(check)
        values = {
            "last_name": rng.choice(("Ахметова", "Серикбаев", "Иванова", "Ким", "Жумабаев")),
            "first_name": rng.choice(("Айгерим", "Данияр", "Ольга", "Марат", "Асель")),
            "patronymic": "",
            "school_code": school,
            "email": "",
            "phone": "",
            "lang": "ru",
            "subjects": rng.choice((";math;", ";informatics;", ";physics;math;", ";history;")),
            "employment": "in_service" if rng.random() < 0.9 else "pre_service",
            "status": "active",
        }
        rows.append(
            {
                "id": user_id,
                "nid_hash": ids.lookup(iin),
                "nid_sealed": ids.seal(iin),
                "school_id": school_ids[school],
                "user_id": None,
                "digest": digest_for(values),
                "source": "seed",
                "created_at": now,
                "updated_at": now,
                **{k: v for k, v in values.items() if k != "school_code"},
            }
        )
    writer = Writer(engine)
    bar = Progress(len(rows), "registry")
    for chunk in _chunks(rows, 20_000):
        writer.write(TEACHERS, chunk)
        bar.step(len(chunk))
    engine.dispose()
    return len(rows)


def build_rollups(progress_url: str) -> float:
    from services.progress.analytics import rollups

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
    registry_rows = seed_registry_large(gateway_url, progress_url, units, seed) if gateway_url else 0
    generated = time.monotonic() - started
    rollup_seconds = build_rollups(progress_url)
    return {
        "org_units": len(units),
        "gateway_org_units_added": gateway_rows,
        "registry_teachers_added": registry_rows,
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
