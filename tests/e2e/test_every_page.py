"""Every person's pages in real Chromium against the processes `make run` starts.

A teacher's path on a phone with JavaScript off (login lands on their home, Next goes to the next
item, the course page marks what is read and offers Continue, an empty quiz comes back with the error
in Russian and the teacher still signed in, a decimal comma is a number, the result shows the score
and the pass mark, the certificate is "being issued" and then there); then each role's navigation is
crawled from the page login lands on, on a laptop with JavaScript on: every page is found by
following links, and axe-core finds no WCAG 2.2 AA violation on any of them. Transferred (compressed)
and raw sizes of each page are printed."""

from __future__ import annotations

import re
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from deploy.seed import COURSE_RU_ID
from tests.e2e.test_progress_pages import signed_in

pytestmark = pytest.mark.e2e
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Every rule of those tags runs; only violations are aggregated in full (axe's `resultTypes`: passes and
# inapplicable rules come back with one node each, which this test never reads), a third less time.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
ROLES = {
    "teacher": ("teacher-demo", "/me"),
    "author": ("author-demo", "/author"),
    "institute": ("institute-demo", "/institute"),
    "analyst": ("analyst-demo", "/dashboard"),
    "admin": ("admin-demo", "/admin"),
    "coordinator": ("coordinator-demo", "/coordinator"),
}
# Pages of other parts of the platform that the navigation links, checked once they answer (the
# registry's pages are here now: none).
LINKED_ELSEWHERE: set[str] = set()
# GET routes that are not pages one navigates to: files, scripts, links that arrive by e-mail or QR code.
NOT_NAVIGATED = {
    "/sw.js",
    "/static/{name}",
    "/ims/case/v1p1/{path:path}",  # the CASE 1.1 REST API (JSON; its records link to each other)
    "/unsubscribe",  # the link in a reminder e-mail
    "/verify/c/{compact}",  # the QR code on the PDF
    "/verify/transcripts/{transcript_id}",  # the link and QR code on a CPD transcript (test_practice_e2e)
    "/me/certificates/{certificate_id}/certificate.pdf",
    "/me/transcript.pdf",  # a download from /me/transcript (test_practice_e2e checks it)
    "/me/certificates/{certificate_id}/credential.jwt",
    "/me/certificates/{certificate_id}/credential.json",
    # an item's address in a certificate whose framework is not known (the crawl reaches the one with
    # its framework from the verify page; test_credentials_outside resolves every URI of a credential)
    "/frameworks/items/{item_code}",
    "/dashboard/analytics/export",
    "/review/courses/{course_id}",  # listed in the review queue while a course waits (test_courses_e2e)
    "/login",  # the anonymous navigation
    "/activate",  # linked from the login page (anonymous), as are the next two
    "/password-reset",
    "/join",
    "/admin/imports/{import_id}",  # an import's page: exists once someone imports (test_registry_e2e)
    "/admin/imports/{import_id}/errors.csv",  # downloads
    "/admin/export/{kind}",
    "/admin/audit.csv",
    "/",  # a redirect to the home
    "/coach",  # a coach's page: coaching is a relation, not a role with a navigation (test_practice_e2e)
    "/coach/observe/{form_id}",  # reached from /coach with a form (test_practice_e2e)
    "/community/{space_id}",  # listed on /community once it has threads (test_practice_e2e walks them)
    "/community/threads/{thread_id}",
}
SKIP = re.compile(r"^/(logout|static/|sw\.js|openapi\.json|dashboard/analytics/export)|\.(pdf|jwt|json)$")


def page_routes() -> dict[str, Any]:
    from gateway.web.routes import routes

    return {r.path: r for r in routes if "GET" in (getattr(r, "methods", None) or {"GET"})}


def pattern_of(path: str, routes: dict[str, Any]) -> str | None:
    for pattern, route in routes.items():
        if route.path_regex.match(path):
            return pattern
    return None


def wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.3)


