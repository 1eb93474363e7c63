"""The editor's forms and the draft they change: pure functions, no I/O.

A draft is the courses service's `CourseDraft` as JSON (services/courses/schemas.py is the contract).
Each editor page is one form; its fields are applied to a copy of the saved draft, then the button's
operation (`op`), then the whole draft is saved with the ETag the page was rendered with. A field the
page does not carry is left as it was. What cannot be parsed (a number typed as words) is kept as typed
in `Errors.raw`, so the page comes back exactly as the author left it, with the error beside it."""

from __future__ import annotations

import copy
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gateway.web.i18n import gettext as _

Draft = dict[str, Any]
Form = dict[str, Any]
KINDS = ("single", "multiple", "true_false", "numeric", "short_text")
BLANK_OPTION_ROWS = 2
META_FIELDS = (
    "title",
    "summary",
    "framework",
    "pass_mark",
    "estimated_minutes",
    "level",
    "licence",
    "audience",
    "completion",
    "modules",
)


@dataclass
class Errors:
    """Problems by field key (the `id` of a field is `f-` + key, dots as dashes), and raw input."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)
    status: int = 422  # of the page that shows them (an upload refused as too large: 413)

    def add(self, key: str, message: str) -> None:
        self.fields.setdefault(key, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.fields)


def field_id(key: str) -> str:
    return "f-" + key.replace(".", "-")


def values(form: Form, name: str) -> list[str]:
    value = form.get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def text(form: Form, name: str, default: str = "") -> str:
    found = values(form, name)
    return found[-1].replace("\r\n", "\n") if found else default


def working_copy(view: dict[str, Any]) -> Draft:
    """The saved draft as a body for PUT: what the service returned plus the fixed fields."""
    draft = {k: copy.deepcopy(v) for k, v in (view.get("draft") or {}).items() if k in META_FIELDS}
    draft.setdefault("modules", [])
    draft.update(slug=view["slug"], language=view["language"], translation_of=view["translation_of"])
    return draft


def parse_number(raw: str) -> float | None:
    """A decimal number as a teacher types it: `70`, `70.5`, `70,5`, ` 1 000 ` (None if it is not one)."""
    cleaned = raw.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        number = float(cleaned)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


# --- The outline: modules and their items ------------------------------------------------------------


def items(draft: Draft) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for module in draft.get("modules", []):
        for item in module.get("items", []):
            yield module, item


def find_item(draft: Draft, item_id: str) -> dict[str, Any] | None:
    return next((item for _, item in items(draft) if item["id"] == item_id), None)


def taken_ids(draft: Draft) -> set[str]:
    return {m["id"] for m in draft.get("modules", [])} | {i["id"] for _, i in items(draft)}


def next_id(taken: set[str], prefix: str) -> str:
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def _number_field(
    draft: Draft, form: Form, errors: Errors, name: str, *, scale: float, low: float, high: float, whole: bool
) -> None:
    raw = text(form, name)
    number = parse_number(raw)
    if number is None or not low <= number <= high or (whole and number != int(number)):
        errors.raw[name] = raw
        errors.add(
            name,
            _("Give a whole number of minutes from 1 to 10000.")
            if whole
            else _("Give a percentage from 0 to 100."),
        )
        return
    draft[name] = int(number) if whole else round(number / scale, 4)


def apply_outline(draft: Draft, form: Form, errors: Errors) -> None:
    """The outline page's fields: what the course is about, and the names of modules and items."""
    for name in ("title", "summary", "level", "licence"):
        if name in form:
            draft[name] = text(form, name).strip() if name == "title" else text(form, name)
    if "estimated_minutes" in form:
        _number_field(draft, form, errors, "estimated_minutes", scale=1, low=1, high=10000, whole=True)
    if "pass_mark" in form:  # shown as a percentage, stored as a fraction
        _number_field(draft, form, errors, "pass_mark", scale=100, low=0, high=100, whole=False)
    if "stage" in form:
        draft["audience"] = {
            "stage": text(form, "stage", "in-service"),
            "subject": text(form, "subject"),
            "grade_band": text(form, "grade_band"),
        }
        draft["completion"] = {
            "all_lessons": "all_lessons" in form,
            "quizzes_passed": "quizzes_passed" in form,
        }
    for module in draft["modules"]:
        module["title"] = text(form, f"module.{module['id']}.title", module["title"]).strip()
        for item in module["items"]:
            item["title"] = text(form, f"item.{item['id']}.title", item["title"]).strip()


def _locate(draft: Draft, thing_id: str) -> tuple[list[Any], int] | None:
    """(the list holding a module or item, its index)."""
    for i, module in enumerate(draft["modules"]):
        if module["id"] == thing_id:
            return draft["modules"], i
        for j, item in enumerate(module["items"]):
            if item["id"] == thing_id:
                return module["items"], j
    return None


