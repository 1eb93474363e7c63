"""Running an import: one contract for the CLI, the pages, the API and the Celery job.

Teachers: a first pass reads only (chunks of 2,000 rows: parse, check, one query to recognise them
by hash). A dry run, a file with a rejected row before anything to change, or a file with nothing to
change ends there, with nothing written and no write lock taken (an unchanged re-import is this pass
alone). At the first chunk with something to write it stops, and the writing pass goes over the file
from its start in ONE transaction under the lock, checking each chunk against what is there now and
writing it; a rejected row in it (a bad row after the first change, or a row a concurrent change made
wrong) stops the writing, the rest is still checked for the report, and everything rolls back, so
"one bad row, nothing written" holds. A new file or one with changes throughout is read and checked
once (and its first chunk twice); on PostgreSQL its checks overlap the writes (gateway/registry/
pipeline.py). Org units fit in memory and go in one pass.
"""

from __future__ import annotations

import getpass
import io
import logging
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, text
from sqlmodel import Session

from gateway.models import outbox
from gateway.registry import audit, repository
from gateway.registry.audit import Actor
from gateway.registry.formats import FileRefused, Rows, open_rows
from gateway.registry.models import ImportFile, ImportRun
from gateway.registry.national_id import NationalIds
from gateway.registry.org_units import UnitState, apply_units, parse_unit_row, plan_units
from gateway.registry.pipeline import Prefetched, Writer
from gateway.registry.rows import Outcome, Progress, RowError, no_progress
from gateway.registry.teachers import ChunkPlan, Layout, RawRow, Seen, classify, load_schools, write_chunk
from gateway.schemas import RegistryImportRequested
from libs.db import session_scope
from libs.outbox import emit, utcnow

log = logging.getLogger("ustaz.registry.imports")
CHUNK = 2000
LOCK_KEY = 0x55_5354_415A  # "USTAZ": one registry import writes at a time (PostgreSQL advisory lock)
Opener = Callable[[], AbstractContextManager[Rows]]


@contextmanager
def _opened(kind: str, stream: IO[bytes]) -> Iterator[Rows]:
    try:
        yield open_rows(kind, stream)
    finally:
        stream.close()


def from_bytes(kind: str, data: bytes) -> Opener:
    return lambda: _opened(kind, io.BytesIO(data))


def from_path(kind: str, path: Path) -> Opener:
    return lambda: _opened(kind, path.open("rb"))


class _RolledBack(Exception):
    """The writing pass met a rejected row: leave the transaction so it rolls back."""


