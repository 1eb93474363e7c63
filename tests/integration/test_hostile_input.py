"""Input an attacker or a fuzzer sends (issue 15, item 4): JSON nested thousands deep, statements nested
just under the serialiser's limit, control characters in path ids, redirects to internal addresses.
Each is a 4xx problem that changes nothing, never a 500 (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from deploy.seed import COURSE_RU_ID
from services.progress.models import Statement
from tests.integration import certificates_app, progress_app
from tests.integration.certificates_app import CertificatesAPI
from tests.integration.progress_app import ProgressAPI
from tests.integration.test_gateway_identity import assert_problem
from tests.integration.test_progress_enrolments import with_courses  # noqa: F401 (fixture)

pytestmark = pytest.mark.asyncio
progress_api = progress_app.progress_api
certificates_api = certificates_app.certificates_api
DEEP = "[" * 5000 + "]" * 5000


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


async def test_json_nested_5000_deep_is_a_400_at_login(gateway_client: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/json"}
    body = assert_problem(await gateway_client.post("/auth/login", content=DEEP, headers=headers), 400)
    assert "deep" in body["detail"]
    wrapped = '{"username": ' + DEEP + ', "password": "x"}'
    assert_problem(await gateway_client.post("/auth/login", content=wrapped, headers=headers), 400)


async def test_json_nested_5000_deep_is_a_400_at_public_verify(certificates_api: CertificatesAPI) -> None:
    response = await certificates_api.client.post(
        "/api/v1/certificates/verify", content=DEEP, headers={"content-type": "application/json"}
    )
    assert_problem(response, 400)
    # A pasted "credential" that is itself deep JSON (the service reads JSON holding a JWT).
    response = await certificates_api.client.post("/api/v1/certificates/verify", json={"credential": DEEP})
    assert response.status_code < 500, response.text


async def test_a_statement_nested_254_deep_is_refused_and_the_list_still_answers(
    progress_api: ProgressAPI,
) -> None:
    api = progress_api
    statement = {
        "actor": {"account": {"homePage": "https://ustaz.example", "name": progress_app.TEACHER_ID}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": "https://ustaz.example/courses/c1/lessons/l1"},
        "result": {"extensions": {"https://ustaz.example/x": nested(254)}},
    }
    before = api.count(Statement)
    response = await api.client.post("/api/v1/progress/xapi/statements", json=statement, headers=api.token())
    body = assert_problem(response, 400)
    assert "deep" in body["detail"]
    assert api.count(Statement) == before
    listed = await api.client.get("/api/v1/progress/xapi/statements", headers=api.token())
    assert listed.status_code == 200, listed.text
    # Shallow extensions are still fine.
    statement["result"] = {"extensions": {"https://ustaz.example/x": nested(8)}}
    stored = await api.client.post("/api/v1/progress/xapi/statements", json=statement, headers=api.token())
    assert stored.status_code == 200, stored.text


CONTROL = ["%00", "%09", "%0A", "%1F", "%7F", "%C2%85", "a%00b"]


@pytest.mark.parametrize("bad", CONTROL)
async def test_control_characters_in_path_ids_are_a_404_at_progress(
    progress_api: ProgressAPI, bad: str
) -> None:
    api = progress_api
    for path in (
        f"/api/v1/progress/submissions/{bad}",
        f"/api/v1/progress/cohorts/{bad}",
        f"/api/v1/progress/analytics/units/{bad}",
    ):
        response = await api.client.get(
            path, headers=api.token(roles=("teacher", "analyst", "institute_admin"))
        )
        assert_problem(response, 404)
    response = await api.client.post(f"/api/v1/progress/inbox/{bad}/read", headers=api.token())
    assert_problem(response, 404)


@pytest.mark.parametrize("bad", CONTROL)
async def test_control_characters_in_path_ids_are_a_404_at_certificates(
    certificates_api: CertificatesAPI, bad: str
) -> None:
    api = certificates_api
    for path in (
        f"/api/v1/certificates/{bad}/verification",
        f"/api/v1/certificates/{bad}/credential",
        f"/api/v1/certificates/status-lists/{bad}",
    ):
        assert_problem(await api.client.get(path, headers=api.platform_admin()), 404)


async def test_a_service_never_redirects_to_its_internal_address(certificates_api: CertificatesAPI) -> None:
    for path in ("/api/v1/certificates/", "/api/v1/certificates/%09", "/api/v1/certificates/x/"):
        response = await certificates_api.client.get(path, headers=certificates_api.platform_admin())
        assert response.status_code != 307 and "location" not in response.headers, path
        assert response.status_code < 500


async def test_a_progress_query_cannot_steer_the_service_client(with_courses: ProgressAPI) -> None:  # noqa: F811
    """`framework` reaches the courses service as one quoted path segment, never as a path of its own."""
    api = with_courses
    answer_key = f"../{COURSE_RU_ID}/versions/1/answer-key"
    for framework in (answer_key, f"x/../../{COURSE_RU_ID}", "%2e%2e", "a\tb", "..", "UNESCO-ICT-CFT-3?x=1"):
        response = await api.client.get(
            "/api/v1/progress/competencies/me", params={"framework": framework}, headers=api.token()
        )
        assert_problem(response, 404)
    ok = await api.client.get("/api/v1/progress/competencies/me", headers=api.token())
    assert ok.status_code == 200, ok.text


def test_the_service_client_sends_only_paths_it_built() -> None:
    from libs.ids import InvalidIdentifier
    from libs.service_client import ServiceClient, service_path

    assert service_path("api", "v1", "courses", "c-1", "versions", 3) == "/api/v1/courses/c-1/versions/3"
    for bad in ("..", ".", "a/b", "a?b", "a#b", "a%2Fb", "a b", "", "a\tb"):
        with pytest.raises(InvalidIdentifier):
            service_path("api", "v1", "courses", bad)
    client = ServiceClient(
        gateway_url="http://x", client_id="c", client_secret="s", target="courses", base_url="http://x"
    )
    with pytest.raises(TypeError):
        client.get_json("/api/v1/courses/../x")  # type: ignore[arg-type]
    client.close()


def test_the_json_reader_limits_depth_and_keeps_strings_apart() -> None:
    from libs.jsontext import MAX_DEPTH, TooDeep, loads

    assert loads(json.dumps(nested(MAX_DEPTH - 1))) == nested(MAX_DEPTH - 1)
    with pytest.raises(TooDeep):
        loads(json.dumps(nested(MAX_DEPTH + 1)))
    with pytest.raises(TooDeep):
        loads(DEEP.encode())
    brackets_in_strings = json.dumps({"a": "[" * 10_000, "b": '\\"[[[' * 100})
    assert loads(brackets_in_strings)["a"] == "[" * 10_000
    with pytest.raises(ValueError):
        loads(b"{not json")
