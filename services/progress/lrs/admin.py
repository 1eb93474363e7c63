"""The LRS's administration rules: activity mappings set by a course's authors, and launch
registrations (the seam cmi5 and SCORM launches use: a registration names the teacher)."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Forbidden, NotFound
from libs.outbox import utcnow
from services.courses.schemas import CourseDetail
from services.progress import repository as progress_repository
from services.progress.lrs import canonical
from services.progress.lrs import repository as repo
from services.progress.lrs.models import ActivityMapping, LaunchRegistration
from services.progress.lrs.schemas import MappingIn


def may_author(user: Principal, course: CourseDetail) -> None:
    if user.has("platform_admin"):
        return
    if not user.has("author", "institute_admin") or user.institute != course.institute_id:
        raise Forbidden("Only the course's institute (its authors and admins) maps its activities.")


def set_mapping(session: Session, user: Principal, course: CourseDetail, body: MappingIn) -> ActivityMapping:
    may_author(user, course)
    return set_mapping_row(
        session, user, course.id, body.activity_id, body.item_id, sorted(set(body.indicators)), body.pass_mark
    )


def set_mapping_row(
    session: Session,
    user: Principal,
    course_id: str,
    activity_id: str,
    item_id: str | None,
    indicators: list[str] | None = None,
    pass_mark: float = 0.8,
) -> ActivityMapping:
    key = canonical.key64(activity_id)
    mapping = repo.mapping(session, course_id, key) or ActivityMapping(
        course_id=course_id, activity_key=key, activity_id=activity_id
    )
    mapping.item_id, mapping.indicators, mapping.pass_mark = item_id, indicators or [], pass_mark
    mapping.updated_by, mapping.updated_at = user.id, utcnow()
    session.add(mapping)
    return mapping


def register_launch(
    session: Session, user_id: str, course_id: str, activity_id: str, registration: str | None = None
) -> LaunchRegistration:
    """A launch of a course's content by a teacher enrolled in it: statements carrying the returned
    registration are that teacher's, whatever actor the content writes (cmi5, SCORM, a link)."""
    enrolment = progress_repository.enrolment_for(session, user_id, course_id)
    if enrolment is None:
        raise NotFound("You are not enrolled in this course.")
    row = LaunchRegistration(
        registration=registration or str(uuid.uuid4()),
        user_id=user_id,
        course_id=course_id,
        activity_id=activity_id,
        store=enrolment.institute_id,
    )
    session.add(row)
    return row
