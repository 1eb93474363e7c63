"""Where a teacher is in a course: which lessons are read, which quizzes passed, where to continue.

Pure functions over the course content (the learner view the courses service answers), the teacher's
lesson views (xAPI `experienced` statements) and quiz results (progress' `CourseProgress.results`),
so the course page, the teacher's home and the tests agree on one rule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"


def item_url(course_id: str, version: int, item: dict[str, Any]) -> str:
    kind = "lessons" if item["type"] == "lesson" else "quizzes"
    return f"/courses/{course_id}/v/{version}/{kind}/{item['id']}"


def viewed_items(statements: Iterable[dict[str, Any]], course_id: str) -> set[str]:
    """The item ids of a course that the teacher's `experienced` statements name."""
    prefix = f"urn:ustaz:course:{course_id}/item/"
    out = set()
    for s in statements:
        activity = str((s.get("object") or {}).get("id", ""))
        if activity.startswith(prefix):
            out.add(activity[len(prefix) :])
    return out


def last_course(statements: Iterable[dict[str, Any]]) -> str | None:
    """The course of the newest statement (statements come newest first)."""
    for s in statements:
        activity = str((s.get("object") or {}).get("id", ""))
        if activity.startswith("urn:ustaz:course:") and "/item/" in activity:
            return activity[len("urn:ustaz:course:") :].split("/item/", 1)[0]
    return None


RANK = {"tried": 0, "grading": 1, "passed": 2}


def quiz_states(results: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Per quiz: "passed" if any attempt passed, else "grading" if one is being graded, else "tried"."""
    states: dict[str, str] = {}
    for r in results:
        if r.get("status") != "graded":
            state = "grading"
        else:
            state = "passed" if r.get("passed") else "tried"
        if RANK[state] >= RANK[states.get(r["quiz_id"], "tried")]:
            states[r["quiz_id"]] = state
    return states


def outline(content: dict[str, Any], viewed: set[str], quizzes: dict[str, str]) -> list[dict[str, Any]]:
    """Every item of the course in order with its state: lessons "read" or "unread"; quizzes "passed",
    "grading", "tried" or "untried"."""
    items = []
    for module in content["modules"]:
        for item in module["items"]:
            if item["type"] == "lesson":
                state = "read" if item["id"] in viewed else "unread"
            else:
                state = quizzes.get(item["id"], "untried")
            items.append({"id": item["id"], "type": item["type"], "title": item["title"], "state": state})
    return items


DONE = ("read", "passed", "grading")


def continue_at(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first item not done yet (an unread lesson, a quiz not passed), None when all are done."""
    return next((i for i in items if i["state"] not in DONE), None)
