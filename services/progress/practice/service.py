"""Coaching and classroom observation (docs/practice.md): plain functions of a session.

Who may do what: a coordinator appoints coaches for the schools of their jurisdiction, an institute
admin appoints their teacher educators; a coach works with the teachers of their assigned schools
(a teacher is known to practice by the school in their token, recorded whenever they use it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from gateway.schemas import ResolvedTeacher
from libs.auth import Principal
from libs.errors import Forbidden, NotFound, Unprocessable
from libs.outbox import utcnow
from services.progress import reminders
from services.progress import repository as progress_repository
from services.progress.analytics.privacy import Jurisdiction
from services.progress.competency import Framework
from services.progress.practice import repository
from services.progress.practice.models import (
    Assignment,
    Coach,
    CoachingSession,
    CohortAssignment,
    Comment,
    CpdEntry,
    Member,
    Observation,
    Plan,
)
from services.progress.practice.schemas import (
    CoachAppoint,
    CoachPublic,
    CommentPublic,
    MemberPublic,
    MyTeachers,
    ObservationPublic,
    PlanIn,
    PlanPublic,
    SessionIn,
    SessionPublic,
    Step,
)
from services.progress.practice.settings import get_practice_settings
from services.progress.schemas import CompetencyProfile
from services.progress.settings import ProgressSettings

# -- who is who -------------------------------------------------------------------------------------


def touch_member(session: Session, user: Principal) -> Member | None:
    """Record a teacher's school and path from their token (the registry's, signed by the gateway)."""
    if not user.has("teacher") or not user.org:
        return None
    found = repository.member(session, user.id)
    path = "/".join(user.org)
    if found is None:
        found = Member(user_id=user.id, name=user.name, school=user.org[-1], org_path=path)
    elif (found.school, found.org_path, found.name) == (user.org[-1], path, user.name):
        return found
    found.school, found.org_path, found.name, found.seen_at = user.org[-1], path, user.name, utcnow()
    session.add(found)
    return found


def scope_of(session: Session, user: Principal) -> Jurisdiction:
    """A coordinator's (or analyst's, admin's) org subtree; platform admins without scope see all.
    The token's scope is the unit's path, or its code (resolved through the org-unit read model)."""
    scope = user.scope or ""
    if scope.startswith("org:") and len(scope) > 4:
        path = scope.removeprefix("org:")
        unit = None if "/" in path else repository.unit(session, path)
        return Jurisdiction(path=unit.path if unit else path)
    if user.has("platform_admin"):
        return Jurisdiction(path="")
    raise Forbidden("Your account has no org-unit scope.")


def appoint(
    session: Session, actor: Principal, body: CoachAppoint, course_institute: str | None = None
) -> CoachPublic:
    """Appoint a coach and assign them a school: a coordinator within their scope (kind `teacher`),
    an institute admin their educators (kind `educator`), a platform admin anyone. Or a cohort: the
    teachers enrolled in a course (`course_institute`: the course's institute), by that institute's
    admins or a platform admin."""
    if not actor.has("coordinator", "institute_admin", "platform_admin"):
        raise Forbidden("Coaches are appointed by a coordinator or an institute's admin.")
    school = None
    if body.course_id is not None:
        _check_cohort(actor, course_institute)
    else:
        school = repository.unit(session, body.school or "")
        if school is None:
            raise Unprocessable(f"No school {body.school!r} in the org-unit tree.", field="school")
        if actor.has("coordinator") and not scope_of(session, actor).covers(school.path):
            raise Forbidden("This school is outside your jurisdiction.")
    coach = repository.coach(session, body.user_id)
    if coach is None:
        educator = actor.has("institute_admin") and not actor.has("coordinator")
        coach = Coach(
            user_id=body.user_id,
            name=body.name,
            kind="educator" if educator else "teacher",
            institute_id=actor.institute if educator else None,
            appointed_by=actor.id,
        )
        session.add(coach)
    if body.course_id is not None and course_institute is not None:
        if repository.cohort_assignment(session, coach.user_id, body.course_id) is None:
            session.add(
                CohortAssignment(
                    coach_id=coach.user_id,
                    course_id=body.course_id,
                    institute_id=course_institute,
                    assigned_by=actor.id,
                )
            )
    elif school is not None and repository.assignment(session, coach.user_id, school.code) is None:
        session.add(
            Assignment(coach_id=coach.user_id, school=school.code, org_path=school.path, assigned_by=actor.id)
        )
    session.flush()
    return _coach_public(session, coach)


def _check_cohort(actor: Principal, course_institute: str | None) -> None:
    if course_institute is None:
        raise Unprocessable("No such published course.", field="course_id")
    if not actor.has("platform_admin") and not (
        actor.has("institute_admin") and actor.institute == course_institute
    ):
        raise Forbidden("A course's cohort gets its coach from the course's institute.")


def _coach_public(session: Session, coach: Coach) -> CoachPublic:
    return CoachPublic(
        user_id=coach.user_id,
        name=coach.name,
        kind=coach.kind,
        schools=repository.schools_of(session, coach.user_id),
        courses=sorted(c.course_id for c in repository.cohorts_of(session, coach.user_id)),
    )


def add_members(session: Session, teachers: Sequence[ResolvedTeacher]) -> int:
    """The registry's teachers of a school a coach was assigned (an account's id is its registry id
    once activated, so a teacher who has not activated yet is listed under it already)."""
    added = 0
    for t in teachers:
        user_id = t.user_id or t.registry_id
        if repository.member(session, user_id) is None:
            session.add(
                Member(user_id=user_id, name=t.display_name, school=t.school_code, org_path=t.org_path)
            )
            added += 1
    return added


def my_teachers(session: Session, user: Principal) -> MyTeachers:
    """The teachers of the coach's schools, and of their cohorts (enrolled in their courses)."""
    coach = _coach(session, user)
    found = {
        m.user_id: MemberPublic(user_id=m.user_id, name=m.name, school=m.school)
        for m in repository.members_of(session, repository.schools_of(session, coach.user_id))
    }
    for e in repository.in_cohorts(session, repository.cohorts_of(session, coach.user_id)):
        found.setdefault(
            e.user_id, MemberPublic(user_id=e.user_id, name=e.user_name, school=e.org_path.rsplit("/", 1)[-1])
        )
    return MyTeachers(
        coach=_coach_public(session, coach),
        teachers=sorted(found.values(), key=lambda m: (m.name, m.user_id)),
    )


