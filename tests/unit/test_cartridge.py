"""Common Cartridge 1.3 export without a database (services/courses/cartridge.py, qti.py): every
question type, explanations, an image and competencies, judged by 1EdTech's CC 1.3 XSDs; and the
QTI items read back as the same questions (numeric: the value, not the tolerance)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from services.courses import cartridge, qti
from services.courses.cartridge_import import language
from services.courses.html_markdown import to_markdown
from services.courses.schemas import CourseContent
from tests.cc_schemas import MANIFEST, MANIFEST_11, QTI, moodle_detects, problems

SHA = "a" * 64
IMAGE = f"/api/v1/courses/images/{SHA}.webp"


def content() -> CourseContent:
    key = {"explanation": "Because.", "explanations": {}}
    questions = [
        {
            "id": "s",
            "kind": "single",
            "prompt": "One?",
            "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
            "indicators": ["I.1"],
            "answer": {**key, "correct": ["b"], "explanations": {"a": "Not a."}},
        },
        {
            "id": "m",
            "kind": "multiple",
            "prompt": "Two?",
            "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}, {"id": "c", "text": "C"}],
            "answer": {**key, "correct": ["a", "c"]},
        },
        {
            "id": "t",
            "kind": "true_false",
            "prompt": "True?",
            "answer": {**key, "correct": ["false"], "explanations": {"false": "Yes, false."}},
        },
        {"id": "n", "kind": "numeric", "prompt": "How many?", "answer": {**key, "value": 30, "tolerance": 2}},
        {
            "id": "x",
            "kind": "short_text",
            "prompt": "Name it",
            "answer": {**key, "accepted": ["exit ticket", "exit slip"]},
        },
    ]
    return CourseContent.model_validate(
        {
            "course_id": "c1",
            "version": 2,
            "language": "ru",
            "institute_id": "i1",
            "title": "Курс & <тест>",
            "summary": "S",
            "framework": "F",
            "modules": [
                {
                    "id": "m1",
                    "title": "Модуль",
                    "items": [
                        {
                            "type": "lesson",
                            "id": "1l",
                            "title": "L",
                            "markdown": f"# L\n\n![a picture]({IMAGE})\n",
                            "html": f'<p><img src="{IMAGE}" alt="a picture" loading="lazy"></p>',
                            "indicators": ["I.1", "Z.9"],
                        },
                        {"type": "quiz", "id": "q1", "title": "Q", "questions": questions},
                    ],
                }
            ],
        }
    )


def test_an_export_passes_the_cc_13_schemas() -> None:
    files = cartridge.build(content(), {"I.1": "guid-1"}, {f"{SHA}.webp": b"webp"})
    assert sorted(files) == [
        "imsmanifest.xml",
        "lessons/1l.html",
        "lessons/1l.md",
        "quizzes/q1/assessment.xml",
        f"web_resources/images/{SHA}.webp",
    ]
    assert problems(MANIFEST, files["imsmanifest.xml"]) == []
    assert problems(QTI, files["quizzes/q1/assessment.xml"]) == []
    manifest = files["imsmanifest.xml"].decode()
    assert (
        "<GUID>guid-1</GUID>" in manifest.replace("csmd:", "") and "Z.9" not in manifest
    )  # unknown codes not invented
    assert f'src="../web_resources/images/{SHA}.webp"' in files["lessons/1l.html"].decode()
    assert '<file href="web_resources/images/' in manifest


def test_a_cc_11_export_passes_the_schemas_moodle_validates_with() -> None:
    files = cartridge.build(content(), {"I.1": "guid-1"}, {f"{SHA}.webp": b"webp"}, "1.1")
    manifest = files["imsmanifest.xml"]
    assert problems(MANIFEST_11, manifest) == [] and moodle_detects(manifest)
    assert problems(QTI, files["quizzes/q1/assessment.xml"]) == []
    assert b"imsqti_xmlv1p2/imscc_xmlv1p1/assessment" in manifest and b"<schemaversion>1.1.0<" in manifest
    assert b"GUID" not in manifest  # CC 1.1 has no curriculum standards metadata
    assert not moodle_detects(cartridge.build(content(), {}, {})["imsmanifest.xml"])  # 1.3 is not 1.1
    assert problems(MANIFEST, manifest) and problems(
        MANIFEST_11, cartridge.build(content(), {}, {})["imsmanifest.xml"]
    )


@pytest.mark.parametrize(
    "part,before,after,message",
    [
        (MANIFEST, b'type="webcontent"', b'type="imsqti_xmlv1p2/imscc_xmlv1p1/assessment"', "type"),
        (MANIFEST, b"csmd:labelledGUID", b"csmd:labelGUID", "labelGUID"),  # alignment metadata is checked
        (MANIFEST, b"lomimscc:language", b"lomimscc:lang", "lang"),  # and the LOM metadata
        (QTI, b'rcardinality="Single"', b'rcardinality="One"', "rcardinality"),
        (QTI, b"<decvar ", b"<decvarx ", "decvarx"),
    ],
)
def test_the_schemas_do_catch_mistakes_in_every_part(
    part: str, before: bytes, after: bytes, message: str
) -> None:
    files = cartridge.build(content(), {"I.1": "guid-1"}, {})
    name = "imsmanifest.xml" if part == MANIFEST else "quizzes/q1/assessment.xml"
    assert before in files[name]
    assert any(message in p for p in problems(part, files[name].replace(before, after)))


def test_every_file_is_in_the_manifest_and_every_file_it_names_is_there() -> None:
    files = cartridge.build(content(), {"I.1": "guid-1"}, {f"{SHA}.webp": b"webp"})
    manifest = ET.fromstring(files["imsmanifest.xml"])
    named = {f.get("href") for f in manifest.iter(f"{{{cartridge.CP}}}file")}
    assert named == set(files) - {"imsmanifest.xml"}
    resources = {r.get("identifier") for r in manifest.iter(f"{{{cartridge.CP}}}resource")}
    refs = {
        i.get("identifierref") for i in manifest.iter(f"{{{cartridge.CP}}}item") if i.get("identifierref")
    }
    assert refs == resources


def test_the_qti_items_read_back_as_the_questions() -> None:
    original = content().items()[1]
    assert original.type == "quiz"
    root = ET.fromstring(qti.assessment("quiz_q1", "Q", original.questions, "ru"))
    read = [qti.read_item(item) for item in root.iter(qti.q("item"))]
    got = {
        q.id: (q.kind, q.answer.correct if q.answer else None, q.answer.accepted if q.answer else None)
        for q, _ in read
        if q
    }
    assert got == {
        "s": ("single", ["b"], []),
        "m": ("multiple", ["a", "c"], []),
        "t": ("true_false", ["false"], []),
        "n": ("short_text", [], ["30"]),  # CC's profile has no numbers: the tolerance is lost
        "x": ("short_text", [], ["exit ticket", "exit slip"]),
    }
    single = next(q for q, _ in read if q and q.id == "s")
    assert single.answer and (single.answer.explanation, single.answer.explanations) == (
        "Because.",
        {"a": "Not a."},
    )
    assert [o.text for o in single.options] == ["A", "B"]


def test_lesson_html_from_other_tools_becomes_markdown() -> None:
    html = (
        "<html><head><title>x</title><style>p{}</style></head><body><h2>Plan</h2><p>Use <strong>one</strong> "
        '<a href="https://example.org">phone</a>.<br>Then</p><ul><li>ask</li><li>wait</li></ul>'
        '<ol><li>one</li></ol><img src="pics/a.png" alt="A [chart]"><script>alert(1)</script></body></html>'
    )
    assert to_markdown(html, {"pics/a.png": "/img/a.webp"}) == (
        "## Plan\n\nUse **one** [phone](https://example.org).\\\nThen\n\n- ask\n- wait\n\n1. one\n\n"
        "![A (chart)](/img/a.webp)\n"
    )


@pytest.mark.parametrize(
    "tag,expected",
    [("ru", "ru"), ("ru-RU", "ru"), ("uz-Cyrl", "uz-Cyrl"), ("uz_Cyrl_UZ", "uz-Cyrl"), ("UZ", "uz")]
    + [("mn-MN", "mn"), ("de", "en"), ("", "en"), ("x-klingon", "en")],
)
def test_a_lom_language_tag_becomes_a_course_language(tag: str, expected: str) -> None:
    assert language(tag) == expected
