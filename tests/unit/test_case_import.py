"""The CASE import plan (services/courses/case_import.py), without a database: which packages are
refused and why (every problem, by field and item), and the rows an accepted one becomes."""

from __future__ import annotations

from typing import Any

import pytest

from services.courses import case
from services.courses.case_import import Exists, Plan, Refused, framework_code, plan_import

DOC = "d0000000-0000-4000-8000-000000000000"


def item(identifier: str, code: str | None = None, kind: str | None = None, **extra: Any) -> dict[str, Any]:
    fields = {"identifier": identifier, "uri": f"u:{identifier}", "fullStatement": f"Item {identifier}"}
    fields |= {"lastChangeDateTime": case.EPOCH, "humanCodingScheme": code, "CFItemType": kind}
    return {k: v for k, v in (fields | extra).items() if v is not None}


def link(kind: str, origin: str, destination: str, sequence: int | None = None) -> dict[str, Any]:
    return {
        "identifier": f"{kind}:{origin}:{destination}",
        "uri": "u:assoc",
        "associationType": kind,
        "originNodeURI": {"title": "o", "identifier": origin, "uri": f"u:{origin}"},
        "destinationNodeURI": {"title": "d", "identifier": destination, "uri": f"u:{destination}"},
        "lastChangeDateTime": case.EPOCH,
        "sequenceNumber": sequence,
    }


def child(origin: str, parent: str = DOC, sequence: int | None = None) -> dict[str, Any]:
    return link("isChildOf", origin, parent, sequence)


def package(items: list[dict[str, Any]], links: list[dict[str, Any]], **document: Any) -> case.CFPackage:
    doc = {"identifier": DOC, "uri": "u:doc", "creator": "x", "title": "ICT framework"}
    doc |= {"lastChangeDateTime": case.EPOCH, "extensions": {"ustaz": {"code": "ICT"}}} | document
    return case.parse_package({"CFDocument": doc, "CFItems": items, "CFAssociations": links})


# A small framework: aspect A, its competency A.1 with two indicators, and a second aspect B.
TREE_ITEMS = [
    item("a", "A", "Aspect"),
    item("a1", "A.1", "Competency"),
    item("a1x", "A.1.1", "Indicator"),
    item("a1y", "A.1.2", "Indicator"),
    item("b", "B", "Aspect"),
]
TREE_LINKS = [
    child("a", sequence=1),
    child("a1", "a"),
    child("a1x", "a1", 1),
    child("a1y", "a1", 2),
    child("b", sequence=2),
]
TREE = package(TREE_ITEMS, TREE_LINKS)


def rows(plan: Plan | Refused | Exists) -> list[tuple[Any, ...]]:
    assert isinstance(plan, Plan), plan
    return [(r.id, r.parent_id, r.kind, r.code, r.position) for r in plan.items]


def problems(plan: Plan | Refused | Exists) -> list[tuple[str, str, str]]:
    assert isinstance(plan, Refused), plan
    return [(p.field, p.item, p.message) for p in plan.problems]


def test_a_framework_becomes_its_rows_parents_first() -> None:
    plan = plan_import(TREE, stored=False)
    assert rows(plan) == [
        ("a", None, "aspect", "A", 0),
        ("b", None, "aspect", "B", 1),
        ("a1", "a", "competency", "A.1", 2),
        ("a1x", "a1", "indicator", "A.1.1", 3),
        ("a1y", "a1", "indicator", "A.1.2", 4),
    ]
    assert isinstance(plan, Plan)
    assert (plan.framework.id, plan.framework.code, plan.framework.title) == (DOC, "ICT", "ICT framework")
    assert all(r.framework_id == DOC for r in plan.items)


@pytest.mark.parametrize(
    "items,links,expected",
    [
        pytest.param(
            [item("a", "A", "Aspect"), item("a", "B", "Competency")],
            [],
            [("CFItems.0.identifier", "a", "duplicate"), ("CFItems.1.identifier", "a", "duplicate")],
            id="duplicate identifier",
        ),
        pytest.param(
            [item("a", "A", "Galaxy")],
            [],
            [("CFItems.0.CFItemType", "a", "expected one of Aspect, Competency, Indicator, got 'Galaxy'")],
            id="unknown item type",
        ),
        pytest.param(
            [item("a", "A"), item("b", "A")],
            [],
            [
                ("CFItems.0.humanCodingScheme", "a", "code 'A' is used by more than one item"),
                ("CFItems.1.humanCodingScheme", "b", "code 'A' is used by more than one item"),
            ],
            id="duplicate code",
        ),
        pytest.param(
            [item("abcdefgh-1"), item("abcdefgh-2")],
            [],
            [
                (
                    "CFItems.0.humanCodingScheme",
                    "abcdefgh-1",
                    "code 'abcdefgh' is used by more than one item",
                ),
                (
                    "CFItems.1.humanCodingScheme",
                    "abcdefgh-2",
                    "code 'abcdefgh' is used by more than one item",
                ),
            ],
            id="duplicate code made from identifiers",
        ),
        pytest.param(
            [item("a", "A")],
            [child("ghost")],
            [("CFAssociations.0.originNodeURI", f"isChildOf:ghost:{DOC}", "no CFItem ghost in the package")],
            id="child of nothing",
        ),
        pytest.param(
            [item("a", "A")],
            [child("a", "ghost")],
            [
                (
                    "CFAssociations.0.destinationNodeURI",
                    "isChildOf:a:ghost",
                    "no CFItem or CFDocument ghost in the package",
                )
            ],
            id="parent missing",
        ),
        pytest.param(
            [item("a", "A"), item("a", "B", "Planet")],
            [child("ghost"), child("a", "ghost")],
            [
                ("CFItems.0.identifier", "a", "duplicate"),
                ("CFItems.1.identifier", "a", "duplicate"),
                ("CFItems.1.CFItemType", "a", "expected one of Aspect, Competency, Indicator, got 'Planet'"),
                (
                    "CFAssociations.0.originNodeURI",
                    f"isChildOf:ghost:{DOC}",
                    "no CFItem ghost in the package",
                ),
                (
                    "CFAssociations.1.destinationNodeURI",
                    "isChildOf:a:ghost",
                    "no CFItem or CFDocument ghost in the package",
                ),
            ],
            id="every problem at once",
        ),
        pytest.param(
            [item("a", "A"), item("b", "B")],
            [child("a", "b"), child("b", "a")],
            [("CFAssociations", "a", "isChildOf cycle")],
            id="cycle of two",
        ),
        pytest.param(
            [item("a", "A")],
            [child("a", "a")],
            [("CFAssociations", "a", "isChildOf cycle")],
            id="its own parent",
        ),
        pytest.param(
            [item("top", "T"), item("c", "C"), item("x", "X"), item("y", "Y"), item("z", "Z")],
            [child("top"), child("c", "x"), child("x", "y"), child("y", "z"), child("z", "x")],
            [("CFAssociations", "z", "isChildOf cycle")],
            id="cycle of three below an item",
        ),
    ],
)
def test_refused_packages(
    items: list[dict[str, Any]], links: list[dict[str, Any]], expected: list[Any]
) -> None:
    assert problems(plan_import(package(items, links), stored=False)) == expected


