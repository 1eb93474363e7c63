"""Every query of professional learning (docs/practice.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, or_
from sqlmodel import Session, col, select

from services.progress.models import Enrolment, OrgUnitView
from services.progress.practice.models import (
    Assignment,
    Coach,
    CoachingSession,
    CohortAssignment,
    Comment,
    CpdEntry,
    Evidence,
    Member,
    ModerationEntry,
    Observation,
    ObservationForm,
    Plan,
    Post,
    Registration,
    Space,
    Suspension,
    Thread,
    TranscriptRecord,
    Webinar,
)


def member(session: Session, user_id: str) -> Member | None:
    return session.get(Member, user_id)


def coach(session: Session, user_id: str) -> Coach | None:
    return session.get(Coach, user_id)


def unit(session: Session, code: str) -> OrgUnitView | None:
    return session.get(OrgUnitView, code)


def assignment(session: Session, coach_id: str, school: str) -> Assignment | None:
    return session.exec(
        select(Assignment).where(Assignment.coach_id == coach_id, Assignment.school == school)
    ).first()


def schools_of(session: Session, coach_id: str) -> list[str]:
    return list(session.exec(select(Assignment.school).where(Assignment.coach_id == coach_id)).all())


def members_of(session: Session, schools: Sequence[str]) -> list[Member]:
    if not schools:
        return []
    return list(
        session.exec(select(Member).where(col(Member.school).in_(schools)).order_by(Member.name)).all()
    )


def coaches_of_school(session: Session, school: str) -> list[str]:
    return list(session.exec(select(Assignment.coach_id).where(Assignment.school == school)).all())


def plan(session: Session, teacher_id: str) -> Plan | None:
    return session.get(Plan, teacher_id)


def sessions_of(session: Session, teacher_id: str) -> list[CoachingSession]:
    query = select(CoachingSession).where(CoachingSession.teacher_id == teacher_id)
    return list(session.exec(query.order_by(col(CoachingSession.held_on).desc())).all())


def comments_on(session: Session, subjects: Sequence[str]) -> list[Comment]:
    if not subjects:
        return []
    query = select(Comment).where(col(Comment.subject).in_(subjects)).order_by(col(Comment.created_at))
    return list(session.exec(query).all())


def form(session: Session, form_id: str) -> ObservationForm | None:
    return session.get(ObservationForm, form_id)


def forms(session: Session) -> list[ObservationForm]:
    return list(session.exec(select(ObservationForm).order_by(col(ObservationForm.created_at).desc())).all())


def observations_by_id(session: Session, ids: Sequence[str]) -> dict[str, Observation]:
    rows = session.exec(select(Observation).where(col(Observation.id).in_(ids))).all() if ids else []
    return {row.id: row for row in rows}


def observation(session: Session, observation_id: str) -> Observation | None:
    return session.get(Observation, observation_id)


def observations_of(session: Session, teacher_id: str) -> list[Observation]:
    query = select(Observation).where(Observation.teacher_id == teacher_id)
    return list(session.exec(query.order_by(col(Observation.observed_on))).all())


def observations_of_many(session: Session, teacher_ids: Sequence[str]) -> list[Observation]:
    if not teacher_ids:
        return []
    query = select(Observation).where(col(Observation.teacher_id).in_(teacher_ids))
    return list(session.exec(query.order_by(col(Observation.observed_on), col(Observation.stored))).all())


def evidence_of(session: Session, teacher_id: str) -> list[Evidence]:
    query = select(Evidence).where(Evidence.teacher_id == teacher_id)
    return list(session.exec(query.order_by(col(Evidence.created_at))).all())


def evidence(session: Session, evidence_id: str) -> Evidence | None:
    return session.get(Evidence, evidence_id)


def webinar(session: Session, webinar_id: str) -> Webinar | None:
    return session.get(Webinar, webinar_id)


def webinars(session: Session, since: datetime) -> list[Webinar]:
    query = select(Webinar).where(col(Webinar.starts_at) >= since).order_by(col(Webinar.starts_at))
    return list(session.exec(query).all())


def webinars_between(session: Session, start: datetime, end: datetime) -> list[Webinar]:
    query = select(Webinar).where(col(Webinar.starts_at) >= start, col(Webinar.starts_at) < end)
    return list(session.exec(query).all())


def registrations_for(session: Session, webinar_id: str) -> list[Registration]:
    return list(session.exec(select(Registration).where(Registration.webinar_id == webinar_id)).all())


def registration(session: Session, webinar_id: str, user_id: str) -> Registration | None:
    return session.get(Registration, (webinar_id, user_id))


def registrations_of(session: Session, user_id: str) -> dict[str, Registration]:
    rows = session.exec(select(Registration).where(Registration.user_id == user_id)).all()
    return {r.webinar_id: r for r in rows}


def cpd_entry(session: Session, key: str) -> CpdEntry | None:
    return session.get(CpdEntry, key)


def cpd_of(session: Session, user_id: str, start: datetime, end: datetime) -> list[CpdEntry]:
    query = select(CpdEntry).where(
        CpdEntry.user_id == user_id, col(CpdEntry.at) >= start, col(CpdEntry.at) < end
    )
    return list(session.exec(query.order_by(col(CpdEntry.at))).all())


def space(session: Session, space_id: str) -> Space | None:
    return session.get(Space, space_id)


def threads_of(session: Session, space_id: str) -> list[Thread]:
    query = select(Thread).where(Thread.space_id == space_id)
    return list(
        session.exec(query.order_by(col(Thread.featured).desc(), col(Thread.created_at).desc())).all()
    )


def thread(session: Session, thread_id: str) -> Thread | None:
    return session.get(Thread, thread_id)


def post(session: Session, post_id: str) -> Post | None:
    return session.get(Post, post_id)


def posts_of(session: Session, thread_id: str) -> list[Post]:
    return list(
        session.exec(select(Post).where(Post.thread_id == thread_id).order_by(col(Post.created_at))).all()
    )


def moderation_of(session: Session, target: str) -> list[ModerationEntry]:
    query = select(ModerationEntry).where(ModerationEntry.target == target)
    return list(session.exec(query.order_by(col(ModerationEntry.at))).all())


def members_under(session: Session, path: str) -> list[Member]:
    query = select(Member)
    if path:
        query = query.where(or_(col(Member.org_path) == path, col(Member.org_path).startswith(path + "/")))
    return list(session.exec(query).all())


def coached_schools(session: Session) -> set[str]:
    return set(session.exec(select(Assignment.school)).all())


def sessions_per_teacher_month(session: Session, teacher_ids: Sequence[str]) -> list[tuple[str, datetime]]:
    if not teacher_ids:
        return []
    query = select(CoachingSession.teacher_id, CoachingSession.held_on).where(
        col(CoachingSession.teacher_id).in_(teacher_ids)
    )
    return [(t, h) for t, h in session.exec(query).all()]


def count(session: Session, model: type, *where: object) -> int:
    return int(session.exec(select(func.count()).select_from(model).where(*where)).one())  # type: ignore[arg-type]


def transcript(session: Session, transcript_id: str) -> TranscriptRecord | None:
    return session.get(TranscriptRecord, transcript_id) if len(transcript_id) <= 36 else None


def latest_transcript(session: Session, user_id: str) -> TranscriptRecord | None:
    query = select(TranscriptRecord).where(TranscriptRecord.user_id == user_id)
    return session.exec(query.order_by(col(TranscriptRecord.issued_at).desc())).first()


def cpd_hours_by_person(
    session: Session, start: datetime, end: datetime, after: str = ""
) -> list[tuple[str, str, float]]:
    """(person, activity type, hours) of the CPD ledger in [start, end), people after `after`."""
    query = (
        select(CpdEntry.user_id, CpdEntry.kind, func.sum(CpdEntry.hours))
        .where(col(CpdEntry.at) >= start, col(CpdEntry.at) < end, col(CpdEntry.user_id) > after)
        .group_by(col(CpdEntry.user_id), col(CpdEntry.kind))
    )
    return [(u, k, float(h or 0)) for u, k, h in session.exec(query).all()]


def courses_completed_by_person(
    session: Session, start: datetime, end: datetime, after: str = ""
) -> list[tuple[str, str, int]]:
    """(person, their org path, courses completed) in [start, end), people after `after`."""
    query = (
        select(Enrolment.user_id, Enrolment.org_path, func.count())
        .where(
            Enrolment.status == "completed",
            col(Enrolment.completed_at) >= start,
            col(Enrolment.completed_at) < end,
            col(Enrolment.user_id) > after,
        )
        .group_by(col(Enrolment.user_id), col(Enrolment.org_path))
    )
    return [(u, p, int(n)) for u, p, n in session.exec(query).all()]


def member_paths(session: Session, user_ids: Sequence[str]) -> dict[str, str]:
    if not user_ids:
        return {}
    rows = session.exec(select(Member.user_id, Member.org_path).where(col(Member.user_id).in_(user_ids)))
    return dict(rows.all())


def suspension(session: Session, user_id: str) -> Suspension | None:
    return session.get(Suspension, user_id)


def spaces_with_threads(session: Session) -> list[tuple[Space, int, int, datetime]]:
    """Spaces with their thread count, featured count and latest thread, latest first."""
    featured = func.sum(case((col(Thread.featured), 1), else_=0))
    query = (
        select(Space, func.count(col(Thread.id)), featured, func.max(Thread.created_at))
        .join(Thread, col(Thread.space_id) == col(Space.id))
        .group_by(col(Space.id), col(Space.kind), col(Space.title))
        .order_by(func.max(Thread.created_at).desc())
    )
    return [(s, int(n), int(f or 0), last) for s, n, f, last in session.exec(query).all()]


def threads_since(session: Session, since: datetime) -> list[Thread]:
    query = select(Thread).where(col(Thread.created_at) >= since)
    return list(session.exec(query.order_by(col(Thread.featured).desc(), col(Thread.created_at))).all())


def participants(session: Session, space_ids: Sequence[str]) -> list[tuple[str, str, str]]:
    """(space, author, the language of their latest post there) of everyone who posted in the spaces."""
    if not space_ids:
        return []
    query = (
        select(Thread.space_id, Post.author_id, Post.language, Post.created_at)
        .join(Thread, col(Thread.id) == col(Post.thread_id))
        .where(col(Thread.space_id).in_(space_ids))
        .order_by(col(Post.created_at))
    )
    latest: dict[tuple[str, str], str] = {}
    for space_id, author, language, _ in session.exec(query).all():
        latest[(space_id, author)] = language
    return [(space_id, author, language) for (space_id, author), language in latest.items()]


def cohort_assignment(session: Session, coach_id: str, course_id: str) -> CohortAssignment | None:
    query = select(CohortAssignment).where(
        CohortAssignment.coach_id == coach_id, CohortAssignment.course_id == course_id
    )
    return session.exec(query).first()


def cohorts_of(session: Session, coach_id: str) -> list[CohortAssignment]:
    return list(session.exec(select(CohortAssignment).where(CohortAssignment.coach_id == coach_id)).all())


def in_cohorts(
    session: Session, cohorts: Sequence[CohortAssignment], teacher_id: str | None = None
) -> list[Enrolment]:
    """The enrolments making up the cohorts (a course's enrolments at its institute), or one teacher's."""
    if not cohorts:
        return []
    either = [
        (col(Enrolment.course_id) == c.course_id) & (col(Enrolment.institute_id) == c.institute_id)
        for c in cohorts
    ]
    query = select(Enrolment).where(or_(*either))
    if teacher_id is not None:
        query = query.where(Enrolment.user_id == teacher_id)
    return list(session.exec(query.order_by(col(Enrolment.user_name))).all())


def cohort_coached(session: Session, teacher_ids: Sequence[str]) -> set[str]:
    """Of these teachers, those enrolled in a coached cohort."""
    if not teacher_ids:
        return set()
    a = CohortAssignment
    query = (
        select(Enrolment.user_id)
        .join(
            a,
            (col(a.course_id) == col(Enrolment.course_id))
            & (col(a.institute_id) == col(Enrolment.institute_id)),
        )
        .where(col(Enrolment.user_id).in_(teacher_ids))
    )
    return set(session.exec(query).all())
