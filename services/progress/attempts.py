"""A teacher's attempts at a quiz as the pages show them: the next attempt (its number, its drawn
questions, whether it may start now) and an attempt's result within the quiz's feedback policy
(docs/adr/0022-quiz-policy.md)."""

from __future__ import annotations

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Forbidden, NotFound
from libs.outbox import utcnow
from services.progress import quiz_policy, repository
from services.progress.models import Submission
from services.progress.schemas import AttemptState, SubmissionPublic
from services.progress.service import quiz_key


def attempt_state(session: Session, user: Principal, course_id: str, quiz_id: str) -> AttemptState | None:
    """The next attempt at this quiz; None when the version's answer key is not cached yet (the route
    fetches it and asks again)."""
    enrolment = repository.enrolment_ref(session, user.id, course_id)
    if enrolment is None:
        raise Forbidden("You are not enrolled in this course.")
    cached = repository.answer_key(session, enrolment.course_id, enrolment.version)
    if cached is None:
        return None
    quiz = quiz_key(cached.key, quiz_id)
    if quiz is None:
        raise NotFound(f"Quiz {quiz_id!r} is not part of version {enrolment.version} of this course.")
    policy = quiz_policy.policy_of(quiz)
    used, last = repository.attempts(session, enrolment.id, quiz_id) if policy.restricted() else (0, None)
    attempt = used + 1 if policy.restricted() else None
    left = quiz_policy.attempts_left(policy, used)
    available = quiz_policy.next_allowed(policy, last)
    if available is not None and available <= utcnow():
        available = None
    seed = None if attempt is None else quiz_policy.attempt_id(enrolment.id, quiz_id, attempt)
    return AttemptState(
        course_id=course_id,
        quiz_id=quiz_id,
        attempt=attempt,
        attempts_used=used,
        max_attempts=policy.max_attempts,
        attempts_left=left,
        available_at=available,
        can_submit=left != 0 and available is None,
        feedback=policy.feedback,
        questions=quiz_policy.draw(quiz, seed) if left != 0 else [],
    )


def submission_view(session: Session, user: Principal, submission_id: str) -> SubmissionPublic:
    """A submission of the teacher's and, once graded, as much of its result as the policy allows."""
    submission = repository.submission(session, submission_id)
    if submission is None or submission.user_id != user.id:
        raise NotFound("No such submission of yours.")
    view = SubmissionPublic.model_validate(submission)
    enrolment = repository.enrolment(session, submission.enrolment_id)
    cached = (
        None if enrolment is None else repository.answer_key(session, enrolment.course_id, enrolment.version)
    )
    quiz = None if cached is None else quiz_key(cached.key, submission.quiz_id)
    if quiz is None:  # nothing to say beyond the score
        return view.model_copy(update={"results": None})
    return _within_policy(session, view, submission, quiz)


def _within_policy(
    session: Session, view: SubmissionPublic, submission: Submission, quiz: dict[str, object]
) -> SubmissionPublic:
    policy = quiz_policy.policy_of(quiz)
    used, last = (
        repository.attempts(session, submission.enrolment_id, submission.quiz_id)
        if submission.attempt is not None
        else (0, None)
    )
    left = quiz_policy.attempts_left(policy, used)
    available = quiz_policy.next_allowed(policy, last)
    update: dict[str, object] = {
        "max_attempts": policy.max_attempts,
        "attempts_left": left,
        "available_at": available if available is not None and available > utcnow() else None,
        "pass_mark": quiz.get("pass_mark"),
        "feedback": policy.feedback,
        "results": None,
    }
    if submission.status == "graded":
        final = left == 0
        correct = dict((submission.results or {}).get("correct", {}))
        questions = quiz_policy.feedback(quiz, submission.answers, correct, final)
        update["questions"] = questions
        if questions is not None:
            update["results"] = submission.results
    return view.model_copy(update=update)
