"""SCORM 1.2 and 2004 packages in real Chromium against the real processes: an author imports the
package as quiz q1 of the English demo course through the gateway, the teacher launches it, the
runtime page gives the SCO its API (API / API_1484_11) in the browser, the SCO initializes, scores,
passes, commits and finishes; the LRS then holds the cmi data as a State document, the LMS's passed
(with the scaled score) and satisfied statements, and the teacher has completed the course."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from deploy.demo import login
from deploy.seed import COURSE_EN_ID
from services.progress.lrs.clients import DEMO_KEY, DEMO_SECRET
from services.progress.lrs.packages import SCORM_STATE
from tests.e2e.test_progress_pages import signed_in
from tests.packages import SCORM12_XML, cmi5_browser_package, scorm12_package, scorm2004_package, zipped

pytestmark = pytest.mark.e2e
LRS = {"X-Experience-API-Version": "1.0.3"}
EXPECTED = {
    "scorm12": "true {user} true true false:403 true true",
    "scorm2004": "true {user} true true true false:404 true true :123",
}


@pytest.mark.parametrize("make", [scorm12_package, scorm2004_package])
def test_a_scorm_package_runs_in_chromium_and_completes_its_item(
    platform: Any, browser: Any, make: Any
) -> None:
    base = platform.urls["gateway"]
    with httpx.Client(base_url=base, timeout=30) as client:
        author, teacher = login(client, "author"), login(client, "teacher")
        enrolled = client.post(
            "/api/v1/progress/enrolments",
            json={"course_id": COURSE_EN_ID},
            headers={**teacher, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert enrolled.status_code in (200, 201), enrolled.text
        imported = client.post(
            f"/api/v1/progress/lrs/courses/{COURSE_EN_ID}/packages",
            params={"item_id": "q1"},
            content=make(),
            headers={**author, "Content-Type": "application/zip"},
        )
        assert imported.status_code == 201, imported.text
        package = imported.json()
        launch = client.post(
            f"/api/v1/progress/lrs/packages/{package['id']}/launch", json={}, headers=teacher
        )
        assert launch.status_code == 201, launch.text
        out = launch.json()
        user = client.get("/auth/me", headers=teacher).json().get("id", "")

        context = browser.new_context(base_url=base)
        page = context.new_page()
        page.goto(urlsplit(out["url"]).path)
        frame = page.frame_locator("#sco")
        frame.locator("#out").filter(has_text="true").wait_for(timeout=20_000)
        said = frame.locator("#out").inner_text()
        context.close()
        assert said == EXPECTED[package["kind"]].format(user=user or said.split()[1]), said

        lrs = httpx.Client(base_url=base, timeout=30, auth=(DEMO_KEY, DEMO_SECRET), headers=LRS)
        statements = lrs.get("/xapi/statements", params={"registration": out["registration"]}).json()[
            "statements"
        ]
        verbs = {s["verb"]["id"].rsplit("/", 1)[-1]: s for s in statements}
        assert {"passed", "completed", "satisfied"} <= set(verbs), list(verbs)
        assert verbs["passed"]["result"]["score"]["scaled"] == 0.85
        assert verbs["satisfied"]["object"]["id"] == package["course_activity_id"]
        state = lrs.get(
            "/xapi/activities/state",
            params={
                "activityId": out["unit"],
                "agent": json.dumps({"objectType": "Agent", "account": {"homePage": base, "name": user}}),
                "registration": out["registration"],
                "stateId": SCORM_STATE,
            },
        )
        assert state.status_code == 200, state.text
        saved = state.json()
        assert saved.get("cmi.core.lesson_status", saved.get("cmi.success_status")) == "passed"
        lrs.close()
        mine = client.get("/api/v1/progress/enrolments", headers=teacher).json()
        rows = mine.get("items", mine) if isinstance(mine, dict) else mine
        [course] = [e for e in rows if e["course_id"] == COURSE_EN_ID]
        assert course["status"] == "completed", course


def test_a_cmi5_course_runs_in_chromium_and_its_move_on_completes_the_item(
    platform: Any, browser: Any
) -> None:
    """Both AUs of a cmi5 course, each a page that fetches its token, reads LMS.LaunchData and sends
    its statements from the browser: 200s, then 403 for a statement after terminated; once the
    second AU is passed the LMS says satisfied about its block and the course."""
    base = platform.urls["gateway"]
    with httpx.Client(base_url=base, timeout=30) as client:
        author, teacher = login(client, "author"), login(client, "teacher")
        client.post(
            "/api/v1/progress/enrolments",
            json={"course_id": COURSE_EN_ID},
            headers={**teacher, "Idempotency-Key": str(uuid.uuid4())},
        )
        imported = client.post(
            f"/api/v1/progress/lrs/courses/{COURSE_EN_ID}/packages",
            params={"item_id": "q1"},
            content=cmi5_browser_package(),
            headers={**author, "Content-Type": "application/zip"},
        )
        assert imported.status_code == 201, imported.text
        package = imported.json()
        context = browser.new_context(base_url=base)
        said, registration = [], ""
        for unit in package["units"]:
            out = client.post(
                f"/api/v1/progress/lrs/packages/{package['id']}/launch",
                json={"unit": unit["activity_id"]},
                headers=teacher,
            ).json()
            registration = out["registration"]
            page = context.new_page()
            page.goto(out["url"].removeprefix(base))
            page.locator("#out").filter(has_text="403").wait_for(timeout=20_000)
            said.append(page.locator("#out").inner_text())
        context.close()
        assert said == ["Completed 200 200 200 403", "CompletedAndPassed 200 200 200 200 403"]
        with httpx.Client(base_url=base, timeout=30, auth=(DEMO_KEY, DEMO_SECRET), headers=LRS) as lrs:
            statements = lrs.get("/xapi/statements", params={"registration": registration}).json()[
                "statements"
            ]
        verbs = [s["verb"]["id"].rsplit("/", 1)[-1] for s in statements]
        assert (
            verbs.count("launched") == 2 and verbs.count("terminated") == 2 and verbs.count("satisfied") == 2
        )
        satisfied = {s["object"]["id"] for s in statements if s["verb"]["id"].endswith("/satisfied")}
        assert satisfied == {package["course_activity_id"], "https://example.org/cmi5/block/1"}


def test_an_author_uploads_a_package_on_its_page_and_a_teacher_opens_it_from_the_course_page(
    platform: Any, browser: Any, tmp_path: Any
) -> None:
    """The pages: the author (JavaScript off) uploads a broken zip (every problem listed, 422) and a
    SCORM 1.2 package as quiz q1; the teacher opens it from the course page and the SCO runs."""
    base = platform.urls["gateway"]
    broken, good = tmp_path / "broken.zip", tmp_path / "scorm12.zip"
    broken.write_bytes(zipped({"imsmanifest.xml": SCORM12_XML}))
    good.write_bytes(scorm12_package())
    context, page = signed_in(browser, base, "author", "author-demo")
    page.goto(f"/courses/{COURSE_EN_ID}")
    page.click(f"a[href='/author/courses/{COURSE_EN_ID}/packages']")
    before = page.locator("tbody tr").count()
    page.set_input_files("input[name=package]", str(broken))
    page.select_option("select[name=item_id]", "q1")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("form[enctype] button")
    assert answer.value.status == 422
    assert "sco/index.html, which is not a file of the package" in page.inner_text("[role=alert]")
    page.set_input_files("input[name=package]", str(good))
    page.select_option("select[name=item_id]", "q1")
    page.click("form[enctype] button")
    assert page.locator("[role=status]").count() == 1
    assert page.locator("tbody tr").count() == before + 1
    context.close()

    teacher = browser.new_context(base_url=base)
    page = teacher.new_page()
    page.goto("/login")
    page.fill("input[name=username]", "teacher")
    page.fill("input[name=password]", "teacher-demo")
    page.click("form[action='/login'] button")
    page.goto(f"/courses/{COURSE_EN_ID}")
    if page.locator(f"form[action='/courses/{COURSE_EN_ID}/enrol']").count():
        page.click(f"form[action='/courses/{COURSE_EN_ID}/enrol'] button")
    page.locator("form[action*='/packages/'] button", has_text="Lesson and check").last.click()
    page.wait_for_url("**/xapi/scorm/**")
    frame = page.frame_locator("#sco")
    frame.locator("#out").filter(has_text="true").wait_for(timeout=20_000)
    assert frame.locator("#out").inner_text().endswith("true true")
    teacher.close()
