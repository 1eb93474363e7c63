"""Pure logic of the pages: where a teacher continues, what a verifier pasted, how a typed number
reads, how chart labels fit, and the heat table's contrast."""

from __future__ import annotations

import pytest

from gateway.web.certificates import classify
from gateway.web.charts import contrast, heat_colours, label_column, text_width, wrap
from gateway.web.journey import continue_at, last_course, outline, quiz_states, viewed_items
from gateway.web.quizzes import number, quiz_answers

CONTENT = {
    "modules": [
        {
            "items": [
                {"id": "l1", "type": "lesson", "title": "A"},
                {"id": "l2", "type": "lesson", "title": "B"},
            ]
        },
        {"items": [{"id": "q1", "type": "quiz", "title": "Q"}]},
    ]
}


def seen(*items: str, course: str = "c1") -> list[dict[str, object]]:
    return [{"object": {"id": f"urn:ustaz:course:{course}/item/{i}"}} for i in items]


def test_the_teacher_continues_at_the_first_item_not_done() -> None:
    assert continue_at(outline(CONTENT, set(), {}))["id"] == "l1"  # type: ignore[index]
    assert continue_at(outline(CONTENT, {"l1"}, {}))["id"] == "l2"  # type: ignore[index]
    after = outline(CONTENT, viewed_items(seen("l1", "l2") + seen("l9", course="c2"), "c1"), {})
    assert [i["state"] for i in after] == ["read", "read", "untried"] and continue_at(after)["id"] == "q1"  # type: ignore[index]
    tried = quiz_states([{"quiz_id": "q1", "status": "graded", "passed": False}])
    assert continue_at(outline(CONTENT, {"l1", "l2"}, tried))["id"] == "q1"  # type: ignore[index]
    passed = quiz_states(
        [
            {"quiz_id": "q1", "status": "graded", "passed": True},
            {"quiz_id": "q1", "status": "graded", "passed": False},
        ]
    )
    assert passed == {"q1": "passed"} and continue_at(outline(CONTENT, {"l1", "l2"}, passed)) is None
    assert last_course(seen("l2", course="c2") + seen("l1")) == "c2" and last_course([]) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-D915EFAC", ("number", "2026-D915EFAC")),
        (" № 2026-d915efac ", ("number", "2026-D915EFAC")),
        (
            "https://ustaz.kz/verify/0b6a3c55-1f0e-4d4a-9d55-3f1f8f1b2c3d",
            ("id", "0b6a3c55-1f0e-4d4a-9d55-3f1f8f1b2c3d"),
        ),
        ("hello world", ("not", "")),
        ("2026-D915EFAC extra", ("not", "")),
        ("https://ustaz.kz/verify/c/abc.def.ghi", ("credential", "https://ustaz.kz/verify/c/abc.def.ghi")),
        ('{"jwt": "x"}', ("credential", '{"jwt": "x"}')),
        ("eyJhbGciOiJFZERTQSJ9.eyJhIjoxfQ.c2ln", ("credential", "eyJhbGciOiJFZERTQSJ9.eyJhIjoxfQ.c2ln")),
        ("aaa.bbb.ccc", ("not", "")),  # three parts, but no JWT header
    ],
)
def test_what_a_verifier_pasted(text: str, expected: tuple[str, str]) -> None:
    assert classify(text) == expected


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("70", 70.0),
        ("70,0", 70.0),
        ("70.5", 70.5),
        (" 1 000,5 ", 1000.5),
        ("1\u00a0000", 1000.0),
        ("x", None),
    ],
)
def test_a_decimal_comma_is_a_number(typed: str, value: float | None) -> None:
    assert number(typed) == value


def test_quiz_answers_read_the_form() -> None:
    questions = [
        {"id": "a", "kind": "single"},
        {"id": "b", "kind": "multiple"},
        {"id": "c", "kind": "numeric"},
    ]
    assert quiz_answers(questions, {}) == ({}, [])
    assert quiz_answers(questions, {"a": "x", "b": "y", "c": "70,0"}) == (
        {"a": "x", "b": ["y"], "c": 70.0},
        [],
    )
    assert quiz_answers(questions, {"c": "seventy", "a": "  "}) == ({"c": "seventy"}, ["c"])


def test_labels_wrap_and_shorten_within_their_column() -> None:
    for label in ("Получили сертификат", "Сертификат алды", "Гэрчилгээ", "Yakunlangan", "Certified"):
        lines = wrap(label, 70, 11)
        assert 1 <= len(lines) <= 2 and all(text_width(line, 11) <= 70 for line in lines), lines
    assert wrap("Enrolled", 70, 11) == ["Enrolled"]
    assert wrap("Қарағанды облысының Бұқар жырау ауданы", 60, 10)[-1].endswith("…")
    assert label_column(["Ab"], 11, most=140) == 40 and label_column(["W" * 40], 11, most=140) == 140


def test_heat_cells_keep_wcag_aa_contrast_on_every_shade() -> None:
    def rgb(h: str) -> tuple[int, int, int]:
        return int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)

    for i in range(101):
        background, text = heat_colours(i / 100)
        assert contrast(rgb(background), rgb(text)) >= 4.5, (i, background, text)
    assert heat_colours(0)[1] == "#000000" and heat_colours(1)[1] == "#ffffff"
