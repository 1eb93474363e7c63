"""Certificate pages: the teacher's certificates and the public verification page."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.app import ApiError, call_api, error_page, page_lang, page_user, redirect, render


async def my_certificates(request: Request) -> Response:
    user = await page_user(request)
    if user is None:
        return redirect("/login?next=/me/certificates")
    page_lang(request, user)
    try:
        certificates = await call_api(request, "GET", "/api/v1/certificates")
    except ApiError as exc:
        return error_page(request, exc)
    return render(request, "certificates.html", user=user, certificates=certificates["items"],
                  public_url=request.app.state.settings.public_url.rstrip("/"))


async def verify_page(request: Request) -> Response:
    user = await page_user(request)
    page_lang(request, user)
    verdict = await call_api(request, "GET", f"/api/v1/certificates/{quote(request.path_params['certificate_id'])}/verification")
    return render(request, "verify.html", user=user, verdict=verdict)


routes = [
    Route("/me/certificates", my_certificates),
    Route("/verify/{certificate_id}", verify_page),
]
