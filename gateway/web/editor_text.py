"""The editor's words: a service's problems with a draft in the page language, placed beside their
fields, and the differences between two versions of a draft for the conflict page. Pure functions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from gateway.web import draft_form as df
from gateway.web.draft_form import Draft, Errors
from gateway.web.i18n import gettext as _


def kind_names() -> dict[str, str]:
    return {
        "single": _("Single choice"),
        "multiple": _("Multiple choice"),
        "true_false": _("True or false"),
        "numeric": _("Number"),
        "short_text": _("Short text"),
    }


def describe(error: dict[str, Any]) -> str:
    """A service's problem with a field, in the page language (its English text when it has no code)."""
    code, value = error.get("code"), str(error.get("value", ""))
    known = {
        "no_prompt": _("Write the question."),
        "few_options": _("Give at least two options."),
        "option_ids": _("Each option needs its own id."),
        "blank_option": _("An option has no text."),
        "no_correct": _("Mark the correct answer."),
        "one_correct": _("A single-choice question has exactly one correct option."),
        "unknown_option": _("The answer names an option the question does not have."),
        "no_value": _("Give the correct number."),
        "bad_tolerance": _("The tolerance is a number of zero or more."),
        "no_accepted": _("Give at least one accepted answer."),
        "bad_id": _("Ids must be unique (letters, digits, - or _)."),
        "empty_course": _("Add at least one module."),
        "empty_module": _("This module is empty: add a lesson or a quiz, or remove it."),
        "empty_lesson": _("This lesson has no text yet."),
        "empty_quiz": _("This quiz has no question yet."),
        "image_no_alt": _("An image has no alt text: describe it between the square brackets."),
        "image_scheme": _("An image must be an uploaded image or an http(s) address."),
        "too_many_images": _("Too many images for one lesson on a phone."),
        "no_alt": _("Describe the image: a teacher with images off or a screen reader gets only this."),
        "long_alt": _("Keep the description under 300 characters; say more in the lesson text."),
        "image_budget": _("This picture cannot be made small enough; use a simpler one."),
    }
    if code == "unknown_indicator":
        return _("%(code)s is not in the competency framework (or is retired).") % {"code": value}
    if code == "unknown_framework":
        return _("%(code)s is not a competency framework.") % {"code": value}
    message = known.get(str(code), str(error.get("message", "")))
    if error.get("line"):
        return _("Line %(line)s: %(message)s") % {"line": error["line"], "message": message}
    return message


def error_href(
    course_id: str,
    draft: Draft,
    page: str | None,
    item: str | None,
    question: str | None,
    name: str,
    key: str,
) -> str:
    """Where the summary links an error: its field on this page, else the page that has the field."""
    course = f"/author/courses/{quote(course_id)}"
    if page is None and item is not None and question is None and key.endswith(".title"):
        return f"{course}#{df.field_id(key)}"  # an item's or module's title is on the outline
    if page is not None and item == page:
        return f"{course}/items/{quote(page)}#{df.field_id(key)}"
    if item is not None and df.find_item(draft, item) is not None:
        return f"{course}/items/{quote(item)}#{df.field_id(df.field_key(draft, item, question, name or 'title', item))}"
    if item is not None:
        return f"{course}#{item}"  # a module
    return f"{course}#{df.field_id(key)}"


def place_errors(
    course_id: str, draft: Draft, problem: dict[str, Any] | None, errors: Errors, page: str | None
) -> list[dict[str, str]]:
    """Put a service's errors beside their fields (into `errors`) and list every error for the summary
    at the top of the page, each linking to its field (on this page or the item's own page)."""
    summary = [
        {"href": "#" + df.field_id(key), "message": message}
        for key, messages in errors.fields.items()
        for message in messages
    ]
    for error in (problem or {}).get("errors") or []:
        item, question, name = df.error_place(draft, error)
        key = df.field_key(draft, item, question, name or "title", page)
        message = describe(error)
        errors.add(key, message)
        summary.append(
            {"href": error_href(course_id, draft, page, item, question, name, key), "message": message}
        )
    return summary


def question_text(q: dict[str, Any]) -> str:
    answer = q.get("answer") or {}
    lines = [q.get("prompt", "")]
    correct = set(answer.get("correct") or [])
    lines += [f"{'✓' if o['id'] in correct else '·'} {o['text']}" for o in q.get("options", [])]
    if q.get("kind") == "true_false" and correct:
        lines.append("✓ " + (_("True") if "true" in correct else _("False")))
    if answer.get("value") is not None:
        lines.append(f"= {answer['value']:g} ± {answer.get('tolerance') or 0:g}")
    lines += [f"= {a}" for a in answer.get("accepted") or []]
    if answer.get("explanation"):
        lines.append(answer["explanation"])
    return "\n".join(lines)


def item_fields(item: dict[str, Any]) -> dict[str, str]:
    out = {_("Title"): item.get("title", "")}
    if item["type"] == "lesson":
        out[_("Text")] = item.get("markdown", "")
        out[_("Competencies")] = ", ".join(item.get("indicators") or [])
    else:
        for n, q in enumerate(item.get("questions", []), start=1):
            out[_("Question %(n)s") % {"n": n}] = question_text(q)
    return out


def conflicts(mine: Draft, theirs: Draft) -> list[dict[str, str]]:
    """Every field where the author's version and the saved one differ, both sides as text."""
    out = []
    names = {
        "title": _("Title"),
        "summary": _("Summary"),
        "pass_mark": _("Pass mark"),
        "estimated_minutes": _("Estimated minutes"),
        "level": _("Level"),
        "licence": _("Licence"),
        "framework": _("Competency framework"),
    }
    for name, label in names.items():
        if mine.get(name) != theirs.get(name):
            out.append({"label": label, "mine": str(mine.get(name, "")), "theirs": str(theirs.get(name, ""))})
    outline_a = "\n".join(
        f"{m['title']}: " + ", ".join(i["title"] for i in m["items"]) for m in mine["modules"]
    )
    outline_b = "\n".join(
        f"{m['title']}: " + ", ".join(i["title"] for i in m["items"]) for m in theirs["modules"]
    )
    if outline_a != outline_b:
        out.append({"label": _("Outline"), "mine": outline_a, "theirs": outline_b})
    for _module, item in df.items(mine):
        other = df.find_item(theirs, item["id"])
        a, b = item_fields(item), item_fields(other) if other else {}
        for label, value in a.items():
            if value != b.get(label, ""):
                out.append({"label": f"{item['title']}: {label}", "mine": value, "theirs": b.get(label, "")})
    return out
