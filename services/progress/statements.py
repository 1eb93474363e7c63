"""The learning record: xAPI statements stored append-only, deduplicated by id, queried by cursor.

`store` is the one way a statement gets in, for a phone's batch and for the grader alike. A
repeated id with the same content changes nothing (an offline phone resends freely); with other
content it is a 409; a batch naming one id twice is a 400; nothing of a rejected batch is stored.
`stored` is the server's clock; the client's `timestamp` is kept for display only.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from libs import jsontext
from libs.encoding import b64url_decode, b64url_encode
from libs.errors import BadRequest, Conflict, Forbidden, Unprocessable
from libs.outbox import emit_many
from services.progress import repository
from services.progress.models import Enrolment, Statement, Submission, outbox
from services.progress.schemas import EnrolmentStarted
from services.progress.settings import get_settings
from services.progress.xapi import VERBS, Agent, StatementQuery, course_activity, parse_activity
from services.progress.xapi import Statement as StatementIn

# A phone's clock may run a little fast; beyond this a timestamp is flagged as in the future.
CLOCK_SKEW = timedelta(minutes=5)
GRADING_NS = uuid.UUID("7f9c0a52-3c1e-4f0b-8d7e-2a6b5c4d3e21")


@dataclass
class Stored:
    ids: list[str] = field(default_factory=list)
    new: list[dict[str, Any]] = field(default_factory=list)  # column values of the rows inserted
    flagged: list[str] = field(default_factory=list)


def digest(statement: StatementIn) -> str:
    return _digest(client_part(statement))


def _digest(client: dict[str, Any]) -> str:
    canonical = json.dumps(client, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def client_part(statement: StatementIn) -> dict[str, Any]:
    """What the client said (timestamps already in UTC: one instant, one spelling)."""
    return statement.model_dump(mode="json", exclude_none=True)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def authority() -> dict[str, Any]:
    return {
        "objectType": "Agent",
        "account": {"homePage": get_settings().public_url, "name": "ustaz-progress"},
    }


def agent_of(user_id: str, name: str = "") -> Agent:
    return Agent.model_validate(
        {"name": name or None, "account": {"homePage": get_settings().public_url, "name": user_id}}
    )


def graded(enrolment: Enrolment, submission: Submission) -> StatementIn:
    """A graded submission as a `passed` or `failed` statement; its id derives from the submission's,
    so it is stored once however often grading runs."""
    return StatementIn.model_validate(
        {
            "id": str(uuid.uuid5(GRADING_NS, submission.id)),
            "actor": agent_of(enrolment.user_id, enrolment.user_name).model_dump(exclude_none=True),
            "verb": {"id": VERBS["passed" if submission.passed else "failed"]},
            "object": {"id": course_activity(enrolment.course_id, submission.quiz_id)},
            "result": {
                "score": {"scaled": submission.score},
                "success": bool(submission.passed),
                "completion": True,
            },
            "context": {
                "registration": enrolment.id,
                "contextActivities": {"parent": [{"id": course_activity(enrolment.course_id)}]},
            },
            "timestamp": submission.submitted_at,
        }
    )


def store(
    session: Session,
    user_id: str,
    statements: list[StatementIn],
    now: datetime,
    org_path: str,
    course_ids: list[str | None],
) -> Stored:
    """Validate a batch as a whole, then store what is new. `course_ids[i]` is the course of
    statement i (resolved by the caller against the teacher's enrolments)."""
    ids = [str(s.id) for s in statements if s.id is not None]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise BadRequest(f"The batch repeats statement ids: {', '.join(repeated)}.", ids=repeated)
    others = [str(s.id or i) for i, s in enumerate(statements) if s.actor.account.name != user_id]
    if others:
        raise Forbidden(
            "You can only record statements about yourself (actor.account.name must be your user id).",
            ids=others,
        )
    existing = repository.statements_by_id(session, ids)
    clashes = [
        i
        for i, s in ((str(s.id), s) for s in statements if s.id is not None)
        if i in existing and (existing[i].digest != digest(s) or existing[i].user_id != user_id)
    ]
    if clashes:
        raise Conflict("A different statement with this id is already stored.", ids=clashes)
    batch_ids = set(ids)
    voids = _check_voiding(session, user_id, statements, existing, batch_ids)
    out = Stored()
    for index, statement in enumerate(statements):
        statement_id = str(statement.id or uuid.uuid4())
        out.ids.append(statement_id)
        if statement_id in existing:
            if existing[statement_id].future_timestamp:
                out.flagged.append(statement_id)
            continue
        row = _row(statement, statement_id, user_id, now, course_ids[index])
        out.new.append(row)
        if row["future_timestamp"]:
            out.flagged.append(statement_id)
    starts = _earliest_for(session, user_id, out.new, now)
    if out.new:
        repository.insert_statements(session, out.new)
    if voids:
        repository.void_statements(session, voids)
    # analytics: the enrolment's first record (docs/analytics.md)
    emit_many(session, outbox, [EnrolmentStarted(user_id=user_id, course_id=c, stored=now) for c in starts])
    return out


def store_graded(session: Session, results: list[tuple[Enrolment, Submission]], now: datetime) -> None:
    """A batch's graded results as statements, in one INSERT: built here, so their ids (derived from
    the submissions') and actors (their teachers) need none of `store`'s checks; one stored before
    is skipped. An enrolment's first record is an `enrolment.started` event, as in `store`."""
    rows = [
        _row(s, str(s.id), e.user_id, now, e.course_id) for s, e in ((graded(e, s), e) for e, s in results)
    ]
    known = repository.statements_by_id(session, [r["id"] for r in rows])
    new = [r for r in rows if r["id"] not in known]
    if not new:
        return
    pairs = {(r["user_id"], r["course_id"]) for r in new}
    earliest = repository.first_stored_of(session, pairs)
    repository.insert_statements(session, new)
    starts = sorted(p for p in pairs if p not in earliest or now < earliest[p])
    emit_many(session, outbox, [EnrolmentStarted(user_id=u, course_id=c, stored=now) for u, c in starts])


def _earliest_for(session: Session, user_id: str, rows: list[dict[str, Any]], now: datetime) -> list[str]:
    """Courses for which these new rows are the teacher's earliest record (none stored yet, or all
    stored later): each is an `enrolment.started` event, so the analytics never has to look at
    every statement."""
    courses = sorted({r["course_id"] for r in rows if r["course_id"]})
    if not courses:
        return []
    earliest = repository.first_stored_by_course(session, user_id, courses)
    return [c for c in courses if c not in earliest or now < earliest[c]]


def _row(
    statement: StatementIn, statement_id: str, user_id: str, now: datetime, course_id: str | None
) -> dict[str, Any]:
    timestamp = statement.timestamp or now
    client = client_part(statement)
    body = {
        **client,
        "id": statement_id,
        "timestamp": iso(timestamp),
        "stored": iso(now),
        "authority": authority(),
        "version": "1.0.3",
    }
    return {
        "id": statement_id,
        "user_id": user_id,
        "course_id": course_id,
        "verb": statement.verb.id,
        "activity_id": statement.object.id,
        "body": body,
        "digest": _digest(client),
        "timestamp": timestamp,
        "stored": now,
        "future_timestamp": timestamp > now + CLOCK_SKEW,
        "voided": False,
        "voids": statement.object.id if statement.object.objectType == "StatementRef" else None,
    }


def _check_voiding(
    session: Session,
    user_id: str,
    statements: list[StatementIn],
    existing: dict[str, Statement],
    batch_ids: set[str],
) -> list[str]:
    targets = [s.object.id for s in statements if s.verb.id == VERBS["voided"] and str(s.id) not in existing]
    if not targets:
        return []
    found = repository.statements_by_id(session, targets)
    for target in targets:
        row = found.get(target)
        if row is None:
            raise Unprocessable(
                f"Statement {target} is in this batch: void it in a later request."
                if target in batch_ids
                else f"No stored statement {target} to void."
            )
        if row.user_id != user_id:
            raise Forbidden(f"Statement {target} is not yours to void.")
        if row.verb == VERBS["voided"]:
            raise Unprocessable(f"Statement {target} voids another statement and cannot itself be voided.")
    return targets


def encode_cursor(row: Statement) -> str:
    return b64url_encode(json.dumps([row.stored.isoformat(), row.id]).encode())


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        stored, statement_id = jsontext.loads(b64url_decode(cursor))
        return datetime.fromisoformat(stored).astimezone(UTC), str(statement_id)
    except (ValueError, TypeError) as exc:
        raise BadRequest("The cursor is not one this server gave out.") from exc


def query(session: Session, user_id: str, q: StatementQuery) -> tuple[list[Statement], str | None]:
    """A page of the user's own statements and the cursor of the next page (None at the end)."""
    if q.agent is not None:
        try:
            agent = Agent.model_validate_json(q.agent)
        except ValueError as exc:
            raise BadRequest("The agent parameter must be the JSON of an Agent with an account.") from exc
        if agent.account.name != user_id:
            raise Forbidden("You can only read your own statements.")
    single = q.statementId or q.voidedStatementId
    if single is not None:
        row = repository.statement(session, user_id, str(single), voided=q.voidedStatementId is not None)
        return ([row] if row else []), None
    after = decode_cursor(q.cursor) if q.cursor else None
    rows = repository.statement_page(session, user_id, q, after)
    more = encode_cursor(rows[q.limit - 1]) if len(rows) > q.limit else None
    return rows[: q.limit], more


def viewed_items(session: Session, user_id: str, course_id: str) -> set[str]:
    """Item ids of a course the user has an unvoided `experienced` or `completed` statement for."""
    found = map(parse_activity, repository.viewed_activities_of(session, user_id, course_id))
    return {item[1] for item in found if item and item[1]}
