"""Posting a page's form from a test as a browser does: with the CSRF token every POST form carries
(gateway/web/csrf.py). The token is the cookie's value; a page render sets the cookie."""

from __future__ import annotations

from typing import Any

import httpx

COOKIES = ("ustaz_csrf", "__Host-ustaz_csrf")


async def csrf_token(client: httpx.AsyncClient) -> str:
    for _ in range(2):
        for name in COOKIES:
            if name in client.cookies:
                return str(client.cookies[name])
        await client.get("/login")  # any page with a form sets it
    raise AssertionError("the gateway set no CSRF cookie")


async def post_form(
    client: httpx.AsyncClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any
) -> httpx.Response:
    return await client.post(url, data={**(data or {}), "csrf_token": await csrf_token(client)}, **kwargs)
