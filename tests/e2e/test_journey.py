"""One teacher's journey through the gateway, against the real processes `make run` starts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from deploy.demo import walk_journey

pytestmark = pytest.mark.e2e


def test_the_journey(platform: Any, browser: Any) -> None:
    base = platform.urls["gateway"]
    steps: list[str] = []
    seen = walk_journey(base, say=steps.append)
    assert len(steps) == 9

    assert seen["enrolment"]["version"] == 1
    assert seen["submit_status"] == 202
    assert seen["graded"]["passed"] is True and seen["graded"]["score"] == 1.0
    # One certificate for the journey's course (the teacher may hold others: the editor e2e's teacher
    # passes the course its author built on the same platform).
    course = seen["enrolment"]["course_id"]
    assert len([c for c in seen["certificates"] if c["course_id"] == course]) == 1
    assert seen["verdict"]["status"] == "valid"
    # The analyst's funnel: alone, this teacher is a group too small to show (403, never a number);
    # after the dashboard test's teachers joined the shared platform, Almaty Region has a count
    # (that test checks the exact counts against the database).
    status, funnel = seen["funnel"]
    if status == 403:
        assert funnel["type"] == "/problems/suppressed"
    else:
        assert status == 200
        region = {r["key"]: r["counts"] for r in funnel["rows"]}
        assert region["KZ-ALM"]["completed"] is None or region["KZ-ALM"]["completed"] >= 1

    # The lesson on a phone-sized screen, JavaScript off, in real Chromium.
    context = browser.new_context(
        viewport={"width": 360, "height": 640},
        java_script_enabled=False,
        device_scale_factor=2,
        is_mobile=True,
    )
    page = context.new_page()
    page.goto(base + seen["lesson_url"])
    # The page's UI is in the visitor's language (English here); the lesson is marked as Russian.
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("article").get_attribute("lang") == "ru"
    assert page.locator("h1").inner_text() == "Зачем часто проверять понимание"
    assert page.locator("article table").count() == 1
    context.close()
    fit = browser.new_context(viewport={"width": 360, "height": 640})
    page = fit.new_page()
    page.goto(base + seen["lesson_url"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    fit.close()

    # The public verification page, no login.
    cert_id = next(c["id"] for c in seen["certificates"] if c["course_id"] == course)
    public = browser.new_context(java_script_enabled=False)
    page = public.new_page()
    page.goto(f"{base}/verify/{cert_id}")
    assert page.locator("[data-status]").get_attribute("data-status") == "valid"
    public.close()

    # Completion happened exactly once: a repeated passing submission issues nothing new.
    with httpx.Client(base_url=base, timeout=15) as client:
        token = client.post("/auth/login", json={"username": "teacher", "password": "teacher-demo"}).json()
        headers = {"authorization": f"Bearer {token['access_token']}"}
        again = client.post(
            "/api/v1/progress/submissions",
            headers=headers,
            json={
                "course_id": seen["course"]["id"],
                "quiz_id": "q1",
                "answers": {"q1a": "b", "q1b": False, "q1c": 70},
            },
        )
        assert again.status_code == 202
        from deploy.demo import _poll

        _poll(
            lambda: client.get(again.headers["location"], headers=headers).json(),
            lambda s: s["status"] == "graded",
            30,
            "second grading",
        )
        held = client.get("/api/v1/certificates", headers=headers).json()["items"]
        assert len([c for c in held if c["course_id"] == course]) == 1


def test_every_process_reports_health_and_metrics(platform: Any) -> None:
    for name, url in platform.urls.items():
        assert httpx.get(f"{url}/healthz").json()["status"] == "ok", name
        assert httpx.get(f"{url}/readyz").status_code == 200, name
        metric = "celery_queue_length" if name in ("worker", "beat") else "http_requests_total"
        assert metric in httpx.get(f"{url}/metrics").text, name
