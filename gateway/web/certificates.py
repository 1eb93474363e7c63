"""Certificate pages: the teacher's certificates (PDF, share link, wallet download) and the public
verification page (by id, by the QR code's compact form, or a pasted/uploaded credential)."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import quote

import jwt
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.state import state
from gateway.web.app import ApiError, call_api, call_service, page_lang, page_user, render, signed_in
from gateway.web.i18n import gettext

UPLOAD_LIMIT = 100_000  # bytes: a credential is a few KB
CERTS = "/api/v1/certificates"


def _public_url(request: Request) -> str:
    return str(state(request).settings.public_url).rstrip("/")


async def my_certificates(request: Request) -> Response:
    user = await signed_in(request)
    certificates, progress = await asyncio.gather(
        call_api(request, "GET", CERTS), _optional(request, "/api/v1/progress/me/progress")
    )
    held = {c["course_id"] for c in certificates["items"]}
    coming = [  # completed, its certificate still on its way (issued by a worker within seconds)
        c["enrolment"]
        for c in (progress or {"items": []})["items"]
        if c["enrolment"]["status"] == "completed" and c["enrolment"]["course_id"] not in held
    ]
    return render(
        request,
        "certificates.html",
        user=user,
        certificates=certificates["items"],
        coming=coming,
        public_url=_public_url(request),
    )


async def _optional(request: Request, path: str) -> Any:
    """A part of the page that can be left out when its service does not answer."""
    try:
        return await call_api(request, "GET", path)
    except ApiError as exc:
        if exc.status < 500:
            raise
        return None


async def _download(request: Request, path: str, media_type: str) -> Response:
    """A file from the certificates service, fetched as the teacher `signed_in` found."""
    response = await call_service(request, "GET", path, timeout=30)
    return Response(
        response.content,
        media_type=media_type,
        headers={
            "Content-Disposition": response.headers.get("content-disposition", "attachment"),
            "Cache-Control": "private, no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def certificate_pdf(request: Request) -> Response:
    user = await signed_in(request)
    cert_id = quote(request.path_params["certificate_id"], safe="")
    return await _download(
        request, f"{CERTS}/{cert_id}/pdf?lang={quote(page_lang(request, user))}", "application/pdf"
    )


async def certificate_jwt(request: Request) -> Response:
    await signed_in(request)
    cert_id = quote(request.path_params["certificate_id"], safe="")
    return await _download(request, f"{CERTS}/{cert_id}/credential", "application/vc+jwt")


async def _owns(request: Request, user: Any, cert_id: str | None) -> bool:
    if user is None or cert_id is None or not user.has("teacher"):
        return False
    try:
        mine = await call_api(request, "GET", CERTS)
    except ApiError:
        return False
    return any(c["id"] == cert_id for c in mine["items"])


async def _verdict_page(
    request: Request,
    verdict: dict[str, Any] | None,
    *,
    pasted: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    user = await page_user(request)
    page_lang(request, user)
    cert_id = verdict.get("certificate_id") if verdict else None
    return render(
        request,
        "verify.html",
        status_code=status_code,
        user=user,
        verdict=verdict,
        pasted=pasted,
        error=error,
        owner=await _owns(request, user, cert_id),
        holder=holder_name(verdict),
        public_url=_public_url(request),
    )


async def verify_page(request: Request) -> Response:
    cert_id = quote(request.path_params["certificate_id"], safe="")
    verdict = await call_api(request, "GET", f"{CERTS}/{cert_id}/verification")
    return await _verdict_page(request, verdict)


async def verify_compact_page(request: Request) -> Response:
    """The URL in a certificate's QR code: the compact signed form is checked like a pasted credential."""
    return await _check(request, request.path_params["compact"])


async def verify_form(request: Request) -> Response:
    return await _verdict_page(request, None)


