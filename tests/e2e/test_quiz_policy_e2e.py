"""A quiz with a policy in real Chromium (JavaScript off) against the processes `make run` starts: a
teacher fails, sees the wrong questions with the author's explanations (no correct answer yet:
attempts are left), the attempts left and a retry link; the retry waits out the cool-down, then
passes with a decimal comma (docs/adr/0022-quiz-policy.md)."""

from __future__ import annotations

import copy
import time
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from deploy.seed import demo_course

pytestmark = pytest.mark.e2e
COOL_DOWN = 15


def token(client: httpx.Client, username: str) -> dict[str, str]:
    response = client.post("/auth/login", json={"username": username, "password": f"{username}-demo"})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['access_token']}"}


def published_course_with_policy(base: str) -> str:
    body = copy.deepcopy(demo_course("en"))
    body.update(slug=f"policy-{uuid.uuid4().hex[:8]}", language="en", title="Formative checks")
    for module in body["modules"]:
        for item in module["items"]:
            if item["type"] == "quiz":
                item["policy"] = {
                    "max_attempts": 3,
                    "cooldown_seconds": COOL_DOWN,
                    "feedback": "each_attempt",
                }
                first = item["questions"][0]
                first["answer"]["explanation"] = "Formative assessment steers teaching while pupils learn."
                first["answer"]["explanations"] = {"a": "Final grades are summative, not formative."}
    with httpx.Client(base_url=base, timeout=30) as client:
        author, admin = token(client, "author"), token(client, "institute")
        created = client.post("/api/v1/courses", json=body, headers=author)
        assert created.status_code == 201, created.text
        course_id = str(created.json()["id"])
        assert client.post(f"/api/v1/courses/{course_id}/submit", headers=author).status_code == 200
        approved = client.post(
            f"/api/v1/courses/{course_id}/review", json={"decision": "approve"}, headers=admin
        )
        assert approved.status_code == 200, approved.text
    return course_id


def test_a_teacher_fails_reads_the_feedback_and_retries_after_the_cool_down(
    platform: Any, browser: Any
) -> None:
    base = platform.urls["gateway"]
    course_id = published_course_with_policy(base)
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 360, "height": 740}, base_url=base
    )
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", "teacher")
    page.fill("input[name=password]", "teacher-demo")
    page.click("form[action='/login'] button")
    page.goto(f"/courses/{course_id}")
    page.click(f"form[action='/courses/{course_id}/enrol'] button")

    quiz = f"/courses/{course_id}/v/1/quizzes/q1"
    page.goto(quiz)
    assert page.locator("[data-attempt]").get_attribute("data-attempt") == "1"
    # Sent empty: the form again, with the error in the teacher's language (Russian), still signed in.
    with page.expect_response(lambda r: r.request.method == "POST") as empty:
        page.click("form button[type=submit]")
    assert empty.value.status == 422
    expect(page.locator("#quiz-error")).to_have_text(
        "Ответьте хотя бы на один вопрос, прежде чем отправлять."
    )
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.locator("[data-attempt]").get_attribute("data-attempt") == "1", (
        "still signed in, same attempt"
    )
    page.check("input[name=q1a][value=a]")
    page.check("input[name=q1b][value=true]")
    page.fill("input[name=q1c]", "12")
    page.click("form button[type=submit]")
    page.wait_for_url("**/submissions/*")
    expect(page.locator("[data-passed]")).to_have_attribute("data-passed", "false", timeout=30_000)

    wrong = page.locator("li[data-question=q1a]")
    assert wrong.get_attribute("data-correct") == "false"
    expect(wrong.locator("strong")).to_have_text("Неверно")
    expect(wrong.locator("[data-explanation]")).to_have_text(
        "Formative assessment steers teaching while pupils learn."
    )
    expect(wrong.locator("[data-chosen-explanation]")).to_contain_text("Final grades are summative")
    assert page.locator("[data-answer]").count() == 0, "no correct answer while attempts are left"
    expect(page.locator("[data-attempts-left]")).to_have_text("2")

    page.click("a[data-retry]")
    page.wait_for_url(f"**{quiz}")
    expect(page.locator("[data-cool-down]")).to_have_count(1)
    assert page.locator("form button[type=submit]").count() == 0
    deadline = time.monotonic() + COOL_DOWN + 20
    while page.locator("form button[type=submit]").count() == 0:  # reload until the cool-down ends
        assert time.monotonic() < deadline, "the next attempt never opened"
        page.wait_for_timeout(1000)
        page.goto(quiz)
    assert page.locator("[data-attempt]").get_attribute("data-attempt") == "2"
    page.check("input[name=q1a][value=b]")
    page.check("input[name=q1b][value=false]")
    page.fill("input[name=q1c]", "70,0")
    page.click("form button[type=submit]")
    page.wait_for_url("**/submissions/*")
    expect(page.locator("[data-passed]")).to_have_attribute("data-passed", "true", timeout=30_000)
    expect(page.locator("[data-attempts-left]")).to_have_text("1")
    context.close()
