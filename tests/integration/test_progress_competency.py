"""Competency profile from graded evidence (SQLite and PostgreSQL), against the demo framework."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from deploy.seed import DATA, LEVEL_CODES, demo_course
from libs.db import session_scope
from services.courses.schemas import CaseExport, CourseContent, CourseDetail, learner_view
from services.progress import competency
from tests.conftest import Databases, mint, seed_courses_service, serve, service_settings, thread_server
from tests.integration.test_progress_rules import COURSE, RIGHT, TEACHER, engine, grade, submit  # noqa: F401


def framework() -> dict[str, Any]:
    """The demo framework as `competency.framework_from_case` reads the courses service's CASE export."""
    outline = json.loads((DATA / "ict-cft-v3-outline.json").read_text(encoding="utf-8"))
    items: list[dict[str, Any]] = []
    for aspect in outline["aspects"]:
        items.append({"code": aspect["code"], "kind": "aspect", "title": aspect["name"], "parent": None})
        for level, name in zip(outline["levels"], aspect["competencies"], strict=True):
            code = f"{aspect['code']}.{LEVEL_CODES[level]}"
            items.append({"code": code, "kind": "competency", "title": name, "parent": aspect["code"]})
            items += [
                {"code": f"{code}.{n}", "kind": "indicator", "title": f"{name} {n}", "parent": code}
                for n in (1, 2)
            ]
    return {"code": "UNESCO-ICT-CFT-3", "title": outline["title"], "items": items}


def profile(engine: Any, courses: list[CourseDetail] | None = None) -> Any:  # noqa: F811
    with session_scope(engine, readonly=True) as session:
        return competency.profile(session, TEACHER, framework(), courses or [])


def outline(
    course_id: str, title: str, lessons: Sequence[list[str]] = (), questions: Sequence[list[str]] = ()
) -> CourseDetail:
    """A published course as the courses service sends it: a lesson per indicator list in `lessons`,
    and a quiz with a question per indicator list in `questions`."""
    items: list[dict[str, Any]] = [
        {"type": "lesson", "id": f"l{n}", "title": "", "indicators": codes} for n, codes in enumerate(lessons)
    ]
    if questions:
        asked = [
            {"id": f"x{n}", "kind": "single", "prompt": "", "indicators": codes}
            for n, codes in enumerate(questions)
        ]
        items.append({"type": "quiz", "id": "q", "title": "", "questions": asked})
    content = {
        "title": title,
        "framework": "UNESCO-ICT-CFT-3",
        "pass_mark": 0.7,
        "estimated_minutes": 30,
        "level": "Knowledge Acquisition",
        "licence": "CC-BY-4.0",
        "audience": {},
        "completion": {},
        "modules": [{"id": "m", "title": "", "items": items}],
        "course_id": course_id,
        "version": 1,
        "language": "ru",
        "institute_id": "i1",
    }
    summary = {"slug": course_id, "summary": "", "language": "ru", "institute_id": "i1", "latest_version": 1}
    return CourseDetail.model_validate({"id": course_id, "title": title, **summary, "content": content})


def test_the_rating_rule() -> None:
    assert competency.rate([]) == "not_yet"
    assert competency.rate([False, False]) == "not_yet"
    assert competency.rate([True, False]) == "developing"
    assert competency.rate([True, True, True, True, False]) == "proficient"  # 0.8
    assert competency.rate([True]) == "proficient"


def test_latest_answers_rate_indicators_against_the_whole_framework(engine: Any) -> None:  # noqa: F811
    empty = profile(engine)
    assert empty.total == 36 and empty.covered == 0 and empty.not_yet == 36
    first, _ = submit(engine, {**RIGHT, "q1b": True})  # q1b (IV.KA.1) wrong
    grade(engine, first.id)
    ratings = {r.code: r for r in profile(engine).indicators}
    assert ratings["II.KA.1"].rating == "proficient" and ratings["III.KA.1"].rating == "proficient"
    assert (ratings["IV.KA.1"].rating, ratings["IV.KA.1"].evidence, ratings["IV.KA.1"].correct) == (
        "not_yet",
        1,
        0,
    )
    assert ratings["I.KA.1"].evidence == 0
    second, _ = submit(engine, RIGHT)  # the latest answer counts
    grade(engine, second.id)
    now = profile(engine)
    assert {r.code for r in now.indicators if r.rating == "proficient"} == {"II.KA.1", "III.KA.1", "IV.KA.1"}
    assert now.covered == 3 and now.proficient == 3
    assert now.competencies["II.KA"] == "not_yet"  # II.KA.2 has no evidence: the weakest indicator rules
    assert set(now.competencies) == {i["code"] for i in framework()["items"] if i["kind"] == "competency"}


