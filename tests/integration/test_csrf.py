"""Forms cannot be forged (issue 15, item 5): every page POST route refuses another origin before its
handler runs, every POST form carries a token that `read_form` checks, login CSRF included; pages send
the security headers (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.routing import Route

from tests.forms import csrf_token, post_form
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="session")
SESSION = ("ustaz_at", "ustaz_rt")
# Unsafe page routes that take no session-authorised form: each says why it needs no token.
NO_TOKEN = {
    "/unsubscribe": "authorised by the signed token in its URL, not by a cookie (RFC 8058 one-click POSTs)",
    "/me/statements": "JSON only, which a form on another site cannot send; its origin is checked",
    "/coach/observations.json": "JSON only (the offline observation queue), its origin checked, as /me/statements",
}


def page_post_routes() -> list[str]:
    from gateway.web.routes import routes

    return [
        r.path
        for r in routes
        if isinstance(r, Route) and r.methods and "POST" in r.methods and not r.path.startswith("/api/")
    ]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "http://sibling.test"},  # another origin on the same site
        {"origin": "null"},
        {"sec-fetch-site": "same-site"},
        {"sec-fetch-site": "cross-site"},
    ],
)
async def test_every_page_post_from_another_origin_is_refused_before_its_handler(
    gateway_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    paths = page_post_routes()
    assert {"/login", "/logout", "/lang", "/me/reminders", "/courses/{course_id}/enrol"} <= set(paths)
    token = await csrf_token(gateway_client)
    for path in paths:
        response = await gateway_client.post(concrete(path), data={"csrf_token": token}, headers=headers)
        body = assert_problem(response, 403)
        assert body["type"] == "/problems/cross-origin", path


async def test_every_page_post_route_reads_its_form_through_the_csrf_check() -> None:
    """A handler that does not call read_form would take a form without a token: each one does."""
    import inspect

    from gateway.web.routes import routes

    for route in routes:
        if (
            isinstance(route, Route)
            and route.methods
            and "POST" in route.methods
            and route.path not in NO_TOKEN
        ):
            assert "read_form(" in inspect.getsource(route.endpoint), route.path


async def test_login_csrf_is_refused_and_signs_nobody_in(gateway_client: httpx.AsyncClient) -> None:
    creds = {"username": "teacher", "password": "teacher-demo"}
    for data, cookies in (
        (creds, {}),  # no token at all (a form on another site, its cookie not readable there)
        ({**creds, "csrf_token": "forged.0000"}, {"ustaz_csrf": "forged.0000"}),  # a planted pair
    ):
        gateway_client.cookies.clear()
        gateway_client.cookies.update(cookies)
        response = await gateway_client.post("/login", data=data)
        assert response.status_code == 403 and "This form cannot be accepted" in response.text
        assert not any(c in response.headers.get("set-cookie", "") for c in SESSION)
    gateway_client.cookies.clear()
    signed_in = await post_form(gateway_client, "/login", data=creds)
    assert signed_in.status_code == 303 and all(c in gateway_client.cookies for c in SESSION)


async def test_a_token_from_another_browser_does_not_do(gateway_client: httpx.AsyncClient) -> None:
    theirs = await csrf_token(gateway_client)
    gateway_client.cookies.clear()
    mine = await csrf_token(gateway_client)
    assert mine != theirs
    response = await gateway_client.post("/lang", data={"lang": "kk", "csrf_token": theirs})
    assert response.status_code == 403 and "ustaz_lang" not in response.headers.get("set-cookie", "")
    assert (await post_form(gateway_client, "/lang", data={"lang": "kk"})).status_code == 303


async def test_every_post_form_of_every_page_carries_the_token(gateway_client: httpx.AsyncClient) -> None:
    page = await gateway_client.get("/login")
    forms = re.findall(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", page.text, re.S)
    assert len(forms) >= 2  # the login form and the language switcher
    token = gateway_client.cookies["ustaz_csrf"]
    assert all(f'name="csrf_token" value="{token}"' in form for form in forms)
    assert "HttpOnly" in page.headers["set-cookie"] and "SameSite=lax" in page.headers["set-cookie"]


async def test_pages_and_answers_carry_the_security_headers(gateway_client: httpx.AsyncClient) -> None:
    for response in (
        await gateway_client.get("/login"),
        await gateway_client.get("/.well-known/jwks.json"),
        await gateway_client.post("/auth/login", json={"username": "x", "password": "y"}),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in response.headers  # http://test, not production
    assert "frame-ancestors 'none'" in (await gateway_client.get("/login")).headers["content-security-policy"]


async def test_hsts_when_the_public_url_is_https(databases: object, key_dir: object) -> None:
    from deploy.seed import seed_gateway
    from gateway.app import build_app
    from tests.conftest import serve, service_settings

    url = databases.fresh("gateway", seed_gateway)  # type: ignore[attr-defined]
    settings = service_settings("gateway", url, signing_key_dir=key_dir, public_url="https://ustaz.kz")
    async with serve(build_app(settings)) as client:
        response = await client.get("/login")
    assert response.headers["strict-transport-security"] == "max-age=31536000"


async def test_every_page_post_without_the_token_is_refused_before_it_changes_anything(
    gateway_client: httpx.AsyncClient,
) -> None:
    """Each page POST route, signed in as each kind of person, from the browser's own origin, without the
    form's token: the answer is the 'form cannot be accepted' page (403) for everyone the route lets in,
    and a refusal (403) or a sign-in redirect for the others; the handlers read the form before they call
    any service, so nothing can change first (no services run behind this gateway: a handler that
    called one before checking the token would answer 502, not 403)."""
    refused: dict[str, set[str]] = {}
    for username in ("teacher", "author", "institute", "admin"):
        gateway_client.cookies.clear()
        signed_in = await post_form(
            gateway_client, "/login", data={"username": username, "password": f"{username}-demo"}
        )
        assert signed_in.status_code == 303
        session = {c: gateway_client.cookies[c] for c in SESSION}
        gateway_client.cookies.set("ustaz_lang", "en")  # the page's words below are English
        for path in page_post_routes():
            if path in NO_TOKEN:
                continue
            response = await gateway_client.post(
                concrete(path.replace("{action:str}", "revoke")),
                data={"title": "x", "op": "save", "decision": "approve"},
                headers={"sec-fetch-site": "same-origin"},
            )
            assert response.status_code in (303, 403), (path, username, response.status_code)
            if "This form cannot be accepted" in response.text:
                refused.setdefault(path, set()).add(username)
            assert "ustaz_lang" not in response.headers.get("set-cookie", ""), path
        assert {c: gateway_client.cookies[c] for c in SESSION} == session
    assert set(refused) == set(page_post_routes()) - set(NO_TOKEN), refused
