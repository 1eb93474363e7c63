"""Issue 11 benchmark: the registry's import on SQLite and PostgreSQL (`python -m bench registry`, or
`python -m bench.registry --rows 2000 --backends sqlite` for a quick run of the same steps).

A generated country (14 regions, ~200 districts, ~10,000 schools) and BENCH_REGISTRY_TEACHERS teachers
(default 1,000,000; valid IINs, fixed seed) as CSV files; on each backend of BENCH_REGISTRY_BACKENDS
(default "sqlite,postgresql"), on a fresh migrated gateway database, the same path as the command line
(`gateway.registry.imports.run_recorded`, an import run recorded with its audit entry):

1. the org-unit file;
2. the teacher file (targets: >= 10,000 rows/s on PostgreSQL);
3. the export of the registry, then its re-import: everything unchanged and nothing written
   (>= 30,000 rows/s), checked by the table's row count, newest `updated_at` and history rows;
4. the export again with 1 % of the teachers moved to another school: the transfers' rate.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text

from bench.common import table

TEACHERS = int(os.environ.get("BENCH_REGISTRY_TEACHERS", "1000000"))
BACKENDS = os.environ.get("BENCH_REGISTRY_BACKENDS", "sqlite,postgresql").split(",")
SEED = 11
LAST = ["Ахметова", "Иванов", "Серикбаев", "Нурланова", "Ким", "Петрова", "Жумабаев", "Оспанова", "Tokhtarov"]
FIRST = ["Айгерим", "Данияр", "Гульнара", "Марат", "Сауле", "Ерлан", "Алия", "Nurlan", "Asel"]
SUBJECTS = ["math", "physics", "informatics", "kazakh", "russian", "english", "history", "biology"]


def iins(rng: random.Random, count: int) -> list[str]:
    from gateway.registry.national_id import iin_check_digit

    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        born = f"{rng.randrange(50, 100):02d}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
        first11 = born + str(rng.choice((3, 4))) + f"{rng.randrange(10_000):04d}"
        check = iin_check_digit(first11)
        if check is None or first11 in seen:
            continue
        seen.add(first11)
        out.append(first11 + str(check))
    return out


def write_files(directory: Path, teachers: int) -> tuple[Path, Path, list[str]]:
    from deploy.population import tree

    rng = random.Random(SEED)
    units = tree(rng, 200, 10_000)
    org_path = directory / "org-units.csv"
    with org_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["code", "parent_code", "kind", "name"])
        for code, name, kind, parent in units:
            writer.writerow([code, parent or "", kind, name])
    schools = [code for code, _, kind, _ in units if kind == "school"]
    teacher_path = directory / "teachers.csv"
    with teacher_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["national_id", "last_name", "first_name", "patronymic", "school_code", "email", "phone", "lang",
             "subjects", "employment", "status"]
        )  # fmt: skip
        for n, iin in enumerate(iins(rng, teachers)):
            writer.writerow(
                [
                    iin,
                    rng.choice(LAST),
                    rng.choice(FIRST),
                    "",
                    rng.choice(schools),
                    f"teacher{n}@school.example.kz" if n % 3 else "",
                    f"+7701{n:07d}" if n % 2 else "",
                    rng.choice(("ru", "kk", "")),
                    ";".join(rng.sample(SUBJECTS, rng.randint(1, 2))),
                    "in_service" if n % 10 else "pre_service",
                    "active",
                ]
            )
    return org_path, teacher_path, schools


def snapshot(engine: Engine) -> tuple[Any, ...]:
    from gateway.registry.models import RegistryTeacher, TeacherHistory

    with engine.connect() as conn:
        count, newest = conn.execute(select(func.count(), func.max(RegistryTeacher.updated_at))).one()
        history = conn.execute(select(func.count()).select_from(TeacherHistory)).scalar_one()
    return count, str(newest), history


class Meter:
    """Wall time and CPU time of one step: this process's (every thread) and PostgreSQL's (the
    postmaster and its backends, live or reaped), so a step's cost shows on a shared machine."""

    def __init__(self, postmaster: int | None) -> None:
        self.postmaster = postmaster

    def _pg(self) -> float:
        if self.postmaster is None:
            return 0.0
        import psutil

        root = psutil.Process(self.postmaster)
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in root.children(recursive=True):
            try:
                t = child.cpu_times()
            except psutil.NoSuchProcess:  # exited since the listing: counted once reaped
                continue
            total += t.user + t.system
        return total

    def now(self) -> tuple[float, float, float]:
        import psutil

        mine = psutil.Process().cpu_times()
        return time.perf_counter(), mine.user + mine.system, self._pg()

    def since(self, start: tuple[float, float, float]) -> tuple[float, float, float]:
        end = self.now()
        return end[0] - start[0], end[1] - start[1], end[2] - start[2]


