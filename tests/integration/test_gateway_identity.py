"""Login, refresh rotation with reuse detection, JWKS and bad input, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import jwt
import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")
PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"].startswith("/problems/")
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def login(
    client: httpx.AsyncClient, username: str = "teacher", password: str = "teacher-demo"
) -> httpx.Response:
    return await client.post("/auth/login", json={"username": username, "password": password})


async def test_login_returns_a_short_lived_eddsa_token_with_kid(gateway_client: httpx.AsyncClient) -> None:
    response = await login(gateway_client)
    assert response.status_code == 200
    body = response.json()
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA" and header["kid"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] <= 15 * 60
    assert claims["roles"] == ["teacher"] and claims["org"] == [
        "KZ",
        "KZ-ALM",
        "KZ-ALM-TAL",
        "KZ-ALM-TAL-S01",
    ]
    assert {"ustaz-courses", "ustaz-progress", "ustaz-certificates"} <= set(claims["aud"])
    jwks = (await gateway_client.get("/.well-known/jwks.json")).json()
    assert header["kid"] in [k["kid"] for k in jwks["keys"]]
    assert all("d" not in k for k in jwks["keys"])  # never a private part
    me = await gateway_client.get("/auth/me", headers={"authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "teacher"


async def test_analyst_token_carries_jurisdiction(gateway_client: httpx.AsyncClient) -> None:
    token = (await login(gateway_client, "analyst", "analyst-demo")).json()["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["scope"] == "org:KZ"


@pytest.mark.parametrize(("username", "password"), [("teacher", "wrong"), ("nobody", "teacher-demo")])
async def test_wrong_credentials_get_401_without_saying_which(
    gateway_client: httpx.AsyncClient, username: str, password: str
) -> None:
    body = assert_problem(await login(gateway_client, username, password), 401)
    assert body["detail"] == "The username or password is not correct."


async def test_refresh_rotates_and_reuse_revokes_the_family(gateway_client: httpx.AsyncClient) -> None:
    first = (await login(gateway_client)).json()["refresh_token"]
    rotated = await gateway_client.post("/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first
    # The old token is replayed (stolen?) after the grace window: refused, and the whole family dies.
    used_long_ago(gateway_client, first)
    assert_problem(await gateway_client.post("/auth/refresh", json={"refresh_token": first}), 401)
    assert_problem(await gateway_client.post("/auth/refresh", json={"refresh_token": second}), 401)
    # A separate login is a separate family and still works.
    other = (await login(gateway_client)).json()["refresh_token"]
    assert (await gateway_client.post("/auth/refresh", json={"refresh_token": other})).status_code == 200


def used_long_ago(client: httpx.AsyncClient, token: str, seconds: int = 3600) -> None:
    """As if `token` had been rotated `seconds` ago (past the reuse grace window)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from gateway.models import RefreshToken
    from gateway.service import _sha256
    from libs.db import session_scope

    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == _sha256(token))  # type: ignore[arg-type]
            .values(used_at=datetime.now(UTC) - timedelta(seconds=seconds))
        )


async def test_a_just_rotated_refresh_token_has_a_grace_window(gateway_client: httpx.AsyncClient) -> None:
    """Two tabs (or a page and its retry) with an expired access token send the same refresh cookie:
    the second, seconds after the first rotated it, gets a fresh pair of the same session instead of
    a logout; both new tokens work, and once the window has passed reuse still revokes the session."""
    import asyncio

    first = (await login(gateway_client)).json()["refresh_token"]
    both = await asyncio.gather(
        *(gateway_client.post("/auth/refresh", json={"refresh_token": first}) for _ in range(2))
    )
    assert [r.status_code for r in both] == [200, 200], [r.text for r in both]
    late = await gateway_client.post("/auth/refresh", json={"refresh_token": first})
    assert late.status_code == 200, late.text
    pairs = [r.json() for r in (*both, late)]
    assert len({p["refresh_token"] for p in pairs}) == 3 and first not in {p["refresh_token"] for p in pairs}
    for pair in pairs[:2]:
        me = await gateway_client.get("/auth/me", headers={"authorization": f"Bearer {pair['access_token']}"})
        assert me.status_code == 200
    again = await gateway_client.post("/auth/refresh", json={"refresh_token": pairs[0]["refresh_token"]})
    assert again.status_code == 200
    # Past the window the old token is a replay: the whole family is revoked, the new ones too.
    used_long_ago(gateway_client, first)
    assert_problem(await gateway_client.post("/auth/refresh", json={"refresh_token": first}), 401)
    assert_problem(
        await gateway_client.post("/auth/refresh", json={"refresh_token": pairs[1]["refresh_token"]}), 401
    )


