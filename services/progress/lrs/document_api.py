"""The other resources (Communication 2.2-2.8): State, Activity Profile and Agent Profile documents,
/activities (the Activity with its latest definition), /agents (the Person object), /about."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from libs.db import in_transaction, read_only
from libs.errors import BadRequest
from libs.outbox import utcnow
from services.progress.lrs import canonical, documents, formats
from services.progress.lrs import repository as repo
from services.progress.lrs.auth import Credential
from services.progress.lrs.documents import Address, Preconditions
from services.progress.lrs.http import XapiRequest
from services.progress.lrs.objects import Invalid, check_agent_or_group

KINDS = {
    "activities/state": documents.STATE,
    "activities/profile": documents.ACTIVITY_PROFILE,
    "agents/profile": documents.AGENT_PROFILE,
}


def _preconditions(xreq: XapiRequest) -> Preconditions:
    return Preconditions(xreq.header("if-match"), xreq.header("if-none-match"))


def _http_date(document: Any) -> str:
    return str(document.updated.strftime("%a, %d %b %Y %H:%M:%S GMT"))


async def document(request: Request, xreq: XapiRequest, credential: Credential) -> Response:
    kind = KINDS[xreq.resource]
    method = "GET" if xreq.method == "HEAD" else xreq.method
    id_param = documents.RESOURCES[kind][0]
    one = id_param in xreq.params
    if method in ("PUT", "POST") and not one:
        raise BadRequest(f"{method} needs the {id_param} parameter.")
    if method == "DELETE" and not one and kind != documents.STATE:
        raise BadRequest(f"DELETE needs the {id_param} parameter.")
    at = documents.address(kind, xreq.params, one=one)
    if method == "GET":
        return await (_get_one(request, credential, at) if one else _get_ids(request, credential, at))
    if method == "DELETE":
        await in_transaction(request, documents.delete, credential.store, at, _preconditions(xreq))
        return Response(status_code=204)
    change = documents.put if method == "PUT" else documents.post
    content_type = xreq.content_type or "application/octet-stream"
    if kind == documents.STATE and documents.is_json(content_type) and method == "PUT":
        _json_or_400(xreq.body)
    await in_transaction(
        request, change, credential.store, at, xreq.body, content_type, _preconditions(xreq), utcnow()
    )
    return Response(status_code=204)


def _json_or_400(body: bytes) -> None:
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The document says application/json but is not valid JSON.") from exc


async def _get_one(request: Request, credential: Credential, at: Address) -> Response:
    found = await read_only(request, documents.get, credential.store, at)
    return Response(
        found.content,
        media_type=found.content_type,
        headers={"ETag": found.etag, "Last-Modified": _http_date(found)},
    )


async def _get_ids(request: Request, credential: Credential, at: Address) -> Response:
    ids = await read_only(request, documents.ids, credential.store, at)
    return JSONResponse(ids)


async def activities(request: Request, xreq: XapiRequest, credential: Credential) -> Response:
    _only(xreq, {"activityId"})
    activity_id = xreq.params.get("activityId")
    if activity_id is None or not formats.is_iri(activity_id):
        raise BadRequest("GET /activities needs an activityId (an IRI).")
    found = await read_only(request, repo.activity_seen, credential.store, canonical.key64(activity_id))
    body: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if found is not None and found.definition:
        body["definition"] = found.definition
    return JSONResponse(body)


async def agents(request: Request, xreq: XapiRequest, credential: Credential) -> Response:
    _only(xreq, {"agent"})
    raw = xreq.params.get("agent")
    if raw is None:
        raise BadRequest("GET /agents needs an agent parameter.")
    try:
        agent = json.loads(raw)
        check_agent_or_group(agent, "agent")
    except (ValueError, Invalid) as exc:
        raise BadRequest(f"agent must be the JSON of an Agent: {exc}") from exc
    identifier = canonical.ifi(agent)
    if identifier is None:
        raise BadRequest("agent must have an identifier.")
    seen = await read_only(request, repo.agent_seen, credential.store, canonical.key64(identifier))
    return JSONResponse(person(agent, seen.name if seen else None))


def person(agent: dict[str, Any], known_name: str | None) -> dict[str, Any]:
    """The Person object (Communication 2.4): every property an array."""
    out: dict[str, Any] = {"objectType": "Person"}
    names = [n for n in (agent.get("name"), known_name) if isinstance(n, str)]
    if names:
        out["name"] = sorted(set(names))
    for key in canonical.IDENTIFIERS:
        if key in agent:
            out[key] = [agent[key]]
    return out


def _only(xreq: XapiRequest, allowed: set[str]) -> None:
    unknown = sorted(set(xreq.params) - allowed)
    if unknown:
        raise BadRequest(f"This resource has no parameter {unknown[0]!r}.")


ABOUT = {"version": ["1.0.3", "1.0.2", "1.0.1", "1.0.0"], "extensions": {}}


async def about(request: Request, xreq: XapiRequest) -> Response:
    return JSONResponse(ABOUT)
