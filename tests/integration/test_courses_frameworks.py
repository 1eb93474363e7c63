"""Competency frameworks as CASE 1.1 on SQLite and PostgreSQL: export, import round trip, broken packages
(422 naming item and field, nothing stored), and a derived national framework whose items are
exactMatchOf their originals (isRelatedTo where edited). Fidelity against 1EdTech's schemas and
published frameworks: test_courses_case.py."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.conftest import Databases, mint, serve, service_settings
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="session")
BASE = "/api/v1/courses/frameworks"
CFT = "UNESCO-ICT-CFT-3"


@pytest.fixture
def admin(issuer: Any) -> dict[str, str]:
    return {"authorization": f"Bearer {mint(issuer, roles=('platform_admin',))}"}


@pytest_asyncio.fixture
async def empty_courses(databases: Databases, gateway_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A second courses service with no framework at all, to import into."""
    from services.courses.app import build_app

    app = build_app(service_settings("courses", databases.fresh("courses"), gateway_url=gateway_url))
    async with serve(app) as client:
        yield client


async def export(client: httpx.AsyncClient, code: str) -> dict[str, Any]:
    response = await client.get(f"{BASE}/{code}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_seeded_framework_exports_as_case(courses_client: httpx.AsyncClient) -> None:
    response = await courses_client.get(f"{BASE}/{CFT}")
    package = response.json()
    kinds = Counter(i["CFItemType"] for i in package["CFItems"])
    assert kinds == {"Aspect": 6, "Competency": 18, "Indicator": 36}
    assert package["CFDocument"]["identifier"] and package["CFDocument"]["creator"]
    children = [a for a in package["CFAssociations"] if a["associationType"] == "isChildOf"]
    assert len(children) == len(package["CFItems"])
    doc_id = package["CFDocument"]["identifier"]
    assert sum(a["destinationNodeURI"]["identifier"] == doc_id for a in children) == 6
    codes = {i["humanCodingScheme"] for i in package["CFItems"]}
    assert {"I", "II.KA", "VI.KC", "II.KA.1"} <= codes
    again = await courses_client.get(f"{BASE}/{CFT}", headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304
    assert_problem(await courses_client.get(f"{BASE}/NOPE"), 404)


async def test_case_round_trip_without_loss(
    courses_client: httpx.AsyncClient, empty_courses: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    original = await export(courses_client, CFT)
    response = await empty_courses.post(BASE, json=original, headers=admin)
    assert response.status_code == 201, response.text
    assert await export(empty_courses, CFT) == original
    # The same package twice is a conflict, not a duplicate.
    assert_problem(await empty_courses.post(BASE, json=original, headers=admin), 409)


def broken(package: dict[str, Any], how: str) -> tuple[dict[str, Any], str, str]:
    """A damaged copy, the identifier of the item the problem names, and the field."""
    bad = copy.deepcopy(package)
    item = bad["CFItems"][3]
    if how == "missing statement":
        del item["fullStatement"]
        return bad, item["identifier"], "CFItems.3.fullStatement"
    if how == "empty statement":
        item["fullStatement"] = ""
        return bad, item["identifier"], "CFItems.3.fullStatement"
    if how == "duplicate code":
        item["humanCodingScheme"] = bad["CFItems"][4]["humanCodingScheme"]
        return bad, item["identifier"], "CFItems.3.humanCodingScheme"
    if how == "dangling association":
        assoc = bad["CFAssociations"][5]
        assoc["destinationNodeURI"]["identifier"] = "00000000-0000-4000-8000-0000000000ff"
        return bad, assoc["identifier"], "CFAssociations.5.destinationNodeURI"
    if how == "unknown association type":
        assoc = bad["CFAssociations"][2]
        assoc["associationType"] = "isFriendOf"
        return bad, assoc["identifier"], "CFAssociations.2.associationType"
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        "missing statement",
        "empty statement",
        "duplicate code",
        "dangling association",
        "unknown association type",
    ],
)
async def test_broken_case_is_refused_naming_item_and_field(
    courses_client: httpx.AsyncClient, empty_courses: httpx.AsyncClient, admin: dict[str, str], how: str
) -> None:
    bad, item, field = broken(await export(courses_client, CFT), how)
    body = assert_problem(await empty_courses.post(BASE, json=bad, headers=admin), 422)
    assert {"item": item, "field": field} in [
        {"item": e["item"], "field": e["field"]} for e in body["errors"]
    ]
    assert (await empty_courses.get(BASE)).json() == []  # nothing stored


async def test_import_needs_a_platform_admin(courses_client: httpx.AsyncClient, issuer: Any) -> None:
    package = await export(courses_client, CFT)
    teacher = {"authorization": f"Bearer {mint(issuer)}"}
    assert_problem(await courses_client.post(BASE, json=package, headers=teacher), 403)
    assert_problem(
        await courses_client.post(f"{BASE}/{CFT}/derive", json={"code": "X1", "title": "x"}, headers=teacher),
        403,
    )
    assert_problem(await courses_client.post(BASE, json={"CFDocument": {}}, headers={}), 401)


async def test_derived_national_framework(
    courses_client: httpx.AsyncClient, empty_courses: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    c = courses_client
    body = {
        "code": "KZ-ICT-2026",
        "title": "Kazakhstan ICT competencies for teachers",
        "language": "ru",
        "edit": [{"code": "II.KA.1", "title": "Объясняет, как формативное оценивание работает в классе"}],
        "add": [{"code": "II.KA.3", "parent_code": "II.KA", "title": "Использует офлайн-опросы"}],
        "retire": ["IV.KC.2"],
    }
    response = await c.post(f"{BASE}/{CFT}/derive", json=body, headers=admin)
    assert response.status_code == 201, response.text
    original = {i["identifier"]: i for i in (await export(c, CFT))["CFItems"]}
    derived = await export(c, "KZ-ICT-2026")
    items = {i["humanCodingScheme"]: i for i in derived["CFItems"]}
    assert len(items) == len(original) + 1
    assert items["II.KA.1"]["fullStatement"].startswith("Объясняет")
    assert items["IV.KC.2"].get("statusEndDate") and not items["IV.KC.1"].get("statusEndDate")
    links = {
        a["originNodeURI"]["identifier"]: a["destinationNodeURI"]["identifier"]
        for a in derived["CFAssociations"]
        if a["associationType"] in ("exactMatchOf", "isRelatedTo")
    }
    edited = [a for a in derived["CFAssociations"] if a["associationType"] == "isRelatedTo"]
    assert [a["originNodeURI"]["identifier"] for a in edited] == [items["II.KA.1"]["identifier"]]
    assert len(links) == len(original)  # every copied item, not the new one
    assert items["II.KA.3"]["identifier"] not in links
    assert original[links[items["II.KA.1"]["identifier"]]]["humanCodingScheme"] == "II.KA.1"
    parent = next(
        a
        for a in derived["CFAssociations"]
        if a["associationType"] == "isChildOf"
        and a["originNodeURI"]["identifier"] == items["II.KA.3"]["identifier"]
    )
    assert parent["destinationNodeURI"]["identifier"] == items["II.KA"]["identifier"]

    # The derived framework round-trips too, keeping its derivation links and retirements.
    assert (await empty_courses.post(BASE, json=derived, headers=admin)).status_code == 201
    again = await export(empty_courses, "KZ-ICT-2026")
    assert again == derived

    def shape(package: dict[str, Any]) -> set[tuple[str, str, str, str]]:
        return {
            (
                a["identifier"],
                a["associationType"],
                a["originNodeURI"]["identifier"],
                a["destinationNodeURI"]["identifier"],
            )
            for a in package["CFAssociations"]
        }

    assert shape(again) == shape(derived)

    bad = {
        **body,
        "code": "KZ-2",
        "edit": [{"code": "ZZ.1", "title": "x"}],
        "retire": ["II.KA"],
        "add": [{"code": "II.KA.1", "parent_code": "II", "title": "x"}],
    }
    problem = assert_problem(await c.post(f"{BASE}/{CFT}/derive", json=bad, headers=admin), 422)
    assert {e["field"] for e in problem["errors"]} == {
        "edit.0.code",
        "retire.0",
        "add.0.parent_code",
        "add.0.code",
    }
    assert_problem(await c.post(f"{BASE}/{CFT}/derive", json=body, headers=admin), 409)
    assert [f["code"] for f in (await c.get(BASE)).json()] == ["KZ-ICT-2026", CFT]
