"""cmi5 and SCORM packages: import and list (a course's authors), launch (an enrolled teacher) under
/api/v1/progress/lrs with bearer tokens; under /xapi the parts the launched content reaches
without one: cmi5's fetch URL, the package's files and the SCORM runtime (each behind the launch's
random id, until the launch expires)."""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path

import httpx
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from libs.api import api, json_response, read_json
from libs.auth import current_user
from libs.db import in_transaction, read_only
from libs.errors import BadGateway, Unprocessable
from libs.outbox import utcnow
from services.courses.authoring_routes import read_body
from services.progress import service
from services.progress.lrs import package_runs, packages
from services.progress.lrs import packages_repository as repo
from services.progress.lrs.admin_routes import PREFIX, course_of
from services.progress.lrs.models import ContentPackage, LaunchSession
from services.progress.lrs.schemas import LaunchIn, LaunchOut, PackageList, PackagePublic, ScormCommit
from services.progress.state import state

log = logging.getLogger("ustaz.lrs")
RUNTIME = Path(__file__).with_name("scorm_runtime.js")


def _public(request: Request) -> str:
    return state(request).settings.public_url.rstrip("/")


@api(
    summary="Import a cmi5 (cmi5.xml, zipped or bare) or SCORM 1.2 / 2004 (imsmanifest.xml) zip as the course's item",
    response=PackagePublic,
    status=201,
    tags=["lrs"],
    errors={
        413: "the package or what it unpacks to is too large",
        422: "not a zip, no item_id of the course, or the package has problems (each with its file)",
    },
)
async def import_content_package(request: Request) -> Response:
    user = current_user(request, "author", "institute_admin", "platform_admin")
    item_id = request.query_params.get("item_id", "")
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind not in ("application/zip", "application/octet-stream", "application/xml", "text/xml"):
        raise Unprocessable("Send the package as an application/zip body (or a cmi5.xml as application/xml).")
    settings = state(request).settings
    data = await read_body(request, settings.package_max_bytes)
    course = await course_of(request, request.path_params["course_id"])
    package = await in_transaction(
        request,
        packages.import_package,
        user,
        course,
        item_id,
        data,
        max_unpacked=settings.package_max_unpacked_bytes,
    )
    return json_response(PackagePublic.model_validate(package), status_code=201)


@api(summary="The course's cmi5 and SCORM packages", response=PackageList, tags=["lrs"])
async def list_packages(request: Request) -> Response:
    current_user(request)
    rows = await read_only(request, repo.packages_of, request.path_params["course_id"])
    return json_response(PackageList(items=[PackagePublic.model_validate(p) for p in rows]))


@api(
    summary="Launch a unit of a package (you must be enrolled in its course): the URL to open",
    body=LaunchIn,
    response=LaunchOut,
    status=201,
    tags=["lrs"],
)
async def launch_package(request: Request) -> Response:
    user = current_user(request, "teacher")
    body = await read_json(request, LaunchIn)
    st = state(request)
    settings = st.settings
    # What the package concludes completes an item: the version's answer key says which kind, and
    # completion reads it. Fetched once per version, outside the transaction.
    enrolment = await read_only(request, packages.enrolment_of, user.id, request.path_params["package_id"])
    if enrolment is not None:
        try:
            await run_in_threadpool(
                service.ensure_answer_key, st.engine, st.courses, enrolment.course_id, enrolment.version
            )
        except (BadGateway, httpx.HTTPError):  # the launch goes on; completion waits for the key
            log.warning("answer key unavailable", extra={"course": enrolment.course_id})
    out = await in_transaction(
        request,
        packages.launch,
        user,
        request.path_params["package_id"],
        body.unit,
        settings.public_url,
        settings.launch_hours,
    )
    return json_response(out, status_code=201, headers={"Cache-Control": "no-store"})