@pytest.mark.parametrize(
    "links",
    [
        pytest.param([link("isPeerOf", "ghost", "phantom")], id="other association types are not kept"),
        pytest.param([link("isDerivedFrom", "ghost", "elsewhere")], id="derived-from of an unknown item"),
        pytest.param([link("exemplar", "a", "a")], id="no cycle outside the tree"),
    ],
)
def test_accepted_links_that_are_not_kept(links: list[dict[str, Any]]) -> None:
    plan = plan_import(package([item("a", "A")], links), stored=False)
    assert rows(plan) == [("a", None, "aspect", "A", 0)]
    assert isinstance(plan, Plan) and plan.items[0].derived_from_id is None


def test_a_stored_framework_is_a_conflict_after_the_problems_and_before_cycles() -> None:
    assert plan_import(TREE, stored=True) == Exists(DOC, "ICT")
    assert isinstance(plan_import(package([item("a", "A", "Star")], []), stored=True), Refused)
    cyclic = package([item("a", "A")], [child("a", "a")])
    assert isinstance(plan_import(cyclic, stored=True), Exists)


def test_kinds_come_from_the_depth_without_a_type() -> None:
    items = [item("r"), item("s"), item("t"), item("u")]
    plan = plan_import(
        package(items, [child("r"), child("s", "r"), child("t", "s"), child("u", "t")]), stored=False
    )
    assert [(row[0], row[2]) for row in rows(plan)] == [
        ("r", "aspect"),
        ("s", "competency"),
        ("t", "indicator"),
        ("u", "indicator"),
    ]


def test_positions_from_our_extension_else_by_depth_and_sequence() -> None:
    items = [
        item("a", "A"),
        item("b", "B"),
        item("a2", "A.2", extensions={"ustaz": {"position": 0, "level": "Acquisition"}}),
        item("a1", "A.1"),
    ]
    links = [child("b", sequence=2), child("a", sequence=1), child("a2", "a", 2), child("a1", "a", 1)]
    plan = plan_import(package(items, links), stored=False)
    assert rows(plan) == [
        ("a", None, "aspect", "A", 1),
        ("b", None, "aspect", "B", 2),
        ("a2", "a", "competency", "A.2", 0),
        ("a1", "a", "competency", "A.1", 3),
    ]
    assert isinstance(plan, Plan) and {r.id: r.level for r in plan.items}["a2"] == "Acquisition"


def test_derivation_retirement_and_the_original_framework() -> None:
    items = [item("a", "A"), item("a1", "A.1", statusEndDate="2026-01-01")]
    links = [child("a"), child("a1", "a"), link("isDerivedFrom", "a1", "original-a1")]
    plan = plan_import(
        package(items, links, extensions={"ustaz": {"code": "KZ", "derivedFrom": "f0"}}), stored=False
    )
    assert isinstance(plan, Plan)
    assert {r.id: (r.retired, r.derived_from_id) for r in plan.items} == {
        "a": (False, None),
        "a1": (True, "original-a1"),
    }
    assert (plan.framework.code, plan.derived_from, plan.framework.derived_from_id) == ("KZ", "f0", None)


@pytest.mark.parametrize(
    "document,code",
    [
        ({"extensions": {"ustaz": {"code": "UNESCO-ICT-CFT-3"}}}, "UNESCO-ICT-CFT-3"),
        ({"extensions": None, "title": "ICT CFT: v3 (2018)"}, "ICT-CFT-v3-2018-d0000000"),
        ({"extensions": {"other": {}}, "title": "Цифровая грамотность"}, "-d0000000"),
        ({"extensions": {"ustaz": None}, "title": "A"}, "A-d0000000"),
    ],
)
def test_the_framework_code(document: dict[str, Any], code: str) -> None:
    assert framework_code(package([], [], **document).CFDocument) == code
