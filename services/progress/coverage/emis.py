"""Training records for the EMIS export (docs/analytics.md, "Export to EMIS"): every completed course of a
teacher, oldest first, after a cursor, within the caller's jurisdiction. Records are keyed by the person
(the account or registry id); the gateway, which holds the registry, replaces that with the national
ID. Progress never holds a national ID."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Forbidden, Unprocessable
from services.progress.analytics.privacy import jurisdiction
from services.progress.coverage import repository
from services.progress.coverage.schemas import TrainingRecord, TrainingRecords

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_since(since: str) -> tuple[datetime, str]:
    """`since` is an ISO 8601 time, or the `next` of an earlier page ("<time>|<enrolment id>")."""
    if not since:
        return EPOCH, ""
    moment, _, after = since.partition("|")
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError as exc:
        raise Unprocessable(
            "since is an ISO 8601 time or the `next` of an earlier page.", field="since"
        ) from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)), after


def scope_path(user: Principal) -> str:
    """The EMIS client sees the whole country; an analyst or platform admin their jurisdiction."""
    if user.has("emis_export"):
        return ""
    scope = jurisdiction(user)
    if scope.institute:
        raise Forbidden("The EMIS export is for analysts, platform admins and the EMIS client.")
    return scope.path


def records(session: Session, user: Principal, since: str, limit: int) -> TrainingRecords:
    path = scope_path(user)
    since_at, after = parse_since(since)
    rows = repository.completions_since(session, since_at, after, path, limit + 1)
    page = rows[:limit]
    ids = [r.enrolment_id for r in page]
    scores = repository.best_scores(session, ids) if ids else {}
    certificates = (
        repository.certificates_of(session, [(r.user_id, r.course_id) for r in page]) if ids else {}
    )
    items = [
        TrainingRecord(
            person_id=r.user_id,
            org_path=r.org_path,
            course_id=r.course_id,
            course_title=r.course_title,
            version=r.version,
            completed_at=r.completed_at,
            score=scores.get(r.enrolment_id),
            certificate_id=certificates.get((r.user_id, r.course_id)),
            hours=None,
        )
        for r in page
    ]
    if page:
        last = page[-1]
        cursor = f"{last.completed_at.isoformat()}|{last.enrolment_id}"
    else:
        cursor = f"{since_at.isoformat()}|{after}"
    return TrainingRecords(items=items, next=cursor, more=len(rows) > limit)