def _coach(session: Session, user: Principal) -> Coach:
    coach = repository.coach(session, user.id)
    if coach is None:
        raise Forbidden("You are not a coach.")
    return coach


def coaches(session: Session, coach_id: str, teacher_id: str) -> bool:
    """Whether `coach_id` is assigned to the school of `teacher_id`, or to a cohort they are in."""
    member = repository.member(session, teacher_id)
    if member is not None and repository.assignment(session, coach_id, member.school) is not None:
        return True
    cohorts = repository.cohorts_of(session, coach_id)
    return bool(cohorts) and bool(repository.in_cohorts(session, cohorts, teacher_id))


def _check_coaches(session: Session, user: Principal, teacher_id: str) -> None:
    _coach(session, user)
    if not coaches(session, user.id, teacher_id):
        raise Forbidden("This teacher is outside your coaching assignment.", teacher_id=teacher_id)


def may_read(session: Session, user: Principal, teacher_id: str) -> None:
    """The teacher, their coaches (and platform admins) see what is written about the teacher."""
    if user.id == teacher_id or user.has("platform_admin") or coaches(session, user.id, teacher_id):
        return
    raise Forbidden("Only the teacher and their coaches see this.")


# -- plans and sessions ------------------------------------------------------------------------------


def weakest(profile: CompetencyProfile, limit: int = 5) -> list[str]:
    """The profile's weakest indicators: not yet before developing, uncovered before tried."""
    order = {"not_yet": 0, "developing": 1}
    gaps = [r for r in profile.indicators if r.rating in order]
    gaps.sort(key=lambda r: (order[r.rating], r.evidence > 0, r.code))
    return [r.code for r in gaps[:limit]]


def save_plan(session: Session, user: Principal, teacher_id: str, body: PlanIn, framework: Framework) -> Plan:
    _check_coaches(session, user, teacher_id)
    check_indicators(body.indicators, framework)
    plan = repository.plan(session, teacher_id) or Plan(teacher_id=teacher_id, coach_id=user.id)
    plan.indicators, plan.coach_id, plan.updated_at = list(body.indicators), user.id, utcnow()
    session.add(plan)
    return plan


def check_indicators(codes: Sequence[str], framework: Framework) -> None:
    known = {i["code"] for i in framework["items"] if i["kind"] == "indicator"}
    unknown = sorted(set(codes) - known)
    if unknown:
        raise Unprocessable(
            f"Not indicators of {framework['code']}: {', '.join(unknown)}.", indicators=unknown
        )


