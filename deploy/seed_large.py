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
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, insert, select, text

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
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
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


def seed_gateway_tree(url: str, units: list[tuple[str, str, str, str | None]]) -> int:
    from gateway.models import OrgUnit

    engine = create_db_engine(url)
    table = OrgUnit.__table__  # type: ignore[attr-defined]
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


def generate(  # noqa: C901 - TODO(house): split
    progress_url: str,
    units: list[tuple[str, str, str, str | None]],
    teachers: int,
    rng: random.Random,
    now: datetime,
) -> dict[str, int]:
    """Enrolments, statements, submissions, completions and certificate facts into progress."""
    from services.progress import analytics, service
    from services.progress.models import (
        CertificateFact,
        Completion,
        Enrolment,
        Statement,
        Submission,
    )

    engine = create_db_engine(progress_url)
    with session_scope(engine) as session:
        rows = [
            {"code": c, "name": n, "kind": k, "parent": p, "path": paths_of(units)[c]} for c, n, k, p in units
        ]
        analytics.upsert_org_units(session, rows)
        key = answer_key("x")
        for course_id, *_ in COURSES:
            service.store_answer_key(session, course_id, 1, {**key, "course_id": course_id})
    key = answer_key("x")
    grade = {name: service.grade_quiz(key["quizzes"][0], answers) for name, answers in QUIZ_ANSWERS.items()}
    lessons = key["lessons"]
    paths = paths_of(units)
    schools = [code for code, _, kind, _ in units if kind == "school"]
    region_of = {code: paths[code].split("/")[1] for code in schools}
    district_of = {code: paths[code].split("/")[2] for code in schools}
    propensity = {code: rng.uniform(0.25, 0.85) for code, _ in REGIONS}
    district_noise = {d: rng.uniform(-0.15, 0.15) for d in sorted(set(district_of.values()))}
    school_weights = [rng.uniform(0.2, 3.0) for _ in schools]
    institutes = {inst: str(uuid.uuid5(NS, f"institute:{inst}")) for inst in ("NDI", "ORLEU", "NIS")}
    tables = {
        name: model.__table__
        for name, model in (  # type: ignore[attr-defined]
            ("enrolments", Enrolment),
            ("statements", Statement),
            ("submissions", Submission),
            ("completions", Completion),
            ("certificates", CertificateFact),
        )
    }
    writer = Writer(engine)
    buffers: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
    counts = dict.fromkeys(tables, 0)
    bar = Progress(teachers, "teachers")
    homepage = "https://ustaz.example"

    def flush(force: bool = False) -> None:
        """All tables at once (enrolments first: the others refer to them) when any buffer is full."""
        if not force and max(len(b) for b in buffers.values()) < 20_000:
            return
        for name in ("enrolments", "completions", "submissions", "statements", "certificates"):
            if buffers[name]:
                writer.write(tables[name], buffers[name])
                counts[name] += len(buffers[name])
                buffers[name] = []

    school_picks = rng.choices(schools, weights=school_weights, k=teachers)
    for n in range(teachers):
        school = school_picks[n]
        path = paths[school]
        user_id = f"teacher-{n:07d}"
        p_complete = min(0.95, max(0.05, propensity[region_of[school]] + district_noise[district_of[school]]))
        for course_id, title, lang, inst in rng.sample(COURSES, rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 5))):
            enrolment_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            enrolled_at = now - timedelta(days=rng.uniform(0, 365))
            started = rng.random() < min(0.98, p_complete + 0.2)
            completes = started and rng.random() < p_complete / min(0.98, p_complete + 0.2)
            completed_at = enrolled_at + timedelta(days=rng.expovariate(1 / 21)) if completes else None
            if completed_at and completed_at > now:
                completed_at = now
            buffers["enrolments"].append(
                {
                    "id": enrolment_id,
                    "user_id": user_id,
                    "user_name": "",
                    "course_id": course_id,
                    "version": 1,
                    "course_title": title,
                    "language": lang,
                    "institute_id": institutes[inst],
                    "org_path": path,
                    "status": "completed" if completes else "active",
                    "enrolled_at": enrolled_at,
                    "completed_at": completed_at,
                    "deadline": None,
                    "require_lessons": False,
                    "enrolled_by": None,
                }
            )
            if not started:
                continue
            last = completed_at or min(now, enrolled_at + timedelta(days=rng.uniform(0.1, 60)))
            for lesson in lessons[: rng.randint(1, len(lessons))]:
                moment = enrolled_at + (last - enrolled_at) * rng.random()
                statement_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                activity = f"urn:ustaz:course:{course_id}/item/{lesson}"
                body = {
                    "id": statement_id,
                    "actor": {"account": {"homePage": homepage, "name": user_id}},
                    "verb": {"id": EXPERIENCED},
                    "object": {"id": activity},
                }
                buffers["statements"].append(
                    {
                        "id": statement_id,
                        "user_id": user_id,
                        "course_id": course_id,
                        "verb": EXPERIENCED,
                        "activity_id": activity,
                        "body": body,
                        "digest": hashlib.sha256(statement_id.encode()).hexdigest(),
                        "timestamp": moment,
                        "stored": moment,
                        "future_timestamp": False,
                        "voided": False,
                        "voids": None,
                    }
                )
            outcomes = (
                (["wrong"] * rng.randint(0, 1) + ["right"]) if completes else [rng.choice(("half", "wrong"))]
            )
            for attempt, outcome in enumerate(outcomes):
                score, passed, results = grade[outcome]
                submitted = last - timedelta(minutes=10 * (len(outcomes) - attempt))
                buffers["submissions"].append(
                    {
                        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        "enrolment_id": enrolment_id,
                        "user_id": user_id,
                        "quiz_id": "q1",
                        "answers": QUIZ_ANSWERS[outcome],
                        "status": "graded",
                        "score": score,
                        "passed": passed,
                        "results": results,
                        "submitted_at": submitted,
                        "graded_at": submitted + timedelta(seconds=2),
                        "requeued_at": None,
                    }
                )
            if completed_at is not None:
                buffers["completions"].append(
                    {
                        "enrolment_id": enrolment_id,
                        "user_id": user_id,
                        "course_id": course_id,
                        "version": 1,
                        "org_path": path,
                        "completed_at": completed_at,
                    }
                )
                if rng.random() < 0.9:
                    buffers["certificates"].append(
                        {
                            "certificate_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                            "user_id": user_id,
                            "course_id": course_id,
                            "issued_at": completed_at + timedelta(minutes=1),
                        }
                    )
        bar.step()
        if n % 2000 == 1999:
            flush()
    flush(force=True)
    engine.dispose()
    return counts


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
