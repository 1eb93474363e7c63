"""Every role's home: where login lands and what the header's navigation starts from.

A person with several roles lands on the first home of `roles.HOMES` they have; the navigation shows
the links of every role they hold (templates/nav/<role>.html). The administration (`/admin`), the
coordinator's page (`/coordinator`) and the institute's staff (`/institute/staff`) are the registry's
pages (gateway/registry); this module only links them."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.app import ApiError, call_api, page_lang, page_user, redirect, render, signed_in
from gateway.web.journey import EXPERIENCED, continue_at, item_url, last_course, outline, quiz_states
from gateway.web.journey import viewed_items as viewed_in
from gateway.web.roles import home_of


async def root(request: Request) -> Response:
    return redirect(home_of(await page_user(request)))


async def lesson_views(request: Request) -> list[dict[str, Any]]:
    """The teacher's lesson views, newest first (one page: enough for where to continue)."""
    page = await call_api(
        request, "GET", "/api/v1/progress/xapi/statements", params={"verb": EXPERIENCED, "limit": 500}
    )
    return list(page["statements"])


async def _optional(request: Request, path: str) -> Any:
    try:
        return await call_api(request, "GET", path)
    except ApiError as exc:
        if exc.status >= 500:
            raise
        return None


async def teacher_home(request: Request) -> Response:
    """Continue where you stopped, then my courses, competencies, inbox and certificates."""
    user = await signed_in(request, "teacher")
    progress, views, inbox, certificates = await asyncio.gather(
        call_api(request, "GET", "/api/v1/progress/me/progress"),
        lesson_views(request),
        _optional(request, "/api/v1/progress/inbox"),
        _optional(request, "/api/v1/certificates"),
    )
    going = [c for c in progress["items"] if c["enrolment"]["status"] != "completed"]
    last = last_course(views)
    going.sort(key=lambda c: str(c["enrolment"]["enrolled_at"]), reverse=True)  # newest enrolment first,
    going.sort(key=lambda c: c["enrolment"]["course_id"] != last)  # after the course read last
    resume = None
    if going:
        current = going[0]
        e = current["enrolment"]
        content = await call_api(request, "GET", f"/api/v1/courses/{e['course_id']}/versions/{e['version']}")
        items = outline(content, viewed_in(views, e["course_id"]), quiz_states(current["results"]))
        nxt = continue_at(items)
        resume = {
            "course": current,
            "item": nxt,
            "url": item_url(e["course_id"], e["version"], nxt) if nxt else f"/courses/{e['course_id']}",
        }
    return render(
        request,
        "home_teacher.html",
        user=user,
        resume=resume,
        courses=progress["items"],
        unread=(inbox or {}).get("unread", 0),
        certificates=len((certificates or {}).get("items", [])),
    )


async def saved_offline(request: Request) -> Response:
    """The start page for offline: the courses saved on this phone, listed by the page's script from
    the service worker's caches (static/saved.js). The worker keeps a copy and shows it for any page
    that was not saved (the catalogue, my courses) when there is no network."""
    page_lang(request, await page_user(request))
    return render(request, "offline.html")


routes = [
    Route("/", root),
    Route("/me", teacher_home),
    Route("/offline", saved_offline),
]
