"""Reading cmi5 and SCORM packages (every problem reported, nothing half-read), cmi5's statement
rules and moveOn, and what a SCO's cmi data says (services/progress/lrs/package_parse.py, cmi5.py,
package_runs.scorm_status)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from libs.errors import PayloadTooLarge
from services.progress.lrs import cmi5
from services.progress.lrs.package_parse import CMI5, SCORM12, SCORM2004, read_zip
from services.progress.lrs.package_runs import scorm_status
from tests.packages import CMI5_XML, SCORM12_XML, cmi5_package, scorm12_package, scorm2004_package, zipped

IRI = "urn:ustaz:package:p1"
LIMIT = 10_000_000


def test_a_cmi5_course_gives_its_aus_with_their_rules_blocks_included() -> None:
    plan = read_zip(cmi5_package(), max_unpacked=LIMIT, package_iri=IRI)
    assert plan.problems == []
    assert (plan.kind, plan.title, plan.course_activity_id) == (
        CMI5,
        "Digital classroom",
        "https://example.org/cmi5/course",
    )
    intro, test = plan.units
    assert (intro.activity_id, intro.href, intro.move_on, intro.mastery_score) == (
        "https://example.org/cmi5/au/intro",
        "intro/index.html",
        "Completed",
        None,
    )
    assert (intro.blocks, test.blocks) == ((), ("https://example.org/cmi5/block/1",))
    assert (test.href, test.move_on, test.mastery_score, test.launch_parameters) == (
        "test/index.html?lang=en",
        "CompletedAndPassed",
        0.7,
        '{"level": 2}',
    )


def test_scorm_1_2_and_2004_manifests_give_their_scos() -> None:
    old = read_zip(scorm12_package(), max_unpacked=LIMIT, package_iri=IRI)
    new = read_zip(scorm2004_package(), max_unpacked=LIMIT, package_iri=IRI)
    assert old.problems == new.problems == []
    assert (old.kind, new.kind) == (SCORM12, SCORM2004)
    [sco] = old.units
    assert (sco.activity_id, sco.href, sco.mastery_score, sco.scorm_type) == (
        f"{IRI}/sco/item1",
        "sco/index.html",
        0.7,
        "sco",
    )
    assert old.title == "Safe internet (SCORM 1.2)" and old.course_activity_id == IRI


@pytest.mark.parametrize(
    ("files", "where", "words"),
    [
        ({"readme.txt": "hi"}, "(package)", "neither cmi5.xml nor imsmanifest.xml"),
        ({"cmi5.xml": "<courseStructure><course"}, "cmi5.xml", "not well-formed"),
        (
            {"cmi5.xml": '<!DOCTYPE x [<!ENTITY a "aaaa">]><courseStructure/>'},
            "cmi5.xml",
            "DOCTYPE",
        ),
        ({"cmi5.xml": CMI5_XML.replace('moveOn="Completed"', 'moveOn="Done"')}, "au/intro", "moveOn"),
        ({"cmi5.xml": CMI5_XML}, "au/intro", "intro/index.html is not a file"),
        (
            {"cmi5.xml": CMI5_XML.replace('masteryScore="0.7"', 'masteryScore="70"')},
            "au/test",
            "masteryScore",
        ),
        ({"imsmanifest.xml": SCORM12_XML}, "item item1", "sco/index.html, which is not a file"),
        (
            {"imsmanifest.xml": SCORM12_XML.replace('identifierref="res1"', 'identifierref="nope"')},
            "item1",
            "nope",
        ),
        ({"../evil.html": "x", "cmi5.xml": CMI5_XML}, "../evil.html", "may not leave"),
    ],
)
def test_each_problem_names_its_file(files: dict[str, str], where: str, words: str) -> None:
    plan = read_zip(zipped(files), max_unpacked=LIMIT, package_iri=IRI)
    assert any(where in file and words in message for file, message in plan.problems), plan.problems


def test_not_a_zip_and_a_zip_bomb_are_refused() -> None:
    assert read_zip(b"PK not really", max_unpacked=LIMIT, package_iri=IRI).problems == [
        ("(package)", "is not a zip file (nor a cmi5.xml)")
    ]
    bomb = zipped({"cmi5.xml": CMI5_XML, "big.bin": b"\0" * 200_000})
    with pytest.raises(PayloadTooLarge):
        read_zip(bomb, max_unpacked=100_000, package_iri=IRI)


ACTOR = {"objectType": "Agent", "account": {"homePage": "https://u.example", "name": "t1"}}
REG = str(uuid.uuid4())
AU = "https://example.org/cmi5/au/test"


def sent(verb: str, *, moveon: bool = False, **extra: Any) -> dict[str, Any]:
    categories = [{"id": cmi5.CATEGORY}] + ([{"id": cmi5.MOVEON}] if moveon else [])
    return {
        "actor": ACTOR,
        "verb": {"id": cmi5.CMI5_VERBS.get(verb, f"http://example.org/verbs/{verb}")},
        "object": {"id": AU},
        "context": {"registration": REG, "contextActivities": {"category": categories}},
        **extra,
    }


def check(
    statements: list[dict[str, Any]], state: list[str] | None = None, seen: set[str] | None = None
) -> list[str]:
    return cmi5.check(
        statements,
        actor=ACTOR,
        registration=REG,
        au_id=AU,
        mastery=0.7,
        session_state=state or [],
        registration_state=seen or set(),
    )


def test_a_whole_session_in_order_passes_the_rules() -> None:
    session = [
        sent("initialized"),
        sent("answered"),
        sent("completed", moveon=True, result={"completion": True}),
        sent("passed", moveon=True, result={"success": True, "score": {"scaled": 0.8}}),
        sent("terminated"),
    ]
    assert check(session) == ["initialized", "completed", "passed", "terminated"]


@pytest.mark.parametrize(
    ("statements", "state", "seen", "words"),
    [
        ([sent("answered")], [], set(), "first statement is initialized"),
        ([sent("initialized")], ["initialized"], set(), "initialized already"),
        ([sent("answered")], ["initialized", "terminated"], set(), "terminated"),
        ([sent("launched")], ["initialized"], set(), "sent by the LMS"),
        (
            [{**sent("x"), "verb": {"id": cmi5.VOIDED}, "object": {"objectType": "StatementRef", "id": REG}}],
            ["initialized"],
            set(),
            "may not void",
        ),
        ([sent("satisfied")], ["initialized"], set(), "sent by the LMS"),
        ([{**sent("initialized"), "actor": {"mbox": "mailto:x@example.org"}}], [], set(), "actor"),
        (
            [{**sent("initialized"), "context": {"registration": str(uuid.uuid4())}}],
            [],
            set(),
            "registration",
        ),
        ([{**sent("initialized"), "object": {"id": "https://example.org/other"}}], [], set(), "about the AU"),
        ([{**sent("initialized"), "context": {"registration": REG}}], [], set(), "category"),
        ([sent("completed", result={"completion": True})], ["initialized"], set(), "moveon"),
        ([sent("completed", moveon=True)], ["initialized"], set(), "completion true"),
        (
            [sent("completed", moveon=True, result={"completion": True})],
            ["initialized"],
            {"completed"},
            "completed already",
        ),
        (
            [sent("passed", moveon=True, result={"success": True, "score": {"scaled": 0.5}})],
            ["initialized"],
            set(),
            "masteryScore",
        ),
        (
            [sent("failed", moveon=True, result={"success": False, "score": {"scaled": 0.9}})],
            ["initialized"],
            set(),
            "masteryScore",
        ),
        ([sent("passed", moveon=True, result={"success": False})], ["initialized"], set(), "success true"),
        (
            [sent("failed", moveon=True, result={"success": False})],
            ["initialized"],
            {"passed"},
            "passed already",
        ),
    ],
)
def test_each_broken_rule_is_a_403_naming_it(
    statements: list[dict[str, Any]], state: list[str], seen: set[str], words: str
) -> None:
    with pytest.raises(cmi5.RuleBroken) as raised:
        check(statements, state, seen)
    assert raised.value.status == 403 and words in raised.value.detail


@pytest.mark.parametrize(
    ("move_on", "verbs", "done"),
    [
        ("Completed", {"completed"}, True),
        ("Completed", {"passed"}, False),
        ("Passed", {"passed"}, True),
        ("CompletedAndPassed", {"completed"}, False),
        ("CompletedAndPassed", {"completed", "passed"}, True),
        ("CompletedOrPassed", {"passed"}, True),
        ("CompletedOrPassed", {"failed"}, False),
        ("NotApplicable", set(), True),
    ],
)
def test_move_on(move_on: str, verbs: set[str], done: bool) -> None:
    assert cmi5.satisfied(move_on, verbs) is done


def test_scorm_cmi_data_maps_to_verbs_and_a_scaled_score() -> None:
    assert scorm_status(SCORM12, {"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "85"}) == (
        {"passed", "completed"},
        {"score": {"raw": 85.0, "min": 0.0, "max": 100.0, "scaled": 0.85}},
    )
    assert scorm_status(SCORM12, {"cmi.core.lesson_status": "incomplete"}) == (set(), None)
    assert scorm_status(
        SCORM2004,
        {"cmi.completion_status": "completed", "cmi.success_status": "failed", "cmi.score.scaled": "0.4"},
    ) == ({"completed", "failed"}, {"score": {"scaled": 0.4}})
    assert scorm_status(SCORM12, {"cmi.core.lesson_status": "completed", "cmi.core.score.raw": "200"}) == (
        {"completed"},
        None,
    )


LTS = Path(__file__).resolve().parents[2] / "third_party" / "catapult-lts"
LTS_REFUSED = {  # ADL CATAPULT's LMS test suite: course structures an LMS must refuse, and why
    "201-1-iris-course-id": "must be an IRI",
    "201-2-iris-block-id": "must be an IRI",
    "201-3-iris-au-id": "must be an IRI",
    "201-4-iris-objective-id": "must be an IRI",
    "202-1-relative-url-no-zip": "not a file of the package",
    "202-2-relative-url-no-zip": "not a file of the package",
    "202-3-relative-url-no-zip": "not a file of the package",
    "202-4-relative-url-no-zip": "not a file of the package",
    "202-5-relative-url-no-zip": "not a file of the package",
    "204-query-string-conflict-endpoint": "endpoint, which the LMS adds",
    "205-1-duplicated-block": "repeats an id",
    "205-2-duplicated-objective": "repeats an id",
    "205-3-duplicated-au": "repeats an id",
    "206-1-invalid-au-url": "is not a URL",
    "207-1-invalid-courseStructure": "is not a URL",
}


@pytest.mark.parametrize(("name", "why"), sorted(LTS_REFUSED.items()))
def test_catapults_invalid_course_structures_are_refused(name: str, why: str) -> None:
    plan = read_zip((LTS / f"{name}.xml").read_bytes(), max_unpacked=LIMIT, package_iri=IRI)
    assert any(why in message for _, message in plan.problems), plan.problems


def test_a_bare_cmi5_xml_with_absolute_urls_is_a_course() -> None:
    xml = CMI5_XML.replace("<url>intro/index.html</url>", "<url>https://content.example.org/intro</url>")
    xml = xml.replace(
        "<url>test/index.html?lang=en</url>", "<url>https://content.example.org/test?lang=en</url>"
    )
    plan = read_zip(xml.encode(), max_unpacked=LIMIT, package_iri=IRI)
    assert plan.problems == [] and [u.href for u in plan.units] == [
        "https://content.example.org/intro",
        "https://content.example.org/test?lang=en",
    ]
