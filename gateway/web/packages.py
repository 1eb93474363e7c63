"""cmi5 and SCORM packages on pages (docs/lrs.md "Packages"): the course's authors upload a package
as an item of a published course (/author/courses/{id}/packages: the packages, and a form with the
zip and the item; every problem of a refused package listed), and an enrolled teacher opens a unit
from the course page (a form per unit; the answer is a redirect to the launched content)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.app import ApiError, call_api, read_form, redirect, render, signed_in
from gateway.web.i18n import gettext as _

AUTHORS = ("author", "institute_admin", "platform_admin")
MAX_PACKAGE = 15 * 1024 * 1024  # the progress service's package_max_bytes


def api(course_id: str) -> str:
    return f"/api/v1/progress/lrs/courses/{quote(course_id)}/packages"


def course_items(course: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for module in course["content"]["modules"] for item in module["items"]]


async def packages_page(request: Request) -> Response:
    user = await signed_in(request, *AUTHORS)
    course_id = request.path_params["course_id"]
    # a POST's form (and its CSRF token) is read before any service is asked anything
    form = (
        await read_form(request, max_files=1, max_part_size=MAX_PACKAGE) if request.method == "POST" else None
    )
    course = await call_api(request, "GET", f"/api/v1/courses/{quote(course_id)}")
    problems: list[str] = []
    created = None
    if form is not None:
        created, problems = await _upload(request, course_id, form)
    listed = await call_api(request, "GET", api(course_id))
    titles = {i["id"]: i["title"] for i in course_items(course)}
    return render(
        request,
        "packages.html",
        status_code=201 if created else 422 if problems else 200,
        user=user,
        course=course,
        items=course_items(course),
        packages=[{**p, "item_title": titles.get(p["item_id"], p["item_id"])} for p in listed["items"]],
        created=created,
        problems=problems,
    )


async def _upload(
    request: Request, course_id: str, form: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[str]]:
    upload, item_id = form.get("package"), str(form.get("item_id") or "")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, [_("Choose a package (a .zip file) to upload.")]
    try:
        created = await call_api(
            request,
            "POST",
            api(course_id),
            params={"item_id": item_id},
            content=await upload.read(),
            headers={"content-type": "application/zip"},
        )
    except ApiError as exc:
        if exc.status == 413:
            return None, [_("The package is too large.")]
        if exc.status != 422:
            raise
        errors = exc.problem.get("errors") or []
        return None, [f"{e.get('file') or e.get('field', '')}: {e.get('message', '')}" for e in errors] or [
            str(exc.problem.get("detail", ""))
        ]
    return created, []


async def launch(request: Request) -> Response:
    course_id, package_id = request.path_params["course_id"], request.path_params["package_id"]
    await signed_in(request, "teacher", next_path=f"/courses/{course_id}")
    form = await read_form(request)
    unit = str(form.get("unit") or "") or None
    out = await call_api(
        request, "POST", f"/api/v1/progress/lrs/packages/{quote(package_id)}/launch", json={"unit": unit}
    )
    return redirect(out["url"])


async def packages_of(request: Request, course_id: str) -> dict[str, dict[str, Any]]:
    """The course's packages by the item each stands for (for the course page)."""
    listed = await call_api(request, "GET", api(course_id))
    return {p["item_id"]: p for p in listed["items"]}


routes = [
    Route("/author/courses/{course_id}/packages", packages_page, methods=["GET", "POST"]),
    Route("/courses/{course_id}/packages/{package_id}/launch", launch, methods=["POST"]),
]
