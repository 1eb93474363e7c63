"""Forged forms in real Chromium (issue 15, item 5): a page on another origin of the same site
(127.0.0.1 on another port, where the session's SameSite=Lax cookies still travel) auto-submits a form
that changes the signed-in teacher's reminder e-mail, and another that enrols them, and one that logs
the browser in as the attacker. Each is refused and changes nothing."""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from deploy.demo import login
from deploy.seed import COURSE_EN_ID
from tests.servers import free_port

pytestmark = pytest.mark.e2e


def forged(action: str, fields: dict[str, str]) -> bytes:
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
    )
    return (
        f'<!doctype html><form method="post" action="{html.escape(action)}">{inputs}</form>'
        "<script>document.forms[0].submit()</script>"
    ).encode()


@pytest.fixture(scope="module")
def attacker(platform: Any) -> Iterator[str]:
    gateway = platform.urls["gateway"]
    pages = {
        "/email": forged(
            f"{gateway}/me/reminders",
            {"email": "attacker@evil.example", "channels": "email", "time_zone": "Asia/Almaty"},
        ),
        "/enrol": forged(f"{gateway}/courses/{COURSE_EN_ID}/enrol", {}),
        "/login": forged(f"{gateway}/login", {"username": "author", "password": "author-demo"}),
    }

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = pages.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(5)


def state_of_teacher(platform: Any) -> tuple[Any, list[str]]:
    with httpx.Client(base_url=platform.urls["gateway"], timeout=15) as client:
        headers = login(client, "teacher")
        prefs = client.get("/api/v1/progress/reminders/preferences", headers=headers).json()
        enrolments = client.get("/api/v1/progress/enrolments", headers=headers).json()["items"]
    return prefs["email"], sorted(e["course_id"] for e in enrolments)


def test_forms_posted_from_another_origin_change_nothing(platform: Any, browser: Any, attacker: str) -> None:
    gateway = platform.urls["gateway"]
    before = state_of_teacher(platform)
    assert COURSE_EN_ID not in before[1]
    context = browser.new_context(base_url=gateway)  # JavaScript on: the attacker's page needs it
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", "teacher")
    page.fill("input[name=password]", "teacher-demo")
    page.click("form[action='/login'] button")
    page.wait_for_url("**/me")  # a teacher lands on their home
    session = {c["name"]: c["value"] for c in context.cookies()}

    for path, target in (("/email", "/me/reminders"), ("/enrol", f"/courses/{COURSE_EN_ID}/enrol")):
        with page.expect_response(lambda r, t=target: r.url == gateway + t) as answer:
            page.goto(attacker + path)
        assert answer.value.status == 403, (path, answer.value.status)
        assert answer.value.request.headers.get("origin") == attacker  # it was sent, with the cookies

    assert state_of_teacher(platform) == before

    # Login CSRF: the browser is not switched to the attacker's account.
    with page.expect_response(lambda r: r.url == gateway + "/login" and r.request.method == "POST") as answer:
        page.goto(attacker + "/login")
    assert answer.value.status == 403
    assert {c["name"]: c["value"] for c in context.cookies()}["ustaz_at"] == session["ustaz_at"]

    # The same forms on Ustaz's own pages still work.
    page.goto("/me/reminders")
    page.fill("input[name=email]", "teacher@example.org")
    page.click("form[action='/me/reminders'] button[type=submit]")
    page.wait_for_url("**/me/reminders?saved=1")
    assert state_of_teacher(platform)[0] == "teacher@example.org"
    context.close()
