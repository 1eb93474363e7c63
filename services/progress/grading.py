"""Grading a batch: every pending submission of a message in one transaction (issue 13).

The grader's consumer receives up to a hundred `submission.received` events in one message
(libs/outbox.py). Graded one by one, each cost about fifteen statements; here the batch's
submissions and enrolments are read and locked with one query each (in id order: concurrent
graders of overlapping batches, and rollup refreshes, take turns and never deadlock), the answer
keys come from memory (repository.answer_key), the results are one UPDATE per submission in one
flush, the `submission.graded` events one INSERT, and completion is evaluated once per enrolment
that is not complete yet and has a passing submission in the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from libs.outbox import emit_many, utcnow
from services.progress import repository, statements
from services.progress.models import Enrolment, Submission, outbox
from services.progress.quiz_policy import attempt_id, drawn_quiz
from services.progress.schemas import SubmissionGraded
from services.progress.service import MissingAnswerKey, evaluate_completion, grade_quiz, quiz_key


def grade_submissions(session: Session, submission_ids: Sequence[str]) -> list[Submission]:
    """Grade the ungraded ones among these submissions, once each; returns them graded."""
    pending = repository.to_grade(session, submission_ids)
    if not pending:
        return []
    enrolments = repository.enrolments_locked(session, {s.enrolment_id for s in pending})
    keys = {}
    for enrolment in enrolments.values():
        cached = repository.answer_key(session, enrolment.course_id, enrolment.version)
        if cached is None:
            raise MissingAnswerKey(enrolment.course_id, enrolment.version)
        keys[enrolment.id] = cached.key
    now = utcnow()
    for submission in pending:
        quiz = quiz_key(keys[submission.enrolment_id], submission.quiz_id)
        assert quiz is not None, "submit() validated the quiz against this key"
        if submission.attempt is not None:  # exactly the questions this attempt drew (ADR 0022)
            seed = attempt_id(submission.enrolment_id, submission.quiz_id, submission.attempt)
            quiz = drawn_quiz(quiz, seed)
        submission.score, submission.passed, submission.results = grade_quiz(quiz, submission.answers)
        submission.status, submission.graded_at = "graded", now
    session.add_all(pending)
    session.flush()
    _record(session, pending, enrolments)
    passing = {s.enrolment_id for s in pending if s.passed}
    for enrolment_id in sorted(passing - repository.completed_among(session, passing)):
        evaluate_completion(session, enrolments[enrolment_id], keys[enrolment_id])
    return pending


def _record(session: Session, graded: list[Submission], enrolments: dict[str, Enrolment]) -> None:
    """Each result as a statement (its id derives from the submission's, so it is stored once) and
    the batch's `submission.graded` events in one INSERT."""
    graded_at = graded[0].graded_at or utcnow()
    statements.store_graded(session, [(enrolments[s.enrolment_id], s) for s in graded], graded_at)
    emit_many(
        session,
        outbox,
        [
            SubmissionGraded(
                submission_id=s.id,
                user_id=enrolments[s.enrolment_id].user_id,
                course_id=enrolments[s.enrolment_id].course_id,
                version=enrolments[s.enrolment_id].version,
                quiz_id=s.quiz_id,
                score=s.score or 0.0,
                passed=bool(s.passed),
                org_path=enrolments[s.enrolment_id].org_path,
                graded_at=s.graded_at or utcnow(),
            )
            for s in graded
        ],
    )
