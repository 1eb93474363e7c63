"""Competency profile: per teacher and indicator, a rating from graded evidence (docs/progress.md).

Evidence for an indicator is the teacher's latest graded answer to each question mapped to it
(in the answer key of the version they were graded against). With `n` such questions of which
`c` were answered correctly:

- **proficient** when n >= 1 and c / n >= 0.8,
- **developing** when c >= 1 but c / n < 0.8,
- **not yet** when c = 0 (with evidence: tried, not yet right; without: not covered yet).

A competency is as strong as its weakest indicator. "What to take next" ranks published courses
the teacher has not completed by how many of their not-yet-proficient indicators they cover.
Pure functions over plain data (`evidence_from`, `build_profile`, `framework_from_case`), so the rule
is tested without HTTP; the courses service's bodies are its own models (services/courses/schemas.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypedDict

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import BadGateway, NotFound
from libs.service_client import ServiceClient, UnexpectedBody, service_path
from services.courses.schemas import CaseExport, CataloguePage, CourseDetail, OutlineLesson
from services.progress import quiz_policy, repository
from services.progress.lrs import repository as lrs_repository
from services.progress.repository import Graded
from services.progress.schemas import CompetencyProfile, EvidenceSource, IndicatorRating, NextCourse

PROFICIENT_SHARE = 0.8
ORDER = {"not_yet": 0, "developing": 1, "proficient": 2}
AnswerKey = dict[str, Any]  # an AnswerKeyDocument as cached (services/progress/models.py: AnswerKeyCache)


KINDS = ("aspect", "competency", "indicator")


class FrameworkNode(TypedDict):
    code: str
    kind: str  # aspect | competency | indicator
    title: str
    parent: str | None  # the parent's code


class Framework(TypedDict):
    """A framework as `build_profile` reads it: its items by code with their parent's code."""

    code: str
    title: str
    items: list[FrameworkNode]


def rate(results: list[bool]) -> str:
    correct = sum(results)
    if results and correct / len(results) >= PROFICIENT_SHARE:
        return "proficient"
    return "developing" if correct else "not_yet"


def evidence_from(
    graded: Iterable[Graded], key_of: Callable[[str, int], AnswerKey | None]
) -> dict[str, list[bool]]:
    """Indicator code -> the correctness of the latest graded answer to each question mapped to it.
    `graded`: one teacher's graded submissions, oldest first; `key_of(course, version)`: its answer key."""
    latest: dict[tuple[str, str], Graded] = {}
    for submission in graded:
        latest[(submission.course_id, submission.quiz_id)] = submission
    by_indicator: dict[str, list[bool]] = {}
    for submission in latest.values():
        key = key_of(submission.course_id, submission.version) or {"quizzes": []}
        quiz = next((q for q in key["quizzes"] if q["quiz_id"] == submission.quiz_id), None)
        correct = (submission.results or {}).get("correct", {})
        hidden = quiz is not None and _hides_questions(quiz, submission)
        for question in quiz["questions"] if quiz else []:
            if question["id"] not in correct:
                continue  # not drawn for this attempt
            right = bool(submission.passed) if hidden else bool(correct[question["id"]])
            for code in question.get("indicators", []):
                by_indicator.setdefault(code, []).append(right)
    return by_indicator


def _hides_questions(quiz: dict[str, Any], submission: Graded) -> bool:
    """Whether the quiz's feedback policy hides which questions of this attempt were right: then its
    questions count as the attempt's pass or fail, so the profile cannot tell the key either."""
    if submission.attempt is None:
        return False
    policy = quiz_policy.policy_of(quiz)
    final = policy.max_attempts is not None and submission.attempt >= policy.max_attempts
    return not quiz_policy.shows_questions(policy, final)


def evidence(session: Session, user_id: str) -> dict[str, list[bool]]:
    """A teacher's evidence from their graded submissions and the cached answer keys."""
    keys: dict[tuple[str, int], AnswerKey | None] = {}

    def key_of(course_id: str, version: int) -> AnswerKey | None:
        if (course_id, version) not in keys:
            cached = repository.answer_key(session, course_id, version)
            keys[(course_id, version)] = cached.key if cached else None
        return keys[(course_id, version)]

    found = evidence_from(repository.graded_of(session, user_id), key_of)
    for code, results in mapped_evidence(lrs_repository.mapped_results(session, user_id)).items():
        found.setdefault(code, []).extend(results)
    return found


def mapped_evidence(results: Iterable[tuple[Any, Any]]) -> dict[str, list[bool]]:
    """Indicator code -> whether the teacher's latest result of each mapped activity passed: an LRS
    client's statements about activities an author mapped to indicators (docs/lrs.md). `results`:
    (ItemResult, ActivityMapping) pairs, oldest first."""
    latest: dict[tuple[str, str], tuple[Any, Any]] = {}
    for result, mapping in results:
        latest[(result.course_id, result.activity_id)] = (result, mapping)
    by_indicator: dict[str, list[bool]] = {}
    for result, mapping in latest.values():
        for code in mapping.indicators:
            by_indicator.setdefault(code, []).append(result.outcome == "passed")
    return by_indicator


