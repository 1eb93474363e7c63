"""What the URLs inside a certificate point at, as JSON-LD for machines (docs/adr/0017): the Open
Badges 3.0 Achievement of completing a course version, its Criteria, and the framework items its
alignments name. The gateway serves the same documents as pages for people (content negotiation).
The documents use only terms their contexts define, so they expand without loss."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from libs.errors import NotFound
from services.courses import repository
from services.courses.models import Framework, FrameworkItem
from services.courses.schemas import Lesson, Quiz
from services.courses.service import published_content

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
# Framework items as schema.org DefinedTerms, with the context inline: a reader needs no other document.
ITEM_CONTEXT = {"@vocab": "https://schema.org/", "id": "@id", "type": "@type"}
CRITERIA = "Every quiz of the course passed at the course's pass mark ({mark:.0%})."


def achievement_url(base: str, course_id: str, version: int) -> str:
    return f"{base}/courses/{course_id}/v/{version}/achievement"


def criteria_url(base: str, course_id: str, version: int) -> str:
    return f"{base}/courses/{course_id}/v/{version}/criteria"


def item_url(base: str, framework: str, code: str) -> str:
    return f"{base}/frameworks/{framework}/items/{code}"


def _indicators(session: Session, course_id: str, version: int) -> list[str]:
    content = published_content(session, course_id, version)
    codes = {c for item in content.items() if isinstance(item, Lesson) for c in item.indicators}
    codes |= {
        c for item in content.items() if isinstance(item, Quiz) for q in item.questions for c in q.indicators
    }
    return sorted(codes)


def criteria(session: Session, course_id: str, version: int, base: str) -> dict[str, Any]:
    content = published_content(session, course_id, version)
    return {
        "@context": [VC_V2, OB_V3],
        "id": criteria_url(base, course_id, version),
        "type": "Criteria",
        "narrative": CRITERIA.format(mark=content.pass_mark),
    }


def achievement(session: Session, course_id: str, version: int, base: str) -> dict[str, Any]:
    """The Achievement a certificate for this course version is about (its `id` is the URL of this
    document), aligned to every indicator the version covers."""
    content = published_content(session, course_id, version)
    framework = content.framework
    return {
        "@context": [VC_V2, OB_V3],
        "id": achievement_url(base, course_id, version),
        "type": ["Achievement"],
        "achievementType": "Course",
        "name": content.title,
        "description": content.summary or f"Completed version {version} of the course.",
        "criteria": {
            "id": criteria_url(base, course_id, version),
            "narrative": CRITERIA.format(mark=content.pass_mark),
        },
        "inLanguage": content.language,
        "version": str(version),
        "alignment": [
            {
                "type": ["Alignment"],
                "targetName": code,
                "targetCode": code,
                "targetUrl": item_url(base, framework, code),
                "targetType": "CFItem",
                "targetFramework": framework,
            }
            for code in _indicators(session, course_id, version)
        ],
    }


def _find(session: Session, framework_code: str | None, code: str) -> tuple[Framework, FrameworkItem]:
    """The item with this code in the framework named, or (certificates that name no framework) in the
    first framework that has it, an original before a derived one."""
    if framework_code is not None:
        framework = repository.framework_by_code(session, framework_code)
        if framework is None:
            raise NotFound(f"No framework {framework_code}.")
        candidates = [framework]
    else:
        candidates = sorted(
            repository.frameworks(session), key=lambda f: (f.derived_from_id is not None, f.code)
        )
    for framework in candidates:
        item = repository.framework_item_by_code(session, framework.id, code)
        if item is not None:
            return framework, item
    raise NotFound(f"No framework item {code}.")


def framework_item(session: Session, framework_code: str | None, code: str, base: str) -> dict[str, Any]:
    """A competency framework item as a schema.org DefinedTerm in its DefinedTermSet (the framework),
    with its CASE identifier; the parent item, if any, as `isPartOf`."""
    framework, item = _find(session, framework_code, code)
    parent = repository.framework_item(session, item.parent_id) if item.parent_id else None
    document: dict[str, Any] = {
        "@context": ITEM_CONTEXT,
        "id": item_url(base, framework.code, item.code),
        "type": "DefinedTerm",
        "termCode": item.code,
        "name": item.title,
        "identifier": item.id,
        "additionalType": item.kind,
        "inLanguage": framework.language,
        "inDefinedTermSet": {
            "id": f"{base}/api/v1/courses/frameworks/{framework.code}",
            "type": "DefinedTermSet",
            "name": framework.title,
            "identifier": framework.id,
        },
    }
    if item.level:
        document["educationalLevel"] = item.level
    if parent is not None:
        document["isPartOf"] = {
            "id": item_url(base, framework.code, parent.code),
            "type": "DefinedTerm",
            "termCode": parent.code,
            "name": parent.title,
        }
    if item.retired:
        document["expires"] = "2026-01-01"
    return document
