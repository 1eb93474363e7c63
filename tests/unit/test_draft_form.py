"""The editor's pure form logic: numbers as teachers type them, outline moves, question forms, where a
service's error belongs, and the review page's line diff."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.web import draft_form as df
from gateway.web.review import line_diff


def outline() -> dict[str, Any]:
    return {
        "modules": [
            {
                "id": "m1",
                "title": "One",
                "items": [{"type": "lesson", "id": "l1", "title": "A", "markdown": ""}],
            },
            {
                "id": "m2",
                "title": "Two",
                "items": [
                    {"type": "lesson", "id": "l2", "title": "B", "markdown": ""},
                    {"type": "quiz", "id": "q1", "title": "Q", "questions": [{"id": "n1"}, {"id": "n2"}]},
                ],
            },
        ]
    }


def order(draft: dict[str, Any]) -> list[list[str]]:
    return [[i["id"] for i in m["items"]] for m in draft["modules"]]


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("70", 70.0),
        ("70,5", 70.5),
        (" 70.5 ", 70.5),
        ("1 000", 1000.0),
        ("-0,25", -0.25),
        ("", None),
        ("seventy", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_numbers_are_read_as_teachers_type_them(raw: str, number: float | None) -> None:
    assert df.parse_number(raw) == number


def test_up_and_down_cross_module_edges_and_new_ids_are_free() -> None:
    draft = outline()
    df.outline_op(draft, "up:l2", new_titles={})
    assert order(draft) == [["l1", "l2"], ["q1"]]
    df.outline_op(draft, "down:l2", new_titles={})
    assert order(draft) == [["l1"], ["l2", "q1"]]
    df.outline_op(draft, "up:l1", new_titles={})  # the very first item stays
    df.outline_op(draft, "down:q1", new_titles={})  # and the last one
    assert order(draft) == [["l1"], ["l2", "q1"]]
    df.outline_op(draft, "down:m1", new_titles={})
    assert [m["id"] for m in draft["modules"]] == ["m2", "m1"]
    df.outline_op(draft, "move:l1:m2:1", new_titles={})
    assert order(draft) == [["l2", "l1", "q1"], []]
    df.outline_op(draft, "move:m1:x:0", new_titles={})
    assert [m["id"] for m in draft["modules"]] == ["m1", "m2"]
    titles = {"module": "M", "lesson": "L", "quiz": "Q"}
    assert df.outline_op(draft, "add-lesson:m1", new_titles=titles) == "l3"
    assert df.outline_op(draft, "add-quiz:m1", new_titles=titles) == "q2"
    assert df.outline_op(draft, "add-module", new_titles=titles) == "m3"
    assert df.outline_op(draft, "add-lesson:nope", new_titles=titles) is None
    df.outline_op(draft, "remove:l3", new_titles=titles)  # asks first: nothing removed
    assert "l3" in order(draft)[0]
    df.outline_op(draft, "remove-confirmed:l3", new_titles=titles)
    assert order(draft)[0] == ["q2"]


def test_a_choice_question_form_keeps_ids_adds_rows_and_drops_blank_ones() -> None:
    item = {
        "type": "quiz",
        "id": "q1",
        "title": "Q",
        "questions": [
            {
                "id": "n1",
                "kind": "single",
                "prompt": "?",
                "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
            }
        ],
    }
    form = {
        "page": "quiz",
        "questions": "n1",
        "q.n1.kind": "single",
        "q.n1.prompt": " Which? ",
        "q.n1.rows": "4",
        "q.n1.o0.id": "a",
        "q.n1.o0.text": "",  # cleared: removed
        "q.n1.o1.id": "b",
        "q.n1.o1.text": "B",
        "q.n1.o1.why": "Because.",
        "q.n1.o2.id": "",
        "q.n1.o2.text": "New",
        "q.n1.o3.text": "",
        "q.n1.correct": "2",
        "q.n1.ind": ["II.KA.1", "II.KA.1"],
    }
    errors = df.Errors()
    df.apply_quiz(item, form, errors)
    (q,) = item["questions"]
    assert not errors and q["prompt"] == "Which?" and q["indicators"] == ["II.KA.1"]
    assert q["options"] == [
        {"id": "b", "text": "B"},
        {"id": "c", "text": "New"},
    ]  # a removed id is not reused
    assert q["answer"]["correct"] == ["c"] and q["answer"]["explanations"] == {"b": "Because."}
    assert [r["id"] for r in df.option_rows(q)] == ["b", "c", "", ""]


def test_a_number_that_is_not_one_is_kept_as_typed() -> None:
    item = {"type": "quiz", "id": "q1", "title": "Q", "questions": []}
    form = {
        "page": "quiz",
        "questions": "n1",
        "q.n1.kind": "numeric",
        "q.n1.value": "seventy",
        "q.n1.tolerance": "0,5",
    }
    errors = df.Errors()
    df.apply_quiz(item, form, errors)
    assert errors.raw == {"q.n1.value": "seventy"} and list(errors.fields) == ["q.n1.value"]
    assert item["questions"][0]["answer"]["tolerance"] == 0.5


def test_a_validation_path_names_its_item_and_question() -> None:
    draft = outline()
    path = {"field": "modules.1.items.1.quiz.questions.1.answer.value", "message": "x"}
    assert df.error_place(draft, path) == ("q1", "n2", "value")
    assert df.error_place(draft, {"field": "pass_mark"}) == (None, None, "pass_mark")
    assert df.error_place(draft, {"field": "modules.0.items.0.lesson.title"}) == ("l1", None, "title")
    named = {"item": "q1", "question": "n1", "name": "correct", "field": "q1/n1 correct"}
    assert df.error_place(draft, named) == ("q1", "n1", "correct")
    assert df.field_key(draft, "q1", "n1", "correct", "q1") == "q.n1.correct"
    assert df.field_key(draft, "l1", None, "markdown", "l1") == "markdown"
    assert df.field_key(draft, "l1", None, "title", None) == "item.l1.title"
    assert df.field_key(draft, "m2", None, "items", None) == "module.m2.items"


def test_the_line_diff_marks_changes_and_skips_long_unchanged_runs() -> None:
    before = "\n".join(f"line {n}" for n in range(10))
    after = before.replace("line 7", "line seven")
    diff = line_diff(before, after)
    assert ("del", "line 7") in diff and ("ins", "line seven") in diff
    assert diff[0][0] == "skip" and ("same", "line 6") in diff and ("same", "line 1") not in diff
    assert line_diff("", "new") == [("ins", "new")]
