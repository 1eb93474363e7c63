"""Offline reading in real Chromium with the network cut (context.set_offline): a teacher saves a
course on a phone, and then, without a network, the start page for offline lists it with its lessons
by their own titles — shown for /courses, /me/courses and /me too, which were never saved — and opens
the course and each lesson from the phone. Removing a course takes it off the list."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from deploy.seed import COURSE_RU_ID

pytestmark = pytest.mark.e2e


def test_saved_courses_are_listed_and_open_without_a_network(platform: Any, browser: Any) -> None:
    base = platform.urls["gateway"]
    context = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True, base_url=base)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", "teacher")
    page.fill("input[name=password]", "teacher-demo")
    page.click("form[action='/login'] button")
    page.goto("/offline")  # before anything is saved: the list says so
    expect(page.locator("#saved [data-empty]")).to_be_visible()
    assert page.locator("[data-saved-course]").count() == 0

    page.goto(f"/courses/{COURSE_RU_ID}")
    if page.locator(f"form[action='/courses/{COURSE_RU_ID}/enrol']").count():
        page.click(f"form[action='/courses/{COURSE_RU_ID}/enrol'] button")
    page.wait_for_selector("#offline:not([hidden])")
    deadline = time.monotonic() + 20
    while page.evaluate("navigator.serviceWorker.controller") is None:
        assert time.monotonic() < deadline, "the service worker controls the page within 20 s"
        page.reload()
    course_title = page.locator("h1").inner_text()
    key = page.locator("#offline").get_attribute("data-course")  # "<course id>:<version>"
    links = page.locator("a[data-offline]")
    items = [(links.nth(i).get_attribute("href"), links.nth(i).inner_text()) for i in range(links.count())]
    assert len(items) >= 2
    page.click("#offline button")
    # Russian account: "Saved {n} pages for offline reading": the course page and every item.
    expect(page.locator("#offline output")).to_have_text(
        re.compile(rf"\D{len(items) + 1}\D*$"), timeout=30000
    )

    context.set_offline(True)
    try:
        for start in ("/courses", "/me/courses", "/me", "/offline"):
            page.goto(start)
            card = page.locator(f"[data-saved-course='{key}']")
            expect(card).to_have_count(1)
            assert card.locator("h2 a").inner_text() == course_title
            assert card.locator("h2").get_attribute("lang") == "ru"
            saved = card.locator("li a")
            assert [
                (saved.nth(i).get_attribute("href"), saved.nth(i).inner_text()) for i in range(saved.count())
            ] == items
            assert page.locator("#offline-note").is_visible() == (start != "/offline"), start
            assert page.evaluate("document.documentElement.scrollWidth") <= 360

        page.locator(f"[data-saved-course='{key}'] h2 a").click()
        expect(page.locator("h1")).to_have_text(course_title)  # the course page, from the phone
        for href, title in items:
            page.goto("/offline")
            page.locator(f"[data-saved-course] li a[href='{href}']").click()
            page.wait_for_url(f"**{href}")
            if "/lessons/" in href:  # a saved lesson shows its own title, in the page and the tab
                expect(page.locator("article h1")).to_have_text(title)
                assert page.title().startswith(title)
            else:
                assert page.locator("main form[method=post] input[type=radio]").count() > 0  # the quiz

        page.goto("/offline")
        page.locator(f"[data-saved-course='{key}'] button").click()
        expect(page.locator("[data-saved-course]")).to_have_count(0)
        expect(page.locator("#saved [data-empty]")).to_be_visible()
    finally:
        context.set_offline(False)
        context.close()
