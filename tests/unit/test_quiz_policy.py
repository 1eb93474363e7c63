"""The quiz policy's pure rules (docs/adr/0022-quiz-policy.md): the draw and shuffles per attempt,
what each feedback policy shows when, the policy's validation, and the editor's policy fields."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from gateway.web.draft_form import Errors
from gateway.web.quiz_policy_form import apply_policy
from services.courses.checks import policy_problems
from services.courses.schemas import Quiz, QuizPolicy
from services.progress import quiz_policy


def pool(size: int = 6, **policy: Any) -> dict[str, Any]:
    return {
        "quiz_id": "quiz",
        "pass_mark": 0.5,
        "policy": policy,
        "questions": [
            {
                "id": f"q{i}",
                "kind": "single",
                "prompt": f"Question {i}",
                "options": [{"id": o, "text": o} for o in "abcd"],
                "answer": {"correct": ["a"], "explanation": f"Because {i}.", "explanations": {"b": "Not b."}},
            }
            for i in range(size)
        ],
    }


def test_no_seed_or_no_draw_shows_every_question_as_authored() -> None:
    quiz = pool(draw=3)
    assert [d.id for d in quiz_policy.draw(quiz, None)] == [f"q{i}" for i in range(6)]
    plain = pool()
    assert [d.id for d in quiz_policy.draw(plain, "e/quiz/1")] == [f"q{i}" for i in range(6)]
    assert quiz_policy.draw(plain, "e/quiz/1")[0].options == ["a", "b", "c", "d"]


def test_the_draw_is_the_same_for_an_attempt_and_varies_between_attempts() -> None:
    quiz = pool(draw=3, shuffle_questions=True, shuffle_options=True)
    seed = quiz_policy.attempt_id("enrolment", "quiz", 1)
    first = quiz_policy.draw(quiz, seed)
    assert first == quiz_policy.draw(quiz, seed), "a reload shows the same questions"
    assert len(first) == 3 and len({d.id for d in first}) == 3
    assert all(sorted(d.options) == ["a", "b", "c", "d"] for d in first)
    draws = {
        tuple(d.id for d in quiz_policy.draw(quiz, quiz_policy.attempt_id("e", "quiz", n))) for n in range(20)
    }
    assert len(draws) > 5, "attempts draw different questions"
    orders = {
        tuple(quiz_policy.draw(quiz, quiz_policy.attempt_id("e", "quiz", n))[0].options) for n in range(20)
    }
    assert len(orders) > 3, "options are shuffled"


def test_without_shuffling_the_drawn_questions_keep_their_authored_order() -> None:
    quiz = pool(draw=4)
    for n in range(10):
        ids = [d.id for d in quiz_policy.draw(quiz, quiz_policy.attempt_id("e", "quiz", n))]
        assert ids == sorted(ids, key=lambda q: int(q[1:]))


def test_grading_uses_exactly_the_drawn_questions() -> None:
    quiz = pool(draw=2)
    seed = quiz_policy.attempt_id("e", "quiz", 3)
    drawn = quiz_policy.drawn_quiz(quiz, seed)
    assert [q["id"] for q in drawn["questions"]] == [d.id for d in quiz_policy.draw(quiz, seed)]
    assert (
        quiz_policy.drawn_quiz(pool(), seed) is not None
        and len(quiz_policy.drawn_quiz(pool(), seed)["questions"]) == 6
    )


@pytest.mark.parametrize(
    ("feedback", "show_answers", "final", "questions", "answers"),
    [
        ("each_attempt", False, False, True, False),
        ("each_attempt", True, False, True, True),
        ("each_attempt", False, True, True, True),
        ("after_last", False, False, False, False),
        ("after_last", True, False, False, False),
        ("after_last", False, True, True, True),
        ("score_only", False, False, False, False),
        ("score_only", True, True, False, False),
    ],
)
def test_what_each_feedback_policy_shows_when(
    feedback: str, show_answers: bool, final: bool, questions: bool, answers: bool
) -> None:
    quiz = pool(2, feedback=feedback, show_answers=show_answers, max_attempts=2)
    shown = quiz_policy.feedback(quiz, {"q0": "b", "q1": "a"}, {"q0": False, "q1": True}, final)
    assert (shown is not None) is questions
    if shown is not None:
        assert [(q.id, q.correct) for q in shown] == [("q0", False), ("q1", True)]
        assert shown[0].explanation == "Because 0." and shown[0].chosen[0].explanation == "Not b."
        assert all((q.answer is not None) is answers for q in shown)
        if answers:
            assert shown[0].answer is not None and shown[0].answer.correct == ["a"]


def test_feedback_names_only_the_questions_graded_in_the_attempt() -> None:
    shown = quiz_policy.feedback(pool(), {"q4": "a"}, {"q4": True}, final=False)
    assert shown is not None and [q.id for q in shown] == ["q4"]


def test_attempts_and_the_cool_down() -> None:
    from datetime import UTC, datetime, timedelta

    policy = QuizPolicy(max_attempts=3, cooldown_seconds=600)
    assert quiz_policy.attempts_left(policy, 1) == 2 and quiz_policy.attempts_left(policy, 5) == 0
    assert quiz_policy.attempts_left(QuizPolicy(), 40) is None
    last = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert quiz_policy.next_allowed(policy, last) == last + timedelta(minutes=10)
    assert (
        quiz_policy.next_allowed(QuizPolicy(), last) is None
        and quiz_policy.next_allowed(policy, None) is None
    )
    assert not QuizPolicy().restricted() and QuizPolicy(shuffle_options=True).restricted()


def test_a_key_without_a_policy_has_the_default_one() -> None:
    assert quiz_policy.policy_of({"questions": []}) == QuizPolicy()
    assert quiz_policy.policy_of({"policy": {"max_attempts": 2}}).max_attempts == 2


def test_policies_that_cannot_work_are_problems_and_bad_values_are_refused() -> None:
    quiz = Quiz.model_validate(pool(3, draw=5, feedback="after_last") | {"id": "quiz", "title": "Q"})
    assert {code for _, code, _ in policy_problems(quiz)} == {"draw_exceeds_pool", "no_last_attempt"}
    fine = Quiz.model_validate(
        pool(3, draw=2, feedback="after_last", max_attempts=2) | {"id": "quiz", "title": "Q"}
    )
    assert policy_problems(fine) == []
    for bad in ({"max_attempts": 0}, {"cooldown_seconds": -1}, {"feedback": "never"}, {"retries": 2}):
        with pytest.raises(ValidationError):
            QuizPolicy.model_validate(bad)


def test_the_editor_reads_the_policy_fields_and_keeps_bad_input_with_its_error() -> None:
    item: dict[str, Any] = {"policy": {"max_attempts": 4}}
    form = {
        "policy.max_attempts": "3",
        "policy.cooldown_minutes": "10",
        "policy.feedback": "after_last",
        "policy.draw": "",
        "policy.shuffle_options": "on",
    }
    errors = Errors()
    apply_policy(item, form, errors)
    assert not errors
    assert item["policy"] == {
        "max_attempts": 3,
        "draw": None,
        "cooldown_seconds": 600,
        "feedback": "after_last",
        "show_answers": False,
        "shuffle_questions": False,
        "shuffle_options": True,
    }
    item = {"policy": {"max_attempts": 4}}
    apply_policy(item, {"policy.max_attempts": "2,5", "policy.feedback": "nonsense"}, errors)
    assert "policy.max_attempts" in errors.fields and errors.raw["policy.max_attempts"] == "2,5"
    assert item["policy"]["max_attempts"] == 4 and "feedback" not in item["policy"]


def test_the_competency_profile_tells_no_more_than_the_feedback_policy() -> None:
    from services.progress.competency import evidence_from
    from services.progress.repository import Graded

    quiz = pool(2, feedback="after_last", max_attempts=3)
    for i, question in enumerate(quiz["questions"]):
        question["indicators"] = [f"I{i}"]
    key = {"quizzes": [quiz]}
    results = {"correct": {"q0": True, "q1": False}}
    early = evidence_from([Graded("c", 1, "quiz", results, attempt=1, passed=False)], lambda c, v: key)
    assert early == {"I0": [False], "I1": [False]}, "per question only as the attempt's pass or fail"
    last = evidence_from([Graded("c", 1, "quiz", results, attempt=3, passed=False)], lambda c, v: key)
    assert last == {"I0": [True], "I1": [False]}
    unnumbered = evidence_from([Graded("c", 1, "quiz", results)], lambda c, v: key)
    assert unnumbered == {"I0": [True], "I1": [False]}
