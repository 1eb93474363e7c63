"""Competency profile from graded evidence (SQLite and PostgreSQL), against the demo framework."""

from __future__ import annotations

import json
from typing import Any

from deploy.seed import DATA, LEVEL_CODES, demo_course
from libs.db import session_scope
from services.progress import competency, service
from tests.integration.test_progress_rules import RIGHT, TEACHER, engine, grade, submit  # noqa: F401


def framework() -> dict[str, Any]:
    """The demo framework in the shape the courses service serves (parents by code)."""
    outline = json.loads((DATA / "ict-cft-v3-outline.json").read_text(encoding="utf-8"))
    items: list[dict[str, Any]] = []
    for aspect in outline["aspects"]:
        items.append({"code": aspect["code"], "kind": "aspect", "title": aspect["name"], "parent": None})
        for level, name in zip(outline["levels"], aspect["competencies"], strict=True):
            code = f"{aspect['code']}.{LEVEL_CODES[level]}"
            items.append({"code": code, "kind": "competency", "title": name, "parent": aspect["code"]})
            items += [{"code": f"{code}.{n}", "kind": "indicator", "title": f"{name} {n}", "parent": code}
                      for n in (1, 2)]
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
    assert (ratings["IV.KA.1"].rating, ratings["IV.KA.1"].evidence, ratings["IV.KA.1"].correct) == ("not_yet", 1, 0)
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
    wide = {"id": "c-wide", "title": "Wide", "content": {"modules": [{"items": [
        {"id": "l1", "indicators": ["I.KA.1", "I.KA.2", "II.KA.2"]}]}]}}
    narrow = {"id": "c-narrow", "title": "Narrow", "content": {"modules": [{"items": [
        {"id": "q", "questions": [{"id": "x", "indicators": ["V.KA.1"]}]}]}]}}
    covered = {"id": "c-done", "title": "Already strong", "content": {"modules": [{"items": [
        {"id": "l1", "indicators": ["II.KA.1"]}]}]}}
    submission, _ = submit(engine, RIGHT)
    grade(engine, submission.id)  # completes c1, proficient in II.KA.1, III.KA.1, IV.KA.1
    courses = [narrow, covered, wide, {"id": "c1", "title": demo["title"], "content": demo}]
    suggested = profile(engine, courses).next
    assert [(c.course_id, c.covers) for c in suggested] == [
        ("c-wide", ["I.KA.1", "I.KA.2", "II.KA.2"]), ("c-narrow", ["V.KA.1"])]