def timed_import(
    engine: Engine, meter: Meter, kind: str, path: Path
) -> tuple[tuple[float, float, float], Any]:
    from gateway.registry.imports import cli_actor, from_path, new_run, run_recorded
    from gateway.registry.national_id import national_ids
    from gateway.settings import GatewaySettings
    from libs.db import session_scope

    actor = cli_actor()
    with session_scope(engine) as session:
        run_id = new_run(session, kind, filename=path.name, dry_run=False, via="cli", actor=actor).id
    started = meter.now()
    outcome = run_recorded(engine, national_ids(GatewaySettings()), run_id, from_path(kind, path), actor)
    return meter.since(started), outcome


def timed_export(engine: Engine, meter: Meter, path: Path) -> tuple[float, float, float]:
    from gateway.registry.exports import export
    from gateway.registry.national_id import national_ids
    from gateway.settings import GatewaySettings

    started = meter.now()
    with path.open("wb") as out:
        export(engine, national_ids(GatewaySettings()), "teachers", "csv", out)
    return meter.since(started)


def _row(name: str, step: str, rows: int, summary: str, spent: tuple[float, float, float]) -> list[Any]:
    seconds, mine, pg = spent
    return [name, step, rows, summary, seconds, rows / seconds, mine, pg]


def transfer_one_percent(source: Path, target: Path, schools: list[str]) -> int:
    rng = random.Random(SEED + 1)
    moved = 0
    with (
        source.open(encoding="utf-8-sig", newline="") as f,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        reader, writer = csv.reader(f), csv.writer(out)
        header = next(reader)
        writer.writerow(header)
        school = header.index("school_code")
        for row in reader:
            if rng.random() < 0.01:
                row[school] = rng.choice(schools)
                moved += 1
            writer.writerow(row)
    return moved


def run_backend(
    name: str,
    url: str,
    directory: Path,
    files: tuple[Path, Path, list[str]],
    teachers: int,
    postmaster: int | None = None,
) -> list[list[Any]]:
    from libs.db import create_db_engine
    from libs.migrate import upgrade

    org_file, teacher_file, schools = files
    meter = Meter(postmaster)
    upgrade("gateway", url)
    engine = create_db_engine(url)
    rows: list[list[Any]] = []
    spent, outcome = timed_import(engine, meter, "org-units", org_file)
    rows.append(_row(name, "org units", outcome.rows, outcome.summary(), spent))
    spent, outcome = timed_import(engine, meter, "teachers", teacher_file)
    rows.append(_row(name, "teachers (new)", outcome.rows, outcome.summary(), spent))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    exported = directory / f"export-{name}.csv"
    rows.append(_row(name, "export", teachers, "", timed_export(engine, meter, exported)))
    before = snapshot(engine)
    spent, outcome = timed_import(engine, meter, "teachers", exported)
    written = "nothing written" if snapshot(engine) == before else "WROTE ROWS"
    rows.append(_row(name, f"re-import unchanged ({written})", outcome.rows, outcome.summary(), spent))
    moved_file = directory / f"moved-{name}.csv"
    moved = transfer_one_percent(exported, moved_file, schools)
    spent, outcome = timed_import(engine, meter, "teachers", moved_file)
    rows.append(_row(name, f"re-import, {moved:,} transfers", outcome.rows, outcome.summary(), spent))
    engine.dispose()
    return rows


def main(teachers: int = TEACHERS, backends: list[str] = BACKENDS) -> str:
    from tests.servers import postgres_server

    rows: list[list[Any]] = []
    with tempfile.TemporaryDirectory(prefix="ustaz-bench-registry-") as scratch:
        directory = Path(scratch)
        started = time.perf_counter()
        files = write_files(directory, teachers)
        generated = time.perf_counter() - started
        if "sqlite" in backends:
            rows += run_backend("SQLite", f"sqlite:///{directory / 'gateway.db'}", directory, files, teachers)
        if "postgresql" in backends:
            with postgres_server(directory / "pg") as admin:
                from bench.analytics import create_databases

                url = create_databases(admin, ["bench_registry"])["bench_registry"]
                pid = int((directory / "pg" / "postmaster.pid").read_text().split()[0])
                rows += run_backend("PostgreSQL", url, directory, files, teachers, pid)
    header = ["backend", "step", "rows", "outcome", "seconds", "rows/s", "importer CPU s", "PostgreSQL CPU s"]
    return (
        f"## Registry (issue 11) — `python -m bench registry`\n\n"
        f"{teachers:,} teachers, ~10,000 schools (files generated in {generated:.1f} s). Targets on "
        "PostgreSQL: new rows >= 10,000/s, unchanged re-import >= 30,000/s with nothing written.\n\n"
        + table(header, rows)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=TEACHERS, help="teachers in the generated file")
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help="comma-separated: sqlite, postgresql (default both)"
    )
    arguments = parser.parse_args()
    print(main(arguments.rows, [b.strip() for b in arguments.backends.split(",") if b.strip()]))
