"""The Statement resource (Communication 2.1): POST (one or a batch, JSON or multipart/mixed with
attachments), PUT by statementId, GET (one, or a filtered StatementResult with `more`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from libs.db import in_transaction, read_only
from libs.errors import BadRequest, PayloadTooLarge
from libs.outbox import utcnow
from services.progress.lrs import (
    attribution,
    canonical,
    effects,
    formats,
    multipart,
    package_runs,
    query,
    signature,
)
from services.progress.lrs import repository as repo
from services.progress.lrs.auth import Credential
from services.progress.lrs.http import XapiRequest
from services.progress.lrs.objects import Invalid
from services.progress.lrs.store import Stored, Writer, store
from services.progress.lrs.validate import check_statement
from services.progress.models import Statement
from services.progress.state import state

Parsed = tuple[list[dict[str, Any]], dict[str, multipart.Part]]


def parse_body(xreq: XapiRequest) -> tuple[Any, dict[str, multipart.Part]]:
    """The statements JSON of a request, and its attachment parts by SHA-2."""
    kind = xreq.content_type.split(";")[0].strip().lower()
    if kind == "multipart/mixed":
        parts = multipart.parse(xreq.body, xreq.content_type)
        if not parts or parts[0].content_type != "application/json":
            raise Invalid(
                "body",
                "the first part of a multipart/mixed request must be the statements (application/json)",
            )
        first, attached = parts[0].content, multipart.attachment_parts(parts)
    elif kind == "application/json" or (kind == "" and xreq.body[:1] in (b"{", b"[")):
        first, attached = xreq.body, {}
    else:
        raise Invalid("Content-Type", "statements are sent as application/json or multipart/mixed")
    try:
        return json.loads(first), attached
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid("body", f"is not valid JSON ({exc})") from exc


def validated(raw: Any, parts: dict[str, multipart.Part], *, batch_max: int) -> list[dict[str, Any]]:
    batch = raw if isinstance(raw, list) else [raw]
    if len(batch) > batch_max:
        raise PayloadTooLarge(f"A batch holds at most {batch_max} statements; this one has {len(batch)}.")
    statements = [
        check_statement(s, f"statements[{i}]" if isinstance(raw, list) else "statement")
        for i, s in enumerate(batch)
    ]
    declared = {a["sha2"].lower() for s in statements for a in s.get("attachments", [])}
    excess = sorted(set(parts) - declared)
    if excess:
        raise Invalid("body", f"a multipart section is not an attachment of any statement ({excess[0]})")
    for index, statement in enumerate(statements):
        signature.check(statement, parts, f"statements[{index}]")
    return statements


def _missing_content(
    session: Session, store_id: str, statements: list[dict[str, Any]], parts: dict[str, multipart.Part]
) -> None:
    wanted = {a["sha2"].lower() for s in statements for a in s.get("attachments", []) if "fileUrl" not in a}
    absent = wanted - set(parts)
    if absent and absent - set(repo.attachments(session, store_id, sorted(absent))):
        raise BadRequest(
            "An attachment without a fileUrl needs its content as a part of a multipart/mixed request."
        )


def record(
    session: Session,
    credential: Credential,
    statements: list[dict[str, Any]],
    parts: dict[str, multipart.Part],
    home_pages: set[str],
) -> Stored:
    """Validate against the store and store (one transaction), then apply the teachers' statements to
    their progress."""
    _missing_content(session, credential.store, statements, parts)
    public_url = min(home_pages)
    launch_state = package_runs.check_au(session, credential.source, statements, public_url)
    owners = attribution.owners(session, statements, home_pages)
    writer = Writer(store=credential.store, source=credential.source, authority=credential.authority)
    rows = [
        {
            "store": credential.store,
            "sha2": sha,
            "content_type": part.content_type or "application/octet-stream",
            "content": part.content,
            "created_at": utcnow(),
        }
        for sha, part in parts.items()
    ]
    now = utcnow()
    stored = store(session, writer, statements, owners, now, rows)
    effects.apply(session, stored.new)
    if launch_state is not None:
        package_runs.after_au(session, credential.source, launch_state, public_url, now)
    return stored


def home_pages(request: Request) -> set[str]:
    return {state(request).settings.public_url.rstrip("/")}


async def post(request: Request, xreq: XapiRequest, credential: Credential) -> Response:
    if xreq.params:
        raise BadRequest(f"POST /statements takes no parameters ({', '.join(sorted(xreq.params))}).")
    raw, parts = parse_body(xreq)
    statements = validated(raw, parts, batch_max=state(request).settings.lrs_batch_max)
    stored = await _record(request, credential, statements, parts)
    return JSONResponse(stored.ids)


async def _record(
    request: Request,
    credential: Credential,
    statements: list[dict[str, Any]],
    parts: dict[str, multipart.Part],
) -> Stored:
    """Store in one transaction; the same ids arriving at once (a unique violation) or two writers
    deadlocking get one more try, in which the first one's statements are already stored."""
    try:
        return await in_transaction(request, record, credential, statements, parts, home_pages(request))
    except (IntegrityError, OperationalError):
        return await in_transaction(request, record, credential, statements, parts, home_pages(request))