def log_session(
    session: Session,
    settings: ProgressSettings,
    user: Principal,
    teacher_id: str,
    body: SessionIn,
    framework: Framework,
) -> CoachingSession:
    """A coaching session; each agreed next step becomes a reminder for the teacher and the coach."""
    _check_coaches(session, user, teacher_id)
    check_indicators(body.indicators, framework)
    row = CoachingSession(
        teacher_id=teacher_id,
        coach_id=user.id,
        held_on=body.held_on,
        indicators=list(body.indicators),
        notes=body.notes,
        steps=[s.model_dump(mode="json") for s in body.steps],
    )
    session.add(row)
    session.flush()
    now = utcnow()
    for n, step in enumerate(body.steps):
        for person in (teacher_id, user.id):
            reminders.remind(
                session,
                settings,
                now,
                user_id=person,
                rule="coaching_step",
                course_id="",
                period=f"{row.id}:{n}",
                language=user.lang,
                prefs=progress_repository.reminder_preferences(session, person),
                values={"text": step.text, "due": step.due.date().isoformat()},
                link="/me/coaching",
            )
    return row


def comment(session: Session, user: Principal, subject: str, text: str) -> Comment:
    """A comment on a session, observation or evidence about a teacher, by the teacher or a coach."""
    kind, _, ref = subject.partition(":")
    teacher = _teacher_of(session, kind, ref)
    may_read(session, user, teacher)
    row = Comment(subject=subject, author_id=user.id, text=text)
    session.add(row)
    return row


def _teacher_of(session: Session, kind: str, ref: str) -> str:
    found: CoachingSession | Observation | None = None
    if kind == "session":
        found = session.get(CoachingSession, ref)
    elif kind == "observation":
        found = repository.observation(session, ref)
    elif kind == "evidence":
        evidence = repository.evidence(session, ref)
        if evidence is None:
            raise NotFound("No such evidence.")
        return evidence.teacher_id
    if found is None:
        raise NotFound("Nothing to comment on.")
    return found.teacher_id


def plan_view(
    session: Session, user: Principal, teacher_id: str, profile: CompetencyProfile | None
) -> PlanPublic:
    may_read(session, user, teacher_id)
    plan = repository.plan(session, teacher_id)
    sessions = repository.sessions_of(session, teacher_id)
    observations = repository.observations_of(session, teacher_id)
    subjects = [f"session:{s.id}" for s in sessions] + [f"observation:{o.id}" for o in observations]
    notes: dict[str, list[CommentPublic]] = {}
    for c in repository.comments_on(session, subjects):
        notes.setdefault(c.subject, []).append(
            CommentPublic(author_id=c.author_id, text=c.text, created_at=c.created_at)
        )
    return PlanPublic(
        teacher_id=teacher_id,
        coach_id=plan.coach_id if plan else None,
        indicators=plan.indicators if plan else [],
        suggested=weakest(profile) if profile else [],
        sessions=[
            SessionPublic(
                id=s.id,
                coach_id=s.coach_id,
                held_on=s.held_on,
                indicators=s.indicators,
                notes=s.notes,
                steps=[Step.model_validate(x) for x in s.steps],
                comments=notes.get(f"session:{s.id}", []),
            )
            for s in sessions
        ],
        observations=[observation_public(o, notes.get(f"observation:{o.id}", [])) for o in observations],
    )


# -- observation ------------------------------------------------------------------------------------


def credit(session: Session, user_id: str, key: str, kind: str, title: str, at: datetime) -> None:
    """Count an activity in the CPD record once (its key), at the hours the ministry's rules give."""
    if repository.cpd_entry(session, key) is None:
        hours = get_practice_settings().hours(kind)
        session.add(CpdEntry(key=key, user_id=user_id, kind=kind, title=title, hours=hours, at=at))


def observation_public(o: Observation, comments: list[CommentPublic] | None = None) -> ObservationPublic:
    return ObservationPublic(
        id=o.id,
        form_id=o.form_id,
        teacher_id=o.teacher_id,
        observer_id=o.observer_id,
        observer_name=o.observer_name,
        observed_on=o.observed_on,
        ratings=o.ratings,
        notes=o.notes,
        follow_up=o.follow_up,
        acknowledged_at=o.acknowledged_at,
        comments=comments or [],
    )
