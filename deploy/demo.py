"""`make demo`: walk one teacher's journey through the gateway over HTTP and print each step.

Runs against a platform already started by `make run` (USTAZ_DEMO_URL, default :8000); if none
answers, it starts one in var/demo on other ports and stops it afterwards. The end-to-end test
walks the same function.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from deploy.seed import DEMO_USERS

Say = Callable[[str], None]


def _password(username: str) -> str:
    return next(str(u["password"]) for u in DEMO_USERS if u["username"] == username)


def _poll(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:g} s (last: {value})")
        time.sleep(0.2)


def login(client: httpx.Client, username: str) -> dict[str, str]:
    response = client.post("/auth/login", json={"username": username, "password": _password(username)})
    response.raise_for_status()
    return {"authorization": f"Bearer {response.json()['access_token']}"}


def shown(count: int | None) -> str:
    return "<10" if count is None else str(count)


def walk_journey(base_url: str, say: Say = print, timeout: float = 60) -> dict[str, Any]:
    """The foundation's journey; returns what it saw so a test can assert on it."""
    seen: dict[str, Any] = {}
    with httpx.Client(base_url=base_url, timeout=15) as client:
        teacher = login(client, "teacher")
        say("1. The demo teacher logged in and got an access token.")
        courses = client.get("/api/v1/courses", params={"lang": "ru"}, headers=teacher).json()["items"]
        course = courses[0]
        seen["course"] = course
        say(f"2. Courses in Russian: {len(courses)} — «{course['title']}».")
        enrolment = client.post(
            "/api/v1/progress/enrolments", json={"course_id": course["id"]}, headers=teacher
        )
        enrolment.raise_for_status()
        seen["enrolment"] = enrolment.json()
        version = enrolment.json()["version"]
        say(f"3. Enrolled (HTTP {enrolment.status_code}); the enrolment pins version {version}.")
        lesson_url = f"/courses/{course['id']}/v/{version}/lessons/l1"
        lesson = client.get(lesson_url)
        seen["lesson_url"] = lesson_url
        seen["lesson_bytes"] = len(lesson.content)
        say(f"4. Lesson page {lesson_url}: HTTP {lesson.status_code}, {len(lesson.content)} bytes of HTML.")
        answers = {"q1a": "b", "q1b": False, "q1c": 70}
        submitted = client.post(
            "/api/v1/progress/submissions",
            headers=teacher,
            json={"course_id": course["id"], "quiz_id": "q1", "answers": answers},
        )
        seen["submit_status"] = submitted.status_code
        submitted.raise_for_status()
        say(f"5. Quiz submitted: HTTP {submitted.status_code}; submission {submitted.json()['id']}.")
        graded = _poll(
            lambda: client.get(submitted.headers["location"], headers=teacher).json(),
            lambda s: s["status"] == "graded",
            timeout,
            "grading",
        )
        seen["graded"] = graded
        say(f"6. A Celery worker graded it: score {graded['score']:.0%}, passed={graded['passed']}.")
        course_id = seen["enrolment"]["course_id"]  # the teacher may hold certificates of other courses
        certificates = _poll(
            lambda: client.get("/api/v1/certificates", headers=teacher).json()["items"],
            lambda items: any(c["course_id"] == course_id for c in items),
            timeout,
            "certificate issuance",
        )
        seen["certificates"] = certificates
        cert = next(c for c in certificates if c["course_id"] == course_id)
        say(f"7. Completion issued certificate № {cert['number']} for «{cert['course_title']}».")
        verdict = httpx.get(f"{base_url}/api/v1/certificates/{cert['id']}/verification", timeout=15).json()
        seen["verdict"] = verdict
        say(
            f"8. Anyone, without logging in, verifies it at {base_url}/verify/{cert['id']}: {verdict['status']}."
        )
        analyst = login(client, "analyst")
        funnel = client.get("/api/v1/progress/analytics/funnel", headers=analyst)
        seen["funnel"] = (funnel.status_code, funnel.json())
        if funnel.status_code == 200:
            rows = ", ".join(
                f"{r['name']}: {shown(r['counts']['completed'])} of {shown(r['counts']['enrolled'])}"
                for r in funnel.json()["rows"]
            )
            say(f"9. The demo analyst's funnel by region (completed of enrolled): {rows}.")
        else:  # fewer than 10 teachers in the whole country: the dashboard keeps them private
            say(
                f"9. The demo analyst's dashboard keeps a group this small private: {funnel.json()['detail']}"
            )
    return seen


def main() -> int:
    url = os.environ.get("USTAZ_DEMO_URL", "http://127.0.0.1:8000")
    try:
        running = httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        running = False
    if running:
        print(f"Walking the journey against {url}\n")
        walk_journey(url)
        return 0
    from deploy.platform import Platform

    root = Path(__file__).resolve().parent.parent
    print(f"No platform answers at {url}; starting a fresh one in var/demo on ports 8100-8103.\n")
    shutil.rmtree(root / "var" / "demo", ignore_errors=True)
    with Platform(
        var_dir=root / "var" / "demo",
        base_port=8100,
        redis_port=6390,
        probe_base=9111,
        log_dir=root / "var" / "demo" / "logs",
    ) as platform:
        platform.start()
        walk_journey(platform.urls["gateway"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
