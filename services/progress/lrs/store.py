"""The one statement store: every statement gets in here, from an LRS client at /xapi, from the
phone pages' offline queue and from the grader alike (docs/lrs.md).

A batch is checked as a whole and stored whole or not at all. A resent id with the same content is
a no-op (its id is returned again); with other content, or in another institute's store, it is a
409. `stored` is the server's clock (a batch keeps its order: the i-th statement is stored i µs
after the first). A voiding statement voids its target if the store has it and it is not itself a
voiding statement; a statement referencing another carries its target's facets (xAPI's filters
match it), also when the target arrives later.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from libs.errors import BadRequest, Conflict
from libs.outbox import emit_many
from services.progress import repository as progress_repository
from services.progress.lrs import canonical, formats
from services.progress.lrs import repository as repo
from services.progress.lrs.canonical import facet_keys, facets, key64, object_type
from services.progress.models import outbox
from services.progress.schemas import EnrolmentStarted

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
CLOCK_SKEW = timedelta(minutes=5)  # a timestamp further ahead than this is flagged as in the future
REF_DEPTH = 10  # how far a chain of StatementRefs is followed for facets


@dataclass(frozen=True)
class Writer:
    """Who stores: the store (institute id, "" for the platform's own), the source written on each
    row, the authority set on each statement and the version given to those without one."""

    store: str
    source: str
    authority: dict[str, Any]
    default_version: str = "1.0.0"


@dataclass(frozen=True)
class Owner:
    """Whom a statement is about, as attribution found it (None: nobody on this platform)."""

    user_id: str | None = None
    course_id: str | None = None


@dataclass
class Stored:
    ids: list[str] = field(default_factory=list)
    new: list[dict[str, Any]] = field(default_factory=list)  # column values of the rows inserted
    flagged: list[str] = field(default_factory=list)


def store(
    session: Session,
    writer: Writer,
    statements: Sequence[dict[str, Any]],
    owners: Sequence[Owner],
    now: datetime,
    attachments: Iterable[dict[str, Any]] = (),
) -> Stored:
    """Store validated statements (their client part) with their owners; `attachments` are rows of
    content received with them (store, sha2, content_type, content)."""
    ids = [formats.canonical_uuid(s["id"]) if "id" in s else str(uuid.uuid4()) for s in statements]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise BadRequest(f"The batch repeats statement ids: {', '.join(repeated)}.", ids=repeated)
    existing = repo.kept_statements(session, ids)
    clashes = [
        i
        for i, s in zip(ids, statements, strict=True)
        if i in existing
        and (existing[i].store != writer.store or existing[i].digest != canonical.digest({**s, "id": i}))
    ]
    if clashes:
        raise Conflict("A different statement with this id is already stored.", ids=clashes)
    out = Stored(ids=ids)
    for index, (statement_id, statement, owner) in enumerate(zip(ids, statements, owners, strict=True)):
        if statement_id in existing:
            if existing[statement_id].future_timestamp:
                out.flagged.append(statement_id)
            continue
        row = _row(writer, {**statement, "id": statement_id}, owner, now + timedelta(microseconds=index))
        out.new.append(row)
        if row["future_timestamp"]:
            out.flagged.append(statement_id)
    if not out.new:
        return out
    _emit_starts(session, out.new, now)
    repo.insert_statements(session, out.new)
    _index(session, writer.store, out.new)
    repo.void(session, writer.store, [r["voids"] for r in out.new if r["voids"]])
    agents = _agents(writer.store, out.new)
    known = repo.agents_known(session, writer.store, [a["ifi_key"] for a in agents])
    repo.save_agents(
        session, sorted((a for a in agents if a["ifi_key"] not in known), key=lambda a: a["ifi_key"])
    )
    repo.save_activities(session, _activities(session, writer.store, out.new, now))
    repo.save_attachments(session, list(attachments))
    return out


def _emit_starts(session: Session, rows: list[dict[str, Any]], now: datetime) -> None:
    """`enrolment.started` for each (teacher, course) whose earliest record these new rows are (none
    stored yet, or all stored later), so the analytics never has to look at every statement."""
    pairs = {(row["user_id"], row["course_id"]) for row in rows if row["user_id"] and row["course_id"]}
    earliest = progress_repository.first_stored_of(session, pairs)  # one query for the batch
    events = [
        EnrolmentStarted(user_id=u, course_id=c, stored=now)
        for u, c in sorted(pairs)
        if (u, c) not in earliest or now < earliest[(u, c)]
    ]
    emit_many(session, outbox, events)


def _row(writer: Writer, statement: dict[str, Any], owner: Owner, stored: datetime) -> dict[str, Any]:
    body = canonical.stored_form(statement)
    moment = formats.parse_timestamp(body["timestamp"]) if "timestamp" in body else None
    digest = canonical.form_digest(body, moment)  # before the server's fields are added
    timestamp = moment or stored
    body.setdefault("timestamp", formats.iso(stored))
    body["stored"] = formats.iso(stored)
    body["authority"] = writer.authority
    body.setdefault("version", writer.default_version)
    target = body["object"]
    ref = target["id"].lower() if object_type(target) == "StatementRef" else None
    registration = (body.get("context") or {}).get("registration")
    return {
        "id": statement["id"],
        "store": writer.store,
        "user_id": owner.user_id,
        "course_id": owner.course_id,
        "verb": body["verb"]["id"],
        "activity_id": target.get("id", "") if object_type(target) in ("Activity", "StatementRef") else "",
        "body": body,
        "digest": digest,
        "timestamp": timestamp,
        "stored": stored,
        "future_timestamp": timestamp > stored + CLOCK_SKEW,
        "voided": False,
        "voids": ref if body["verb"]["id"] == VOIDED else None,
        "ref_id": ref,
        "registration": formats.canonical_uuid(registration) if registration else None,
        "source": writer.source,
    }


def _index(session: Session, store: str, rows: list[dict[str, Any]]) -> None:
    """Facet rows of the new statements (with their StatementRef targets' facets), and the target's
    facets added to statements stored earlier that reference one of the new ones."""
    batch = {r["id"]: r for r in rows}
    targets = repo.statements_by_id(
        session, [r["ref_id"] for r in rows if r["ref_id"] and r["ref_id"] not in batch]
    )
    bodies = {i: t.body for i, t in targets.items() if t.store == store} | {
        i: r["body"] for i, r in batch.items()
    }
    own = {row["id"]: _with_targets(session, store, row["body"], bodies) for row in rows}
    facet_rows = [
        {"key": key, "stored": row["stored"], "statement_id": row["id"]}
        for row in rows
        for key in facet_keys(store, own[row["id"]])
    ]
    facet_rows += _propagate(session, store, own)
    repo.insert_facets(session, facet_rows)


def _with_targets(
    session: Session, store: str, body: dict[str, Any], bodies: dict[str, dict[str, Any]]
) -> set[tuple[str, str]]:
    pairs = facets(body)
    current = body
    for _ in range(REF_DEPTH):
        target = current["object"]
        if object_type(target) != "StatementRef":
            break
        ref = target["id"].lower()
        found = bodies.get(ref)
        if found is None:
            row = repo.statement_in(session, store, ref)
            if row is None:
                break
            found = bodies[ref] = row.body
        pairs |= facets(found)
        current = found
    return pairs


def _propagate(
    session: Session, store: str, arrived: dict[str, set[tuple[str, str]]]
) -> list[dict[str, Any]]:
    """Statements stored before their StatementRef target arrived get the target's facets now."""
    out: list[dict[str, Any]] = []
    for _ in range(REF_DEPTH):
        referrers = [r for r in repo.referencing(session, store, list(arrived)) if r.id not in arrived]
        if not referrers:
            break
        following: dict[str, set[tuple[str, str]]] = {}
        for row in referrers:
            pairs = arrived[row.ref_id or ""]
            out += [
                {"key": k, "stored": row.stored, "statement_id": row.id} for k in facet_keys(store, pairs)
            ]
            following[row.id] = pairs
        arrived = following
    return out


def _agents(store: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[int, dict[str, Any]] = {}
    for row in rows:
        body = row["body"]
        candidates = [
            body["actor"],
            body["object"] if object_type(body["object"]) in ("Agent", "Group") else None,
        ]
        for agent in candidates:
            identifier = canonical.ifi(agent)
            if agent is None or identifier is None:
                continue
            key = key64(identifier)
            if key not in seen:
                seen[key] = {
                    "store": store,
                    "ifi_key": key,
                    "ifi": canonical.ifi_object(agent),
                    "name": agent.get("name") if isinstance(agent.get("name"), str) else None,
                    "user_id": row["user_id"] if agent is body["actor"] else None,
                }
    return list(seen.values())


def _activities(
    session: Session, store: str, rows: list[dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """The activities the rows name; a definition merges into the one kept (language maps gain the
    new languages, other properties take the latest value), as GET /activities returns everything
    known about an activity (Communication 2.5)."""
    seen: dict[int, dict[str, Any]] = {}
    for row in rows:
        body = row["body"]
        found = [body["object"]] if object_type(body["object"]) == "Activity" else []
        for activity in [*found, *canonical.context_activities(body)]:
            key = key64(activity["id"])
            entry = seen.setdefault(
                key,
                {
                    "store": store,
                    "activity_key": key,
                    "activity_id": activity["id"],
                    "definition": None,
                    "updated": now,
                },
            )
            if activity.get("definition") is not None:
                entry["definition"] = merge_definitions(entry["definition"], activity["definition"])
    for activity_key, definition in repo.definitions_seen(session, store, sorted(seen)).items():
        entry = seen[activity_key]
        merged = merge_definitions(definition, entry["definition"]) if entry["definition"] else definition
        if merged == definition:  # nothing new: no write, no row lock
            del seen[activity_key]
        else:
            entry["definition"] = merged
    return [seen[key] for key in sorted(seen)]  # one lock order for every writer


def merge_definitions(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any] | None:
    if new is None:
        return old
    merged = {**(old or {}), **new}
    for key in ("name", "description", "extensions"):
        if isinstance((old or {}).get(key), dict) and isinstance(new.get(key), dict):
            merged[key] = {**(old or {})[key], **new[key]}
    return merged


def agent_key(agent: dict[str, Any]) -> int | None:
    identifier = canonical.ifi(agent)
    return key64(identifier) if identifier else None
