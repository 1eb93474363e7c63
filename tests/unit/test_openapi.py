"""The OpenAPI documents: plain `{name}` path parameters typed by their convertor, the problem statuses
each operation answers (inferred from its shape, plus the ones its handler declares), a document that
a real OpenAPI validator accepts, and docs/openapi.json kept equal to the merged one."""

from __future__ import annotations

import difflib
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from gateway.openapi import document, merge, render
from libs.api import Form, api, build_openapi
from libs.convertors import path_choice
from libs.errors import exception_handlers
from libs.idempotency import idempotent
from libs.settings import ROOT

COMMITTED = ROOT / "docs" / "openapi.json"
REGENERATE = ".venv/bin/python -m gateway.openapi > docs/openapi.json"
PROXIED = {"429", "502", "503", "504"}


@pytest.fixture(scope="module")
def merged() -> dict[str, Any]:
    return document()


def statuses(spec: dict[str, Any], method: str, path: str) -> set[str]:
    return set(spec["paths"][path][method]["responses"]) - {"default"}


def test_the_committed_document_is_the_merged_one(merged: dict[str, Any]) -> None:
    live = render(merged)
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    if committed != live:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    live.splitlines(keepends=True),
                    "docs/openapi.json (committed)",
                    "the merged document (live)",
                    n=2,
                )
            )[:60]
        )
        pytest.fail(
            f"docs/openapi.json is out of date with the route tables. Regenerate it with\n\n    {REGENERATE}\n\n"
            f"and commit it. The first differences:\n{diff}",
            pytrace=False,
        )


def test_a_real_validator_accepts_the_merged_document(merged: dict[str, Any]) -> None:
    validate(merged)


