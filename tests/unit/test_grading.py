"""Grading is a pure, deterministic function of the answer key and the answers."""

from __future__ import annotations

import pytest

from services.progress.service import grade_quiz, is_correct

SINGLE = {"id": "a", "kind": "single", "answer": {"correct": ["b"]}}
MULTIPLE = {"id": "b", "kind": "multiple", "answer": {"correct": ["x", "z"]}}
TRUE_FALSE = {"id": "c", "kind": "true_false", "answer": {"correct": ["false"]}}
NUMERIC = {"id": "d", "kind": "numeric", "answer": {"value": 70, "tolerance": 0.5}}
SHORT = {"id": "e", "kind": "short_text", "answer": {"accepted": ["Формативное оценивание", "formative"]}}


@pytest.mark.parametrize(
    ("question", "answer", "expected"),
    [
        (SINGLE, "b", True),
        (SINGLE, "a", False),
        (SINGLE, ["b"], False),
        (SINGLE, None, False),
        (MULTIPLE, ["z", "x"], True),
        (MULTIPLE, ["x"], False),
        (MULTIPLE, ["x", "y", "z"], False),
        (MULTIPLE, "x", False),
        (TRUE_FALSE, False, True),
        (TRUE_FALSE, "false", True),
        (TRUE_FALSE, True, False),
        (TRUE_FALSE, "true", False),
        (NUMERIC, 70, True),
        (NUMERIC, "70.4", True),
        (NUMERIC, 70.6, False),
        (NUMERIC, "nan", False),
        (NUMERIC, "seventy", False),
        (NUMERIC, "inf", False),
        (SHORT, "  формативное   ОЦЕНИВАНИЕ ", True),
        (SHORT, "Formative", True),
        (SHORT, "summative", False),
    ],
)
def test_each_question_kind(question: dict[str, object], answer: object, expected: bool) -> None:
    assert is_correct(question, answer) is expected


def test_quiz_score_and_pass_mark() -> None:
    quiz = {"pass_mark": 0.7, "questions": [SINGLE, TRUE_FALSE, NUMERIC]}
    assert grade_quiz(quiz, {"a": "b", "c": False, "d": 70}) == (
        1.0,
        True,
        {"correct": {"a": True, "c": True, "d": True}},
    )
    score, passed, _ = grade_quiz(quiz, {"a": "b", "c": False, "d": 1})
    assert (score, passed) == (0.6667, False)
    assert grade_quiz(quiz, {"a": "b", "c": False, "d": 70}) == grade_quiz(
        quiz, {"d": 70, "c": False, "a": "b"}
    )