def _step(draft: Draft, thing_id: str, delta: int) -> None:
    """Move a module, or an item, one place; an item at the edge of its module goes to the next one."""
    found = _locate(draft, thing_id)
    if found is None:
        return
    siblings, index = found
    target = index + delta
    if 0 <= target < len(siblings):
        siblings[index], siblings[target] = siblings[target], siblings[index]
        return
    modules = draft["modules"]
    if siblings is modules:
        return
    m = next(k for k, module in enumerate(modules) if module["items"] is siblings)
    if 0 <= m + delta < len(modules):
        item = siblings.pop(index)
        neighbour = modules[m + delta]["items"]
        neighbour.insert(len(neighbour) if delta < 0 else 0, item)


def _move(draft: Draft, thing_id: str, module_id: str, position: str) -> None:
    """Drag and drop: put an item at a position of a module (or a module at a position)."""
    found = _locate(draft, thing_id)
    if found is None or not position.isdigit():
        return
    siblings, index = found
    if siblings is draft["modules"]:
        module = siblings.pop(index)
        siblings.insert(min(int(position), len(siblings)), module)
        return
    target = next((m for m in draft["modules"] if m["id"] == module_id), None)
    if target is None:
        return
    item = siblings.pop(index)
    target["items"].insert(min(int(position), len(target["items"])), item)


def outline_op(draft: Draft, op: str, *, new_titles: dict[str, str]) -> str | None:
    """Apply an outline button; returns the id of what it added (None otherwise). `new_titles` names new
    things in the page language ({"module", "lesson", "quiz"})."""
    verb, _, rest = op.partition(":")
    taken = taken_ids(draft)
    if verb == "add-module":
        new = next_id(taken, "m")
        draft["modules"].append({"id": new, "title": new_titles["module"], "items": []})
        return new
    if verb in ("add-lesson", "add-quiz"):
        module = next((m for m in draft["modules"] if m["id"] == rest), None)
        if module is None:
            return None
        if verb == "add-lesson":
            new = next_id(taken, "l")
            module["items"].append(
                {"type": "lesson", "id": new, "title": new_titles["lesson"], "markdown": ""}
            )
        else:
            new = next_id(taken, "q")
            module["items"].append({"type": "quiz", "id": new, "title": new_titles["quiz"], "questions": []})
        return new
    if verb in ("up", "down"):
        _step(draft, rest, -1 if verb == "up" else 1)
    elif verb == "remove-confirmed":
        found = _locate(draft, rest)
        if found is not None:
            found[0].pop(found[1])
    elif verb == "move":
        thing, _, where = rest.partition(":")
        module_id, _, position = where.partition(":")
        _move(draft, thing, module_id, position)
    return None


# --- A lesson -----------------------------------------------------------------------------------------


def apply_lesson(item: dict[str, Any], form: Form) -> None:
    if "title" in form:
        item["title"] = text(form, "title", item["title"]).strip()
    if "markdown" in form:
        item["markdown"] = text(form, "markdown")
    if form.get("page") == "lesson":  # unchecked boxes are absent: the page carries the whole set
        item["indicators"] = list(dict.fromkeys(values(form, "ind")))


def image_markdown(alt: str, url: str) -> str:
    return f"![{alt}]({url})"


def append_image(item: dict[str, Any], snippet: str) -> None:
    body = item.get("markdown", "").rstrip("\n")
    item["markdown"] = f"{body}\n\n{snippet}\n" if body else f"{snippet}\n"


# --- A quiz and its questions -------------------------------------------------------------------------


def new_question(kind: str, taken: set[str]) -> dict[str, Any]:
    question: dict[str, Any] = {"id": next_id(taken, "n"), "kind": kind, "prompt": "", "indicators": []}
    if kind in ("single", "multiple"):
        question["options"] = []
    question["answer"] = {"value": None} if kind == "numeric" else {}
    return question


