"""Progress pages in real Chromium with JavaScript off, against the processes `make run` starts:
my courses with a progress bar and quiz results, reminder settings and inbox, unsubscribe, the
offline queue's endpoint, and cohort progress for the institute admin."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from deploy.seed import COURSE_RU_ID

pytestmark = pytest.mark.e2e


def signed_in(browser: Any, base: str, username: str, password: str) -> Any:
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, java_script_enabled=False, is_mobile=True, base_url=base
    )
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button")
    return context, page


def test_teacher_pages_work_with_javascript_off(platform: Any, browser: Any) -> None:
    base = platform.urls["gateway"]
    context, page = signed_in(browser, base, "teacher", "teacher-demo")
    page.goto(f"/courses/{COURSE_RU_ID}")
    if page.locator(f"form[action='/courses/{COURSE_RU_ID}/enrol']").count():
        page.click(f"form[action='/courses/{COURSE_RU_ID}/enrol'] button")

    # A lesson view recorded through the offline queue's endpoint, with the page's own cookie.
    statement = {
        "id": str(uuid.uuid4()),
        "actor": {"account": {"homePage": base, "name": "ignored"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": f"urn:ustaz:course:{COURSE_RU_ID}/item/l1"},
    }
    refused = context.request.post("/me/statements", data=[statement])
    assert refused.status == 403  # another actor than the teacher: the service says no
    courses = page.goto("/me/courses")
    assert courses.status == 200
    card = page.locator(f"article[data-course='{COURSE_RU_ID}']")
    assert card.locator("progress").count() == 1
    assert 0 <= int(card.locator("progress").get_attribute("value")) <= 100
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.goto("/me/reminders")
    page.fill("input[name=time_zone]", "Mars/Olympus")
    page.click("form[action='/me/reminders'] button[type=submit]")
    expect(page.locator("[role=alert]")).to_have_count(1)  # a 422, shown on the form
    page.fill("input[name=time_zone]", "Asia/Almaty")
    page.fill("input[name=email]", "aigerim@example.kz")
    page.check("input[name=channels][value=email]")
    page.click("form[action='/me/reminders'] button[type=submit]")
    expect(page.locator("[role=status]")).to_have_count(1)  # polls: the redirected page may still be loading
    assert page.input_value("input[name=email]") == "aigerim@example.kz"

    inbox = page.goto("/me/inbox")
    assert inbox.status == 200 and page.locator("h1").count() == 1

    page.goto("/unsubscribe?token=forged.token")
    response = page.expect_response(lambda r: r.request.method == "POST")
    with response as posted:
        page.click("form button[type=submit]")
    assert posted.value.status == 400
    context.close()


def test_the_offline_queue_endpoint_stores_the_teachers_statements(platform: Any, browser: Any) -> None:
    base = platform.urls["gateway"]
    context, page = signed_in(browser, base, "teacher", "teacher-demo")
    me = context.request.get("/me/courses")
    assert me.status == 200
    token = [c for c in context.cookies() if c["name"] == "ustaz_at"][0]["value"]
    import jwt

    user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    context.request.post(f"/courses/{COURSE_RU_ID}/enrol")
    batch = [
        {
            "id": str(uuid.uuid4()),
            "actor": {"account": {"homePage": base, "name": user_id}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": f"urn:ustaz:course:{COURSE_RU_ID}/item/{item}"},
            "timestamp": "2026-11-20T09:30:00+05:00",
        }
        for item in ("l1", "l2")
    ]
    del batch[0]["actor"]  # the offline queue leaves it out: the session says who it is
    for _ in range(2):  # resent: the same ids are stored once
        stored = context.request.post("/me/statements", data=batch)
        assert stored.status == 200, stored.text()
        assert stored.json()["ids"] == [s["id"] for s in batch]
    cross_site = context.request.post(
        "/me/statements", data=batch, headers={"origin": "https://evil.example"}
    )
    assert cross_site.status == 403
    as_form = context.request.post("/me/statements", form={"x": "y"})
    assert as_form.status == 403
    anonymous = browser.new_context(base_url=base).request.post("/me/statements", data=batch)
    assert anonymous.status == 401
    page.goto("/me/courses")
    card = page.locator(f"article[data-course='{COURSE_RU_ID}']")
    assert card.get_attribute("data-lessons-viewed") == "2"
    context.close()


def test_institute_admin_sees_cohort_progress(platform: Any, browser: Any) -> None:
    base = platform.urls["gateway"]
    context, page = signed_in(browser, base, "institute", "institute-demo")
    page.goto("/institute/progress")
    assert page.locator("select[name=course] option").count() >= 1
    page.goto(f"/institute/progress?course={COURSE_RU_ID}")
    rows = page.locator("tr[data-user]")
    assert rows.count() >= 1 and rows.first.locator("progress").count() == 1
    teacher_context, teacher_page = signed_in(browser, base, "teacher", "teacher-demo")
    assert teacher_page.goto("/institute/progress").status == 403
    teacher_context.close()
    context.close()


def test_reading_a_lesson_with_javascript_off_records_one_view(platform: Any, browser: Any) -> None:
    """The reader records the view itself (no script needed); the copy the service worker saves for
    offline reading is not a view, and carries the queue script that records it when read."""
    import httpx

    from deploy.demo import _poll, login

    base = platform.urls["gateway"]
    activity = f"urn:ustaz:course:{COURSE_RU_ID}/item/l2"
    context, page = signed_in(browser, base, "teacher", "teacher-demo")
    with httpx.Client(base_url=base, timeout=15) as client:
        teacher = login(client, "teacher")

        def views() -> int:
            response = client.get(
                "/api/v1/progress/xapi/statements",
                headers=teacher,
                params={"activity": activity, "limit": 100},
            )
            assert response.status_code == 200, response.text
            return len(response.json()["statements"])

        before = views()
        saved = context.request.get(f"/courses/{COURSE_RU_ID}/v/1/lessons/l2", headers={"X-Ustaz-Save": "1"})
        assert saved.ok and 'src="/static/sw-queue.js"' in saved.text()
        assert f'data-xapi-activity="{activity}"' in saved.text()
        read = page.goto(f"/courses/{COURSE_RU_ID}/v/1/lessons/l2")
        assert read is not None and read.ok
        assert page.locator("script[src='/static/sw-queue.js']").count() == 0  # recorded by the server
        _poll(views, lambda n: n >= before + 1, 15, "the lesson view")
        assert views() == before + 1
    context.close()