def test_what_to_take_next_skips_completed_courses_and_ranks_by_gaps(engine: Any) -> None:  # noqa: F811
    demo = demo_course("ru")
    wide = outline("c-wide", "Wide", lessons=[["I.KA.1", "I.KA.2", "II.KA.2"]])
    narrow = outline("c-narrow", "Narrow", questions=[["V.KA.1"]])
    covered = outline("c-done", "Already strong", lessons=[["II.KA.1"]])
    submission, _ = submit(engine, RIGHT)
    grade(engine, submission.id)  # completes c1, proficient in II.KA.1, III.KA.1, IV.KA.1
    content = CourseContent.model_validate(
        {**demo, "course_id": "c1", "version": 1, "institute_id": "i1", "language": "ru"}
    )
    c1 = CourseDetail.model_validate(
        {**COURSE.model_dump(), "title": demo["title"], "content": learner_view(content)}
    )
    courses = [narrow, covered, wide, c1]
    suggested = profile(engine, courses).next
    assert [(c.course_id, c.covers) for c in suggested] == [
        ("c-wide", ["I.KA.1", "I.KA.2", "II.KA.2"]),
        ("c-narrow", ["V.KA.1"]),
    ]


@pytest.mark.asyncio(loop_scope="session")
async def test_profile_through_the_services_reads_the_courses_case_export(
    databases: Databases, gateway_url: str, issuer: Any
) -> None:
    """The real chain: progress fetches the CASE package and the catalogue from a courses service over
    HTTP and rates the teacher against the whole framework."""
    from services.courses.app import build_app as courses_app
    from services.progress.app import build_app as progress_app

    courses = courses_app(
        service_settings("courses", databases.fresh("courses", seed_courses_service), gateway_url=gateway_url)
    )
    with thread_server(courses) as courses_url:
        progress = progress_app(
            service_settings(
                "progress", databases.fresh("progress"), gateway_url=gateway_url, courses_url=courses_url
            )
        )
        async with serve(progress) as client:
            token = mint(issuer, sub="teacher-9", roles=("teacher",), lang="ru")
            response = await client.get(
                "/api/v1/progress/competencies/me", headers={"authorization": f"Bearer {token}"}
            )
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["framework"] == "UNESCO-ICT-CFT-3" and body["total"] == 36 and body["not_yet"] == 36
            assert {r["code"] for r in body["indicators"]} == {
                i["code"] for i in framework()["items"] if i["kind"] == "indicator"
            }
            assert {r["competency"] for r in body["indicators"]} == {
                i["code"] for i in framework()["items"] if i["kind"] == "competency"
            }
            assert body["next"], "the seeded Russian course covers indicators the teacher has not shown yet"
            missing = await client.get(
                "/api/v1/progress/competencies/me?framework=NOPE",
                headers={"authorization": f"Bearer {token}"},
            )
            assert (
                missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
            )


def link(identifier: str) -> dict[str, str]:
    return {"title": identifier, "identifier": identifier, "uri": f"https://ustaz.example/case/{identifier}"}


def case_item(identifier: str, code: str, kind: str, statement: str, **more: Any) -> dict[str, Any]:
    """A CFItem as the courses service exports it."""
    return {
        "identifier": identifier,
        "uri": link(identifier)["uri"],
        "fullStatement": statement,
        "humanCodingScheme": code,
        "CFItemType": kind,
        "language": "en",
        "lastChangeDateTime": "2026-01-01T00:00:00+00:00",
        "CFDocumentURI": link("d"),
        "extensions": {"ustaz": {"level": None, "position": 0}},
        **more,
    }


def test_a_retired_indicator_leaves_the_profile() -> None:
    package = {
        "CFDocument": {
            "identifier": "d",
            "uri": link("d")["uri"],
            "creator": "Ustaz",
            "title": "F",
            "lastChangeDateTime": "2026-01-01T00:00:00+00:00",
            "language": "en",
            "extensions": {"ustaz": {"code": "F"}},
        },
        "CFItems": [
            case_item("a", "I", "Aspect", "A"),
            case_item("c", "I.1", "Competency", "C"),
            case_item("i1", "I.1.1", "Indicator", "x"),
            case_item("i2", "I.1.2", "Indicator", "y", statusEndDate="2026-01-01"),
        ],
        "CFAssociations": [
            {
                "identifier": f"{o}-{d}",
                "uri": link(f"{o}-{d}")["uri"],
                "associationType": "isChildOf",
                "originNodeURI": link(o),
                "destinationNodeURI": link(d),
                "lastChangeDateTime": "2026-01-01T00:00:00+00:00",
                "CFDocumentURI": link("d"),
            }
            for o, d in (("a", "d"), ("c", "a"), ("i1", "c"), ("i2", "c"))
        ],
    }
    tree = competency.framework_from_case(CaseExport.model_validate(package), "F")
    assert tree["code"] == "F"
    assert tree["items"] == [
        {"code": "I", "kind": "aspect", "title": "A", "parent": None},
        {"code": "I.1", "kind": "competency", "title": "C", "parent": "I"},
        {"code": "I.1.1", "kind": "indicator", "title": "x", "parent": "I.1"},
    ]
