"""A quiz's policy at submission and in its result (docs/adr/0022-quiz-policy.md): pure functions of
the cached answer key (a published version's, so immutable) and a submission's attempt.

- The draw: which questions of the pool an attempt shows, in which order, and the order of their
  options; seeded by the attempt's id (enrolment, quiz, number), so a reload shows the same questions
  and grading uses exactly the drawn set.
- The feedback: what the result of an attempt may show. Never the correct answers before the last
  attempt unless the policy says so; with `after_last` and `score_only`, nothing per question before
  the last attempt, so trial and error learns the score only.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from typing import Any

from services.courses.schemas import QuizPolicy
from services.progress.schemas import AnswerShown, ChosenExplanation, DrawnQuestion, QuestionFeedback

# Per policy dictionary of a cached answer key (repository.answer_key keeps each key's JSON in memory):
# the entry holds the dictionary itself, so its id cannot be reused while the entry lives.
_POLICIES: dict[int, tuple[dict[str, Any], QuizPolicy, bool]] = {}


def _parsed(quiz: dict[str, Any]) -> tuple[QuizPolicy, bool]:
    raw = quiz.get("policy")
    if not raw:
        return DEFAULT, False
    known = _POLICIES.get(id(raw))
    if known is None or known[0] is not raw:
        if len(_POLICIES) >= 4096:
            _POLICIES.clear()
        policy = QuizPolicy.model_validate(raw)
        known = _POLICIES[id(raw)] = (raw, policy, policy.restricted())
    return known[1], known[2]


def policy_of(quiz: dict[str, Any]) -> QuizPolicy:
    """The quiz's policy (its key's JSON; a key cached before policies existed has the default one)."""
    return _parsed(quiz)[0]


def restricted(quiz: dict[str, Any]) -> bool:
    """Whether the quiz numbers its attempts (QuizPolicy.restricted), without parsing it again."""
    return _parsed(quiz)[1]


DEFAULT = QuizPolicy()


def attempt_id(enrolment_id: str, quiz_id: str, attempt: int) -> str:
    return f"{enrolment_id}/{quiz_id}/{attempt}"


def draw(quiz: dict[str, Any], seed: str | None) -> list[DrawnQuestion]:
    """The questions an attempt shows, in order, each with its options in order. Without a seed (a quiz
    that numbers no attempts) or a policy that neither draws nor shuffles: all, as authored."""
    policy = policy_of(quiz)
    questions = quiz["questions"]
    if seed is None or not (policy.draw or policy.shuffle_questions or policy.shuffle_options):
        return [DrawnQuestion(id=q["id"], options=[o["id"] for o in q.get("options", [])]) for q in questions]
    rng = random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))
    chosen = list(range(len(questions)))
    if policy.draw is not None and policy.draw < len(questions):
        chosen = sorted(rng.sample(chosen, policy.draw))
    if policy.shuffle_questions:
        rng.shuffle(chosen)
    drawn = []
    for index in chosen:
        options = [o["id"] for o in questions[index].get("options", [])]
        if policy.shuffle_options:
            rng.shuffle(options)
        drawn.append(DrawnQuestion(id=questions[index]["id"], options=options))
    return drawn


def drawn_quiz(quiz: dict[str, Any], seed: str | None) -> dict[str, Any]:
    """The quiz as graded for this attempt: only its drawn questions."""
    if seed is None or not policy_of(quiz).draw:
        return quiz
    ids = {d.id for d in draw(quiz, seed)}
    return {**quiz, "questions": [q for q in quiz["questions"] if q["id"] in ids]}


def next_allowed(policy: QuizPolicy, last_submitted: datetime | None) -> datetime | None:
    if not policy.cooldown_seconds or last_submitted is None:
        return None
    return last_submitted + timedelta(seconds=policy.cooldown_seconds)


def attempts_left(policy: QuizPolicy, used: int) -> int | None:
    return None if policy.max_attempts is None else max(policy.max_attempts - used, 0)


def shows_questions(policy: QuizPolicy, final: bool) -> bool:
    """Whether a result may say which questions were right and wrong (with the explanations)."""
    if policy.feedback == "score_only":
        return False
    return policy.feedback == "each_attempt" or final


def shows_answers(policy: QuizPolicy, final: bool) -> bool:
    """Whether a result may show the correct answers."""
    return shows_questions(policy, final) and (final or policy.show_answers)


def feedback(
    quiz: dict[str, Any], answers: dict[str, Any], correct: dict[str, bool], final: bool
) -> list[QuestionFeedback] | None:
    """Per question (as graded) whether it was right, the author's explanation and the explanation of
    each option chosen; the correct answer only where the policy allows. None: the policy shows only
    the score now."""
    policy = policy_of(quiz)
    if not shows_questions(policy, final):
        return None
    reveal = shows_answers(policy, final)
    found = []
    for question in quiz["questions"]:
        if question["id"] not in correct:
            continue  # not drawn for this attempt
        key: dict[str, Any] = question.get("answer") or {}
        per_option: dict[str, str] = key.get("explanations") or {}
        given = answers.get(question["id"])
        chosen = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(given)]
        found.append(
            QuestionFeedback(
                id=question["id"],
                correct=correct[question["id"]],
                explanation=key.get("explanation", ""),
                chosen=[
                    ChosenExplanation(option=c, explanation=per_option[c])
                    for c in chosen
                    if per_option.get(c)
                ],
                answer=_answer(question["kind"], key) if reveal else None,
            )
        )
    return found


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _answer(kind: str, key: dict[str, Any]) -> AnswerShown:
    if kind == "numeric":
        return AnswerShown(value=key.get("value"), tolerance=key.get("tolerance", 0.0))
    if kind == "short_text":
        return AnswerShown(accepted=key.get("accepted", []))
    return AnswerShown(correct=key.get("correct", []))