def option_rows(question: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows a choice question's form shows: its options, then blank rows to add more (no script)."""
    answer = question.get("answer") or {}
    why = answer.get("explanations") or {}
    correct = set(answer.get("correct") or [])
    rows = [
        {"id": o["id"], "text": o["text"], "why": why.get(o["id"], ""), "correct": o["id"] in correct}
        for o in question.get("options", [])
    ]
    return rows + [{"id": "", "text": "", "why": "", "correct": False}] * BLANK_OPTION_ROWS


def _options(
    question: dict[str, Any], form: Form, prefix: str
) -> tuple[list[dict[str, str]], list[str], dict[str, str]]:
    rows = text(form, f"{prefix}.rows", "0")
    marked = set(values(form, f"{prefix}.correct"))
    used = {o["id"] for o in question.get("options", [])}
    options, correct, why = [], [], {}
    for n in range(int(rows) if rows.isdigit() else 0):
        label = text(form, f"{prefix}.o{n}.text").strip()
        if not label:
            continue  # a blank row adds nothing; clearing an option's text removes it
        option_id = text(form, f"{prefix}.o{n}.id") or next(
            c for c in string.ascii_lowercase + string.digits if c not in used
        )
        used.add(option_id)
        options.append({"id": option_id, "text": label})
        if str(n) in marked:
            correct.append(option_id)
        if reason := text(form, f"{prefix}.o{n}.why").strip():
            why[option_id] = reason
    return options, correct, why


def _key(question: dict[str, Any], form: Form, prefix: str, errors: Errors) -> dict[str, Any]:
    kind = question["kind"]
    key: dict[str, Any] = {"explanation": text(form, f"{prefix}.explanation").strip()}
    if kind in ("single", "multiple"):
        question["options"], key["correct"], key["explanations"] = _options(question, form, prefix)
    elif kind == "true_false":
        key["correct"] = [v for v in values(form, f"{prefix}.correct") if v in ("true", "false")][:1]
        key["explanations"] = {
            v: reason for v in ("true", "false") if (reason := text(form, f"{prefix}.why.{v}").strip())
        }
    elif kind == "numeric":
        for name in ("value", "tolerance"):
            raw = text(form, f"{prefix}.{name}")
            number = parse_number(raw) if raw.strip() else (0.0 if name == "tolerance" else None)
            if raw.strip() and number is None:
                errors.raw[f"{prefix}.{name}"] = raw
                errors.add(f"{prefix}.{name}", _("Type a number, for example 70 or 70,5."))
            key[name] = number
    else:
        key["accepted"] = [a.strip() for a in text(form, f"{prefix}.accepted").split("\n") if a.strip()]
    return key


def apply_quiz(item: dict[str, Any], form: Form, errors: Errors) -> None:
    """The quiz page: its title and every question, in the order of the form (new ones included)."""
    if "title" in form:
        item["title"] = text(form, "title", item["title"]).strip()
    if form.get("page") != "quiz":
        return
    before = {q["id"]: q for q in item.get("questions", [])}
    questions = []
    for qid in dict.fromkeys(values(form, "questions")):
        prefix = f"q.{qid}"
        kind = text(form, f"{prefix}.kind")
        if kind not in KINDS:
            continue
        question = copy.deepcopy(before.get(qid)) or {"id": qid, "kind": kind}
        question["kind"] = kind
        question["prompt"] = text(form, f"{prefix}.prompt").strip()
        question["indicators"] = list(dict.fromkeys(values(form, f"{prefix}.ind")))
        question["answer"] = _key(question, form, prefix, errors)
        if kind not in ("single", "multiple"):
            question.pop("options", None)
        questions.append(question)
    item["questions"] = questions


def quiz_op(item: dict[str, Any], op: str) -> None:
    verb, _, qid = op.partition(":")
    questions = item["questions"]
    index = next((i for i, q in enumerate(questions) if q["id"] == qid), None)
    if index is None:
        return
    if verb == "remove-confirmed":
        questions.pop(index)
    elif verb in ("up", "down"):
        target = index + (-1 if verb == "up" else 1)
        if 0 <= target < len(questions):
            questions[index], questions[target] = questions[target], questions[index]


# --- Where a service's error belongs --------------------------------------------------------------------


def _by_index(draft: Draft, loc: list[str]) -> tuple[str | None, str | None, str]:
    """(item id, question id, field name) from a validation path like modules.0.items.1.quiz.questions.2.prompt."""
    item_id = question_id = None
    names = []
    i = 0
    module: dict[str, Any] | None = None
    while i < len(loc):
        part = loc[i]
        nxt = loc[i + 1] if i + 1 < len(loc) else ""
        if part == "modules" and nxt.isdigit() and int(nxt) < len(draft["modules"]):
            module, i = draft["modules"][int(nxt)], i + 2
            item_id = module["id"]
        elif part == "items" and module is not None and nxt.isdigit() and int(nxt) < len(module["items"]):
            item = module["items"][int(nxt)]
            item_id, i = item["id"], i + 2
            i += 1 if i < len(loc) and loc[i] in ("lesson", "quiz") else 0
            questions = item.get("questions", [])
            if (
                i + 1 < len(loc)
                and loc[i] == "questions"
                and loc[i + 1].isdigit()
                and int(loc[i + 1]) < len(questions)
            ):
                question_id, i = questions[int(loc[i + 1])]["id"], i + 2
        else:
            if part not in ("answer",) and not part.isdigit():
                names.append(part)
            i += 1
    return item_id, question_id, names[-1] if names else ""


def error_place(draft: Draft, error: dict[str, Any]) -> tuple[str | None, str | None, str]:
    """(item id, question id, field name) a service's error is about."""
    if "name" in error:
        return error.get("item"), error.get("question"), str(error["name"])
    return _by_index(draft, str(error.get("field", "")).split("."))


def field_key(draft: Draft, item_id: str | None, question_id: str | None, name: str, page: str | None) -> str:
    """The key of the field an error is shown beside, on the page for item `page` (None: the outline)."""
    if question_id:
        return f"q.{question_id}.{name}"
    if item_id is None:
        return name
    if page == item_id:
        return name
    kind = "module" if any(m["id"] == item_id for m in draft["modules"]) else "item"
    return f"{kind}.{item_id}.{name}"
