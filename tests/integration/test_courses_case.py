"""CASE 1.1 fidelity on SQLite and PostgreSQL, judged by 1EdTech's own JSON Schemas
(tests/data/standards/case-v1p1) and by real published frameworks (OpenSALT's, tests/data/case):
exports validate with 0 errors, published frameworks round-trip unchanged, every URI of an export
resolves through the CASE REST API, and the CASE shapes of the API validate too."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from jsonschema import Draft201909Validator

from tests.conftest import Databases, mint, serve, service_settings
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="session")
DATA = Path(__file__).parents[1] / "data"
SCHEMAS = DATA / "standards" / "case-v1p1"
OPENSALT = DATA / "case" / "opensalt"
BASE = "/api/v1/courses/frameworks"
API = "/ims/case/v1p1"
CFT = "UNESCO-ICT-CFT-3"
PUBLIC = "http://127.0.0.1:8000"
# Fields OpenSALT writes in a package that 1EdTech's CASE 1.1 package schema does not allow: each
# record's link to its own document (the package's), and the document's link to its package.
OUTSIDE = {"CFDocument": {"CFPackageURI"}, "CFItems": {"CFDocumentURI"}, "CFAssociations": {"CFDocumentURI"}}
EXACT = [
    "act-holistic-math.json",
    "ItemTypeTestFramework.json",
    "SequenceNumberFramework.json",
    "SmartLevelFramework.json",
    "Utf8TestFramework.json",
    "MarkdownFramework.json",
    "AdoptedTestFramework.json",
]


def validator(entity: str) -> Draft201909Validator:
    schema = json.loads((SCHEMAS / f"case_v1p1_{entity}-jsonschema1.json").read_text())
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def errors(entity: str, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(entity).iter_errors(document)
    ]


def published(name: str) -> dict[str, Any]:
    return dict(json.loads((OPENSALT / name).read_text(encoding="utf-8")))


def within_schema(package: dict[str, Any]) -> dict[str, Any]:
    """A published package without the fields the CASE 1.1 package schema does not allow."""
    out = copy.deepcopy(package)
    for key in OUTSIDE["CFDocument"]:
        out["CFDocument"].pop(key, None)
    for part in ("CFItems", "CFAssociations"):
        for record in out.get(part, []):
            for key in OUTSIDE[part]:
                record.pop(key, None)
    return out


@pytest.fixture
def admin(issuer: Any) -> dict[str, str]:
    return {"authorization": f"Bearer {mint(issuer, roles=('platform_admin',))}"}


@pytest_asyncio.fixture
async def empty_courses(databases: Databases, gateway_url: str) -> AsyncIterator[httpx.AsyncClient]:
    from services.courses.app import build_app

    app = build_app(service_settings("courses", databases.fresh("courses"), gateway_url=gateway_url))
    async with serve(app) as client:
        yield client


async def get_json(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    response = await client.get(path)
    assert response.status_code == 200, (path, response.text)
    return dict(response.json())


async def import_(
    client: httpx.AsyncClient, package: dict[str, Any], admin: dict[str, str]
) -> dict[str, Any]:
    response = await client.post(BASE, json=package, headers=admin)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_exports_pass_1edtechs_case_schema(
    courses_client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    assert errors("cfpackage", await get_json(courses_client, f"{BASE}/{CFT}")) == []
    body = {
        "code": "KZ-1",
        "title": "KZ",
        "edit": [{"code": "II.KA.1", "title": "Edited"}],
        "retire": ["I.KA.1"],
    }
    assert (await courses_client.post(f"{BASE}/{CFT}/derive", json=body, headers=admin)).status_code == 201
    derived = await get_json(courses_client, f"{BASE}/KZ-1")
    assert errors("cfpackage", derived) == []
    kinds = {a["associationType"] for a in derived["CFAssociations"]}
    assert kinds == {"isChildOf", "exactMatchOf", "isRelatedTo"}  # derivation as CASE has it
    edited = next(i for i in derived["CFItems"] if i["humanCodingScheme"] == "II.KA.1")
    link = next(
        a
        for a in derived["CFAssociations"]
        if a["originNodeURI"]["identifier"] == edited["identifier"] and a["associationType"] != "isChildOf"
    )
    assert link["associationType"] == "isRelatedTo"
    assert derived["CFDocument"]["extensions"]["ustaz"]["derivedFrom"]


@pytest.mark.parametrize("name", EXACT)
async def test_a_published_framework_round_trips_unchanged(
    empty_courses: httpx.AsyncClient, admin: dict[str, str], name: str
) -> None:
    original = published(name)
    created = await import_(empty_courses, original, admin)
    exported = await get_json(empty_courses, f"{BASE}/{created['code']}")
    assert errors("cfpackage", exported) == []
    assert exported == within_schema(original)
    dropped = {w["field"].split(".")[0] + "." + w["field"].split(".")[-1] for w in created["warnings"]}
    assert dropped <= {"CFDocument.CFPackageURI", "CFItems.CFDocumentURI", "CFAssociations.CFDocumentURI"}


async def test_the_act_framework_keeps_everything(
    empty_courses: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    original = published("act-holistic-math.json")
    created = await import_(empty_courses, original, admin)
    exported = await get_json(empty_courses, f"{BASE}/{created['code']}")
    doc = exported["CFDocument"]
    assert (doc["creator"], doc["lastChangeDateTime"], doc["description"]) == (
        original["CFDocument"]["creator"],
        original["CFDocument"]["lastChangeDateTime"],
        original["CFDocument"]["description"],
    )
    assert [a["identifier"] for a in exported["CFAssociations"]] == [
        a["identifier"] for a in original["CFAssociations"]
    ]
    assert sum("notes" in i for i in exported["CFItems"]) == 11
    assert sum("abbreviatedStatement" in i for i in exported["CFItems"]) == 4
    assert [i["lastChangeDateTime"] for i in exported["CFItems"]] == [
        i["lastChangeDateTime"] for i in original["CFItems"]
    ]
    # The same package twice is a conflict, not a duplicate.
    assert_problem(await empty_courses.post(BASE, json=original, headers=admin), 409)


async def test_an_older_opensalt_export_imports_with_warnings_and_exports_valid(
    empty_courses: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    original = published("what-standards-could-be.json")
    assert len(errors("cfpackage", original)) == 120  # CASE 1.0-era fields, dates without a zone
    created = await import_(empty_courses, original, admin)
    fields = {w["field"] for w in created["warnings"]}
    assert {
        "CFItems.0.CFItemAssociationURI",
        "CFItems.0.educationalLevel",
        "CFItems.0.lastChangeDateTime",
    } <= fields
    exported = await get_json(empty_courses, f"{BASE}/{created['code']}")
    assert errors("cfpackage", exported) == []
    kinds = sorted(a["associationType"] for a in exported["CFAssociations"])
    assert kinds == sorted(a["associationType"] for a in original["CFAssociations"])  # none dropped
    assert {i["CFItemType"] for i in exported["CFItems"]} == {"Cluster", "Standard", "Component"}
    assert [i["identifier"] for i in exported["CFItems"]] == [i["identifier"] for i in original["CFItems"]]


async def test_an_export_reimported_elsewhere_exports_the_same(
    courses_client: httpx.AsyncClient, empty_courses: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    original = await get_json(courses_client, f"{BASE}/{CFT}")
    created = await import_(empty_courses, original, admin)
    assert created["warnings"] == []
    assert await get_json(empty_courses, f"{BASE}/{CFT}") == original


def uris(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "uri" and isinstance(inner, str):
                yield inner
            else:
                yield from uris(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from uris(inner)


SCHEMA_OF = {
    "CFDocuments": "cfdocument",
    "CFItems": "cfitem",
    "CFAssociations": "cfassociation",
    "CFPackages": "cfpackage",
}


async def test_every_uri_of_an_export_resolves_to_a_valid_case_record(
    courses_client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {
        "code": "KZ-2",
        "title": "KZ",
        "add": [{"code": "II.KA.3", "parent_code": "II.KA", "title": "New"}],
    }
    assert (await courses_client.post(f"{BASE}/{CFT}/derive", json=body, headers=admin)).status_code == 201
    walked = 0
    for code in (CFT, "KZ-2"):
        package = await get_json(courses_client, f"{BASE}/{code}")
        for uri in sorted(set(uris(package))):
            assert uri.startswith(PUBLIC + API + "/"), uri
            record = await get_json(courses_client, uri.removeprefix(PUBLIC))
            kind = uri.removeprefix(PUBLIC + API + "/").split("/")[0]
            assert errors(SCHEMA_OF[kind], record) == [], uri
            walked += 1
        doc = package["CFDocument"]["identifier"]
        assert await get_json(courses_client, f"{API}/CFPackages/{doc}") == package
    assert walked > 2 * (60 + 60)  # every item, association and document of both frameworks
    listing = await courses_client.get(f"{API}/CFDocuments")
    assert errors("cfdocumentset", listing.json()) == [] and listing.headers["x-total-count"] == "2"
    item = package["CFItems"][5]["identifier"]
    links = await get_json(courses_client, f"{API}/CFItemAssociations/{item}")
    assert errors("cfassociationset", links) == []
    assert {a["associationType"] for a in links["CFAssociations"]} == {"isChildOf", "exactMatchOf"}
    missing = assert_problem(
        await courses_client.get(f"{API}/CFItems/00000000-0000-4000-8000-000000000000"), 404
    )
    assert (missing["imsx_codeMajor"], missing["imsx_severity"]) == ("failure", "error")


async def test_definitions_of_an_imported_framework_are_served(
    empty_courses: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    original = published("ItemTypeTestFramework.json")
    await import_(empty_courses, original, admin)
    item_type = original["CFDefinitions"]["CFItemTypes"][0]
    served = await get_json(empty_courses, f"{API}/CFItemTypes/{item_type['identifier']}")
    assert served == {"CFItemTypes": [item_type]} and errors("cfitemtypeset", served) == []
    item = await get_json(empty_courses, f"{API}/CFItems/{original['CFItems'][0]['identifier']}")
    assert errors("cfitem", item) == [] and item["CFItemType"] == "Standard"
    assert_problem(await empty_courses.get(f"{API}/CFLicenses/{item_type['identifier']}"), 404)


@pytest.mark.parametrize(
    "change,field",
    [
        ({"extensions": {"ustaz": "not an object"}}, "CFDocument.extensions.ustaz"),
        ({"extensions": {"ustaz": {"code": "C" * 61}}}, "CFDocument.extensions.ustaz.code"),
        (
            {"extensions": {"ustaz": {"code": "OK-1", "derivedFrom": 12345}}},
            "CFDocument.extensions.ustaz.derivedFrom",
        ),
    ],
)
async def test_the_former_500s_are_422s_naming_the_field(
    courses_client: httpx.AsyncClient,
    empty_courses: httpx.AsyncClient,
    admin: dict[str, str],
    change: dict[str, Any],
    field: str,
) -> None:
    package = await get_json(courses_client, f"{BASE}/{CFT}")
    package["CFDocument"] |= change
    body = assert_problem(await empty_courses.post(BASE, json=package, headers=admin), 422)
    assert field in [e["field"] for e in body["errors"]]
    assert (await empty_courses.get(BASE)).json() == []  # nothing stored


async def test_the_gateway_serves_the_case_api_at_the_public_url_and_a_page_for_people(
    databases: Databases, gateway_url: str, key_dir: Path
) -> None:
    from gateway.app import build_app as gateway_app
    from services.courses.app import build_app as courses_app
    from tests.conftest import seed_courses_service, thread_server

    courses = courses_app(
        service_settings("courses", databases.fresh("courses", seed_courses_service), gateway_url=gateway_url)
    )
    with thread_server(courses) as courses_url:
        gateway = gateway_app(
            service_settings(
                "gateway", databases.fresh("gateway"), signing_key_dir=key_dir, courses_url=courses_url
            )
        )
        async with serve(gateway) as client:
            package = await get_json(client, f"{BASE}/{CFT}")
            item = next(i for i in package["CFItems"] if i["humanCodingScheme"] == "II.KA.1")
            path = item["uri"].removeprefix(PUBLIC)
            machine = await client.get(path, headers={"accept": "application/json"})
            assert machine.status_code == 200 and machine.json()["identifier"] == item["identifier"]
            assert errors("cfitem", machine.json()) == []
            assert "Accept" in [v.strip() for v in machine.headers["vary"].split(",")]
            assert (await client.get(path)).json() == machine.json()  # no Accept: a machine
            page = await client.get(path, headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert item["fullStatement"] in page.text and "isChildOf" in page.text
            document = await client.get(
                f"{API}/CFDocuments/{package['CFDocument']['identifier']}", headers={"accept": "text/html"}
            )
            assert package["CFDocument"]["title"] in document.text
            assert (
                await client.get(f"{API}/CFItems/nope", headers={"accept": "text/html"})
            ).status_code == 404
            # Every URI of the export, through the gateway, is a record valid against CASE 1.1.
            walked: set[str] = set()
            found, seen = set(uris(package)), set()
            while found - seen:  # the export's URIs, then those of each record (its document, package)
                uri = min(found - seen)
                seen.add(uri)
                response = await client.get(uri.removeprefix(PUBLIC), headers={"accept": "application/json"})
                assert response.status_code == 200, uri
                kind = uri.removeprefix(PUBLIC + API + "/").split("/")[0]
                assert errors(SCHEMA_OF[kind], response.json()) == [], uri
                walked.add(kind)
                found |= set(uris(response.json()))
            assert walked == {"CFDocuments", "CFItems", "CFAssociations", "CFPackages"}


def issue_package() -> dict[str, Any]:
    """What issue 16 found refused or dropped: item types of other frameworks, a statement over 500
    characters, isTranslationOf, ext: types, exactMatchOf, precedes, isRelatedTo, in a valid package."""
    server = "https://frameworks.example.org/ims/case/v1p1"
    doc = "e0000000-0000-4000-8000-000000000000"

    def node(kind: str, identifier: str) -> dict[str, str]:
        return {"title": identifier, "identifier": identifier, "uri": f"{server}/{kind}/{identifier}"}

    items = [
        {
            **node("CFItems", f"e0000000-0000-4000-8000-00000000000{n}"),
            "CFItemType": kind,
            "fullStatement": text,
        }
        for n, kind, text in [
            (1, "Standard", "Uses digital tools"),
            (2, "Benchmark", "x" * 1200),
            (3, "Learning Target", "Utilise des outils numériques"),
        ]
    ]
    for item in items:
        del item["title"]
        item["lastChangeDateTime"] = "2024-03-01T10:00:00+00:00"
    ids = [i["identifier"] for i in items]
    links = [
        ("isChildOf", ids[0], node("CFDocuments", doc)),
        ("isChildOf", ids[1], node("CFItems", ids[0])),
        ("isChildOf", ids[2], node("CFItems", ids[0])),
        ("isTranslationOf", ids[2], node("CFItems", ids[1])),
        ("ext:isTaughtWith", ids[1], node("CFItems", ids[2])),
        ("exactMatchOf", ids[1], {"title": "t", "identifier": "elsewhere-1", "uri": "https://x.example/1"}),
        ("precedes", ids[1], node("CFItems", ids[2])),
        ("isRelatedTo", ids[0], {"title": "t", "identifier": "elsewhere-2", "uri": "https://x.example/2"}),
    ]
    associations = [
        {
            **node("CFAssociations", f"e1000000-0000-4000-8000-00000000000{n}"),
            "associationType": kind,
            "originNodeURI": node("CFItems", origin),
            "destinationNodeURI": destination,
            "lastChangeDateTime": "2024-03-01T10:00:00+00:00",
        }
        for n, (kind, origin, destination) in enumerate(links)
    ]
    for association in associations:
        del association["title"]
    document = {
        **node("CFDocuments", doc),
        "creator": "A ministry",
        "lastChangeDateTime": "2024-03-01T10:00:00+00:00",
        "language": "fr",
    }
    return {"CFDocument": document, "CFItems": items, "CFAssociations": associations}


async def test_what_the_issue_found_refused_or_dropped_is_imported_and_kept(
    empty_courses: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    original = issue_package()
    assert errors("cfpackage", original) == []  # valid CASE 1.1, as 1EdTech's schema says
    created = await import_(empty_courses, original, admin)
    assert created["warnings"] == []
    exported = await get_json(empty_courses, f"{BASE}/{created['code']}")
    assert exported == original and errors("cfpackage", exported) == []
    item = await get_json(empty_courses, f"{API}/CFItems/{original['CFItems'][1]['identifier']}")
    assert item["fullStatement"] == "x" * 1200 and item["CFItemType"] == "Benchmark"
    links = await get_json(empty_courses, f"{API}/CFItemAssociations/{original['CFItems'][1]['identifier']}")
    assert {a["associationType"] for a in links["CFAssociations"]} == {
        "isChildOf",
        "isTranslationOf",
        "ext:isTaughtWith",
        "exactMatchOf",
        "precedes",
    }
