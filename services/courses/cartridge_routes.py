"""Routes of Common Cartridge 1.3 export and import (cartridge.py, cartridge_import.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.api import api, json_response, parse_query
from libs.auth import current_user
from libs.db import in_transaction, read_only
from libs.errors import Unprocessable
from services.courses import authoring, cartridge, cartridge_import
from services.courses.authoring_routes import read_body
from services.courses.schemas import AuthoringView
from services.courses.state import state

PREFIX = "/api/v1/courses"


class CartridgeQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: cartridge.Version = "1.3"  # 1.1 for Moodle, which imports Common Cartridge 1.0 and 1.1 only


@api(
    summary="A published version as an IMS Common Cartridge (.imscc: web content lessons, CC QTI 1.2 "
    "quizzes with answer keys; authors and admins only). `version=1.3` (default; competencies as CASE "
    "GUIDs) or `version=1.1` (for Moodle; 1.1 has no place for competencies)",
    tags=["packages"],
    errors={
        403: "the course is another institute's and its licence does not share answer keys",
        422: "version is not 1.3 or 1.1",
    },
)
async def export_cartridge(request: Request) -> Response:
    user = current_user(request, "author", "institute_admin", "platform_admin")
    query = parse_query(request, CartridgeQuery)
    p = request.path_params
    data = await read_only(
        request, cartridge.export_cartridge, p["course_id"], p["version"], user, query.version
    )
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="course-{p["course_id"]}-v{p["version"]}'
            f'-cc{query.version.replace(".", "")}.imscc"',
            "Cache-Control": "private, max-age=3600",
        },
    )


@api(
    summary="Import a Common Cartridge (1.3, or Canvas's 1.1 resource types) as a new draft of the "
    "author's institute; `warnings` name what was left out",
    response=AuthoringView,
    status=201,
    tags=["packages"],
    errors={
        403: "the caller belongs to no institute",
        409: "a course with the cartridge's slug exists",
        413: "the cartridge or what it unpacks to is too large",
        422: "not a zip, a broken or missing manifest, an unsafe path or an unreadable file (each names the file)",
    },
)
async def import_cartridge(request: Request) -> Response:
    user = current_user(request, *authoring.EDITORS)
    ctype = request.headers.get("content-type", "")
    if ctype not in ("application/zip", "application/octet-stream", "application/vnd.ims.imscc"):
        raise Unprocessable(f"expected an application/zip body, got {ctype!r}")
    s = state(request).settings
    data = await read_body(request, s.max_package_bytes)
    settings = cartridge_import.Settings(
        max_unpacked_bytes=s.max_package_unpacked_bytes,
        max_width=s.image_max_width,
        max_image_bytes=s.image_max_bytes,
        image_format=s.image_format,
        max_pixels=s.max_image_pixels,
    )
    view, warnings = await in_transaction(request, cartridge_import.import_cartridge, user, data, settings)
    return json_response(
        {**view.model_dump(mode="json"), "warnings": warnings},
        status_code=201,
        headers={"Location": f"{PREFIX}/{view.id}/draft"},
    )


routes = [
    Route(PREFIX + "/cartridges", import_cartridge, methods=["POST"]),
    Route(PREFIX + "/{course_id}/versions/{version:int}/cartridge", export_cartridge, methods=["GET"]),
]
