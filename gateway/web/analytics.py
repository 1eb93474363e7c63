"""Monitoring and evaluation pages for analysts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.app import ApiError, call_api, error_page, page_lang, page_user, redirect, render


async def dashboard(request: Request) -> Response:
    user = await page_user(request)
    if user is None:
        return redirect("/login?next=/dashboard")
    page_lang(request, user)
    try:
        report = await call_api(request, "GET", "/api/v1/progress/analytics/completions",
                                params={k: v for k, v in {"org": request.query_params.get("org")}.items() if v})
    except ApiError as exc:
        return error_page(request, exc)
    return render(request, "dashboard.html", user=user, report=report)


routes = [
    Route("/dashboard", dashboard),
]
