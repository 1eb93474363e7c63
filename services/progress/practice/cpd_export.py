"""The CPD record per teacher and attestation cycle (docs/practice.md): what the EMIS export and the
dashboard read. A teacher's hours are the ledger's (webinars, observations, evidence, featured posts)
and the courses they completed in the cycle at the ministry's hours per course, as on the transcript."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Unprocessable
from libs.outbox import utcnow
from services.progress.coverage.emis import scope_path
from services.progress.practice import repository
from services.progress.practice.schemas import CpdRecord, CpdRecords
from services.progress.practice.settings import get_practice_settings


def cycle_of(day: str) -> tuple[datetime, datetime]:
    """The attestation cycle holding `day` (YYYY-MM-DD; empty: today)."""
    if not day:
        return get_practice_settings().cycle(utcnow())
    try:
        moment = datetime.fromisoformat(day)
    except ValueError as exc:
        raise Unprocessable(
            "cycle is a date (YYYY-MM-DD) within the attestation cycle.", field="cycle"
        ) from exc
    return get_practice_settings().cycle(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def hours_by_person(
    session: Session, start: datetime, end: datetime, after: str = ""
) -> dict[str, tuple[str, dict[str, float]]]:
    """person -> (org path, hours per activity type) in [start, end), people after `after`."""
    course_hours = get_practice_settings().hours("course")
    found: dict[str, tuple[str, dict[str, float]]] = {}
    for person, path, n in repository.courses_completed_by_person(session, start, end, after):
        _, hours = found.setdefault(person, (path, {}))
        hours["course"] = round(hours.get("course", 0.0) + n * course_hours, 2)
    ledger = repository.cpd_hours_by_person(session, start, end, after)
    paths = repository.member_paths(session, sorted({p for p, _, _ in ledger} - set(found)))
    for person, kind, h in ledger:
        _, hours = found.setdefault(person, (paths.get(person, ""), {}))
        hours[kind] = round(hours.get(kind, 0.0) + h, 2)
    return found


def under(path: str, scope: str) -> bool:
    return not scope or path == scope or path.startswith(scope + "/")


def records(session: Session, user: Principal, cycle: str, after: str, limit: int) -> CpdRecords:
    """Teachers with CPD hours in the cycle, by person id after `after`, within the caller's scope
    (the EMIS client: the country)."""
    scope = scope_path(user)
    start, end = cycle_of(cycle)
    required = get_practice_settings().cpd_required_hours
    people = sorted(
        (person, path, hours)
        for person, (path, hours) in hours_by_person(session, start, end, after).items()
        if under(path, scope) and (path or not scope)
    )
    page = people[:limit]
    items = [
        CpdRecord(
            person_id=person,
            org_path=path,
            hours=hours,
            total_hours=round(sum(hours.values()), 2),
            met=sum(hours.values()) >= required,
        )
        for person, path, hours in page
    ]
    return CpdRecords(
        cycle_start=start,
        cycle_end=end,
        required_hours=required,
        items=items,
        next=page[-1][0] if page else after,
        more=len(people) > limit,
    )
