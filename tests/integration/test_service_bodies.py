"""Bodies another service reads are the producer's models (services/courses/schemas.py, "bodies other
services read"): each route's JSON is exactly what the producing function made, nothing dropped,
nulled or added by serialising through the model, and the consumer's model validates it."""

from __future__ import annotations

from typing import Any

import pytest

from deploy.seed import COURSE_RU_ID
from libs.db import create_db_engine, session_scope
from services.courses import case_export, repository
from services.courses.schemas import CaseExport, CourseContent, CourseDetail, CourseSummary, learner_view
from tests.conftest import Databases, mint, seed_courses_service, serve, service_settings

pytestmark = pytest.mark.asyncio(loop_scope="session")
CFT = "UNESCO-ICT-CFT-3"


async def test_course_detail_and_case_export_are_what_the_service_made(
    databases: Databases, gateway_url: str, issuer: Any
) -> None:
    from services.courses.app import build_app

    url = databases.fresh("courses", seed_courses_service)
    settings = service_settings("courses", url, gateway_url=gateway_url)
    engine = create_db_engine(url)
    admin = {"authorization": f"Bearer {mint(issuer, roles=('platform_admin',))}"}
    try:
        async with serve(build_app(settings)) as client:
            derive = {
                "code": "KZ-ICT-2026",
                "title": "Kazakhstan ICT competencies",
                "language": "ru",
                "add": [{"code": "II.KA.3", "parent_code": "II.KA", "title": "Офлайн-опросы"}],
                "retire": ["IV.KC.2"],
            }
            created = await client.post(
                f"/api/v1/courses/frameworks/{CFT}/derive", json=derive, headers=admin
            )
            assert created.status_code == 201, created.text
            detail = (await client.get(f"/api/v1/courses/{COURSE_RU_ID}")).json()
            exports = {
                code: (await client.get(f"/api/v1/courses/frameworks/{code}")).json()
                for code in (CFT, "KZ-ICT-2026")
            }
        base = settings.public_url.rstrip("/")
        with session_scope(engine, readonly=True) as session:
            course = repository.course(session, COURSE_RU_ID)
            assert course is not None and course.latest_version is not None
            version = repository.version(session, COURSE_RU_ID, course.latest_version)
            assert version is not None
            made = {
                **CourseSummary.model_validate(course).model_dump(mode="json"),
                "content": learner_view(CourseContent.model_validate(version.content)),
            }
            packages = {code: case_export.export_package(session, code, base) for code in exports}
    finally:
        engine.dispose()
    assert detail == made
    assert list(detail["content"]) == list(made["content"])  # the same fields in the same order
    assert CourseDetail.model_validate(detail).content.modules
    for code, package in packages.items():
        assert exports[code] == package, code
        CaseExport.model_validate(exports[code])
    derived = exports["KZ-ICT-2026"]
    assert any("statusEndDate" in i for i in derived["CFItems"])  # retired: present...
    assert not all("statusEndDate" in i for i in derived["CFItems"])  # ...and absent, never null
    # Derivation as CASE 1.1 has it (docs/adr/0018): unchanged copies are exactMatchOf their originals.
    assert {a["associationType"] for a in derived["CFAssociations"]} == {"isChildOf", "exactMatchOf"}


def test_a_body_that_is_not_the_producers_model_is_a_bad_gateway(gateway_url: str) -> None:
    """A peer that answers with another shape (a contract mismatch between two deployments) is refused
    whole: `get_model` raises a 502 naming the fields, the consumer never half-reads it."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from gateway.schemas import OrgUnitTree
    from libs.service_client import ServiceClient, UnexpectedBody, service_path
    from tests.conftest import thread_server

    tree = {"items": [{"code": "KZ", "name": "Kazakhstan", "kind": "country", "parent": None, "path": "KZ"}]}

    async def good(_: Any) -> JSONResponse:
        return JSONResponse(tree)

    async def renamed(_: Any) -> JSONResponse:
        return JSONResponse({"units": tree["items"]})

    async def partial(_: Any) -> JSONResponse:
        return JSONResponse({"items": [{"code": "KZ", "kind": "country", "path": "KZ"}]})

    peer = Starlette(routes=[Route("/good", good), Route("/renamed", renamed), Route("/partial", partial)])
    with thread_server(peer) as url:
        client = ServiceClient(
            gateway_url=gateway_url,
            client_id="progress",
            client_secret="test-service-secret",
            target="gateway",
            base_url=url,
        )
        try:
            assert client.get_model(service_path("good"), OrgUnitTree).items[0].path == "KZ"
            for path, fields in (("/renamed", {"items"}), ("/partial", {"items.0.name", "items.0.parent"})):
                with pytest.raises(UnexpectedBody) as refused:
                    client.get_model(service_path(path.strip("/")), OrgUnitTree)
                assert refused.value.status == 502
                assert {e["field"] for e in refused.value.extra["errors"]} == fields
        finally:
            client.close()