async def fetch(request: Request) -> Response:
    """cmi5 8.2.3: POST only; the answer is JSON either way (an error-code when refused)."""
    if request.method != "POST":
        return JSONResponse({"error-code": "3", "error-text": "The fetch URL answers POST."}, status_code=405)
    answer = await in_transaction(request, packages.fetch, request.path_params["launch_id"], utcnow())
    return JSONResponse(answer, status_code=200 if "auth-token" in answer else 400, headers=_no_store())


# A package's files run in the runtime page's frame (same origin: the SCO finds window.API in its
# parent), and nowhere else: framed only by this origin, talking only to it (no beacon to another
# host), posting forms only to it. Authoring tools' output needs inline and eval'd script.
CONTENT_HEADERS = {
    "Cache-Control": "private, max-age=300",
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": "default-src 'self' data: blob: 'unsafe-inline' 'unsafe-eval'; "
    "connect-src 'self'; form-action 'self'; base-uri 'self'; frame-ancestors 'self'",
}


def _no_store() -> dict[str, str]:
    return {"Cache-Control": "no-store"}


async def content(request: Request) -> Response:
    found = await read_only(
        request,
        packages.content_file,
        request.path_params["launch_id"],
        request.path_params["path"],
        utcnow(),
    )
    return Response(found.content, media_type=found.content_type, headers=CONTENT_HEADERS)


async def player(request: Request) -> Response:
    """The SCORM runtime page: the API object (1.2) or API_1484_11 (2004) in this window, the SCO in
    a frame below it (same origin), the SCO's saved cmi data to resume from."""
    launch_id = request.path_params["launch_id"]
    row, package, saved = await read_only(request, _player_data, launch_id, _public(request))
    unit = next(u for u in package.units if u["activity_id"] == row.unit)
    config = {
        "kind": package.kind,
        "commit": f"/xapi/scorm/{launch_id}/commit",
        "saved": saved,
        "student_id": row.user_id,
        "mastery": unit["mastery_score"],
        "launch_data": unit["launch_parameters"],
    }
    src = f"/xapi/content/{launch_id}/{unit['href']}"
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{html.escape(unit["title"])}</title>
<style>html,body{{margin:0;height:100%}}iframe{{border:0;width:100%;height:100%}}</style>
<script id="scorm-config" type="application/json">{html.escape(json.dumps(config), quote=False)}</script>
<script src="/xapi/scorm-runtime.js"></script></head>
<body><iframe id="sco" title="{html.escape(unit["title"])}" src="{html.escape(src)}"></iframe></body></html>"""
    return Response(page, media_type="text/html", headers=_no_store())


def _player_data(
    session: Session, launch_id: str, public_url: str
) -> tuple[LaunchSession, ContentPackage, dict[str, str]]:
    row, package = packages.live_launch(session, launch_id, utcnow())
    return row, package, package_runs.scorm_saved(session, row, package.store, public_url)


async def runtime(request: Request) -> Response:
    return Response(
        RUNTIME.read_bytes(), media_type="text/javascript", headers={"Cache-Control": "max-age=300"}
    )


async def commit(request: Request) -> Response:
    body = await read_json(request, ScormCommit)
    kept = await in_transaction(
        request,
        package_runs.scorm_commit,
        request.path_params["launch_id"],
        body.cmi,
        _public(request),
        utcnow(),
    )
    return JSONResponse({"saved": len(kept)}, headers=_no_store())


routes = [
    Route(PREFIX + "/courses/{course_id}/packages", import_content_package, methods=["POST"]),
    Route(PREFIX + "/courses/{course_id}/packages", list_packages, methods=["GET"]),
    Route(PREFIX + "/packages/{package_id}/launch", launch_package, methods=["POST"]),
    Route("/xapi/cmi5/fetch/{launch_id}", fetch, methods=["GET", "POST"]),
    Route("/xapi/content/{launch_id}/{path:path}", content, methods=["GET"]),
    Route("/xapi/scorm-runtime.js", runtime, methods=["GET"]),
    Route("/xapi/scorm/{launch_id}/", player, methods=["GET"]),
    Route("/xapi/scorm/{launch_id}/commit", commit, methods=["POST"]),
]
