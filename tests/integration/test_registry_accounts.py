"""Accounts from the registry on SQLite and PostgreSQL: activation with a one-time code (read from the
gateway's outbox, where progress picks it up), reset, join requests and a coordinator's decision,
failed-login throttling in Redis, sessions, and the bad input of each."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import jwt
import pytest
import redis

from deploy.seed import demo_iins
from tests.integration.registry_data import last_account_message, scalar, snapshot
from tests.integration.test_gateway_identity import assert_problem
from tests.integration.test_registry_imports import token

pytestmark = pytest.mark.asyncio(loop_scope="session")
DEMO_IIN = demo_iins(2)[1]  # a demo registry teacher without an account (deploy/seed.py)


@pytest.fixture(autouse=True)
def fresh_throttle(redis_url: str) -> Iterator[None]:
    """Failed logins are counted in Redis per account and per client; each test starts and ends clean."""
    client = redis.Redis.from_url(redis_url)

    def clear() -> None:
        for key in client.scan_iter("ustaz:login:*"):
            client.delete(key)

    clear()
    yield
    clear()
    client.close()


async def activate(
    client: httpx.AsyncClient, iin: str = DEMO_IIN, username: str = "new-teacher"
) -> httpx.Response:
    started = await client.post("/auth/activate", json={"national_id": iin, "channel": "sms"})
    assert started.status_code == 202, started.text
    code = last_account_message(client, "activation_code")["code"]
    return await client.post(
        "/auth/activate/confirm",
        json={"national_id": iin, "code": code, "username": username, "password": "a-long-password"},
    )


async def test_a_registry_teacher_activates_an_account(gateway_client: httpx.AsyncClient) -> None:
    started = await gateway_client.post("/auth/activate", json={"national_id": DEMO_IIN, "channel": "sms"})
    assert started.status_code == 202 and started.json()["channel"] == "sms"
    assert started.json()["destination"].endswith("01") and "•" in started.json()["destination"]
    message = last_account_message(gateway_client, "activation_code")
    assert message["channel"] == "sms" and message["address"] == "+77010000001" and len(message["code"]) == 6
    stored = scalar(gateway_client, "SELECT code_hash FROM account_codes ORDER BY created_at DESC")
    assert message["code"] not in stored  # only a keyed hash is kept
    confirmed = await gateway_client.post(
        "/auth/activate/confirm",
        json={
            "national_id": DEMO_IIN,
            "code": message["code"],
            "username": "new-teacher",
            "password": "a-long-password",
        },
    )
    assert confirmed.status_code == 201, confirmed.text
    claims = jwt.decode(confirmed.json()["access_token"], options={"verify_signature": False})
    registry_id = scalar(
        gateway_client, "SELECT id FROM registry_teachers WHERE user_id = :u", u=claims["sub"]
    )
    assert registry_id == claims["sub"] == message["user_id"]  # the account's id is the registry id
    assert claims["roles"] == ["teacher"] and claims["org"][0] == "KZ" and len(claims["org"]) == 4
    assert DEMO_IIN not in confirmed.json()["access_token"] and "nid" not in str(claims)
    # Reused: 400, and nothing more is created.
    before = snapshot(gateway_client)
    again = await gateway_client.post(
        "/auth/activate/confirm",
        json={
            "national_id": DEMO_IIN,
            "code": message["code"],
            "username": "other",
            "password": "a-long-password",
        },
    )
    reused = assert_problem(again, 400)  # the code is used up: the national ID has its account now
    assert reused["type"] == "/problems/code-refused" and "already used" in str(reused["detail"])
    assert_problem(await gateway_client.post("/auth/activate", json={"national_id": DEMO_IIN}), 409)
    assert snapshot(gateway_client) == before


async def test_a_used_or_expired_code_is_a_400(gateway_client: httpx.AsyncClient) -> None:
    iin = demo_iins(4)[3]
    await gateway_client.post("/auth/activate", json={"national_id": iin})
    code = last_account_message(gateway_client, "activation_code")["code"]
    with gateway_client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        from sqlalchemy import text

        conn.execute(text("UPDATE account_codes SET expires_at = created_at"))
    before = snapshot(gateway_client)
    body = assert_problem(
        await gateway_client.post(
            "/auth/activate/confirm",
            json={"national_id": iin, "code": code, "username": "late", "password": "a-long-password"},
        ),
        400,
    )
    assert body["type"] == "/problems/code-refused" and body["field"] == "code"
    assert "expired" in str(body["detail"]) and snapshot(gateway_client) == before


async def test_wrong_codes_are_counted_then_refused(gateway_client: httpx.AsyncClient) -> None:
    iin = demo_iins(6)[5]
    await gateway_client.post("/auth/activate", json={"national_id": iin})
    code = last_account_message(gateway_client, "activation_code")["code"]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    body = {"national_id": iin, "code": wrong, "username": "guesser", "password": "a-long-password"}
    for _ in range(5):
        assert_problem(await gateway_client.post("/auth/activate/confirm", json=body), 400)
    body["code"] = code  # the right one, too late: the attempts are used up
    refused = assert_problem(await gateway_client.post("/auth/activate/confirm", json=body), 400)
    assert "Too many wrong codes" in refused["detail"]
    assert scalar(gateway_client, "SELECT count(*) FROM users WHERE username = 'guesser'") == 0


async def test_activation_bad_input(gateway_client: httpx.AsyncClient) -> None:
    before = snapshot(gateway_client)
    assert_problem(
        await gateway_client.post("/auth/activate", json={"national_id": "860904350505"}), 422
    )  # check digit
    assert_problem(
        await gateway_client.post("/auth/activate", json={"national_id": "860904350504"}), 404
    )  # not in it
    assert snapshot(gateway_client) == before


async def test_password_reset_with_a_code_ends_every_session(gateway_client: httpx.AsyncClient) -> None:
    session = (
        await gateway_client.post("/auth/login", json={"username": "teacher", "password": "teacher-demo"})
    ).json()
    unknown = await gateway_client.post("/auth/password-reset", json={"login": "nobody-here"})
    assert unknown.status_code == 202  # the same answer: the form does not tell who has an account
    assert (await gateway_client.post("/auth/password-reset", json={"login": "teacher"})).status_code == 202
    message = last_account_message(gateway_client, "reset_code")
    assert message["address"] == "teacher@demo.ustaz.example"  # the registry's e-mail of the demo teacher
    done = await gateway_client.post(
        "/auth/password-reset/confirm",
        json={"login": "teacher", "code": message["code"], "password": "a-new-password"},
    )
    assert done.status_code == 204, done.text
    assert_problem(
        await gateway_client.post("/auth/refresh", json={"refresh_token": session["refresh_token"]}), 401
    )
    assert (
        await gateway_client.post("/auth/login", json={"username": "teacher", "password": "a-new-password"})
    ).status_code == 200
    before = snapshot(gateway_client)
    reused = assert_problem(
        await gateway_client.post(
            "/auth/password-reset/confirm",
            json={"login": "teacher", "code": message["code"], "password": "again-a-password"},
        ),
        400,
    )
    assert reused["type"] == "/problems/code-refused" and snapshot(gateway_client) == before
    assert (
        await gateway_client.post("/auth/login", json={"username": "teacher", "password": "a-new-password"})
    ).status_code == 200  # the reused code changed nothing


async def test_join_request_approved_by_the_coordinator(gateway_client: httpx.AsyncClient) -> None:
    iin = "860904350504"
    body = {
        "school_code": "KZ-ALM-TAL-S02",
        "national_id": iin,
        "last_name": "Серикова",
        "first_name": "Алия",
        "email": "aliya@school.kz",
    }
    created = await gateway_client.post("/auth/join", json=body)
    assert created.status_code == 201 and created.json()["status"] == "pending"
    # A coordinator of another district sees nothing of it and cannot decide it.
    admin = await token(gateway_client)
    other = await gateway_client.post(
        "/auth/login", json={"username": "coordinator", "password": "coordinator-demo"}
    )
    coordinator = {"authorization": f"Bearer {other.json()['access_token']}"}
    akm_user = (
        await gateway_client.get("/identity/users", params={"q": "analyst-akm"}, headers=admin)
    ).json()["items"][0]
    await gateway_client.patch(
        f"/identity/users/{akm_user['id']}", json={"roles": ["coordinator"]}, headers=admin
    )
    akm = await token(gateway_client, "analyst-akm", "analyst-demo")
    assert (await gateway_client.get("/registry/join-requests", headers=akm)).json()["items"] == []
    assert_problem(
        await gateway_client.post(f"/registry/join-requests/{created.json()['id']}/approve", headers=akm), 404
    )
    listed = (await gateway_client.get("/registry/join-requests", headers=coordinator)).json()["items"]
    assert [r["school_code"] for r in listed] == ["KZ-ALM-TAL-S02"] and listed[0][
        "national_id"
    ] == "••••••••0504"
    approved = await gateway_client.post(
        f"/registry/join-requests/{created.json()['id']}/approve", headers=coordinator
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert last_account_message(gateway_client, "join_approved")["address"] == "aliya@school.kz"
    assert (
        scalar(gateway_client, "SELECT source FROM registry_teachers WHERE email = 'aliya@school.kz'")
        == "join"
    )
    assert_problem(
        await gateway_client.post(
            f"/registry/join-requests/{created.json()['id']}/approve", headers=coordinator
        ),
        409,
    )
    # Now in the registry: the teacher activates like any other.
    assert (await activate(gateway_client, iin, "aliya")).status_code == 201


async def test_join_for_an_unknown_school_is_a_404(gateway_client: httpx.AsyncClient) -> None:
    before = snapshot(gateway_client)
    body = {
        "school_code": "KZ-NOWHERE",
        "national_id": "860904350504",
        "last_name": "A",
        "first_name": "B",
        "email": "a@b.kz",
    }
    unknown = assert_problem(await gateway_client.post("/auth/join", json=body), 404)
    assert unknown["type"] == "/problems/not-found" and "KZ-NOWHERE" in str(unknown["detail"])
    body["school_code"] = "KZ-ALM-TAL"  # a district is not a school
    assert assert_problem(await gateway_client.post("/auth/join", json=body), 404)["type"] == (
        "/problems/not-found"
    )
    assert snapshot(gateway_client) == before
    assert scalar(gateway_client, "SELECT count(*) FROM join_requests") == 0


async def test_failed_logins_are_delayed_then_locked_with_a_notice(gateway_client: httpx.AsyncClient) -> None:
    wrong = {"username": "author", "password": "wrong"}
    statuses = []
    for _ in range(4):
        statuses.append((await gateway_client.post("/auth/login", json=wrong)).status_code)
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429  # the third failure starts the delay
    delayed = await gateway_client.post("/auth/login", json={"username": "author", "password": "author-demo"})
    body = assert_problem(delayed, 429)  # even the right password waits out the delay
    assert body["type"] == "/problems/login-throttled" and int(delayed.headers["retry-after"]) >= 1
    client = redis.Redis.from_url(gateway_client.app.state.settings.redis_url)  # type: ignore[attr-defined]
    from gateway.registry.throttle import account_key

    for _ in range(7):  # failures 4 to 10: the tenth in a row locks (the delay waived here, not the count)
        client.hdel(account_key("author"), "next")
        last = await gateway_client.post("/auth/login", json=wrong)
    locked = assert_problem(last, 429)
    assert locked["type"] == "/problems/account-locked" and int(last.headers["retry-after"]) == 15 * 60
    assert last_account_message(gateway_client, "account_locked")["address"] == "author@demo.ustaz.example"
    client.close()


async def test_people_see_and_end_their_sessions(gateway_client: httpx.AsyncClient) -> None:
    first = (
        await gateway_client.post(
            "/auth/login",
            json={"username": "author", "password": "author-demo"},
            headers={"user-agent": "Phone A"},
        )
    ).json()
    second = (
        await gateway_client.post(
            "/auth/login",
            json={"username": "author", "password": "author-demo"},
            headers={"user-agent": "Laptop B"},
        )
    ).json()
    headers = {"authorization": f"Bearer {second['access_token']}"}
    items = (await gateway_client.get("/auth/sessions", headers=headers)).json()["items"]
    assert {s["device"] for s in items} == {"Phone A", "Laptop B"} and all(s["active"] for s in items)
    phone = next(s for s in items if s["device"] == "Phone A")
    assert (await gateway_client.delete(f"/auth/sessions/{phone['id']}", headers=headers)).status_code == 204
    assert_problem(
        await gateway_client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}), 401
    )
    assert (
        await gateway_client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    ).status_code == 200
    teacher = await token(gateway_client, "teacher", "teacher-demo")
    assert_problem(
        await gateway_client.delete(f"/auth/sessions/{phone['id']}", headers=teacher), 404
    )  # not theirs