async def test_logout_revokes_the_refresh_token(gateway_client: httpx.AsyncClient) -> None:
    token = (await login(gateway_client)).json()["refresh_token"]
    assert (await gateway_client.post("/auth/logout", json={"refresh_token": token})).status_code == 204
    assert_problem(await gateway_client.post("/auth/refresh", json={"refresh_token": token}), 401)


async def test_service_token_needs_the_right_secret(gateway_client: httpx.AsyncClient) -> None:
    good = await gateway_client.post(
        "/auth/service-token",
        json={"client_id": "progress", "client_secret": "test-service-secret", "audience": "courses"},
    )
    assert good.status_code == 200
    claims = jwt.decode(good.json()["access_token"], options={"verify_signature": False})
    assert claims["aud"] == ["ustaz-courses"] and claims["roles"] == ["service"]
    assert_problem(
        await gateway_client.post(
            "/auth/service-token",
            json={"client_id": "progress", "client_secret": "guess", "audience": "courses"},
        ),
        401,
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"username": "teacher", "password": ', 400),  # malformed JSON
        (b'{"username": 12, "password": ["x"]}', 422),  # wrong types
        (b'{"username": "teacher"}', 422),  # missing field
        (b'{"username": "t", "password": "p", "admin": true}', 422),  # unknown field
        (b"[]", 422),
    ],
)
async def test_bad_login_bodies(gateway_client: httpx.AsyncClient, body: bytes, status: int) -> None:
    response = await gateway_client.post(
        "/auth/login", content=body, headers={"content-type": "application/json"}
    )
    problem = assert_problem(response, status)
    if status == 422:
        assert problem["errors"]


async def test_oversize_body_is_413(gateway_client: httpx.AsyncClient) -> None:
    big = b'{"username": "' + b"x" * 40_000 + b'", "password": "p"}'
    assert_problem(
        await gateway_client.post("/auth/login", content=big, headers={"content-type": "application/json"}),
        413,
    )


async def test_unknown_route_is_a_404_problem(gateway_client: httpx.AsyncClient) -> None:
    assert_problem(await gateway_client.get("/auth/nothing-here"), 404)
    assert_problem(await gateway_client.get("/api/v1/nosuchservice/x"), 404)


async def test_request_id_is_echoed(gateway_client: httpx.AsyncClient) -> None:
    response = await gateway_client.get("/healthz", headers={"x-request-id": "abc123"})
    assert response.headers["x-request-id"] == "abc123"


async def test_a_token_from_elsewhere_is_refused_by_the_gateway(gateway_client: httpx.AsyncClient) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forged = jwt.encode(
        {"sub": "x", "iss": "ustaz-gateway", "aud": "ustaz-gateway", "exp": 2**40, "iat": 0, "jti": "j"},
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": "nope"},
    )
    body = assert_problem(
        await gateway_client.get("/auth/me", headers={"authorization": f"Bearer {forged}"}), 401
    )
    assert "kid" in str(body["detail"])
    assert_problem(await gateway_client.get("/auth/me"), 401)
    assert_problem(await gateway_client.get("/auth/me", headers={"authorization": "Basic abc"}), 401)