def test_paths_use_plain_parameters_declared_with_their_type(merged: dict[str, Any]) -> None:
    for path, operations in merged["paths"].items():
        assert ":" not in path, path
        named = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        for method, op in operations.items():
            declared = {p["name"]: p["schema"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert set(declared) == named, (method, path)
            if "version" in declared:
                assert declared["version"] == {"type": "integer", "minimum": 0, "maximum": 999_999_999}, (
                    method,
                    path,
                )
    lesson = "/api/v1/courses/{course_id}/versions/{version}/lessons/{lesson_id}"
    assert lesson in merged["paths"]


def test_operation_ids_are_unique(merged: dict[str, Any]) -> None:
    ids = [op["operationId"] for ops in merged["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)) and len(ids) > 60
    funnel = merged["paths"]["/api/v1/progress/analytics/drilldown"]["get"]["operationId"]
    unit = merged["paths"]["/api/v1/progress/analytics/units/{code}"]["get"]["operationId"]
    assert (funnel, unit) == ("get_get_funnel_drilldown", "get_get_unit_by_code")


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        # the gateway's own operations: rate-limited under /auth/, not proxied
        ("post", "/auth/login", {"200", "400", "401", "408", "413", "422", "429"}),
        ("post", "/auth/service-token", {"200", "400", "401", "403", "408", "413", "422", "429"}),
        ("get", "/auth/me", {"200", "401", "429"}),
        ("get", "/org-units", {"200", "401", "403"}),
        ("get", "/.well-known/jwks.json", {"200", "401"}),
        # proxied: the service's statuses and the gateway's
        ("get", "/api/v1/courses", {"200", "401", "422", *PROXIED}),
        (
            "post",
            "/api/v1/courses/{course_id}/submit",
            {"200", "401", "403", "404", "409", "412", "422", *PROXIED},
        ),
        (
            "post",
            "/api/v1/courses/packages",
            {"201", "401", "403", "409", "413", "422", *PROXIED},
        ),
        ("get", "/api/v1/certificates/{certificate_id}/verification", {"200", "401", *PROXIED}),
        ("get", "/api/v1/certificates/{certificate_id}/pdf", {"200", "401", "404", *PROXIED}),
        (
            "post",
            "/api/v1/certificates/{certificate_id}/reissue",
            {"201", "400", "401", "403", "404", "408", "409", "413", "422", *PROXIED},
        ),
        # inference only: a JSON body, a token, an Idempotency-Key
        (
            "post",
            "/api/v1/progress/enrolments",
            {"200", "201", "400", "401", "403", "408", "409", "413", "422", "503", *PROXIED},
        ),
    ],
)
def test_each_operation_lists_the_problems_it_answers(
    merged: dict[str, Any], method: str, path: str, expected: set[str]
) -> None:
    assert statuses(merged, method, path) == expected
    responses = merged["paths"][path][method]["responses"]
    problems = [r for s, r in responses.items() if s[0] in "45" or s == "default"]
    assert all(r["content"]["application/problem+json"]["schema"] for r in problems)


def test_explicit_reasons_are_added_to_the_inferred_ones(merged: dict[str, Any]) -> None:
    responses = merged["paths"]["/auth/login"]["post"]["responses"]
    assert responses["401"]["description"] == (
        "A bearer token was sent and is not valid (none is needed); "
        "the username or password is not correct, or the account is not active."
    )
    submit = merged["paths"]["/api/v1/courses/{course_id}/submit"]["post"]["responses"]
    assert "not a draft" in submit["409"]["description"]
    assert "not reachable" in submit["502"]["description"]


def test_an_idempotent_write_documents_its_header(merged: dict[str, Any]) -> None:
    params = merged["paths"]["/api/v1/progress/submissions"]["post"]["parameters"]
    assert [p["name"] for p in params if p["in"] == "header"] == ["Idempotency-Key"]
    responses = merged["paths"]["/api/v1/progress/submissions"]["post"]["responses"]
    assert "still being processed" in responses["409"]["description"]


# -- build_openapi on a small route table -----------------------------------------------------------------


async def handler(request: Request) -> Response:
    return Response()


def table(**decorator: Any) -> list[Route]:
    decorated = api(summary="s", **decorator)(handler)
    return [Route("/things/{n:int}/{ratio:float}/{ref:uuid}/{name}", decorated, methods=["POST"])]


def only_op(spec: dict[str, Any]) -> dict[str, Any]:
    [operations] = spec["paths"].values()
    [op] = operations.values()
    return op


def test_convertors_become_typed_parameters() -> None:
    spec = build_openapi(table(), title="t")
    assert list(spec["paths"]) == ["/things/{n}/{ratio}/{ref}/{name}"]
    schemas = {p["name"]: p["schema"] for p in only_op(spec)["parameters"]}
    assert schemas == {
        "n": {"type": "integer", "minimum": 0, "maximum": 999_999_999},
        "ratio": {"type": "number", "minimum": 0},
        "ref": {"type": "string", "format": "uuid"},
        "name": {"type": "string", "pattern": "^[^/]+$"},
    }


@pytest.mark.parametrize(
    ("decorator", "expected"),
    [
        ({}, {"200", "401", "403", "404"}),
        ({"public": True}, {"200", "401", "404"}),
        ({"body": dict[str, int], "public": True}, {"200", "400", "401", "404", "408", "413", "422"}),
        ({"status": 201, "errors": {409: "it exists"}}, {"201", "401", "403", "404", "409"}),
        ({"errors": {403: None, 404: None}}, {"200", "401"}),
    ],
)
def test_problem_statuses_are_inferred_then_declared(decorator: dict[str, Any], expected: set[str]) -> None:
    spec = build_openapi(table(**decorator), title="t")
    assert set(only_op(spec)["responses"]) - {"default"} == expected
    validate(spec)


def test_an_idempotent_handler_gets_409_and_the_header_whichever_decorator_is_outside() -> None:
    for decorated in (
        api(summary="s", public=True)(idempotent(handler)),
        idempotent(api(summary="s", public=True)(handler)),
    ):
        op = only_op(build_openapi([Route("/x", decorated, methods=["POST"])], title="t"))
        assert set(op["responses"]) - {"default"} == {"200", "400", "401", "409", "422", "503"}
        assert [p["name"] for p in op["parameters"]] == ["Idempotency-Key"]


def test_merge_adds_the_gateways_problems_and_names_a_missing_service() -> None:
    gateway = build_openapi([Route("/auth/x", api(summary="s", public=True)(handler))], title="g")
    service = build_openapi([Route("/api/v1/a/{id}", api(summary="s")(handler))], title="a")
    spec = merge(gateway, {"a": service, "b": None})
    assert spec["info"] == {"title": "Ustaz API", "version": "1", "x-unavailable-services": ["b"]}
    assert statuses(spec, "get", "/auth/x") == {"200", "401", "429"}
    assert statuses(spec, "get", "/api/v1/a/{id}") == {"200", "401", "403", "404", *PROXIED}
    assert statuses(service, "get", "/api/v1/a/{id}") == {"200", "401", "403", "404"}  # left as it was


def test_a_form_body_required_headers_and_a_second_success_are_documented() -> None:
    decorated = api(
        summary="s",
        body=Form(fields=("alt",), files=("file",), required=("file",)),
        headers={"If-Match": "the ETag"},
        status=201,
        also={200: "it existed"},
    )(handler)
    spec = build_openapi([Route("/x", decorated, methods=["POST"])], title="t")
    op = only_op(spec)
    assert op["requestBody"]["content"]["multipart/form-data"]["schema"] == {
        "type": "object",
        "properties": {"alt": {"type": "string"}, "file": {"type": "string", "format": "binary"}},
        "required": ["file"],
    }
    assert set(op["responses"]) - {"default"} == {"200", "201", "401", "403", "408", "413", "415", "422"}
    assert op["responses"]["200"]["description"] == "It existed."
    assert [(p["name"], p["in"], p["required"]) for p in op["parameters"]] == [("If-Match", "header", True)]
    validate(spec)


def test_two_models_of_one_name_are_refused() -> None:
    class Row(BaseModel):
        a: int

    first = Row

    class Row(BaseModel):  # type: ignore[no-redef]
        b: str

    async def a(request: Request) -> Response:
        return Response()

    async def b(request: Request) -> Response:
        return Response()

    routes = [
        Route("/a", api(summary="s", response=list[first])(a)),
        Route("/b", api(summary="s", response=list[Row])(b)),
    ]
    with pytest.raises(ValueError, match="two different models are named Row"):
        build_openapi(routes, title="t")


def test_a_choice_segment_and_a_bounded_int_keep_routes_apart() -> None:
    """POST /x/{kind} beside GET /x/{id}: each URL has one set of methods; a number too large for a
    database integer matches no route (404, not a 500 from the database)."""
    kind = path_choice("test_kind", ("teachers", "units"))

    async def upload(request: Request) -> Response:
        return Response()

    routes = [
        Route(f"/x/{{kind:{kind}}}", api(summary="s")(upload), methods=["POST"]),
        Route("/x/{ref}", handler, methods=["GET", "DELETE"]),
        Route("/v/{n:int}", handler, methods=["GET"]),
    ]
    client = TestClient(Starlette(routes=list(reversed(routes)), exception_handlers=exception_handlers))
    assert client.post("/x/teachers").status_code == 200
    assert client.post("/x/0").status_code == 405
    assert client.options("/x/teachers").headers["allow"] == "POST"  # the kind's route, not /x/{ref}
    assert client.options("/x/0").headers["allow"] == "DELETE, GET, HEAD"
    assert client.get("/v/999999999").status_code == 200
    assert client.get("/v/36893488147419103231").status_code == 404
    spec = build_openapi(routes, title="t")
    [param] = spec["paths"]["/x/{kind}"]["post"]["parameters"]
    assert param["schema"] == {"type": "string", "enum": ["teachers", "units"]}
