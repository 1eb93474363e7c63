"""What a stored statement about a teacher changes in their progress (docs/lrs.md "Attribution").

A statement from an LRS client attributed to a teacher enrolled in the course it is about is an
`ItemResult` when its activity is an item of the course (an Ustaz activity IRI, or an activity an
author mapped to an item or to indicators): viewed (experienced / completed), passed (verb passed,
result.success true, or a scaled score at the mapping's pass mark) or failed. Views count from any
source; passed and failed only from a client of the course's own institute (a teacher cannot pass a
quiz by saying so). Completion is then evaluated again, as after a graded quiz."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from services.progress import repository as progress_repository
from services.progress.lrs import canonical
from services.progress.lrs import repository as repo
from services.progress.lrs.models import ActivityMapping, ItemResult
from services.progress.models import Enrolment
from services.progress.xapi import VERBS, VIEWED, parse_activity


def outcome(body: dict[str, Any], pass_mark: float) -> tuple[str | None, float | None]:
    """(viewed | passed | failed | None, scaled score) of a statement."""
    result = body.get("result") or {}
    scaled = (result.get("score") or {}).get("scaled")
    verb = body["verb"]["id"]
    if verb == VERBS["passed"] or result.get("success") is True:
        return "passed", scaled
    if verb == VERBS["failed"] or result.get("success") is False:
        return "failed", scaled
    if isinstance(scaled, int | float) and result.get("completion") is True:
        return ("passed" if scaled >= pass_mark else "failed"), scaled
    return ("viewed" if verb in VIEWED else None), scaled


def apply(session: Session, rows: list[dict[str, Any]]) -> None:
    from services.progress import service  # completion rules live there; it imports the store

    touched: dict[str, Enrolment] = {}
    for row in rows:
        if (
            not (row["user_id"] and row["course_id"])
            or canonical.object_type(row["body"]["object"]) != "Activity"
        ):
            continue
        enrolment = progress_repository.enrolment_for(session, row["user_id"], row["course_id"])
        if enrolment is None:
            continue
        result = _result(session, row, enrolment)
        if result is not None:
            session.add(result)
            touched[enrolment.id] = enrolment
    session.flush()
    for enrolment in touched.values():
        cached = progress_repository.answer_key(session, enrolment.course_id, enrolment.version)
        if cached is not None:
            service.evaluate_completion(session, enrolment, cached.key)


def _result(session: Session, row: dict[str, Any], enrolment: Enrolment) -> ItemResult | None:
    activity_id = row["body"]["object"]["id"]
    parsed = parse_activity(activity_id)
    mapping: ActivityMapping | None = repo.mapping(session, enrolment.course_id, canonical.key64(activity_id))
    item_id = (
        parsed[1] if parsed and parsed[0] == enrolment.course_id else (mapping.item_id if mapping else None)
    )
    if item_id is None and mapping is None:
        return None
    kind, scaled = outcome(row["body"], mapping.pass_mark if mapping else 0.8)
    trusted = row["source"].startswith("client:") and row["store"] == enrolment.institute_id
    if kind is None or (kind != "viewed" and not trusted):
        return None
    return ItemResult(
        enrolment_id=enrolment.id,
        statement_id=row["id"],
        user_id=enrolment.user_id,
        course_id=enrolment.course_id,
        item_id=item_id,
        activity_id=activity_id,
        outcome=kind,
        scaled=scaled,
        stored=row["stored"],
    )
