"""Certificate pages: the teacher's certificates and the public verification page."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.app import call_api, page_lang, page_user, render, signed_in


async def my_certificates(request: Request) -> Response:
    user = await signed_in(request)
    certificates = await call_api(request, "GET", "/api/v1/certificates")
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
