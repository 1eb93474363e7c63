"""A service verifies every token itself against the gateway's JWKS, fetched over HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deploy.seed import COURSE_RU_ID
from tests.conftest import mint
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="session")
KEY_PATH = f"/api/v1/courses/{COURSE_RU_ID}/versions/1/answer-key"


async def service_token(gateway_url: str) -> str:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{gateway_url}/auth/service-token",
            json={"client_id": "progress", "client_secret": "test-service-secret", "audience": "courses"},
        )
    return str(response.json()["access_token"])


async def test_catalogue_is_public_and_cacheable(courses_client: httpx.AsyncClient) -> None:
    first = await courses_client.get("/api/v1/courses", params={"lang": "ru"})
    assert first.status_code == 200 and [c["id"] for c in first.json()["items"]] == [COURSE_RU_ID]
    again = await courses_client.get(
        "/api/v1/courses", params={"lang": "ru"}, headers={"if-none-match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""


async def test_learners_never_see_answer_keys(courses_client: httpx.AsyncClient) -> None:
    body = (await courses_client.get(f"/api/v1/courses/{COURSE_RU_ID}/versions/1")).text
    assert '"answer"' not in body and "q1a" in body


async def test_answer_key_needs_a_service_token(
    courses_client: httpx.AsyncClient, gateway_url: str, issuer: Any
) -> None:
    assert_problem(await courses_client.get(KEY_PATH), 401)
    teacher = mint(issuer)
    assert_problem(await courses_client.get(KEY_PATH, headers={"authorization": f"Bearer {teacher}"}), 403)
    token = await service_token(gateway_url)
    response = await courses_client.get(KEY_PATH, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json()["quizzes"][0]["questions"][0]["answer"]


def forged(issuer: Any) -> str:
    return jwt.encode(
        {
            "sub": "x",
            "iss": "ustaz-gateway",
            "aud": ["ustaz-courses"],
            "exp": 2**40,
            "iat": 0,
            "jti": "j",
            "roles": ["service"],
        },
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": issuer.key.kid},
    )


def other_kid() -> str:
    return jwt.encode(
        {
            "sub": "x",
            "iss": "ustaz-gateway",
            "aud": ["ustaz-courses"],
            "exp": 2**40,
            "iat": 0,
            "jti": "j",
            "roles": ["service"],
        },
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": "kid-the-gateway-never-issued"},
    )


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda i: mint(i, roles=("service",), ttl=timedelta(minutes=-5)), "expired"),
        (lambda i: mint(i, roles=("service",), audiences=("progress",)), "aud"),
        (forged, "signature"),
        (lambda i: other_kid(), "kid"),
        (lambda i: "eyJhbGciOiJub25lIiwia2lkIjoieCJ9.eyJzdWIiOiJ4In0.", "algorithm"),
        (
            lambda i: jwt.encode({"sub": "x"}, "secret-guess", algorithm="HS256", headers={"kid": i.key.kid}),
            "algorithm",
        ),
    ],
)
async def test_bad_tokens_are_refused_with_a_reason(
    courses_client: httpx.AsyncClient, issuer: Any, make: Any, reason: str
) -> None:
    response = await courses_client.get(KEY_PATH, headers={"authorization": f"Bearer {make(issuer)}"})
    assert reason in assert_problem(response, 401)["detail"]


async def test_keys_are_fetched_from_the_gateway_on_an_unknown_kid(gateway_url: str, issuer: Any) -> None:
    from libs.auth import KeySet, TokenVerifier

    async with httpx.AsyncClient() as client:
        keyset = KeySet(f"{gateway_url}/.well-known/jwks.json", client, refresh_interval=0)
        verifier = TokenVerifier(keyset, "ustaz-gateway", "ustaz-courses")
        assert (await verifier.verify(mint(issuer, sub="t9")))["sub"] == "t9"  # empty cache -> fetched
