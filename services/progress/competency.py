"""Competency profile: per teacher and indicator, a rating from graded evidence (docs/progress.md).

Evidence for an indicator is the teacher's latest graded answer to each question mapped to it
(in the answer key of the version they were graded against). With `n` such questions of which
`c` were answered correctly:

- **proficient** when n >= 1 and c / n >= 0.8,
- **developing** when c >= 1 but c / n < 0.8,
- **not yet** when c = 0 (with evidence: tried, not yet right; without: not covered yet).

A competency is as strong as its weakest indicator. "What to take next" ranks published courses
the teacher has not completed by how many of their not-yet-proficient indicators they cover.
Pure functions over plain data, so the rule is tested without HTTP.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from libs.errors import BadGateway, NotFound
from libs.service_client import ServiceClient
from services.progress import repository
from services.progress.schemas import CompetencyProfile, IndicatorRating, NextCourse

PROFICIENT_SHARE = 0.8
ORDER = {"not_yet": 0, "developing": 1, "proficient": 2}


def rate(results: list[bool]) -> str:
    correct = sum(results)
    if results and correct / len(results) >= PROFICIENT_SHARE:
        return "proficient"
    return "developing" if correct else "not_yet"


def evidence(session: Session, user_id: str) -> dict[str, list[bool]]:
    """Indicator code -> the correctness of the latest graded answer to each question mapped to it."""
    latest: dict[tuple[str, str], Any] = {}
    for submission, enrolment in repository.graded_submissions_of(session, user_id):
        latest[(enrolment.course_id, submission.quiz_id)] = (submission, enrolment)
    keys: dict[tuple[str, int], dict[str, Any]] = {}
    by_indicator: dict[str, list[bool]] = {}
    for submission, enrolment in latest.values():
        pinned = (enrolment.course_id, enrolment.version)
        if pinned not in keys:
            cached = repository.answer_key(session, *pinned)
            keys[pinned] = cached.key if cached else {"quizzes": []}
        quiz = next((q for q in keys[pinned]["quizzes"] if q["quiz_id"] == submission.quiz_id), None)
        correct = (submission.results or {}).get("correct", {})
        for question in quiz["questions"] if quiz else []:
            for code in question.get("indicators", []):
                by_indicator.setdefault(code, []).append(bool(correct.get(question["id"])))
    return by_indicator


def course_indicators(course: dict[str, Any]) -> set[str]:
    """Indicators a course covers, from its learner view (lessons and questions)."""
    found: set[str] = set()
    for module in course.get("content", course).get("modules", []):
        for item in module.get("items", []):
            found.update(item.get("indicators", []))
            for question in item.get("questions", []):
                found.update(question.get("indicators", []))
    return found


def build_profile(
    framework: dict[str, Any],
    found: dict[str, list[bool]],
    courses: list[dict[str, Any]],
    completed: set[str],
    suggestions: int = 3,
) -> CompetencyProfile:
    """`framework`: {code, title, items: [{code, kind: aspect|competency|indicator, title, parent}]}
    (parent is the parent's code); `courses`: outlines of published courses (id, title, modules)."""
    items = {i["code"]: i for i in framework["items"]}
    indicators = []
    for item in framework["items"]:
        if item["kind"] != "indicator":
            continue
        results = found.get(item["code"], [])
        competency = items.get(item.get("parent") or "")
        indicators.append(
            IndicatorRating(
                code=item["code"],
                title=item["title"],
                competency=competency["code"] if competency else None,
                aspect=competency.get("parent") if competency else None,
                rating=rate(results),
                evidence=len(results),
                correct=sum(results),
            )
        )
    competencies: dict[str, str] = {}
    for rating in indicators:
        if rating.competency:
            current = competencies.get(rating.competency, "proficient")
            competencies[rating.competency] = min(current, rating.rating, key=ORDER.__getitem__)
    gaps = {r.code for r in indicators if r.rating != "proficient"}
    ranked = []
    for course in courses:
        covers = sorted(course_indicators(course) & gaps)
        if covers and course["id"] not in completed:
            ranked.append(NextCourse(course_id=course["id"], title=course.get("title", ""), covers=covers))
    ranked.sort(key=lambda c: (-len(c.covers), c.title))
    counts = {name: sum(1 for r in indicators if r.rating == name) for name in ORDER}
    return CompetencyProfile(
        framework=framework["code"],
        title=framework.get("title", ""),
        indicators=indicators,
        competencies=competencies,
        covered=sum(1 for r in indicators if r.evidence),
        total=len(indicators),
        proficient=counts["proficient"],
        developing=counts["developing"],
        not_yet=counts["not_yet"],
        next=ranked[:suggestions],
    )


def framework_from_case(package: dict[str, Any]) -> dict[str, Any]:
    """The courses service's CASE 1.1 CFPackage as the tree `build_profile` reads: items by human
    code with their parent's code (from `isChildOf`); retired items (with a `statusEndDate`) left out."""
    by_id = {item["identifier"]: item for item in package["CFItems"]}
    parents = {
        a["originNodeURI"]["identifier"]: a["destinationNodeURI"]["identifier"]
        for a in package["CFAssociations"]
        if a["associationType"] == "isChildOf"
    }
    items = []
    for item in package["CFItems"]:
        if item.get("statusEndDate"):
            continue
        parent = by_id.get(parents.get(item["identifier"], ""))
        items.append(
            {
                "code": item["humanCodingScheme"],
                "kind": item["CFItemType"].lower(),
                "title": item["fullStatement"],
                "parent": parent["humanCodingScheme"] if parent else None,
            }
        )
    document = package["CFDocument"]
    return {
        "code": document.get("extensions", {}).get("ustaz", {}).get("code", document["identifier"]),
        "title": document["title"],
        "items": items,
    }


def fetch_inputs(
    courses: ServiceClient, framework_code: str, lang: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The framework and the published courses in the teacher's language, from the courses service.
    Course outlines are cached by (course, version): published versions never change."""
    try:
        framework = framework_from_case(courses.get_json(f"/api/v1/courses/frameworks/{framework_code}"))
    except BadGateway as exc:
        raise NotFound(f"The courses service has no framework {framework_code!r}.") from exc
    catalogue = courses.get_json("/api/v1/courses", lang=lang, limit=100)["items"]
    outlines = []
    for course in catalogue:
        if course.get("latest_version") is None:
            continue
        cache_key = (course["id"], course["latest_version"])
        if cache_key not in _OUTLINES:
            _OUTLINES[cache_key] = courses.get_json(f"/api/v1/courses/{course['id']}")
        outlines.append(_OUTLINES[cache_key])
    return framework, outlines


_OUTLINES: dict[tuple[str, int], dict[str, Any]] = {}
