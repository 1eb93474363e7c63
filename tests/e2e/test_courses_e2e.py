"""In real Chromium against the real processes: an author writes, previews and submits a course, the
institute admin approves it, a teacher finds it, enrols, saves it for offline and reads it with the
network cut."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def login(context: Any, base: str, username: str, next_url: str) -> Any:
    page = context.new_page()
    page.goto(f"{base}/login?next={next_url}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"{username}-demo")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"**{next_url}")
    return page


def test_author_to_offline_reader(platform: Any, browser: Any) -> None:
    base = platform.urls["gateway"]
    slug = f"phones-{uuid.uuid4().hex[:8]}"

    # The author, with JavaScript off: the editor is plain forms.
    author = browser.new_context(java_script_enabled=False)
    page = login(author, base, "author", "/author")
    page.fill("input[name=title]", "One phone, thirty pupils")
    page.fill("input[name=slug]", slug)
    page.select_option("select[name=language]", "en")
    page.get_by_role("button", name="Create draft").click()
    page.wait_for_url("**/author/courses/*")
    course_id = page.url.rsplit("/", 1)[1]
    page.fill("textarea[name=summary]", "Offline polling with a single phone.")
    page.get_by_role("button", name="Save", exact=True).first.click()
    page.click(f"a[href='/author/courses/{course_id}/items/l1']")
    page.fill("textarea[name=markdown]", "## Pass the phone\n\n- one question\n- one answer each")
    page.get_by_role("button", name="Save and preview").click()
    assert page.locator(".phone h2").inner_text() == "Pass the phone"
    assert page.locator(".phone").bounding_box()["width"] <= 360
    page.goto(f"{base}/author/courses/{course_id}")
    page.get_by_role("button", name="Save and submit for review").click()
    page.wait_for_url("**/author")
    author.close()

    admin = browser.new_context(java_script_enabled=False)
    page = login(admin, base, "institute", "/author")
    page.goto(f"{base}/review/courses/{course_id}")
    page.locator("button[value=approve]").click()
    page.wait_for_url("**/author")
    admin.close()

    # The teacher on a phone: finds it, enrols, saves it for offline, reads it offline.
    teacher = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True)
    page = login(teacher, base, "teacher", "/courses")
    page.goto(f"{base}/courses?q=phone&lang=en")
    page.locator(f"a[href='/courses/{course_id}']").click()
    page.locator("form[action$='/enrol'] button").click()
    page.wait_for_selector("#offline:not([hidden])")
    deadline = time.monotonic() + 20
    while page.evaluate("navigator.serviceWorker.controller") is None and time.monotonic() < deadline:
        page.reload()
    page.locator("#offline button").click()
    # The teacher's account is in Russian: "Saved 2 pages for offline reading."
    expect(page.locator("#offline output")).to_contain_text("без интернета: 2", timeout=20000)
    lesson_url = page.locator("a[data-offline]").first.get_attribute("href")

    teacher.set_offline(True)
    page.goto(base + lesson_url)
    assert page.locator("article h2").inner_text() == "Pass the phone"
    teacher.set_offline(False)
    teacher.close()
