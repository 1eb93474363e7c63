"""What practice asks other services (docs/practice.md): a school's teachers from the registry's
service API (through the gateway), a course's institute from the courses service."""

from __future__ import annotations

import logging

import httpx
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from gateway.schemas import ResolvedTeacher, ResolveRequest, ResolveResponse, TeacherFilter
from libs.errors import BadGateway
from libs.service_client import UnexpectedBody, service_client, service_path
from services.courses.schemas import CourseSummary
from services.progress.settings import ProgressSettings
from services.progress.state import state

log = logging.getLogger("ustaz.progress.practice")


def school_teachers(settings: ProgressSettings, school: str) -> list[ResolvedTeacher]:
    """The registry's active teachers of a school, from the gateway's service API; best effort (a
    teacher is also recorded when they first use practice)."""
    client = service_client(settings, "progress", "gateway")
    found: list[ResolvedTeacher] = []
    after: str | None = None
    try:
        while True:
            body = ResolveRequest(filter=TeacherFilter(org=school), after=after, limit=1000)
            response = client.http.post(
                "/registry/resolve",
                json=body.model_dump(exclude_none=True),
                headers={"Authorization": f"Bearer {client.token()}"},
            )
            response.raise_for_status()
            page = ResolveResponse.model_validate(response.json())
            found += page.items
            if not page.next:
                return found
            after = page.next
    except (BadGateway, httpx.HTTPError, ValidationError):
        log.warning("registry teachers unavailable", extra={"school": school})
        return found
    finally:
        client.close()


async def course_institute(request: Request, course_id: str) -> str | None:
    """The institute of a published course (None: no such course)."""
    try:
        course = await run_in_threadpool(
            state(request).courses.get_model, service_path("api", "v1", "courses", course_id), CourseSummary
        )
    except UnexpectedBody:
        raise
    except BadGateway:
        return None
    return course.institute_id