def _bulk_reads(session: Session) -> None:
    """PostgreSQL: plan every chunk's `IN (2,000 keys)` afresh. psycopg prepares a statement it has run
    five times, and the generic plan of a prepared IN list compares each row with every key in turn
    (seconds per chunk), where a fresh plan hashes the keys (milliseconds)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _write_lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    # SQLite: the write transaction began with BEGIN IMMEDIATE, which is the lock.


def import_teachers(
    engine: Engine,
    ids: NationalIds,
    opener: Opener,
    *,
    dry_run: bool = False,
    progress: Progress = no_progress,
    import_id: str | None = None,
    actor_id: str | None = None,
) -> Outcome:
    outcome = Outcome("teachers", dry_run)
    with session_scope(engine, readonly=True) as session:
        _bulk_reads(session)
        schools = load_schools(session)
        with opener() as rows, Prefetched(_raw_chunks(rows, ids)) as chunks:
            seen = Seen()
            for chunk in chunks:
                outcome.rows += len(chunk)
                plan = classify(session, chunk, ids, schools, seen, outcome)
                if (plan.creates or plan.updates) and not (dry_run or outcome.rejected):
                    break  # something to write: the writing pass starts over, under the lock
                progress("checking", outcome.rows, max(rows.estimated_rows, outcome.rows))
            else:
                outcome.errors.sort(key=lambda e: e.row)
                if outcome.rejected:
                    outcome.nothing_written()
                return outcome  # a dry run, a rejected row, or nothing to change: nothing written
    if import_id:
        _set_writing(engine, import_id, True)
    written = Outcome("teachers")
    try:
        with session_scope(engine) as session:
            _write_lock(session)
            _bulk_reads(session)
            _write_pass(engine, session, ids, opener, written, progress, import_id, actor_id)
            if written.rejected:
                raise _RolledBack
    except _RolledBack:
        written.errors.sort(key=lambda e: e.row)
        written.nothing_written()
    return written


def _write_pass(
    engine: Engine,
    session: Session,
    ids: NationalIds,
    opener: Opener,
    outcome: Outcome,
    progress: Progress,
    import_id: str | None,
    actor_id: str | None,
) -> None:
    """Check every chunk again (against what is there now, under the lock) and write it, in the one
    transaction of `session`. On PostgreSQL the checks read on a second connection while a thread
    writes the chunk checked before on `session` (its rows are the file's, so the reads need not see
    them: a national ID or account twice in the file is caught by `Seen`, and by the unique indexes).
    After a rejected row nothing more is written; the caller rolls back."""
    schools = load_schools(session)
    seen = Seen()

    def write(plan: ChunkPlan) -> None:
        write_chunk(session, plan, schools, ids, import_id=import_id, actor_id=actor_id)

    with _checking_session(engine, session) as reads, opener() as rows:
        writer = Writer(write) if reads is not session else None
        try:
            with Prefetched(_raw_chunks(rows, ids)) as chunks:
                for chunk in chunks:
                    outcome.rows += len(chunk)
                    plan = classify(reads, chunk, ids, schools, seen, outcome)
                    if outcome.rejected:
                        continue  # checking the rest for the report only
                    if writer is not None:
                        writer.submit(plan)
                    else:
                        write(plan)
                    progress("writing", outcome.rows, max(rows.estimated_rows, outcome.rows))
            if writer is not None:
                writer.finish()
        finally:
            if writer is not None:
                writer.close()


@contextmanager
def _checking_session(engine: Engine, session: Session) -> Iterator[Session]:
    """PostgreSQL: a read-only session of its own, to check a chunk while `session` writes the one
    before. SQLite: `session` itself (one writer; its reads and writes take turns)."""
    if engine.dialect.name != "postgresql":
        yield session
        return
    with session_scope(engine, readonly=True) as reads:
        _bulk_reads(reads)
        yield reads


def _raw_chunks(rows: Rows, ids: NationalIds) -> Iterator[list[RawRow]]:
    layout = Layout(rows.header)
    chunk: list[RawRow] = []
    for number, cells in rows.rows:
        chunk.append(layout.raw(number, cells, ids))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_org_units(
    engine: Engine,
    opener: Opener,
    *,
    dry_run: bool = False,
    progress: Progress = no_progress,
    import_id: str | None = None,
    actor_id: str | None = None,
) -> Outcome:
    outcome = Outcome("org-units", dry_run)
    parsed: list[tuple[int, UnitState]] = []
    with opener() as rows:
        for number, cells in rows.rows:
            outcome.rows += 1
            state, errors = parse_unit_row(number, cells, rows.header)
            if state is None:
                outcome.rejected += 1
                for error in errors:
                    outcome.reject(error)
            else:
                parsed.append((number, state))
    progress("checking", outcome.rows, outcome.rows)
    with session_scope(engine, readonly=dry_run) as session:
        if not dry_run:
            _write_lock(session)
        tree = plan_units(session, parsed, outcome)
        outcome.errors.sort(key=lambda e: e.row)
        if outcome.rejected:
            outcome.nothing_written()
        elif not dry_run and (outcome.created or outcome.updated):
            apply_units(session, tree, import_id=import_id, actor_id=actor_id)
    progress("done", outcome.rows, outcome.rows)
    return outcome


# -- recorded runs ------------------------------------------------------------------------------------


def cli_actor() -> Actor:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor(f"cli:{who}", f"command line ({who})")


def new_run(
    session: Session,
    kind: str,
    *,
    filename: str,
    dry_run: bool,
    via: str,
    actor: Actor,
    content: bytes | None = None,
) -> ImportRun:
    """An import run row (queued); with `content`, the file is kept (gzip) for the worker."""
    run = ImportRun(kind=kind, filename=filename[:200], dry_run=dry_run, via=via, actor_id=actor.id)
    session.add(run)
    if content is not None:
        session.flush()
        session.add(ImportFile(import_id=run.id, content=zlib.compress(content, 6)))
        emit(session, outbox, RegistryImportRequested(import_id=run.id))  # the worker starts after commit
    return run


def queued_file(session: Session, run_id: str) -> bytes | None:
    data = repository.import_file(session, run_id)
    return zlib.decompress(data) if data is not None else None


def run_recorded(
    engine: Engine,
    ids: NationalIds,
    run_id: str,
    opener: Opener,
    actor: Actor,
    progress: Progress = no_progress,
) -> Outcome:
    """Run the import of an ImportRun row and record its outcome, its audit entry, and drop its file. A
    refused file is recorded and re-raised (FileRefused); any other failure marks the run failed."""
    with session_scope(engine) as session:
        run = repository.import_run(session, run_id)
        if run is None:
            raise LookupError(run_id)
        kind, dry_run = run.kind, run.dry_run
        run.status = "running"
        session.add(run)
    try:
        if kind == "teachers":
            outcome = import_teachers(
                engine, ids, opener, dry_run=dry_run, progress=progress, import_id=run_id, actor_id=actor.id
            )
        else:
            outcome = import_org_units(
                engine, opener, dry_run=dry_run, progress=progress, import_id=run_id, actor_id=actor.id
            )
    except FileRefused as refused:
        outcome = Outcome(kind, dry_run, problem=refused.detail)
        _finish(engine, run_id, outcome, actor)
        raise
    except Exception:
        _fail(engine, run_id)
        raise
    _finish(engine, run_id, outcome, actor)
    return outcome


def _finish(engine: Engine, run_id: str, outcome: Outcome, actor: Actor) -> None:
    with session_scope(engine) as session:
        run = repository.import_run(session, run_id)
        assert run is not None
        run.status = "rejected" if (outcome.rejected or outcome.problem) else "done"
        run.rows, run.rejected = outcome.rows, outcome.rejected
        run.created, run.updated, run.unchanged = outcome.created, outcome.updated, outcome.unchanged
        run.errors = [e.as_dict() for e in outcome.errors]
        run.problem = (outcome.problem or "")[:500] or None
        run.finished_at, run.writing_since = utcnow(), None
        session.add(run)
        repository.delete_import_file(session, run_id)
        summary = {
            "summary": outcome.summary(),
            "rows": outcome.rows,
            "dry_run": outcome.dry_run,
            "problem": outcome.problem,
            **({"would": outcome.would} if outcome.would else {}),
        }
        audit.record(session, actor, f"import.{run.kind}", f"import:{run_id}", after=summary)
    log.info(
        "import finished",
        extra={"import_id": run_id, "kind": outcome.kind, "status": run.status, "rows": outcome.rows},
    )


def _fail(engine: Engine, run_id: str) -> None:
    with session_scope(engine) as session:
        run = repository.import_run(session, run_id)
        if run is not None:
            run.status, run.finished_at, run.writing_since = "failed", utcnow(), None
            session.add(run)


def _set_writing(engine: Engine, run_id: str, writing: bool) -> None:
    with session_scope(engine) as session:
        run = repository.import_run(session, run_id)
        if run is not None:
            run.writing_since = utcnow() if writing else None
            session.add(run)


def error_rows(run: ImportRun) -> list[RowError]:
    return [
        RowError(int(e["row"]), str(e["column"]), str(e["reason"]), str(e.get("code", "invalid")))
        for e in run.errors
    ]
