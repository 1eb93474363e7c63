"""An uploaded file, from a page or the API, through the import contract: a small file is imported in
the request (on a worker thread), a large one is queued for the `registry` Celery queue and followed
on its page. Either way it is an import run, recorded with its outcome and audit entry."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from gateway.registry import repository
from gateway.registry.audit import Actor
from gateway.registry.formats import KINDS, is_xlsx
from gateway.registry.imports import from_bytes, new_run, run_recorded
from gateway.registry.models import ImportRun
from gateway.registry.national_id import NationalIds, national_ids
from gateway.registry.rows import ERRORS_KEPT
from gateway.state import state
from libs.auth import Principal
from libs.db import in_transaction, read_only
from libs.errors import NotFound, PayloadTooLarge, ProblemError

XLSX_BYTES_PER_ROW = 60  # a compressed sheet row, roughly: decides queueing before the file is opened


class RejectedRows(ProblemError):
    """An import that rejected rows (nothing was written): every row with its column and reason."""

    status, slug, title = 422, "invalid-rows", "Rows of the file were rejected; nothing was written"


class ConflictingRows(RejectedRows):
    status, slug, title = (
        409,
        "conflicting-rows",
        "Rows of the file conflict with accounts; nothing was written",
    )


def ids_of(request: Request) -> NationalIds:
    return national_ids(state(request).settings)


def actor_of(user: Principal) -> Actor:
    return Actor(user.id, user.name, user.roles)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound(f"No registry {kind!r}: {', '.join(KINDS)}.")
    return kind


def is_large(data: bytes, limit_rows: int) -> bool:
    rows = len(data) // XLSX_BYTES_PER_ROW if is_xlsx(data[:4]) else data.count(b"\n")
    return rows > limit_rows


async def import_upload(
    request: Request, user: Principal, kind: str, filename: str, data: bytes, *, dry_run: bool, via: str
) -> ImportRun:
    """Import (or queue) the file; returns its run. A file refused as a whole raises FileRefused (422),
    after its run was recorded."""
    settings = state(request).settings
    if len(data) > settings.registry_upload_max_bytes:
        raise PayloadTooLarge(f"The file is larger than {settings.registry_upload_max_bytes} bytes.")
    actor = actor_of(user)
    large = is_large(data, settings.registry_sync_rows)

    def create(session: Any) -> str:
        run = new_run(
            session,
            kind,
            filename=filename,
            dry_run=dry_run,
            via=via,
            actor=actor,
            content=data if large else None,
        )
        session.flush()
        return run.id

    run_id = await in_transaction(request, create)
    if not large:
        engine = state(request).engine
        await run_in_threadpool(run_recorded, engine, ids_of(request), run_id, from_bytes(kind, data), actor)
    return await read_only(request, repository_run, run_id)


def repository_run(session: Any, run_id: str) -> ImportRun:
    run = repository.import_run(session, run_id)
    if run is None:
        raise NotFound(f"No import {run_id}.")
    return run


def raise_if_rejected(run: ImportRun) -> None:
    """An import that rejected rows answers 422 (409 when every rejection is an account conflict), with
    each rejected row."""
    if run.status != "rejected" or not run.errors:
        return
    conflicts = all(e.get("code") == "conflict" for e in run.errors)
    cls = ConflictingRows if conflicts else RejectedRows
    first = run.errors[0]
    raise cls(
        f"{run.rejected} row(s) rejected, nothing was written; row {first['row']}, {first['column']}: "
        f"{first['reason']}.",
        import_id=run.id,
        rejected=run.rejected,
        errors=run.errors[:ERRORS_KEPT],
    )