async def verify_submitted(request: Request) -> Response:
    """A pasted or uploaded credential (JWT, the QR code's URL, or JSON holding a JWT). Works with JS off."""
    user = await page_user(request)
    page_lang(request, user)
    try:
        form = await request.form(max_files=1, max_fields=5, max_part_size=UPLOAD_LIMIT)
    except Exception:  # a malformed multipart body is the visitor's problem, not a 500
        return await _verdict_page(
            request, None, error=gettext("The form could not be read."), status_code=400
        )
    text = str(form.get("credential") or "").strip()
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(UPLOAD_LIMIT + 1)
        if len(data) > UPLOAD_LIMIT:
            return await _verdict_page(
                request, None, error=gettext("The file is too large for a credential."), status_code=413
            )
        text = data.decode("utf-8", errors="replace").strip()
    if not text:
        return await _verdict_page(
            request, None, error=gettext("Paste a credential or choose a file."), status_code=422
        )
    return await _check(request, text)


NUMBER = re.compile(r"^(?:№|No\.?|#)?\s*(\d{4}-[0-9A-F]{8})$", re.IGNORECASE)
SHARE_LINK = re.compile(
    r"^(?:https?://[^/\s]+)?/verify/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/?$"
)


def classify(text: str) -> tuple[str, str]:
    """What a verifier typed or pasted: ("number", "2026-D915EFAC") as printed on the PDF, ("id", …)
    from a share link, ("credential", text) for a JWT, the QR code's link or JSON holding a JWT, or
    ("not", "") for text that is none of them."""
    text = text.strip()
    if m := NUMBER.match(text):
        return "number", m.group(1).upper()
    if m := SHARE_LINK.match(text):
        return "id", m.group(1)
    if text.startswith("{") or "/verify/c/" in text:
        return "credential", text
    try:
        jwt.get_unverified_header(text)
    except jwt.InvalidTokenError:
        return "not", ""
    return "credential", text


def holder_name(verdict: dict[str, Any] | None) -> str | None:
    """The holder's name, when the verdict or the signed credential carries it."""
    if not verdict:
        return None
    claims = verdict.get("credential") or {}
    vc = claims.get("vc", claims) if isinstance(claims, dict) else {}
    subject = vc.get("credentialSubject") if isinstance(vc, dict) else None
    name = verdict.get("holder_name") or (subject.get("name") if isinstance(subject, dict) else None)
    return str(name) if name else None


async def _check(request: Request, text: str) -> Response:
    kind, value = classify(text)
    pasted = text[:2000] if len(text) < 2000 else ""
    if kind == "not":
        return await _verdict_page(request, {"status": "not_certificate"}, pasted=pasted, status_code=422)
    if kind == "number":
        verdict = await call_api(request, "GET", f"{CERTS}/numbers/{quote(value, safe='')}/verification")
        return await _verdict_page(request, verdict, pasted=pasted)
    if kind == "id":
        verdict = await call_api(request, "GET", f"{CERTS}/{value}/verification")
        return await _verdict_page(request, verdict, pasted=pasted)
    try:
        verdict = await call_api(request, "POST", f"{CERTS}/verify", json={"credential": text[:UPLOAD_LIMIT]})
    except ApiError as exc:
        if exc.status >= 500:
            raise
        detail = exc.problem.get("detail") or exc.problem.get("title") or ""
        return await _verdict_page(
            request,
            None,
            pasted=text[:2000],
            status_code=422,
            error=gettext("This is not a credential we can check.") + " " + str(detail),
        )
    return await _verdict_page(request, verdict, pasted=pasted)


routes = [
    Route("/me/certificates", my_certificates),
    Route("/me/certificates/{certificate_id}/certificate.pdf", certificate_pdf),
    Route("/me/certificates/{certificate_id}/credential.jwt", certificate_jwt),
    Route("/verify", verify_form, methods=["GET"]),
    Route("/verify", verify_submitted, methods=["POST"]),
    Route("/verify/c/{compact}", verify_compact_page),
    Route("/verify/{certificate_id}", verify_page),
]
