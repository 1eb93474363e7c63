"""Webinars and the CPD record (docs/practice.md): a teacher registers for a webinar and reads their
transcript (/me/webinars, /me/transcript); an institute schedules one and records who attended
(/institute/webinars). Works with JavaScript off."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.app import (
    ApiError,
    call_api,
    call_service,
    page_lang,
    page_user,
    read_form,
    redirect,
    render,
    signed_in,
)
from gateway.web.csrf import CsrfRefused
from gateway.web.i18n import gettext

P = "/api/v1/progress/practice"
PDF_LIMIT = 512 * 1024  # a transcript is a few tens of KB
TOKEN_IN_PDF = re.compile(rb"ustaz-transcript:([A-Za-z0-9_.\-]{20,3000})")


async def my_webinars(request: Request) -> Response:
    user = await signed_in(request)
    webinars = await call_api(request, "GET", f"{P}/webinars")
    return render(request, "webinars.html", user=user, webinars=webinars["items"])


async def register(request: Request) -> Response:
    await signed_in(request, next_path="/me/webinars")
    await read_form(request)  # the CSRF check, before the service is asked
    await call_api(request, "POST", f"{P}/webinars/{quote(request.path_params['webinar_id'])}/register")
    return redirect("/me/webinars")


async def transcript(request: Request) -> Response:
    user = await signed_in(request)
    record = await call_api(request, "GET", f"{P}/transcript/me")
    return render(request, "transcript.html", user=user, record=record)


async def transcript_pdf(request: Request) -> Response:
    """The signed transcript, in the page's language (the service signs it and keeps its hash)."""
    user = await signed_in(request)
    lang = quote(page_lang(request, user))
    response = await call_service(request, "GET", f"{P}/transcript/me/pdf?lang={lang}", timeout=30)
    return Response(
        response.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": response.headers.get("content-disposition", "attachment"),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _verdict(
    request: Request, verdict: dict[str, Any] | None, error: str | None = None, status_code: int = 200
) -> Response:
    user = await page_user(request)
    page_lang(request, user)
    return render(
        request,
        "transcript_verify.html",
        user=user,
        verdict=verdict,
        error=error,
        status_code=status_code,
    )


async def verify_transcript(request: Request) -> Response:
    """The link printed on a transcript (by id), or its QR code's (with the signed form in `t`)."""
    transcript_id = quote(request.path_params["transcript_id"], safe="")
    token = request.query_params.get("t")
    if token:
        verdict = await call_api(request, "POST", f"{P}/transcripts/verify", json={"token": token[:4000]})
    else:
        verdict = await call_api(request, "GET", f"{P}/transcripts/{transcript_id}/verification")
    if verdict["transcript"] and verdict["transcript"]["id"] != request.path_params["transcript_id"]:
        verdict = {"status": "invalid", "reason": "signature", "transcript": None}
    return await _verdict(request, verdict)


async def verify_transcript_file(request: Request) -> Response:
    """An uploaded transcript PDF: valid only if it is byte for byte a file Ustaz issued."""
    try:
        form = await read_form(request, max_files=1, max_part_size=PDF_LIMIT)
    except CsrfRefused:
        raise
    except Exception:  # a malformed or oversize multipart body is the visitor's problem, not a 500
        return await _verdict(request, None, gettext("The form could not be read."), 400)
    upload = form.get("file")
    data = await upload.read(PDF_LIMIT + 1) if isinstance(upload, UploadFile) else b""
    if len(data) > PDF_LIMIT:
        return await _verdict(request, None, gettext("The file is too large for a transcript."), 413)
    if not data.startswith(b"%PDF"):
        return await _verdict(request, None, gettext("Choose the transcript's PDF file."), 422)
    found = TOKEN_IN_PDF.search(data)
    body = {"pdf_sha256": hashlib.sha256(data).hexdigest()}
    if found:
        body["token"] = found.group(1).decode()
    verdict = await call_api(request, "POST", f"{P}/transcripts/verify", json=body)
    return await _verdict(request, verdict)


async def institute_webinars(request: Request) -> Response:
    user = await signed_in(request, "institute_admin", "platform_admin")
    problem = None
    if request.method == "POST":
        form = await read_form(request)
        try:
            if form.get("webinar_id") and "recording" in form:
                await call_api(
                    request,
                    "POST",
                    f"{P}/webinars/{quote(str(form['webinar_id']))}/recording",
                    json={"recording": form.get("recording") or ""},
                )
            elif form.get("webinar_id"):
                ids = [i.strip() for i in str(form.get("user_ids") or "").split() if i.strip()]
                await call_api(
                    request,
                    "POST",
                    f"{P}/webinars/{quote(str(form['webinar_id']))}/attendance",
                    json={"user_ids": ids},
                )
            else:
                body = {
                    "title": form.get("title") or "",
                    "starts_at": f"{form.get('starts_at') or ''}:00Z",
                    "minutes": form.get("minutes") or 0,
                    "link": form.get("link") or "",
                }
                await call_api(request, "POST", f"{P}/webinars", json=body)
            return redirect("/institute/webinars")
        except ApiError as exc:
            if exc.status not in (409, 422):
                raise
            problem = exc.problem
    webinars = await call_api(request, "GET", f"{P}/webinars")
    return render(
        request,
        "institute_webinars.html",
        user=user,
        webinars=webinars["items"],
        problem=problem,
        now=datetime.now(UTC).isoformat(),
        status_code=int(problem.get("status") or 422) if problem else 200,
    )


routes = [
    Route("/me/webinars", my_webinars),
    Route("/me/webinars/{webinar_id}/register", register, methods=["POST"]),
    Route("/me/transcript", transcript),
    Route("/me/transcript.pdf", transcript_pdf),
    Route("/verify/transcripts", verify_transcript_file, methods=["POST"]),
    Route("/verify/transcripts/{transcript_id}", verify_transcript),
    Route("/institute/webinars", institute_webinars, methods=["GET", "POST"]),
]
