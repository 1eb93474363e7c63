"""The document resources (Communication 2.3 State, 2.6 Agent Profile, 2.7 Activity Profile): a
document is kept as the bytes and Content-Type it was sent with, under a scope (activity, agent,
registration) and an id. PUT replaces, POST merges JSON objects, DELETE removes one or all of a
scope. Concurrency (Communication 3.1): the ETag is the SHA-1 of the content; If-Match and
If-None-Match are honoured (412 when they fail); a profile PUT over an existing document with
neither header is a 409."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from libs.errors import BadRequest, Conflict, NotFound, ProblemError
from services.progress.lrs import canonical, formats
from services.progress.lrs import repository as repo
from services.progress.lrs.models import Document
from services.progress.lrs.objects import Invalid, check_agent_or_group

STATE, ACTIVITY_PROFILE, AGENT_PROFILE = "state", "activity_profile", "agent_profile"
# kind -> (parameter naming the document, parameters required for one document, allowed parameters)
RESOURCES: dict[str, tuple[str, tuple[str, ...], frozenset[str]]] = {
    STATE: (
        "stateId",
        ("activityId", "agent"),
        frozenset({"activityId", "agent", "registration", "stateId", "since"}),
    ),
    ACTIVITY_PROFILE: ("profileId", ("activityId",), frozenset({"activityId", "profileId", "since"})),
    AGENT_PROFILE: ("profileId", ("agent",), frozenset({"agent", "profileId", "since"})),
}


class PreconditionFailed(ProblemError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


@dataclass(frozen=True)
class Address:
    """Where a document lives: its scope and, for one document, its id."""

    kind: str
    scope_key: str
    doc_id: str | None
    activity_id: str | None
    agent: dict[str, Any] | None
    registration: str | None
    since: datetime | None

    @property
    def doc_key(self) -> str:
        return hashlib.sha256((self.doc_id or "").encode()).hexdigest()


@dataclass(frozen=True)
class Preconditions:
    if_match: str | None
    if_none_match: str | None


def address(kind: str, params: dict[str, str], *, one: bool) -> Address:
    id_param, required, allowed = RESOURCES[kind]
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise BadRequest(f"This resource has no parameter {unknown[0]!r} (parameters are case-sensitive).")
    for name in (*required, *((id_param,) if one else ())):
        if name not in params:
            raise BadRequest(f"The {name} parameter is required.")
    activity = params.get("activityId")
    if activity is not None and not formats.is_iri(activity):
        raise BadRequest("activityId must be an IRI.")
    agent = _agent(params["agent"]) if "agent" in params else None
    registration = params.get("registration")
    if registration is not None:
        if not formats.is_uuid(registration):
            raise BadRequest("registration must be a UUID.")
        registration = formats.canonical_uuid(registration)
    since = None
    if "since" in params:
        if one or id_param in params:
            raise BadRequest("since lists document ids: it cannot be given with an id.")
        since = formats.parse_timestamp(params["since"])
        if since is None:
            raise BadRequest("since must be an ISO 8601 timestamp.")
    ifi = canonical.ifi(agent) if agent else ""
    scope = hashlib.sha256(f"{activity or ''}\x1f{ifi}\x1f{registration or ''}".encode()).hexdigest()
    return Address(kind, scope, params.get(id_param), activity, agent, registration, since)


def _agent(raw: str) -> dict[str, Any]:
    try:
        agent = json.loads(raw)
        check_agent_or_group(agent, "agent")
    except (ValueError, Invalid) as exc:
        raise BadRequest(f"agent must be the JSON of an Agent: {exc}") from exc
    if canonical.ifi(agent) is None:
        raise BadRequest("agent must have an identifier.")
    assert isinstance(agent, dict)
    return agent


def etag(content: bytes) -> str:
    return '"' + hashlib.sha1(content, usedforsecurity=False).hexdigest() + '"'


def is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/json"


def _check(existing: Document | None, pre: Preconditions, *, profile_put: bool) -> None:
    if pre.if_match is not None:
        wanted = {t.strip().removeprefix("W/") for t in pre.if_match.split(",")}
        if existing is None or ("*" not in wanted and existing.etag not in wanted):
            raise PreconditionFailed("If-Match does not match the document's current ETag.")
    if pre.if_none_match is not None:
        wanted = {t.strip().removeprefix("W/") for t in pre.if_none_match.split(",")}
        if existing is not None and ("*" in wanted or existing.etag in wanted):
            raise PreconditionFailed("If-None-Match: the document exists (or has that ETag).")
    if profile_put and pre.if_match is None and pre.if_none_match is None:
        if existing is not None:
            raise Conflict(
                "This document exists: send If-Match with its ETag to replace it (Communication 3.1)."
            )
        raise BadRequest("A profile PUT states its intent: If-None-Match: * to create, If-Match to replace.")


def put(
    session: Session,
    store: str,
    at: Address,
    content: bytes,
    content_type: str,
    pre: Preconditions,
    now: datetime,
) -> Document:
    existing = repo.document(session, store, at.kind, at.scope_key, at.doc_key)
    _check(existing, pre, profile_put=at.kind != STATE)
    return _save(session, store, at, existing, content, content_type, now)


def post(
    session: Session,
    store: str,
    at: Address,
    content: bytes,
    content_type: str,
    pre: Preconditions,
    now: datetime,
) -> Document:
    """Merge a JSON object into the stored one (its top-level properties replace the stored ones)."""
    existing = repo.document(session, store, at.kind, at.scope_key, at.doc_key)
    _check(existing, pre, profile_put=False)
    posted = _json_object(content, content_type, "the posted document")
    if existing is not None:
        stored = _json_object(existing.content, existing.content_type, "the stored document")
        content = json.dumps({**stored, **posted}, ensure_ascii=False).encode()
        content_type = "application/json"
    return _save(session, store, at, existing, content, content_type, now)


def _json_object(content: bytes, content_type: str, what: str) -> dict[str, Any]:
    if not is_json(content_type):
        raise BadRequest(f"POST merges JSON: {what} is not application/json.")
    try:
        value = json.loads(content)
    except ValueError as exc:
        raise BadRequest(f"POST merges JSON: {what} is not valid JSON.") from exc
    if not isinstance(value, dict):
        raise BadRequest(f"POST merges JSON objects: {what} is not an object.")
    return value


def _save(
    session: Session,
    store: str,
    at: Address,
    existing: Document | None,
    content: bytes,
    content_type: str,
    now: datetime,
) -> Document:
    document = existing or Document(
        store=store,
        kind=at.kind,
        scope_key=at.scope_key,
        doc_key=at.doc_key,
        doc_id=at.doc_id or "",
        activity_id=at.activity_id,
        agent=at.agent,
        registration=at.registration,
        content=b"",
        content_type="",
        etag="",
        updated=now,
    )
    document.content, document.content_type = content, content_type or "application/octet-stream"
    document.etag, document.updated = etag(content), now
    session.add(document)
    return document


def get(session: Session, store: str, at: Address) -> Document:
    found = repo.document(session, store, at.kind, at.scope_key, at.doc_key)
    if found is None:
        raise NotFound("No such document.")
    return found


def ids(session: Session, store: str, at: Address) -> list[str]:
    return [d.doc_id for d in repo.documents(session, store, at.kind, at.scope_key, at.since)]


def delete(session: Session, store: str, at: Address, pre: Preconditions) -> None:
    if at.doc_id is None:
        repo.delete_documents(session, store, at.kind, at.scope_key)
        return
    existing = repo.document(session, store, at.kind, at.scope_key, at.doc_key)
    _check(existing, pre, profile_put=False)
    if existing is not None:
        session.delete(existing)
