"""The phone pages' and the grader's statements: Ustaz's narrower profile (their own actor, voiding
only their own stored records) over the one store (services/progress/lrs/store.py, docs/lrs.md), and
the teacher's own statements queried by cursor.

`store` is how they get in, for a phone's batch and for the grader alike. A
repeated id with the same content changes nothing (an offline phone resends freely); with other
content it is a 409; a batch naming one id twice is a 400; nothing of a rejected batch is stored.
`stored` is the server's clock; the client's `timestamp` is kept for display only.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from libs import jsontext
from libs.encoding import b64url_decode, b64url_encode
from libs.errors import BadRequest, Conflict, Forbidden, Unprocessable
from services.progress import repository
from services.progress.lrs import canonical
from services.progress.lrs import repository as lrs_repository
from services.progress.lrs.store import Owner, Stored, Writer
from services.progress.lrs.store import store as store_statements
from services.progress.models import Enrolment, Statement, Submission
from services.progress.settings import get_settings
from services.progress.xapi import VERBS, Agent, StatementQuery, course_activity, parse_activity
from services.progress.xapi import Statement as StatementIn

GRADING_NS = uuid.UUID("7f9c0a52-3c1e-4f0b-8d7e-2a6b5c4d3e21")


def digest(statement: StatementIn) -> str:
    return canonical.digest(client_part(statement))


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
    *,
    source: str = "phone",
) -> Stored:
    """Check a teacher's own batch (Ustaz's profile: their own actor, voiding only their own stored
    records), then put it in the one store (services/progress/lrs/store.py). `course_ids[i]` is the
    course of statement i (resolved by the caller against the teacher's enrolments); a statement about
    a course goes to the store of the course's institute, so that institute's LRS clients read it."""
    others = [str(s.id or i) for i, s in enumerate(statements) if s.actor.account.name != user_id]
    if others:
        raise Forbidden(
            "You can only record statements about yourself (actor.account.name must be your user id).",
            ids=others,
        )
    ids = [str(s.id) for s in statements if s.id is not None]
    existing = repository.statements_by_id(session, ids)
    theirs = [i for i in ids if i in existing and existing[i].user_id != user_id]
    if theirs:
        raise Conflict("A different statement with this id is already stored.", ids=theirs)
    targets = _check_voiding(session, user_id, statements, existing, set(ids))
    institutes = {e.course_id: e.institute_id for e in repository.enrolments_of(session, user_id)}
    stores = [institutes.get(c, "") if c else "" for c in course_ids]
    for index, statement in enumerate(statements):  # a voiding statement goes where its target is
        if statement.verb.id == VERBS["voided"] and statement.object.id in targets:
            stores[index] = targets[statement.object.id]
    bodies = [client_part(s) for s in statements]
    out = Stored(ids=[""] * len(statements))
    for store_id in sorted(set(stores)):
        at = [i for i, s in enumerate(stores) if s == store_id]
        writer = Writer(store=store_id, source=source, authority=authority(), default_version="1.0.3")
        part = store_statements(
            session,
            writer,
            [bodies[i] for i in at],
            [Owner(user_id=user_id, course_id=course_ids[i]) for i in at],
            now,
        )
        for index, statement_id in zip(at, part.ids, strict=True):
            out.ids[index] = statement_id
        out.new += part.new
        out.flagged += part.flagged
    out.flagged.sort(key=out.ids.index)
    return out


def store_graded(session: Session, results: list[tuple[Enrolment, Submission]], now: datetime) -> None:
    """A batch's graded results as statements, one call of the store per institute: built here, so
    their ids (derived from the submissions') and actors (their teachers) need none of `store`'s
    checks; one stored before is skipped by the store."""
    by_store: dict[str, list[tuple[Enrolment, Submission]]] = {}
    for enrolment, submission in results:
        by_store.setdefault(enrolment.institute_id, []).append((enrolment, submission))
    for store_id, pairs in sorted(by_store.items()):
        writer = Writer(store=store_id, source="grader", authority=authority(), default_version="1.0.3")
        store_statements(
            session,
            writer,
            [client_part(graded(e, s)) for e, s in pairs],
            [Owner(user_id=e.user_id, course_id=e.course_id) for e, _ in pairs],
            now,
        )


def _check_voiding(
    session: Session,
    user_id: str,
    statements: list[StatementIn],
    existing: dict[str, Statement],
    batch_ids: set[str],
) -> dict[str, str]:
    """The stores of the statements this batch voids, by id, once each is checked voidable."""
    targets = [s.object.id for s in statements if s.verb.id == VERBS["voided"] and str(s.id) not in existing]
    if not targets:
        return {}
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
    return {target: found[target].store for target in targets}


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


def viewed_of(session: Session, enrolment: Enrolment) -> set[str]:
    """Items of the enrolment's course viewed: lesson-view statements, and views an LRS client
    recorded of items and of activities mapped to them (services/progress/lrs/effects.py)."""
    return viewed_items(session, enrolment.user_id, enrolment.course_id) | lrs_repository.item_outcomes(
        session, enrolment.id, "viewed"
    )


def passed_of(session: Session, enrolment: Enrolment) -> set[str]:
    """Quizzes (items) of the enrolment passed: graded submissions, and passes an LRS client of the
    course's institute recorded."""
    return repository.passed_quizzes(session, enrolment.id) | lrs_repository.item_outcomes(
        session, enrolment.id, "passed"
    )
