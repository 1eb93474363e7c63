"""Competency profile from graded evidence (SQLite and PostgreSQL), against the demo framework."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deploy.seed import DATA, LEVEL_CODES, demo_course
from libs.db import session_scope
from services.progress import competency, service
from tests.conftest import Databases, mint, seed_courses_service, serve, service_settings, thread_server
from tests.integration.test_progress_rules import RIGHT, TEACHER, engine, grade, submit  # noqa: F401


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


def profile(engine: Any, courses: list[dict[str, Any]] | None = None) -> Any:  # noqa: F811
    with session_scope(engine, readonly=True) as session:
        return service.competency_profile(session, TEACHER, framework(), courses or [])


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
    wide = {
        "id": "c-wide",
        "title": "Wide",
        "content": {"modules": [{"items": [{"id": "l1", "indicators": ["I.KA.1", "I.KA.2", "II.KA.2"]}]}]},
    }
    narrow = {
        "id": "c-narrow",
        "title": "Narrow",
        "content": {
            "modules": [{"items": [{"id": "q", "questions": [{"id": "x", "indicators": ["V.KA.1"]}]}]}]
        },
    }
    covered = {
        "id": "c-done",
        "title": "Already strong",
        "content": {"modules": [{"items": [{"id": "l1", "indicators": ["II.KA.1"]}]}]},
    }
    submission, _ = submit(engine, RIGHT)
    grade(engine, submission.id)  # completes c1, proficient in II.KA.1, III.KA.1, IV.KA.1
    courses = [narrow, covered, wide, {"id": "c1", "title": demo["title"], "content": demo}]
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


def test_a_retired_indicator_leaves_the_profile() -> None:
    package = {
        "CFDocument": {"identifier": "d", "title": "F", "extensions": {"ustaz": {"code": "F"}}},
        "CFItems": [
            {"identifier": "a", "humanCodingScheme": "I", "CFItemType": "Aspect", "fullStatement": "A"},
            {"identifier": "c", "humanCodingScheme": "I.1", "CFItemType": "Competency", "fullStatement": "C"},
            {
                "identifier": "i1",
                "humanCodingScheme": "I.1.1",
                "CFItemType": "Indicator",
                "fullStatement": "x",
            },
            {
                "identifier": "i2",
                "humanCodingScheme": "I.1.2",
                "CFItemType": "Indicator",
                "fullStatement": "y",
                "statusEndDate": "2026-01-01",
            },
        ],
        "CFAssociations": [
            {
                "associationType": "isChildOf",
                "originNodeURI": {"identifier": o},
                "destinationNodeURI": {"identifier": d},
            }
            for o, d in (("a", "d"), ("c", "a"), ("i1", "c"), ("i2", "c"))
        ],
    }
    tree = competency.framework_from_case(package)
    assert tree["code"] == "F"
    assert tree["items"] == [
        {"code": "I", "kind": "aspect", "title": "A", "parent": None},
        {"code": "I.1", "kind": "competency", "title": "C", "parent": "I"},
        {"code": "I.1.1", "kind": "indicator", "title": "x", "parent": "I.1"},
    ]