def test_a_teachers_path_on_a_phone_without_javascript(platform: Any, browser: Any) -> None:
    base = platform.urls["gateway"]
    context, page = signed_in(browser, base, "teacher", "teacher-demo")
    assert urlsplit(page.url).path == "/me"  # login lands on the teacher's home
    page.goto(f"/courses/{COURSE_RU_ID}")
    if page.locator(f"form[action='/courses/{COURSE_RU_ID}/enrol']").count():
        page.click(f"form[action='/courses/{COURSE_RU_ID}/enrol'] button")
    links = page.locator("a[data-offline]")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    lessons = [h for h in hrefs if "/lessons/" in h]
    quiz = next(h for h in hrefs if "/quizzes/" in h)
    for here, there in zip(hrefs, hrefs[1:], strict=False):  # Next: the next lesson or quiz, in order
        if "/lessons/" not in here:
            continue
        page.goto(here)
        assert page.locator("a[data-next]").get_attribute("href") == there
        assert page.locator("article").get_attribute("lang") == "ru"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

    def read_marks() -> int:
        page.goto(f"/courses/{COURSE_RU_ID}")
        return page.locator("li[data-state=read]").count()

    wait(lambda: read_marks() == len(lessons), 20, "every lesson marked read")
    assert page.locator("a[data-continue]").get_attribute("href") == quiz

    page.goto(quiz)
    assert page.locator("html").get_attribute("lang") == "ru"  # the teacher's account is Russian
    page.click("form[method=post] button[type=submit]")  # nothing answered
    alert = page.locator("[role=alert]")
    assert alert.count() == 1 and "Ответьте" in alert.inner_text()
    assert page.locator("form[action='/logout']").count() == 1  # still signed in
    page.check("input[name=q1a][value=b]")
    page.check("input[name=q1b][value=false]")
    page.fill("input[name=q1c]", "70,0")  # a decimal comma
    page.click("form[method=post] button[type=submit]")
    assert "/submissions/" in page.url

    def graded() -> bool:
        page.reload()
        return page.locator("[data-score]").count() == 1

    wait(graded, 30, "the quiz graded")
    assert page.locator("[data-passed]").get_attribute("data-passed") == "true"
    assert page.locator("[data-score]").inner_text().startswith("100")
    assert page.locator("[data-pass-mark]").count() == 1

    def certificate() -> bool:
        page.goto("/me/certificates")
        coming = page.locator("article[data-coming]").count()
        held = page.locator("article[data-certificate]").count()
        assert coming or held, "neither being issued nor issued"
        return held > 0

    wait(certificate, 30, "the certificate issued")
    assert page.locator("html").inner_text().count("Нет сертификатов") == 0
    context.close()


def crawl(
    page: Any, start: str, routes: dict[str, Any], limit: int = 45, on_first: Any = None
) -> dict[str, tuple[str, int]]:
    """Breadth-first over same-site links from `start`: pattern -> (first URL, status). `on_first(url)`
    is called on the first page of each pattern that answers with HTML, while the page is open."""
    seen_urls: set[str] = set()
    found: dict[str, tuple[str, int]] = {}
    per_pattern: dict[str, int] = {}
    queue = deque([start])
    while queue and len(seen_urls) < limit:
        url = queue.popleft()
        path = urlsplit(url).path
        pattern = pattern_of(path, routes) or path
        if url in seen_urls or per_pattern.get(pattern, 0) >= 2 or SKIP.search(path):
            continue
        seen_urls.add(url)
        per_pattern[pattern] = per_pattern.get(pattern, 0) + 1
        response = page.goto(url)
        status = response.status if response else 0
        first = pattern not in found
        found.setdefault(pattern, (url, status))
        if status != 200 or "html" not in (response.headers.get("content-type", "") if response else ""):
            continue
        if first and on_first is not None:
            on_first(url)
        for href in page.eval_on_selector_all(
            "a[href]:not([download])", "els => els.map(e => e.getAttribute('href'))"
        ):
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def teacher_holds_a_certificate(browser: Any, base: str) -> None:
    """The pages that exist only once a teacher has taken a course (a quiz result, a certificate, its
    verify page, the institute's revoke and re-issue screens): the teacher takes the seeded course
    unless an earlier test already did, so the crawl below runs alone as well as after the path."""
    context, page = signed_in(browser, base, "teacher", "teacher-demo")
    page.goto("/me/certificates")
    if page.locator("article[data-certificate]").count() == 0:
        page.goto(f"/courses/{COURSE_RU_ID}")
        if page.locator(f"form[action='/courses/{COURSE_RU_ID}/enrol']").count():
            page.click(f"form[action='/courses/{COURSE_RU_ID}/enrol'] button")
        quiz = page.locator("a[data-offline][href*='/quizzes/']").first.get_attribute("href")
        page.goto(quiz)
        page.check("input[name=q1a][value=b]")
        page.check("input[name=q1b][value=false]")
        page.fill("input[name=q1c]", "70")
        page.click("form[method=post] button[type=submit]")
        assert "/submissions/" in page.url

        def issued() -> bool:
            page.goto("/me/certificates")
            return page.locator("article[data-certificate]").count() > 0

        wait(issued, 60, "the teacher's certificate issued")
    context.close()


