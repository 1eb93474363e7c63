"""GET /statements (Communication 2.1.3): one statement by statementId / voidedStatementId, or a
StatementResult filtered by agent, verb, activity, registration (related_* widen the first two),
since/until on `stored`, in `stored` order, `limit` per page with a `more` link that continues
exactly where the page ended (a keyset cursor, so pages neither repeat nor skip)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session

from libs.encoding import b64url_decode, b64url_encode
from libs.errors import BadRequest, NotFound
from services.progress.lrs import canonical, formats
from services.progress.lrs import repository as repo
from services.progress.lrs.objects import Invalid, check_agent_or_group
from services.progress.models import Statement

FILTERS = {
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "ascending",
}
PARAMS = FILTERS | {"statementId", "voidedStatementId", "format", "attachments", "more"}
FORMATS = ("exact", "ids", "canonical")
PAGE_MAX = 500
PAGE_DEFAULT = 100


@dataclass(frozen=True)
class Query:
    statement_id: str | None
    voided: bool
    keys: tuple[int, ...]
    since: datetime | None
    until: datetime | None
    limit: int
    ascending: bool
    format: str
    attachments: bool
    after: tuple[datetime, str] | None


def parse(store: str, params: dict[str, str]) -> Query:
    unknown = sorted(set(params) - PARAMS)
    if unknown:
        raise BadRequest(f"GET /statements has no parameter {unknown[0]!r} (parameters are case-sensitive).")
    single = params.get("statementId") or params.get("voidedStatementId")
    if "statementId" in params and "voidedStatementId" in params:
        raise BadRequest("Give statementId or voidedStatementId, not both.")
    if single is not None:
        others = sorted(set(params) & (FILTERS | {"more"}))
        if others:
            raise BadRequest(
                f"With a statement id only format and attachments may be given, not {others[0]}."
            )
        if not formats.is_uuid(single):
            raise BadRequest("statementId and voidedStatementId must be UUIDs.")
    fmt = params.get("format", "exact")
    if fmt not in FORMATS:
        raise BadRequest("format must be exact, ids or canonical.")
    return Query(
        statement_id=formats.canonical_uuid(single) if single else None,
        voided="voidedStatementId" in params,
        keys=_ordered_keys(store, params),
        since=_time(params, "since"),
        until=_time(params, "until"),
        limit=_limit(params.get("limit")),
        ascending=_flag(params, "ascending"),
        format=fmt,
        attachments=_flag(params, "attachments"),
        after=_cursor(params["more"]) if "more" in params else None,
    )


def _facets(params: dict[str, str]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    related_agents = _flag(params, "related_agents")
    related_activities = _flag(params, "related_activities")
    if "agent" in params:
        out.add((canonical.RELATED_AGENT if related_agents else canonical.AGENT, _agent_ifi(params["agent"])))
    if "verb" in params:
        if not formats.is_iri(params["verb"]):
            raise BadRequest("verb must be an IRI.")
        out.add((canonical.VERB, params["verb"]))
    if "activity" in params:
        if not formats.is_iri(params["activity"]):
            raise BadRequest("activity must be an IRI.")
        out.add(
            (canonical.RELATED_ACTIVITY if related_activities else canonical.ACTIVITY, params["activity"])
        )
    if "registration" in params:
        if not formats.is_uuid(params["registration"]):
            raise BadRequest("registration must be a UUID.")
        out.add((canonical.REGISTRATION, formats.canonical_uuid(params["registration"])))
    return out


# The most selective facet first: it drives the index scan, the others are point lookups.
SELECTIVITY = (
    canonical.REGISTRATION,
    canonical.ACTIVITY,
    canonical.RELATED_ACTIVITY,
    canonical.AGENT,
    canonical.RELATED_AGENT,
    canonical.VERB,
)


def _ordered_keys(store: str, params: dict[str, str]) -> tuple[int, ...]:
    pairs = sorted(_facets(params), key=lambda pair: SELECTIVITY.index(pair[0]))
    return tuple(canonical.key64(store, kind, value) for kind, value in pairs)


def _agent_ifi(raw: str) -> str:
    try:
        agent = json.loads(raw)
        check_agent_or_group(agent, "agent")
    except (ValueError, Invalid) as exc:
        raise BadRequest(f"agent must be the JSON of an Agent or identified Group: {exc}") from exc
    found = canonical.ifi(agent)
    if found is None:
        raise BadRequest("agent must have an identifier (an anonymous Group cannot be a filter).")
    return found


def _time(params: dict[str, str], name: str) -> datetime | None:
    if name not in params:
        return None
    moment = formats.parse_timestamp(params[name])
    if moment is None:
        raise BadRequest(f"{name} must be an ISO 8601 timestamp.")
    return moment


def _limit(raw: str | None) -> int:
    if raw is None:
        return PAGE_DEFAULT
    if not raw.isdigit():
        raise BadRequest("limit must be a non-negative integer.")
    value = int(raw)
    return PAGE_MAX if value == 0 else min(value, PAGE_MAX)


def _flag(params: dict[str, str], name: str) -> bool:
    raw = params.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false.")
    return raw == "true"


def _cursor(token: str) -> tuple[datetime, str]:
    try:
        stored, statement_id = json.loads(b64url_decode(token))
        return datetime.fromisoformat(stored).astimezone(UTC), str(statement_id)
    except (ValueError, TypeError) as exc:
        raise BadRequest("more is not a link this LRS gave out.") from exc


def cursor_of(row: Statement) -> str:
    return b64url_encode(json.dumps([row.stored.isoformat(), row.id]).encode())


def single(session: Session, store: str, q: Query) -> Statement:
    assert q.statement_id is not None
    row = repo.statement_in(session, store, q.statement_id)
    if row is None or row.voided != q.voided:
        kind = "voided statement" if q.voided else "statement (or it was voided)"
        raise NotFound(f"No {kind} {q.statement_id} in this LRS.")
    return row


def statements(session: Session, store: str, q: Query) -> tuple[list[Statement], str | None]:
    rows = repo.page(
        session,
        store,
        q.keys,
        since=q.since,
        until=q.until,
        ascending=q.ascending,
        after=q.after,
        limit=q.limit + 1,
    )
    more = cursor_of(rows[q.limit - 1]) if len(rows) > q.limit else None
    return rows[: q.limit], more


def more_link(base: str, params: dict[str, str], cursor: str | None) -> str:
    if cursor is None:
        return ""
    kept = {k: v for k, v in params.items() if k != "more"}
    return f"{base}?{urlencode({**kept, 'more': cursor})}"


def shaped(body: dict[str, Any], fmt: str, languages: list[str]) -> dict[str, Any]:
    if fmt == "ids":
        return canonical.ids_format(body)
    if fmt == "canonical":
        return canonical.canonical_format(body, languages)
    return body
