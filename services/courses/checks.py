"""What a draft must satisfy before it is stored (`check_lessons`, `check_draft`) and before it goes to
review (`check_ready`). Every problem is reported at once, each naming the item, the question and the
field it is about (`item`, `question`, `name`) and a stable `code` that pages translate."""

from __future__ import annotations

import math
import re
from typing import Any

from sqlmodel import Session

from libs.errors import PayloadTooLarge, Unprocessable
from services.courses import repository
from services.courses.markdown import markdown_issues
from services.courses.schemas import CourseMeta, Lesson, Question, Quiz

ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
CHOICE = ("single", "multiple")


def problem(
    message: str,
    *,
    code: str,
    name: str,
    item: str | None = None,
    question: str | None = None,
    value: str | None = None,
) -> dict[str, Any]:
    where = "/".join(p for p in (item, question) if p)
    entry: dict[str, Any] = {
        "field": f"{where} {name}".strip(),
        "message": message,
        "code": code,
        "name": name,
        "item": item,
        "question": question,
    }
    if value is not None:
        entry["value"] = value
    return entry


def check_lessons(draft: CourseMeta, *, max_bytes: int, max_images: int) -> None:
    """413 for a lesson whose Markdown is larger than the cap; 422 naming lesson and line for Markdown
    an author must fix (see `markdown_issues`)."""
    errors = []
    for module in draft.modules:
        for item in module.items:
            if not isinstance(item, Lesson):
                continue
            if len(item.markdown.encode()) > max_bytes:
                raise PayloadTooLarge(
                    f"Lesson {item.id} is {len(item.markdown.encode())} bytes; the limit is {max_bytes}.",
                    item=item.id,
                )
            errors += [
                {
                    "field": f"lesson {item.id} line {line}",
                    "message": message,
                    "code": code,
                    "name": "markdown",
                    "item": item.id,
                    "question": None,
                    "line": line,
                }
                for line, code, message in markdown_issues(item.markdown, max_images=max_images)
            ]
    if errors:
        raise Unprocessable(f"{len(errors)} problem(s) in lesson Markdown", errors=errors)


def _choice_problems(q: Question, correct: list[str]) -> list[tuple[str, str, str]]:
    out = []
    ids = [o.id for o in q.options]
    if len(q.options) < 2:
        out.append(("options", "few_options", "a choice question needs at least two options"))
    if len(set(ids)) != len(ids) or not all(ID.match(i) for i in ids):
        out.append(("options", "option_ids", "option ids must be unique letters, digits, - or _"))
    if any(not o.text.strip() for o in q.options):
        out.append(("options", "blank_option", "an option has no text"))
    if not correct:
        out.append(("correct", "no_correct", "mark the correct answer"))
    elif q.kind == "single" and len(correct) > 1:
        out.append(("correct", "one_correct", "a single-choice question has exactly one correct option"))
    if set(correct) - set(ids):
        out.append(("correct", "unknown_option", "a correct answer names no option of the question"))
    return out


def question_problems(q: Question) -> list[tuple[str, str, str]]:
    """(field name, code, message) for a question that could not be graded or explained as written."""
    key = q.answer
    correct = key.correct if key else []
    out: list[tuple[str, str, str]] = []
    if not q.prompt.strip():
        out.append(("prompt", "no_prompt", "the question has no prompt"))
    if q.kind in CHOICE:
        out += _choice_problems(q, correct)
        choices = {o.id for o in q.options}
    elif q.kind == "true_false":
        if correct not in (["true"], ["false"]):
            out.append(("correct", "no_correct", "say whether the statement is true or false"))
        choices = {"true", "false"}
    elif q.kind == "numeric":
        if key is None or key.value is None or not math.isfinite(key.value):
            out.append(("value", "no_value", "give the correct number"))
        if key is not None and not (math.isfinite(key.tolerance) and key.tolerance >= 0):
            out.append(("tolerance", "bad_tolerance", "the tolerance is a number of zero or more"))
        choices = set()
    else:  # short_text
        if key is None or not any(a.strip() for a in key.accepted):
            out.append(("accepted", "no_accepted", "give at least one accepted answer"))
        choices = set()
    if key is not None and set(key.explanations) - choices:
        out.append(("explanations", "unknown_option", "an explanation names no option of the question"))
    return out


def _id_problems(draft: CourseMeta) -> list[dict[str, Any]]:
    errors = []
    seen_modules: set[str] = set()
    seen_items: set[str] = set()
    for module in draft.modules:
        if not ID.match(module.id) or module.id in seen_modules:
            errors.append(problem("module ids must be unique", code="bad_id", name="id", item=module.id))
        seen_modules.add(module.id)
        for item in module.items:
            if not ID.match(item.id) or item.id in seen_items:
                errors.append(problem("item ids must be unique", code="bad_id", name="id", item=item.id))
            seen_items.add(item.id)
            if isinstance(item, Quiz):
                qids = [q.id for q in item.questions]
                for qid in qids:
                    if not ID.match(qid) or qids.count(qid) > 1:
                        errors.append(
                            problem(
                                "question ids must be unique in a quiz",
                                code="bad_id",
                                name="id",
                                item=item.id,
                                question=qid,
                            )
                        )
    return errors


def _indicator_problems(session: Session, draft: CourseMeta) -> list[dict[str, Any]]:
    framework = repository.framework_by_code(session, draft.framework)
    if framework is None:
        return [
            problem(
                f"unknown competency framework {draft.framework!r}",
                code="unknown_framework",
                name="framework",
                value=draft.framework,
            )
        ]
    known = {i.code for i in repository.framework_items(session, framework.id) if not i.retired}
    tagged: list[tuple[str, str | None, list[str]]] = []
    for item in [i for m in draft.modules for i in m.items]:
        if isinstance(item, Lesson):
            tagged.append((item.id, None, item.indicators))
        else:
            tagged += [(item.id, q.id, q.indicators) for q in item.questions]
    return [
        problem(
            f"indicator {code!r} is not in {draft.framework} (or is retired)",
            code="unknown_indicator",
            name="indicators",
            item=item_id,
            question=question_id,
            value=code,
        )
        for item_id, question_id, codes in tagged
        for code in codes
        if code not in known
    ]


def check_draft(session: Session, draft: CourseMeta) -> None:
    """422 listing every problem: ids not unique, an unknown framework or indicator, a question without
    a correct answer (or one that could not be graded as written)."""
    errors = _id_problems(draft) + _indicator_problems(session, draft)
    for item in [i for m in draft.modules for i in m.items]:
        if isinstance(item, Quiz):
            errors += [
                problem(message, code=code, name=name, item=item.id, question=q.id)
                for q in item.questions
                for name, code, message in question_problems(q)
            ]
    if errors:
        raise Unprocessable(f"{len(errors)} problem(s) in the draft", errors=errors)


def check_ready(draft: CourseMeta) -> None:
    """422 for a draft that is not a whole course yet: a reviewer gets no empty module, lesson or quiz."""
    errors = []
    if not draft.modules:
        errors.append(problem("the course has no module", code="empty_course", name="modules"))
    for module in draft.modules:
        if not module.items:
            errors.append(problem("the module is empty", code="empty_module", name="items", item=module.id))
        for item in module.items:
            if isinstance(item, Lesson) and not item.markdown.strip():
                errors.append(
                    problem("the lesson has no text", code="empty_lesson", name="markdown", item=item.id)
                )
            if isinstance(item, Quiz) and not item.questions:
                errors.append(
                    problem("the quiz has no question", code="empty_quiz", name="questions", item=item.id)
                )
    if errors:
        raise Unprocessable("The course is not ready for review.", errors=errors)