def test_every_role_finds_every_page_and_axe_finds_nothing(platform: Any, browser: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    base = platform.urls["gateway"]
    teacher_holds_a_certificate(browser, base)
    routes = page_routes()
    axe = Axe()
    reached: set[str] = set()
    problems: list[str] = []
    sizes: list[tuple[str, str, int, Future[str]]] = []
    # Sizes are fetched over HTTP with the session's cookies beside the crawl (3 at a time), and axe
    # runs on each pattern's first page as the crawl loads it: every page is loaded once in Chromium.
    with ThreadPoolExecutor(3) as fetcher:
        for username, (password, home) in ROLES.items():
            context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base)
            page = context.new_page()
            page.goto("/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", password)
            page.click("form[action='/login'] button")
            assert urlsplit(page.url).path == home, (username, page.url)
            if home in LINKED_ELSEWHERE and page.locator("header nav").count() == 0:
                page.goto("/courses")  # the registry's page is not there yet: its navigation is the same
            nav = page.eval_on_selector_all("header nav a", "els => els.map(e => e.getAttribute('href'))")

            def check(url: str, username: str = username, page: Any = page, context: Any = context) -> None:
                result = axe.run(page, options=AXE_OPTIONS)
                cookies = {c["name"]: c["value"] for c in context.cookies()}
                for v in result.response["violations"]:
                    problems.append(f"{username} {url}: {v['id']} ({len(v['nodes'])})")
                sizes.append(
                    (username, url, result.violations_count, fetcher.submit(size_line, base, url, cookies))
                )

            found = crawl(page, page.url, routes, on_first=check)
            for pattern, (url, status) in sorted(found.items()):
                if pattern in LINKED_ELSEWHERE and status == 404:
                    assert pattern in nav, (username, pattern)
                    continue
                assert status == 200, (username, url, status)
                reached.add(pattern)
            context.close()
        lines = [f"{user:9} {url[:60]:60} {size.result()} axe {count}" for user, url, count, size in sizes]
    print("\n".join(["", "role      page" + " " * 57 + "raw B  br B  gzip B", *lines]))
    assert not problems, "\n".join(problems)
    unreached = set(routes) - reached - NOT_NAVIGATED - LINKED_ELSEWHERE
    assert not unreached, f"pages no navigation leads to: {sorted(unreached)}"


def size_line(base: str, url: str, cookies: dict[str, str]) -> str:
    """Raw and transferred bytes of a page for brotli and gzip (a new request with the same session)."""
    out = []
    for encoding in ("identity", "br", "gzip"):
        with (
            httpx.Client(base_url=base, cookies=cookies, timeout=15) as client,
            client.stream("GET", url, headers={"accept-encoding": encoding}) as response,
        ):
            out.append(len(b"".join(response.iter_raw())))
    return f"{out[0]:6} {out[1]:6} {out[2]:6}"