def course_indicators(course: CourseDetail) -> set[str]:
    """Indicators a course covers, from its outline (lessons and questions)."""
    found: set[str] = set()
    for module in course.content.modules:
        for item in module.items:
            if isinstance(item, OutlineLesson):
                found.update(item.indicators)
            else:
                for question in item.questions:
                    found.update(question.indicators)
    return found


def build_profile(
    framework: Framework,
    found: dict[str, list[bool]],
    courses: Sequence[CourseDetail],
    completed: set[str],
    suggestions: int = 3,
    sources: dict[str, list[EvidenceSource]] | None = None,
) -> CompetencyProfile:
    """The rating of every indicator of `framework`, its competencies' (the weakest indicator's), and
    the published `courses` not yet completed that cover the most not-yet-proficient indicators."""
    items = {i["code"]: i for i in framework["items"]}
    indicators = []
    for item in framework["items"]:
        if item["kind"] != "indicator":
            continue
        counted = (sources or {}).get(item["code"], [])
        results = found.get(item["code"], []) + [source.met for source in counted]
        competency = items.get(item["parent"] or "")
        indicators.append(
            IndicatorRating(
                code=item["code"],
                title=item["title"],
                competency=competency["code"] if competency else None,
                aspect=competency["parent"] if competency else None,
                rating=rate(results),
                evidence=len(results),
                correct=sum(results),
                sources=counted,
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
        if covers and course.id not in completed:
            ranked.append(NextCourse(course_id=course.id, title=course.title, covers=covers))
    ranked.sort(key=lambda c: (-len(c.covers), c.title))
    counts = {name: sum(1 for r in indicators if r.rating == name) for name in ORDER}
    return CompetencyProfile(
        framework=framework["code"],
        title=framework["title"],
        indicators=indicators,
        competencies=competencies,
        covered=sum(1 for r in indicators if r.evidence),
        total=len(indicators),
        proficient=counts["proficient"],
        developing=counts["developing"],
        not_yet=counts["not_yet"],
        next=ranked[:suggestions],
    )


def profile(
    session: Session, user: Principal, framework: Framework, outlines: Sequence[CourseDetail]
) -> CompetencyProfile:
    """A teacher's profile against a framework (from `fetch_inputs`): graded answers, and the
    observations and signed-off portfolio evidence of professional learning (docs/practice.md)."""
    from services.progress.practice.observations import evidence_sources

    return build_profile(
        framework,
        evidence(session, user.id),
        outlines,
        repository.completed_course_ids(session, user.id),
        sources=evidence_sources(session, user.id),
    )


def framework_from_case(package: CaseExport, code: str) -> Framework:
    """The courses service's CASE 1.1 CFPackage as the tree `build_profile` reads: items by their code
    on Ustaz with their parent's code (from `isChildOf`); retired items (with a `statusEndDate`) left
    out. The kind is the CFItemType when it is one of ours (Aspect, Competency, Indicator), else the
    depth in the tree (0 aspect, 1 competency, deeper indicator), as the courses service reads it."""
    by_id = {item.identifier: item for item in package.CFItems}
    parents = {
        a.originNodeURI.identifier: a.destinationNodeURI.identifier
        for a in package.CFAssociations
        if a.associationType == "isChildOf"
    }

    def depth(identifier: str) -> int:
        seen: set[str] = set()
        while (up := parents.get(identifier)) in by_id and up not in seen:
            seen.add(up)
            identifier = up
        return len(seen)

    items: list[FrameworkNode] = []
    for item in package.CFItems:
        if item.statusEndDate:
            continue
        parent = by_id.get(parents.get(item.identifier, ""))
        typed = (item.CFItemType or "").lower()
        kind = typed if typed in KINDS else KINDS[min(depth(item.identifier), 2)]
        items.append(
            {
                "code": item.code,
                "kind": kind,
                "title": item.fullStatement,
                "parent": parent.code if parent else None,
            }
        )
    return {"code": code, "title": package.CFDocument.title, "items": items}


def fetch_inputs(
    courses: ServiceClient, framework_code: str, lang: str
) -> tuple[Framework, list[CourseDetail]]:
    """The framework and the published courses in the teacher's language, from the courses service.
    Course outlines are cached by (course, version): published versions never change."""
    try:
        package = courses.get_model(
            service_path("api", "v1", "courses", "frameworks", framework_code), CaseExport
        )
    except UnexpectedBody:
        raise
    except BadGateway as exc:
        raise NotFound(f"The courses service has no framework {framework_code!r}.") from exc
    outlines = []
    for course in courses.get_model(
        service_path("api", "v1", "courses"), CataloguePage, lang=lang, limit=100
    ).items:
        if course.latest_version is None:
            continue
        cache_key = (course.id, course.latest_version)
        if cache_key not in _OUTLINES:
            _OUTLINES[cache_key] = courses.get_model(
                service_path("api", "v1", "courses", course.id), CourseDetail
            )
        outlines.append(_OUTLINES[cache_key])
    return framework_from_case(package, framework_code), outlines


_OUTLINES: dict[tuple[str, int], CourseDetail] = {}
