"""Monitoring and evaluation pages for analysts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.app import call_api, render, signed_in


async def dashboard(request: Request) -> Response:
    user = await signed_in(request)
    report = await call_api(request, "GET", "/api/v1/progress/analytics/completions",
                            params={k: v for k, v in {"org": request.query_params.get("org")}.items() if v})
    return render(request, "dashboard.html", user=user, report=report)


routes = [
    Route("/dashboard", dashboard),
]