async def put(request: Request, xreq: XapiRequest, credential: Credential) -> Response:
    statement_id = xreq.params.get("statementId")
    extra = sorted(set(xreq.params) - {"statementId"})
    if extra:
        raise BadRequest(f"PUT /statements takes only statementId, not {extra[0]}.")
    if statement_id is None or not formats.is_uuid(statement_id):
        raise BadRequest("PUT /statements needs a statementId parameter (a UUID).")
    raw, parts = parse_body(xreq)
    if not isinstance(raw, dict):
        raise Invalid("body", "PUT /statements takes one statement (a JSON object)")
    [statement] = validated(raw, parts, batch_max=1)
    if "id" in statement and formats.canonical_uuid(statement["id"]) != formats.canonical_uuid(statement_id):
        raise BadRequest("The statement's id differs from the statementId parameter.")
    statement = {**statement, "id": statement_id}
    await _record(request, credential, [statement], parts)
    return Response(status_code=204)


def consistent_through(request: Request) -> str:
    lag = timedelta(seconds=state(request).settings.lrs_consistency_lag_seconds)
    return formats.iso(datetime.now(UTC) - lag)


async def get(request: Request, xreq: XapiRequest, credential: Credential) -> Response:
    q = query.parse(credential.store, xreq.params)
    languages = canonical.accept_languages(xreq.header("accept-language") or "")
    if q.statement_id is not None:
        row = await read_only(request, query.single, credential.store, q)
        body: Any = query.shaped(row.body, q.format, languages)
        rows = [row]
        headers = {"Last-Modified": row.stored.strftime("%a, %d %b %Y %H:%M:%S GMT")}
    else:
        rows, cursor = await read_only(request, query.statements, credential.store, q)
        more = query.more_link(request.url.path, xreq.params, cursor)
        body = {"statements": [query.shaped(r.body, q.format, languages) for r in rows], "more": more}
        headers = {}
    if q.attachments:
        return await _with_attachments(request, credential.store, body, rows, headers)
    return JSONResponse(body, headers=headers)


async def _with_attachments(
    request: Request, store_id: str, body: Any, rows: list[Statement], headers: dict[str, str]
) -> Response:
    hashes = sorted({a["sha2"].lower() for r in rows for a in r.body.get("attachments", [])})
    found = await read_only(request, repo.attachments, store_id, hashes)
    content, content_type = multipart.build(
        json.dumps(body, ensure_ascii=False).encode(),
        [(sha, found[sha].content_type, found[sha].content) for sha in hashes if sha in found],
    )
    return Response(content, headers={**headers, "Content-Type": content_type})
